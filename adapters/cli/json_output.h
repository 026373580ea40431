#pragma once
// The machine-readable forms of `papers --json` and `search --json` (acceptance tests and the
// retrieval eval depend on these exact shapes).

#include <nlohmann/json.hpp>
#include <string_view>

#include "retrieval/search_engine.h"

namespace roundup::app {

// [{id, title, authors, arxiv_id, url, kind, roundups: [{id, title, month, month_source}]}]
nlohmann::json papers_json(const retrieval::Catalog& catalog);

// {query, results: [{rank, id, kind, title, authors, arxiv_id, url, roundups, snippet, score}]}
nlohmann::json search_json(std::string_view query, const retrieval::SearchResponse& response,
                           const retrieval::Catalog& catalog);

}  // namespace roundup::app

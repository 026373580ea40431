#pragma once
// The machine-readable forms of `papers --json`, `search --json` and `ask --json` (acceptance tests and the
// retrieval eval depend on these exact shapes).

#include <nlohmann/json.hpp>
#include <string_view>

#include "bot/answer.h"
#include "retrieval/search_engine.h"

namespace roundup::adapters::cli {

// [{id, title, authors, arxiv_id, url, kind, roundups: [{id, title, month, month_source}]}]
nlohmann::json papers_json(const retrieval::Catalog& catalog);

// {query, results: [{rank, id, kind, title, authors, arxiv_id, url, roundups, snippet, score,
//                    confidence, evidence: {coverage, best_matched, best_missing, lexical_rank, dense_rank}}]}
nlohmann::json search_json(std::string_view query, const retrieval::SearchResponse& response,
                           const retrieval::Catalog& catalog);

// {question, answered, kind, confidence, reason, text, citations: [{id, kind, title, url, arxiv_id,
//   roundups: [{id, title, month}]}]}; answered is false when the bot declined (no good match).
nlohmann::json ask_json(std::string_view question, const bot::Answer& answer);

}  // namespace roundup::adapters::cli

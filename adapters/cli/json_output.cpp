#include "adapters/cli/json_output.h"

namespace roundup::app {

using nlohmann::json;

namespace {
json roundups_json(const retrieval::Paper& paper, const retrieval::Catalog& catalog) {
  json out = json::array();
  for (const retrieval::ItemRef& ref : paper.occurrences) {
    const retrieval::Roundup& r = catalog.roundups()[ref.roundup];
    const bool seen = std::any_of(out.begin(), out.end(), [&](const json& j) { return j["id"] == r.id; });
    if (seen) continue;
    out.push_back({{"id", r.id},
                   {"title", r.title},
                   {"month", r.month.empty() ? json(nullptr) : json(r.month)},
                   {"month_source", retrieval::to_string(r.month_source)}});
  }
  return out;
}

json paper_fields(const retrieval::Paper& paper, const retrieval::Catalog& catalog) {
  return {{"id", paper.id},
          {"kind", retrieval::to_string(paper.kind)},
          {"title", paper.title},
          {"authors", paper.authors},
          {"arxiv_id", paper.arxiv_id ? json(*paper.arxiv_id) : json(nullptr)},
          {"url", paper.url},
          {"roundups", roundups_json(paper, catalog)}};
}
}  // namespace

json papers_json(const retrieval::Catalog& catalog) {
  json out = json::array();
  for (const retrieval::Paper& paper : catalog.papers()) {
    if (paper.kind != retrieval::ItemKind::paper && paper.kind != retrieval::ItemKind::listed_paper) continue;
    out.push_back(paper_fields(paper, catalog));
  }
  return out;
}

json search_json(std::string_view query, const retrieval::SearchResponse& response, const retrieval::Catalog& catalog) {
  json results = json::array();
  int rank = 0;
  for (const retrieval::SearchHit& hit : response.hits) {
    json r = paper_fields(catalog.papers()[hit.paper], catalog);
    r["rank"] = ++rank;
    r["snippet"] = hit.snippet;
    r["score"] = std::round(hit.score * 10000.0) / 10000.0;
    results.push_back(std::move(r));
  }
  return {{"query", query}, {"results", std::move(results)}};
}

}  // namespace roundup::app

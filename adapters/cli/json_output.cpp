#include "adapters/cli/json_output.h"

#include "bot/render_text.h"

namespace roundup::adapters::cli {

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

namespace {
double rounded(double x) {
  return std::round(x * 10000.0) / 10000.0;
}
}  // namespace

json search_json(std::string_view query, const retrieval::SearchResponse& response, const retrieval::Catalog& catalog) {
  json results = json::array();
  int rank = 0;
  for (const retrieval::SearchHit& hit : response.hits) {
    json r = paper_fields(catalog.papers()[hit.paper], catalog);
    r["rank"] = ++rank;
    r["snippet"] = hit.snippet;
    r["score"] = rounded(hit.score);
    r["confidence"] = rounded(hit.confidence);
    r["evidence"] = {{"coverage", rounded(hit.evidence.coverage)},
                     {"best_matched", rounded(hit.evidence.best_matched)},
                     {"best_missing", rounded(hit.evidence.best_missing)},
                     {"unknown_share", rounded(hit.evidence.unknown_share)},
                     {"matched_concepts", hit.evidence.matched_concepts},
                     {"margin", rounded(hit.evidence.margin)},
                     {"coverage_margin", rounded(hit.evidence.coverage_margin)},
                     {"missing_names", hit.evidence.missing_names},
                     {"unknown_names", hit.evidence.unknown_names},
                     {"names_title", hit.evidence.names_title},
                     {"held", hit.evidence.held_terms},
                     {"missing", hit.evidence.missing_terms},
                     {"lexical_rank", hit.evidence.lexical_rank},
                     {"dense_rank", hit.evidence.dense_rank},
                     {"dense_unavailable", hit.evidence.dense_unavailable}};
    results.push_back(std::move(r));
  }
  return {{"query", query}, {"results", std::move(results)}};
}

json ask_json(std::string_view question, const bot::Answer& answer) {
  // The kinds scripts tell apart: an answer (which roundups covered a paper is one), a list, a
  // listing from the catalogue, a question back, a refusal; help and notices as themselves.
  static const char* const k_kinds[] = {"answer", "list",   "answer",    "refusal",
                                        "help",   "notice", "catalogue", "clarify"};
  static_assert(std::size(k_kinds) == static_cast<std::size_t>(bot::Answer::Kind::clarify) + 1);
  json citations = json::array();
  for (const bot::PaperCitation& c : answer.citations) {
    json roundups = json::array();
    for (const bot::RoundupCitation& r : c.roundups)
      roundups.push_back(
          {{"id", r.id}, {"title", r.title}, {"month", r.month.empty() ? json(nullptr) : json(r.month)}});
    citations.push_back({{"id", c.paper_id},
                         {"kind", c.kind},
                         {"title", c.title},
                         {"url", c.url},
                         {"arxiv_id", c.arxiv_id ? json(*c.arxiv_id) : json(nullptr)},
                         {"roundups", std::move(roundups)}});
  }
  const bool answered = answer.kind != bot::Answer::Kind::no_match && answer.kind != bot::Answer::Kind::notice &&
                        answer.kind != bot::Answer::Kind::help && answer.kind != bot::Answer::Kind::clarify;
  return {{"question", question},
          {"answered", answered},
          {"kind", k_kinds[static_cast<int>(answer.kind)]},
          {"closest_match", answer.closest_match},
          {"written_by_model", answer.written_by_model},
          {"confidence", rounded(answer.confidence)},
          {"reason", answer.reason},
          {"text", bot::render_text(answer)},
          {"citations", std::move(citations)}};
}

}  // namespace roundup::adapters::cli

// Generality of the roundup parser on layouts it was not written against: tests/data/layouts
// holds roundups in 13 layouts (newsletters, arXiv listings, Hugging Face daily papers, WeChat and
// Zhihu posts, a saved HTML page, link lists, tables, ...) with a gold list of their papers.
// At least 95% of the gold papers must be found with the right first author, link and month, and
// no page furniture may become a paper. Questions about them must find them in the top 5.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/cli/inspect.h"
#include "adapters/cli/json_output.h"
#include "adapters/cli/runtime.h"
#include "retrieval/catalog.h"
#include "tests/support/question_match.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;
using roundup::retrieval::ItemKind;

namespace {

const std::filesystem::path k_layouts = std::filesystem::path(ROUNDUP_SOURCE_DIR) / "tests/data/layouts";

json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  REQUIRE(in);
  return json::parse(in);
}

}  // namespace

TEST_CASE("roundup layouts: >= 95% of gold papers with author, link and month and no furniture papers" *
          doctest::timeout(120)) {
  const json gold = read_json(k_layouts / "gold.json")["files"];
  REQUIRE(gold.size() >= 8);
  std::size_t total = 0, right = 0, extras = 0, news_short = 0;
  for (const auto& [name, expected] : gold.items()) {
    const auto read = roundup::adapters::cli::read_roundup_file(k_layouts / name, 4 * 1024 * 1024);
    const auto& roundup = read.parse.roundup;
    std::map<std::string, const roundup::retrieval::Item*> papers;
    std::size_t news = 0;
    for (const auto& item : roundup.items) {
      if (item.kind == ItemKind::paper || item.kind == ItemKind::listed_paper)
        papers.emplace(roundup::retrieval::normalized_title(item.title), &item);
      news += item.kind == ItemKind::news || item.kind == ItemKind::tool;
    }
    std::size_t matched = 0;
    for (const json& g : expected["papers"]) {
      ++total;
      const auto it = papers.find(roundup::retrieval::normalized_title(g["title"].get<std::string>()));
      std::string problem;
      if (it == papers.end()) {
        problem = "not found";
      } else {
        ++matched;
        const auto& item = *it->second;
        if (!g["first_author"].is_null() &&
            (item.authors.empty() || roundup::retrieval::normalized_title(item.authors.front()) !=
                                         roundup::retrieval::normalized_title(g["first_author"].get<std::string>())))
          problem = "first author " + (item.authors.empty() ? std::string("(none)") : item.authors.front());
        const std::string link = g["link"].get<std::string>();
        if (item.url != link && std::find(item.links.begin(), item.links.end(), link) == item.links.end())
          problem += " link " + item.url;
      }
      if (roundup.month != expected["month"].get<std::string>()) problem += " month " + roundup.month;
      if (problem.empty()) {
        ++right;
      } else {
        MESSAGE(name << ": " << g["title"].get<std::string>() << ": " << problem);
      }
    }
    const std::size_t file_extras = papers.size() - matched;
    if (file_extras > 0) {
      for (const auto& [key, item] : papers) {
        bool gold_paper = false;
        for (const json& g : expected["papers"])
          gold_paper = gold_paper || roundup::retrieval::normalized_title(g["title"].get<std::string>()) == key;
        if (!gold_paper) MESSAGE(name << ": not a paper, read as one: " << item->title);
      }
    }
    extras += file_extras;
    if (news < expected.value("news_min", 0u)) {
      ++news_short;
      MESSAGE(name << ": " << news << " news/tool items, expected at least " << expected["news_min"]);
    }
  }
  MESSAGE("gold papers right " << right << "/" << total << ", furniture read as papers " << extras);
  CHECK(total >= 40);
  CHECK(static_cast<double>(right) >= 0.95 * static_cast<double>(total));
  CHECK(extras == 0);
  CHECK(news_short == 0);
}

TEST_CASE("roundup layouts: a file with no papers is indexed as passages and reported" * doctest::timeout(60)) {
  const auto read = roundup::adapters::cli::read_roundup_file(k_layouts / "editorial.md", 4 * 1024 * 1024);
  const auto& items = read.parse.roundup.items;
  REQUIRE_FALSE(items.empty());
  for (const auto& item : items) CHECK(item.kind == ItemKind::passage);
  const auto summary = roundup::retrieval::summarize("editorial.md", read.format, read.parse);
  const auto warnings = roundup::retrieval::parse_warnings(summary, read.parse);
  REQUIRE_FALSE(warnings.empty());
  CHECK(warnings.front().find("no papers found") != std::string::npos);
  CHECK(warnings.front().find("inspect editorial.md") != std::string::npos);
}

TEST_CASE("roundup layouts: questions in English and Chinese find the new roundups' papers in the top 5" *
          doctest::timeout(600)) {
  roundup::testing::TempDir tmp;
  roundup::config::Config config = roundup::config::default_config();
  config.corpus_dir = k_layouts;
  config.retrieval.lexicon_dir = std::string(ROUNDUP_SOURCE_DIR) + "/data/lexicon";
  config.data_dir = tmp.path();
  roundup::adapters::cli::Runtime runtime(config);
  REQUIRE_MESSAGE(runtime.warnings().empty(), "lexicon missing: run scripts/fetch-lexicon.sh");
  std::ostringstream log;
  const auto engine = runtime.engine(log);
  std::ifstream in(std::string(ROUNDUP_SOURCE_DIR) + "/tests/data/layout-questions.jsonl");
  REQUIRE(in);
  std::map<std::string, std::pair<int, int>> by_lang;  // lang -> (hits@5, total)
  double n = 0, r1 = 0, r5 = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json q = json::parse(line);
    const json results = roundup::adapters::cli::search_json(
        q["q"].get<std::string>(), engine->search(q["q"].get<std::string>(), 5), engine->catalog())["results"];
    const std::optional<std::size_t> rank = roundup::testing::rank_of_answer(results, q);
    n += 1;
    auto& lang = by_lang[q.value("lang", "?")];
    ++lang.second;
    if (rank) {
      r5 += 1;
      r1 += *rank == 0;
      ++lang.first;
    } else {
      MESSAGE("miss: " << q["q"].get<std::string>() << " -> "
                       << (results.empty() ? std::string("(nothing)") : results[0]["title"].get<std::string>()));
    }
  }
  for (const auto& [lang, counts] : by_lang)
    MESSAGE(lang << ": " << counts.first << "/" << counts.second << " in top 5");
  MESSAGE("layout questions=" << n << " recall@1=" << r1 / n << " recall@5=" << r5 / n);
  REQUIRE(n >= 45);
  // The bar. Measured 0.97 (67/69), recall@1 0.87: bench/RESULTS.md, issue 18.
  CHECK(r5 / n >= 0.95);
}

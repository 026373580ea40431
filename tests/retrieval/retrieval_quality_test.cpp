// The project's own retrieval-quality bars on tests/data/retrieval-questions.jsonl (English
// paraphrases, Chinese questions, news and tools), scored exactly like ../shared/eval:
// a result matches when an expected key is a substring of its arxiv_id, url or title (and, with
// expect_roundup, of its snippet, for a result listing that roundup).

#include <doctest/doctest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/cli/json_output.h"
#include "adapters/cli/runtime.h"
#include "bot/responder.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool matches(const json& result, const json& question) {
  std::string hay = result["arxiv_id"].is_null() ? "" : result["arxiv_id"].get<std::string>();
  hay += " " + result["url"].get<std::string>() + " " + result["title"].get<std::string>();
  if (question.contains("expect_roundup")) {
    hay += " " + result["snippet"].get<std::string>();
    bool listed = false;
    for (const json& r : result["roundups"]) listed = listed || r["id"] == question["expect_roundup"];
    if (!listed) return false;
  }
  hay = lower(hay);
  for (const json& key : question["expect"])
    if (hay.find(lower(key.get<std::string>())) != std::string::npos) return true;
  return false;
}

// The bundled corpus and lexicon, with the index in tmp.
roundup::config::Config bundled_corpus_config(const roundup::testing::TempDir& tmp) {
  roundup::config::Config config = roundup::config::default_config();
  const std::string root = ROUNDUP_SOURCE_DIR;
  config.corpus_dir = root + "/data/roundups";
  config.retrieval.lexicon_dir = root + "/data/lexicon";
  config.data_dir = tmp.path();
  return config;
}

}  // namespace

TEST_CASE("retrieval quality: recall@1 >= 0.80 and recall@5 >= 0.95 on the project's question set" *
          doctest::timeout(600)) {
  roundup::testing::TempDir tmp;
  const std::string root = ROUNDUP_SOURCE_DIR;
  roundup::app::Runtime runtime(bundled_corpus_config(tmp));
  REQUIRE_MESSAGE(runtime.warnings().empty(), "lexicon missing: run scripts/fetch-lexicon.sh");
  std::ostringstream log;
  const auto engine = runtime.engine(log);

  std::ifstream in(root + "/tests/data/retrieval-questions.jsonl");
  REQUIRE(in);
  std::string line;
  double n = 0, r1 = 0, r5 = 0, mrr = 0;
  std::map<std::string, std::pair<int, int>> by_kind;  // kind -> (hits@5, total)
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json q = json::parse(line);
    const json response = roundup::app::search_json(q["q"].get<std::string>(),
                                                    engine->search(q["q"].get<std::string>(), 5), engine->catalog());
    const json& results = response["results"];
    std::optional<std::size_t> rank;
    for (std::size_t i = 0; i < results.size() && i < 5 && !rank; ++i)
      if (matches(results[i], q)) rank = i;
    n += 1;
    auto& kind = by_kind[q.value("kind", "other")];
    ++kind.second;
    if (rank) {
      r5 += 1;
      r1 += *rank == 0;
      mrr += 1.0 / static_cast<double>(*rank + 1);
      ++kind.first;
    } else {
      MESSAGE("miss: " << q["q"].get<std::string>() << " -> "
                       << (results.empty() ? std::string("(nothing)") : results[0]["title"].get<std::string>()));
    }
  }
  REQUIRE(n >= 50);
  for (const auto& [kind, counts] : by_kind)
    MESSAGE(kind << ": " << counts.first << "/" << counts.second << " in top 5");
  MESSAGE("questions=" << n << " recall@1=" << r1 / n << " recall@5=" << r5 / n << " mrr=" << mrr / n);
  CHECK(r1 / n >= 0.80);
  CHECK(r5 / n >= 0.95);
}

TEST_CASE("retrieval quality: out-of-scope questions get no confident answer - in-scope ones do" *
          doctest::timeout(600)) {
  roundup::testing::TempDir tmp;
  const std::string root = ROUNDUP_SOURCE_DIR;
  roundup::app::Runtime runtime(bundled_corpus_config(tmp));
  std::ostringstream log;
  const roundup::bot::Responder responder = runtime.responder(log);
  const auto count_no_match = [&](const std::string& file, std::size_t& total) {
    std::ifstream in(root + file);
    REQUIRE(in);
    std::size_t no_match = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string q = json::parse(line)["q"].get<std::string>();
      ++total;
      if (responder.ask(q).kind == roundup::bot::Answer::Kind::no_match) {
        ++no_match;
        if (file.find("retrieval-questions") != std::string::npos) MESSAGE("refused in-scope: " << q);
      } else if (file.find("out-of-scope") != std::string::npos) {
        MESSAGE("answered out-of-scope: " << q);
      }
    }
    return no_match;
  };
  std::size_t out_total = 0, in_total = 0;
  const std::size_t out_refused = count_no_match("/tests/data/out-of-scope-questions.jsonl", out_total);
  const std::size_t in_refused = count_no_match("/tests/data/retrieval-questions.jsonl", in_total);
  MESSAGE("out of scope refused " << out_refused << "/" << out_total << "; in scope refused " << in_refused << "/"
                                  << in_total);
  CHECK(static_cast<double>(out_refused) >= 0.6 * static_cast<double>(out_total));
  CHECK(static_cast<double>(in_refused) <= 0.05 * static_cast<double>(in_total));
}

// The multi-turn set (tests/data/conversations.jsonl) through `chat --json`, as a script would
// drive the bot: one process, one line per message, "/new" between conversations. Each turn
// states the kind of reply and, where it matters, the paper cited first and words the reply must
// hold. The bar (issue 20): at least 95% of conversations pass every turn.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "text/unicode.h"

using nlohmann::json;
using roundup::testing::TempDir;
using roundup::testing::write_file;

namespace {

// A citation is named by its id ("arxiv:2203.15556"), its arXiv id, or a part of its title.
bool names(const json& citation, const std::string& wanted) {
  const std::string w = roundup::text::fold(wanted);
  if (roundup::text::fold(citation.value("id", "")) == w) return true;
  if (citation["arxiv_id"].is_string() && citation["arxiv_id"].get<std::string>() == wanted) return true;
  return roundup::text::fold(citation.value("title", "")).find(w) != std::string::npos;
}

// Why the reply misses the turn's expectations; empty when it meets them.
std::string misses(const json& turn, const json& reply) {
  std::string why;
  if (turn.contains("kind") && reply.value("kind", "") != turn["kind"])
    why += " kind " + reply.value("kind", "") + " (wanted " + turn["kind"].get<std::string>() + ")";
  const json& citations = reply["citations"];
  if (turn.contains("cites") && (citations.empty() || !names(citations[0], turn["cites"])))
    why += " first citation " + (citations.empty() ? std::string("none") : citations[0].value("title", "")) +
           " (wanted " + turn["cites"].get<std::string>() + ")";
  if (turn.contains("not_cites"))
    for (const json& c : citations)
      if (names(c, turn["not_cites"])) why += " cites " + c.value("title", "") + " (must not)";
  const std::string text = roundup::text::fold(reply.value("text", ""));
  for (const json& part : turn.value("text_has", json::array()))
    if (text.find(roundup::text::fold(part.get<std::string>())) == std::string::npos)
      why += " text lacks \"" + part.get<std::string>() + "\"";
  return why;
}

}  // namespace

TEST_CASE("conversations: >= 95% of the multi-turn set pass every turn through chat --json" * doctest::timeout(300)) {
  std::vector<json> conversations;
  std::ifstream in(std::string(ROUNDUP_SOURCE_DIR) + "/tests/data/conversations.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) conversations.push_back(json::parse(line));
  REQUIRE(conversations.size() >= 60);

  std::string script;
  std::size_t turns = 0;
  for (const json& c : conversations) {
    script += "/new\n";
    for (const json& t : c["turns"]) {
      script += t["say"].get<std::string>() + "\n";
      ++turns;
    }
  }
  TempDir tmp;
  const std::string root = ROUNDUP_SOURCE_DIR;
  write_file(tmp / "config.json", json{{"corpus_dir", root + "/data/roundups"},
                                       {"data_dir", (tmp / "var").string()},
                                       {"retrieval", {{"lexicon_dir", root + "/data/lexicon"}}}}
                                      .dump());
  const auto run = roundup::testing::run_process(
      {ROUNDUP_BINARY, "--config", (tmp / "config.json").string(), "chat", "--json"}, tmp.path(), script);
  REQUIRE(run.exit_code == 0);
  std::vector<json> replies;
  std::istringstream out(run.out);
  for (std::string line; std::getline(out, line);) replies.push_back(json::parse(line));
  // One reply per line sent, each on its own line.
  REQUIRE(replies.size() == turns + conversations.size());

  std::size_t at = 0;
  std::size_t passed = 0;
  std::string failures;
  for (const json& c : conversations) {
    CHECK(replies[at++].value("text", "").find("new conversation") != std::string::npos);
    std::string why;
    for (const json& t : c["turns"]) {
      const std::string miss = misses(t, replies[at++]);
      if (!miss.empty() && why.empty()) why = "\"" + t["say"].get<std::string>() + "\":" + miss;
    }
    if (why.empty()) {
      ++passed;
    } else {
      failures += c["id"].get<std::string>() + " " + why + "\n";
    }
  }
  const double share = static_cast<double>(passed) / static_cast<double>(conversations.size());
  MESSAGE(passed << " of " << conversations.size() << " conversations pass (" << share << ")\n" << failures);
  CHECK(share >= 0.95);
}

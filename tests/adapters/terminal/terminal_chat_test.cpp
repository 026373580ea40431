// The terminal adapter (`roundup-bot chat`): every line goes to the knowledge base, the same entry
// point the platforms' conversations end in; blank lines are skipped, invalid UTF-8 is refused
// with a notice, and /quit ends the session.

#include "adapters/terminal/terminal_chat.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/bundled_knowledge.h"

namespace {

roundup::bot::Answer echo(std::string_view input) {
  roundup::bot::Answer a;
  a.kind = roundup::bot::Answer::Kind::notice;
  a.heading = "heard: " + std::string(input);
  return a;
}

}  // namespace

TEST_CASE("terminal chat: each line is answered by the knowledge base, until /quit") {
  std::vector<std::string> asked;
  const roundup::testing::ScriptedKnowledge knowledge([&](std::string_view input) {
    asked.emplace_back(input);
    return echo(input);
  });
  std::istringstream in("  which paper is Chinchilla?  \n\n/papers 2023-02\n\xff\xfe bad\n/quit\nnever read\n");
  std::ostringstream out;
  CHECK(roundup::adapters::run_terminal_chat(knowledge, in, out, /*interactive=*/false) == 0);
  REQUIRE(asked.size() == 2);
  CHECK(asked[0] == "which paper is Chinchilla?");
  CHECK(asked[1] == "/papers 2023-02");
  const std::string shown = out.str();
  CHECK(shown.find("heard: which paper is Chinchilla?") != std::string::npos);
  CHECK(shown.find("heard: /papers 2023-02") != std::string::npos);
  CHECK(shown.find("not valid UTF-8") != std::string::npos);
  CHECK(shown.find("never read") == std::string::npos);
}

TEST_CASE("terminal chat: the bundled knowledge base answers a real question with its paper") {
  std::istringstream in("which paper showed smaller models trained on more tokens beat bigger ones?\n");
  std::ostringstream out;
  CHECK(roundup::adapters::run_terminal_chat(*roundup::testing::bundled_knowledge(), in, out, false) == 0);
  CHECK(out.str().find("Chinchilla") != std::string::npos);
}

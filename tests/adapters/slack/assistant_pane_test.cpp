#include "adapters/slack/assistant_pane.h"

#include <doctest/doctest.h>

#include "text/unicode.h"

using roundup::adapters::slack::suggested_prompts;
using roundup::adapters::slack::thread_title;

TEST_CASE("assistant pane: four suggested prompts - each a title and a question") {
  const auto prompts = suggested_prompts();
  REQUIRE(prompts.is_array());
  CHECK(prompts.size() == 4);  // Slack's maximum
  for (const auto& prompt : prompts) {
    CHECK_FALSE(prompt.value("title", std::string()).empty());
    CHECK_FALSE(prompt.value("message", std::string()).empty());
  }
}

TEST_CASE("assistant pane: a thread's title is its first question - squashed and cut at a word") {
  CHECK(thread_title("  what is\n PaLM?  ") == "what is PaLM?");
  CHECK(thread_title(" \t\n") == "Question");
  std::string long_question;
  for (int i = 0; i < 40; ++i) long_question += "token" + std::to_string(i) + " ";
  const std::string title = thread_title(long_question);
  CHECK(roundup::utf8_length(title) <= 80);
  CHECK(title.rfind("token0 token1 ", 0) == 0);
  CHECK(title.size() > 3);
  CHECK(title.substr(title.size() - 3) == "…");
  CHECK(title.find(" …") == std::string::npos);  // cut at a word boundary, not after the space
  // Cut at a character boundary in any script.
  std::string chinese;
  for (int i = 0; i < 200; ++i) chinese += "模";
  const std::string cut = thread_title(chinese);
  CHECK(roundup::is_valid_utf8(cut));
  CHECK(roundup::utf8_length(cut) == 80);
}

#include "adapters/slack/assistant_pane.h"

#include "text/unicode.h"

namespace roundup::adapters::slack {
namespace {

constexpr std::size_t k_title_code_points = 80;

}  // namespace

nlohmann::json suggested_prompts() {
  return nlohmann::json::array({
      {{"title", "Latest roundup"}, {"message", "What was in the latest roundup?"}},
      {{"title", "Papers on a topic"}, {"message", "Papers on diffusion models"}},
      {{"title", "Find a paper"},
       {"message", "Which paper showed smaller models trained on more tokens beat bigger ones?"}},
      {{"title", "A month"}, {"message", "What was in the February 2023 roundup?"}},
  });
}

std::string thread_title(std::string_view question) {
  std::string squashed = squash_spaces(question);
  if (squashed.empty()) return "Question";
  if (utf8_length(squashed) <= k_title_code_points) return squashed;
  std::string cut = utf8_prefix(squashed, k_title_code_points - 1);
  if (const auto space = cut.rfind(' '); space != std::string::npos && space > cut.size() / 2) cut.erase(space);
  return cut + "…";
}

bot::Answer greeting() {
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {
      "Hi! I answer questions about the monthly ML paper roundups, with links to the papers. Ask about a paper, a "
      "topic or a month, or pick a suggestion below."};
  return answer;
}

}  // namespace roundup::adapters::slack

#pragma once
// Properties of what adapters/slack/events.h decides, shared by the targets that reach it: the
// Events API body, the slash-command form and the Socket Mode envelope. Inputs are any JSON or
// form data that passed authentication, so each decision must be self-consistent whatever they
// hold.

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "adapters/slack/events.h"
#include "adapters/slack/slack_config.h"
#include "fuzz/fuzz_support.h"

namespace roundup::fuzz {

inline constexpr std::string_view k_bot_user = "UBOT";
inline constexpr std::string_view k_command = "/roundup";

// Deterministic stand-in for the state store's known threads, true for about half of them so
// both branches of a thread follow-up are reached.
inline bool known_thread(const std::string& channel, const std::string& thread_ts) {
  return (channel.size() + thread_ts.size()) % 2 == 0;
}

inline bool trimmed(std::string_view text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  return text.empty() || (!space(text.front()) && !space(text.back()));
}

inline void check_event_decision(const nlohmann::json& envelope) {
  using adapters::slack::EventDecision;
  const EventDecision decision = adapters::slack::interpret_event(envelope, k_bot_user, known_thread);
  switch (decision.action) {
    case EventDecision::Action::url_verification: FUZZ_REQUIRE(!decision.challenge.empty()); break;
    case EventDecision::Action::ignore: FUZZ_REQUIRE(!decision.reason.empty()); break;
    case EventDecision::Action::answer: {
      const adapters::slack::Question& question = decision.question;
      FUZZ_REQUIRE(!question.user.empty() && question.user != k_bot_user);
      FUZZ_REQUIRE(!question.channel.empty() && !question.thread_ts.empty());
      FUZZ_REQUIRE(question.dedupe_key == "slack:event:" + envelope.at("event_id").get<std::string>());
      FUZZ_REQUIRE(trimmed(question.text));
      // JSON strings are UTF-8, and reducing markup cuts only at ASCII bytes.
      FUZZ_REQUIRE(valid_utf8(question.text));
      // Only a message at the top of a DM opens a thread: its own.
      FUZZ_REQUIRE(question.opens.empty() ||
                   (question.direct && question.opens == "slack:" + question.channel + ":" + question.thread_ts));
      break;
    }
    case EventDecision::Action::pane: {
      // Slack's ids only (so bounded), never the bot's own; prompts go to the DM, in a thread only
      // for the legacy pane.
      const adapters::slack::PaneEvent& pane = decision.pane;
      FUZZ_REQUIRE(adapters::slack::valid_user_id(pane.user) && pane.user != k_bot_user && pane.user.size() <= 32);
      FUZZ_REQUIRE(adapters::slack::valid_channel_id(pane.channel) && pane.channel.size() <= 32);
      FUZZ_REQUIRE(pane.thread_ts.empty() == (pane.kind == adapters::slack::PaneEvent::Kind::messages_opened));
      FUZZ_REQUIRE(pane.dedupe_key == "slack:event:" + envelope.at("event_id").get<std::string>());
      break;
    }
  }
}

inline void check_command_decision(const std::map<std::string, std::string>& fields) {
  const adapters::slack::CommandDecision decision = adapters::slack::interpret_command(fields, k_command);
  if (!decision.valid) {
    FUZZ_REQUIRE(!decision.error.empty());
    return;
  }
  FUZZ_REQUIRE(decision.question.response_url.rfind("https://", 0) == 0);
  FUZZ_REQUIRE(decision.question.dedupe_key.rfind("slack:command:", 0) == 0);
  FUZZ_REQUIRE(trimmed(decision.question.text));
  const std::string input = adapters::slack::responder_input(decision.question.text);
  FUZZ_REQUIRE(!input.empty() && trimmed(input));
}

}  // namespace roundup::fuzz

#pragma once
// What the bot shows in Slack's AI-app surface besides its answers: the suggested prompts, the
// status while it answers, a thread's title and the legacy pane's greeting. Pure: the service
// (slack_service.cpp) decides when to show them; deploy/slack/manifest.yml offers the same
// prompts before the bot has said anything.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bot/answer.h"

namespace roundup::adapters::slack {

// Title of the prompt list.
inline constexpr std::string_view k_prompts_title = "Try asking:";
// Shown as "<app name> is searching the roundups…" (Slack adds the app's name).
inline constexpr std::string_view k_answering_status = "is searching the roundups…";

// assistant.threads.setSuggestedPrompts' `prompts`: four {title, message}, each a question the
// bot answers from the roundups (Slack takes at most four).
nlohmann::json suggested_prompts();

// A thread's title from its first question: whitespace squashed, at most 80 characters (cut at a
// word where there is one, with "…"); "Question" when nothing is left.
std::string thread_title(std::string_view question);

// The first message in a legacy assistant thread (assistant_thread_started).
bot::Answer greeting();

}  // namespace roundup::adapters::slack

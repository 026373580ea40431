#pragma once
// Decoding what Slack sends (Events API envelopes, slash command forms) into what the bot
// should do. Pure: no I/O, no clock. Every input is untrusted and may have any shape; nothing
// here throws on bad input, it says why the input is ignored instead.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace roundup::adapters::slack {

// A question to answer and where the answer goes.
struct Question {
  std::string dedupe_key;  // "slack:event:<event_id>" or "slack:command:<trigger_id>"
  std::string text;        // mention stripped, Slack markup reduced to plain text
  std::string user;
  std::string channel;
  std::string thread_ts;     // events: the thread root to reply in
  std::string message_ts;    // events: the question's own message
  std::string response_url;  // slash commands: where the answer goes
  bool direct = false;       // a DM
  // Whose memory follow-ups read (bot::Speaker::conversation): the thread, or the whole DM for
  // messages at its top level. Empty for slash commands.
  std::string conversation;
  // A message at the top of a DM: the thread its answer opens ("slack:D1:<ts>"), which starts with
  // the DM's memory (bot::Speaker::opens). In the agent messaging experience every question at the
  // top of the Messages tab is such a thread, and follow-ups come in it. Empty otherwise.
  std::string opens;
};

// Slack's AI-app surface, where a user talks to the bot in its DM. The current "agent messaging
// experience" (manifest features.agent_view) signals an opened Messages tab with app_home_opened;
// the legacy "assistant" split pane (assistant_view) opens a Slack-made thread with
// assistant_thread_started. Questions arrive in both as ordinary DM messages.
struct PaneEvent {
  enum class Kind {
    messages_opened,  // app_home_opened, tab "messages": offer prompts to the DM, with no thread_ts
    thread_started,   // assistant_thread_started: offer prompts in its thread and greet there
  };
  Kind kind = Kind::messages_opened;
  std::string dedupe_key;  // "slack:event:<event_id>"
  std::string user;
  std::string channel;    // the DM
  std::string thread_ts;  // thread_started: the assistant thread; empty for messages_opened
};

struct EventDecision {
  enum class Action { answer, pane, url_verification, ignore };
  Action action = Action::ignore;
  Question question;       // answer
  PaneEvent pane;          // pane
  std::string challenge;   // url_verification
  std::string reason;      // ignore: why, for debug logs
  bool malformed = false;  // ignore: fields Slack always sends are missing or garbled
};

// `bot_user_id` is our own user (auth.test). `in_known_thread(channel, thread_ts)` tells whether
// the bot already answers in that thread, so follow-ups there need no new mention.
EventDecision interpret_event(const nlohmann::json& envelope, std::string_view bot_user_id,
                              const std::function<bool(const std::string&, const std::string&)>& in_known_thread);

// Slack message text to plain text: `<@U1>` mentions of `bot_user_id` removed, other user and
// channel references reduced to their label, `<url|label>` to the label, `<url>` to the url,
// &amp; &lt; &gt; decoded, whitespace trimmed.
std::string plain_text(std::string_view slack_text, std::string_view bot_user_id);

// application/x-www-form-urlencoded (keys and values percent- and '+'-decoded; the last of a
// repeated key wins), read by Boost.URL. nullopt when the body is no such form: a bad escape, or a
// space, control or non-ASCII byte that a form encoder would have escaped.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

struct CommandDecision {
  bool valid = false;
  Question question;  // text = the command's arguments, for the responder ("help", "papers 2023-02", ...)
  std::string error;  // !valid: why
};

// A slash command's payload in Socket Mode as the fields the HTTP form would have: its string
// members (others are dropped). Empty when the payload is not an object.
std::map<std::string, std::string> command_fields(const nlohmann::json& payload);

// A slash command's fields (from the form over HTTP, or the payload object in Socket Mode).
CommandDecision interpret_command(const std::map<std::string, std::string>& fields, std::string_view expected_command);

// The responder's input for a slash command's text: "help" -> "/help", "papers 2023-02" ->
// "/papers 2023-02", "search x" -> "/search x", "" -> "/help", anything else is a question.
std::string responder_input(std::string_view command_text);

}  // namespace roundup::adapters::slack

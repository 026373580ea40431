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
  std::string response_url;  // slash commands: where the answer goes
  bool direct = false;       // a DM
  // Whose memory follow-ups read (bot::Speaker::conversation): the thread, or the whole DM for
  // messages at its top level. Empty for slash commands.
  std::string conversation;
};

struct EventDecision {
  enum class Action { answer, url_verification, ignore };
  Action action = Action::ignore;
  Question question;      // answer
  std::string challenge;  // url_verification
  std::string reason;     // ignore: why, for debug logs
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

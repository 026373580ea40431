#include "adapters/slack/events.h"

#include <algorithm>
#include <array>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>

#include "adapters/slack/slack_config.h"
#include "text/unicode.h"

namespace roundup::adapters::slack {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      if (text.substr(i, 5) == "&amp;") {
        out += '&';
        i += 4;
        continue;
      }
      if (text.substr(i, 4) == "&lt;") {
        out += '<';
        i += 3;
        continue;
      }
      if (text.substr(i, 4) == "&gt;") {
        out += '>';
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// Message subtypes that are still a person's question. Everything else (edits, joins, bot
// messages, deletions) is not answered.
constexpr std::array<std::string_view, 2> k_answerable_subtypes = {"thread_broadcast", "file_share"};

bool mentions(std::string_view text, std::string_view user_id) {
  if (user_id.empty()) return false;
  const std::string tag = "<@" + std::string(user_id);
  for (auto at = text.find(tag); at != std::string_view::npos; at = text.find(tag, at + 1)) {
    const char after = at + tag.size() < text.size() ? text[at + tag.size()] : '\0';
    if (after == '>' || after == '|') return true;
  }
  return false;
}

// Slack's user and channel ids are about a dozen characters; longer ones are not Slack's.
constexpr std::size_t k_max_id_bytes = 32;

// A message timestamp as Slack writes it ("1729999327.187299"): digits, one dot, digits.
bool valid_ts(std::string_view ts) {
  const auto dot = ts.find('.');
  const auto digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 20 &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return dot != std::string_view::npos && digits(ts.substr(0, dot)) && digits(ts.substr(dot + 1));
}

// The AI-app surface's own events (PaneEvent), which have no top-level user, channel or ts.
// nullopt when `event_type` is not one of them; otherwise the decision, an ignore with the reason
// when a field is missing or malformed (the ids are checked against Slack's grammar, so nothing
// unbounded reaches a Web API call or the inbox).
std::optional<EventDecision> interpret_pane_event(const json& event, const std::string& event_type,
                                                  const std::string& event_id, std::string_view bot_user_id) {
  EventDecision decision;
  PaneEvent& pane = decision.pane;
  if (event_type == "app_home_opened") {
    if (string_at(event, "tab") != "messages") {
      decision.reason = "app_home_opened on a tab other than messages";
      return decision;
    }
    pane.kind = PaneEvent::Kind::messages_opened;
    pane.user = string_at(event, "user");
    pane.channel = string_at(event, "channel");
  } else if (event_type == "assistant_thread_started" || event_type == "assistant_thread_context_changed") {
    const auto thread = event.find("assistant_thread");
    const json none;
    const json& fields = thread != event.end() ? *thread : none;
    pane.kind = PaneEvent::Kind::thread_started;
    pane.user = string_at(fields, "user_id");
    pane.channel = string_at(fields, "channel_id");
    pane.thread_ts = string_at(fields, "thread_ts");
    if (!valid_ts(pane.thread_ts)) {
      decision.reason = event_type + " without a valid assistant_thread.thread_ts";
      decision.malformed = true;
      return decision;
    }
  } else {
    return std::nullopt;
  }
  if (pane.user.size() > k_max_id_bytes || pane.channel.size() > k_max_id_bytes || !valid_user_id(pane.user) ||
      !valid_channel_id(pane.channel)) {
    decision.reason = event_type + " without a valid user or channel";
    decision.malformed = true;
    return decision;
  }
  if (pane.user == bot_user_id) {
    decision.reason = event_type + " of our own user";
    return decision;
  }
  if (event_type == "assistant_thread_context_changed") {
    // The bot answers from the roundups, not from the channel the user is viewing, so the new
    // context changes nothing: acked, and not kept.
    decision.reason = "assistant thread context changed (not used)";
    return decision;
  }
  pane.dedupe_key = "slack:event:" + event_id;
  decision.action = EventDecision::Action::pane;
  return decision;
}

}  // namespace

std::string plain_text(std::string_view slack_text, std::string_view bot_user_id) {
  std::string out;
  std::size_t i = 0;
  while (i < slack_text.size()) {
    const char c = slack_text[i];
    if (c != '<') {
      out += c;
      ++i;
      continue;
    }
    const auto close = slack_text.find('>', i);
    if (close == std::string_view::npos) {
      out += slack_text.substr(i);
      break;
    }
    const std::string_view inner = slack_text.substr(i + 1, close - i - 1);
    const auto bar = inner.find('|');
    const std::string_view target = inner.substr(0, bar);
    const std::string_view label = bar == std::string_view::npos ? std::string_view{} : inner.substr(bar + 1);
    if (!target.empty() && target[0] == '@') {
      // A user mention: ours disappears, others keep a readable name.
      if (target.substr(1) != bot_user_id) out += label.empty() ? std::string(target) : "@" + std::string(label);
    } else if (!target.empty() && (target[0] == '#' || target[0] == '!')) {
      out += label.empty() ? std::string(target.substr(1)) : std::string(label);
    } else {
      out += label.empty() ? std::string(target) : std::string(label);
    }
    i = close + 1;
  }
  return trim(decode_entities(out));
}

EventDecision interpret_event(const json& envelope, std::string_view bot_user_id,
                              const std::function<bool(const std::string&, const std::string&)>& in_known_thread) {
  EventDecision decision;
  const std::string type = string_at(envelope, "type");
  if (type == "url_verification") {
    decision.challenge = string_at(envelope, "challenge");
    if (decision.challenge.empty()) {
      decision.reason = "url_verification without a challenge";
      return decision;
    }
    decision.action = EventDecision::Action::url_verification;
    return decision;
  }
  if (type != "event_callback") {
    decision.reason = "envelope type '" + type + "' is not handled";
    return decision;
  }
  const std::string event_id = string_at(envelope, "event_id");
  const auto event_it = envelope.find("event");
  if (event_id.empty() || event_it == envelope.end() || !event_it->is_object()) {
    decision.reason = "event_callback without event_id or event";
    return decision;
  }
  const json& event = *event_it;
  const std::string event_type = string_at(event, "type");
  if (auto pane = interpret_pane_event(event, event_type, event_id, bot_user_id)) return std::move(*pane);
  const std::string user = string_at(event, "user");
  const std::string channel = string_at(event, "channel");
  const std::string ts = string_at(event, "ts");
  const std::string thread_ts = string_at(event, "thread_ts");
  const std::string subtype = string_at(event, "subtype");
  const std::string text = string_at(event, "text");

  if (event.contains("bot_id") || event.contains("bot_profile")) {
    decision.reason = "message from a bot";
    return decision;
  }
  if (!subtype.empty() &&
      std::find(k_answerable_subtypes.begin(), k_answerable_subtypes.end(), subtype) == k_answerable_subtypes.end()) {
    decision.reason = "message subtype '" + subtype + "' is not handled";
    return decision;
  }
  if (user.empty() || channel.empty() || ts.empty()) {
    decision.reason = "event without user, channel or ts";
    return decision;
  }
  if (user == bot_user_id) {
    decision.reason = "our own message";
    return decision;
  }

  bool answer = false;
  bool direct = false;
  if (event_type == "app_mention") {
    answer = true;
  } else if (event_type == "message") {
    const std::string channel_type = string_at(event, "channel_type");
    if (channel_type == "im") {
      answer = direct = true;
    } else if (mentions(text, bot_user_id)) {
      // Slack also sends an app_mention for this message; that one is answered.
      decision.reason = "mention in a channel message (answered via app_mention)";
      return decision;
    } else if (!thread_ts.empty() && in_known_thread && in_known_thread(channel, thread_ts)) {
      answer = true;
    } else {
      decision.reason = "channel message not addressed to the bot";
      return decision;
    }
  } else {
    decision.reason = "event type '" + event_type + "' is not handled";
    return decision;
  }
  if (!answer) return decision;

  decision.action = EventDecision::Action::answer;
  decision.question.dedupe_key = "slack:event:" + event_id;
  decision.question.text = plain_text(text, bot_user_id);
  decision.question.user = user;
  decision.question.channel = channel;
  // Answers are threaded under the question, in DMs too (platforms.md: thread_ts = the event's
  // thread_ts if present, else its ts), so each question keeps its answer beside it.
  decision.question.thread_ts = !thread_ts.empty() ? thread_ts : ts;
  decision.question.message_ts = ts;
  decision.question.direct = direct;
  const std::string thread_conversation = "slack:" + channel + ":" + decision.question.thread_ts;
  const bool dm_top_level = direct && thread_ts.empty();
  decision.question.conversation = dm_top_level ? "slack:" + channel : thread_conversation;
  if (dm_top_level) decision.question.opens = thread_conversation;
  return decision;
}

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
  // Boost 1.81's parse_query measures its input again with strlen (query_ref from a char
  // pointer), so it reads past a buffer that is not NUL-terminated; the fuzzer found it. A
  // std::string is terminated, and a NUL inside the body fails the grammar before that point.
  const std::string terminated(body);
  const auto params = boost::urls::parse_query(terminated);
  if (!params) return std::nullopt;
  boost::urls::encoding_opts form_encoding;
  form_encoding.space_as_plus = true;
  std::map<std::string, std::string> fields;
  for (const boost::urls::param_pct_view param : *params) {
    if (param.key.empty() && !param.has_value) continue;  // "a&&b"
    fields[param.key.decode(form_encoding)] = param.value.decode(form_encoding);
  }
  return fields;
}

std::map<std::string, std::string> command_fields(const json& payload) {
  std::map<std::string, std::string> fields;
  if (!payload.is_object()) return fields;
  for (const auto& [key, value] : payload.items()) {
    if (value.is_string()) fields[key] = value.get<std::string>();
  }
  return fields;
}

CommandDecision interpret_command(const std::map<std::string, std::string>& fields, std::string_view expected_command) {
  CommandDecision decision;
  const auto field = [&](const char* key) {
    const auto found = fields.find(key);
    return found == fields.end() ? std::string() : found->second;
  };
  const std::string command = field("command");
  if (ascii_lower(command) != ascii_lower(expected_command)) {
    decision.error = "unexpected command '" + command + "'";
    return decision;
  }
  decision.question.response_url = field("response_url");
  decision.question.channel = field("channel_id");
  decision.question.user = field("user_id");
  if (decision.question.response_url.rfind("https://", 0) != 0) {
    decision.error = "missing or non-https response_url";
    return decision;
  }
  std::string id = field("trigger_id");
  if (id.empty()) id = field("channel_id") + ":" + field("user_id") + ":" + field("text");
  decision.question.dedupe_key = "slack:command:" + id;
  decision.question.text = trim(field("text"));
  decision.valid = true;
  return decision;
}

std::string responder_input(std::string_view command_text) {
  std::string text = trim(command_text);
  if (text.empty()) return "/help";
  const auto space = text.find_first_of(" \t\n");
  const std::string verb = ascii_lower(text.substr(0, space));
  const std::string rest = space == std::string::npos ? std::string() : trim(text.substr(space));
  if (verb == "help") return "/help";
  if (verb == "papers" || verb == "search" || verb == "ask" || verb == "reindex" || verb == "stats" ||
      verb == "digest" || verb == "subscribe" || verb == "unsubscribe") {
    return "/" + verb + (rest.empty() ? "" : " " + rest);
  }
  return text;
}

}  // namespace roundup::adapters::slack

#include "adapters/slack/slack_service.h"

#include <chrono>
#include <exception>
#include <thread>

#include "adapters/slack/assistant_pane.h"
#include "adapters/slack/block_kit.h"
#include "adapters/slack/mrkdwn.h"
#include "adapters/slack/signature.h"
#include "bot/backoff.h"
#include "telemetry/log.h"
#include "text/unicode.h"

namespace roundup::adapters::slack {
namespace {

using nlohmann::json;

// Enough of a refused request's target to recognise it; the rest is whatever the sender chose.
constexpr std::size_t k_logged_target_bytes = 100;

http::Response status_only(int status) {
  http::Response response;
  response.status = status;
  return response;
}

http::Response json_response(const json& body) {
  http::Response response;
  response.content_type = "application/json; charset=utf-8";
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

std::string header(const http::Request& request, const std::string& name) {
  const auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

// scheme://host[:port] of a URL, lower-cased host; empty when it is not http(s).
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  return ascii_lower(url.substr(0, host_end));
}

// A chat.postMessage delivery of one rendered message, in a thread when `thread_ts` is set.
json chat_envelope(json body, const std::string& channel, const std::string& thread_ts) {
  body["channel"] = channel;
  if (!thread_ts.empty()) body["thread_ts"] = thread_ts;
  return {{"via", "chat"}, {"body", std::move(body)}};
}

// Rendered Block Kit messages as outbox entries for `channel` (delivered in order, paced per
// channel), keyed key#0, key#1, ...; `route` wraps each message in its delivery envelope.
std::vector<bot::OutgoingMessage> outbox_messages(const std::vector<json>& messages, const std::string& channel,
                                                  const std::string& key, const std::function<json(json)>& route) {
  std::vector<bot::OutgoingMessage> entries;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    entries.push_back({key + "#" + std::to_string(i), std::string(k_platform), std::string(k_platform) + ":" + channel,
                       route(messages[i]).dump(-1, ' ', false, json::error_handler_t::replace)});
  }
  return entries;
}

// How long a DM's reply waits for its status and title calls. The status should be up before the
// reply that clears it (set after the reply, it would hang there for two minutes); the calls are
// normally made long before the answer is ready, a failing one ends at once, and a Slack slow to
// take them holds the reply back this long at most.
constexpr std::chrono::milliseconds k_side_call_grace{2000};
constexpr std::string_view k_working_reaction = "eyes";

bot::Answer apology() {
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {"Sorry, something went wrong while answering. Please try again in a minute."};
  return answer;
}

}  // namespace

std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SlackService::SlackService(const SlackConfig& config, http::HttpsClient& client, bot::ThreadMemory& threads,
                           bot::Inbox& inbox, bot::ChatAnswerer answerer, SecondsClock clock)
    : config_(config),
      api_(client, config.api_base, config.bot_token.value, config.app_token.value),
      threads_(threads),
      inbox_(inbox),
      answerer_(std::move(answerer)),
      clock_(std::move(clock)) {}

void SlackService::connect(std::chrono::milliseconds give_up_after) {
  const auto deadline = std::chrono::steady_clock::now() + give_up_after;
  bot::Backoff backoff(std::chrono::milliseconds(500), std::chrono::seconds(10));
  while (true) {
    try {
      identity_ = api_.auth_test();
      log::info("slack", "connected", {{"bot_user", identity_.user_id}, {"team", identity_.team}});
      return;
    } catch (const ApiError& error) {
      const auto wait = std::max(backoff.next(), error.retry_after());
      if (!error.retryable() || std::chrono::steady_clock::now() + wait > deadline) throw;
      log::warn("slack", "auth.test failed; retrying",
                {{"error", error.error()}, {"retry_in_ms", std::to_string(wait.count())}});
      std::this_thread::sleep_for(wait);  // start-up, before anything is served: nothing else to do
    }
  }
}

http::Response SlackService::authenticate(const http::Request& request) const {
  const SignatureError error =
      verify_signature(config_.signing_secret.value, header(request, "x-slack-request-timestamp"),
                       header(request, "x-slack-signature"), request.body, clock_());
  if (error == SignatureError::none) return status_only(0);
  const std::string reason(to_string(error));
  if (const auto suppressed = refusal_log_.admit(reason)) {
    log::warn("slack", "rejected an unauthenticated request",
              {{"reason", reason},
               {"remote", request.remote},
               {"target", log::truncated(request.target, k_logged_target_bytes)},
               {"suppressed", std::to_string(*suppressed)}});
  }
  return status_only(401);
}

void SlackService::on_command_async(const http::Request& request, http::Respond respond) {
  if (auto denied = authenticate(request); denied.status != 0) return respond(std::move(denied));
  const auto form = parse_form(request.body);
  if (!form) {
    // Authenticated, so Slack sent it: worth a warning, and a 400 rather than a guess at fields.
    log::warn("slack", "a slash command's body is not a valid form", {{"bytes", std::to_string(request.body.size())}});
    return respond(status_only(400));
  }
  PreparedCommand command = prepare_command(*form);
  if (command.refused) return respond(json_response(command.ack));
  std::string key = command.key;
  std::string payload = std::move(command.payload);
  inbox_.submit_async(
      std::move(key), std::string(k_platform), std::move(payload),
      [this, respond = std::move(respond), command = std::move(command)](const bot::Inbox::SubmitResult& result) {
        if (result.error) {
          log::error("slack", "cannot record the command", {{"error", result.error->what()}});
          // Slack shows a 200's text to the user; a 5xx only as a generic failure.
          respond(json_response({{"response_type", "ephemeral"},
                                 {"text",
                                  "Sorry, I cannot take questions right now. Please try again "
                                  "in a minute."}}));
          return;
        }
        log_command(result.submitted, command);
        respond(json_response(command.ack));
      });
}

void SlackService::on_events_async(const http::Request& request, http::Respond respond) {
  if (auto denied = authenticate(request); denied.status != 0) return respond(std::move(denied));
  const json envelope = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object()) {
    if (const auto suppressed = refusal_log_.admit("not_json")) {
      log::warn("slack", "signed event body is not a JSON object",
                {{"remote", request.remote}, {"suppressed", std::to_string(*suppressed)}});
    }
    return respond(status_only(400));
  }
  std::string payload;
  EventDecision decision;
  try {
    decision = decide_event(envelope, payload);
  } catch (const bot::StateError& error) {
    log::error("slack", "cannot record the event; Slack will retry it", {{"error", error.what()}});
    return respond(status_only(503));
  }
  if (decision.action == EventDecision::Action::url_verification) {
    http::Response response;
    response.body = decision.challenge;
    return respond(std::move(response));
  }
  if (decision.action != EventDecision::Action::answer) return respond(status_only(200));
  std::string key = decision.question.dedupe_key;
  inbox_.submit_async(
      std::move(key), std::string(k_platform), std::move(payload),
      [this, respond = std::move(respond),
       question = std::move(decision.question)](const bot::Inbox::SubmitResult& result) {
        if (result.error) {
          log::error("slack", "cannot record the event; Slack will retry it", {{"error", result.error->what()}});
          respond(status_only(503));
          return;
        }
        log_event(result.submitted, question);
        respond(status_only(200));
      });
}

EventDecision SlackService::decide_event(const json& envelope, std::string& payload) {
  EventDecision decision = interpret_event(
      envelope, identity_.user_id,
      [this](const std::string& channel, const std::string& thread) { return in_known_thread(channel, thread); });
  if (decision.action == EventDecision::Action::pane) {
    open_pane(decision, payload);
    return decision;
  }
  if (decision.action != EventDecision::Action::answer) {
    if (decision.malformed) {
      if (const auto suppressed = refusal_log_.admit("malformed_event")) {
        log::warn("slack", "malformed event dropped",
                  {{"reason", decision.reason}, {"suppressed", std::to_string(*suppressed)}});
      }
    } else if (decision.action == EventDecision::Action::ignore) {
      log::debug("slack", "event ignored", {{"reason", decision.reason}});
    }
    return decision;
  }
  const Question& question = decision.question;
  if (!question.direct) {
    std::lock_guard lock(answering_mutex_);
    // Late retries of answered questions add entries nobody removes; this bounds them.
    if (answering_threads_.size() >= 10000) answering_threads_.clear();
    answering_threads_.emplace(question.channel, question.thread_ts);
  }
  payload = json{{"input", question.text.empty() ? std::string("/help") : question.text},
                 {"channel", question.channel},
                 {"thread_ts", question.thread_ts},
                 {"message_ts", question.message_ts},
                 {"conversation", question.conversation},
                 {"opens", question.opens},
                 {"direct", question.direct},
                 {"user", question.user}}
                .dump(-1, ' ', false, json::error_handler_t::replace);
  return decision;
}

void SlackService::open_pane(EventDecision& decision, std::string& payload) {
  const PaneEvent& pane = decision.pane;
  // An empty thread_ts (the agent messaging experience) sets the prompts for the DM itself.
  side_calls_.post("assistant.threads.setSuggestedPrompts", [this, channel = pane.channel, thread = pane.thread_ts] {
    api_.set_suggested_prompts(channel, thread, std::string(k_prompts_title), suggested_prompts());
  });
  if (pane.kind != PaneEvent::Kind::thread_started) return;
  // The legacy pane's greeting is a message the bot promises, so it is recorded and delivered
  // like an answer (deduplicated on the event, kept across restarts); answer() says it.
  decision.action = EventDecision::Action::answer;
  decision.question = Question{};
  decision.question.dedupe_key = pane.dedupe_key;
  decision.question.user = pane.user;
  decision.question.channel = pane.channel;
  decision.question.thread_ts = pane.thread_ts;
  decision.question.direct = true;
  payload =
      json{{"greeting", true}, {"channel", pane.channel}, {"thread_ts", pane.thread_ts}, {"user", pane.user}}.dump(
          -1, ' ', false, json::error_handler_t::replace);
}

std::shared_future<void> SlackService::show_answering(const std::string& channel, const std::string& thread_ts,
                                                      const std::string& question) {
  std::shared_future<void> shown = side_calls_.post("assistant.threads.setStatus", [this, channel, thread_ts] {
    api_.set_status(channel, thread_ts, std::string(k_answering_status));
  });
  // A thread the bot has not answered in yet is new (answer() remembers it), so it gets a title.
  bool is_new = false;
  try {
    is_new = !threads_.knows_thread(k_platform, channel, thread_ts);
  } catch (const std::exception& error) {
    log::warn("slack", "cannot tell whether the thread is new; not titled", {{"error", error.what()}});
  }
  if (!is_new) return shown;
  // The calls run in order, so this one being made means the status was too.
  return side_calls_.post("assistant.threads.setTitle", [this, channel, thread_ts, title = thread_title(question)] {
    api_.set_title(channel, thread_ts, title);
  });
}

void SlackService::log_event(bot::Inbox::Submitted submitted, const Question& question) {
  if (submitted == bot::Inbox::Submitted::duplicate) {
    log::info("slack", "duplicate delivery ignored", {{"key", question.dedupe_key}});
  } else {
    log::info("slack", "question accepted", {{"key", question.dedupe_key}, {"channel", question.channel}});
  }
}

EventDecision SlackService::accept_event(const json& envelope) {
  std::string payload;
  EventDecision decision = decide_event(envelope, payload);
  if (decision.action == EventDecision::Action::answer) {
    log_event(inbox_.submit(decision.question.dedupe_key, k_platform, payload), decision.question);
  }
  return decision;
}

std::optional<json> SlackService::accept_envelope(const std::string& type, const json& payload) {
  if (type == "events_api") {
    accept_event(payload);
    return std::nullopt;
  }
  if (type == "slash_commands" && payload.is_object()) return accept_command(command_fields(payload));
  log::debug("slack", "socket envelope ignored", {{"type", type}});
  return std::nullopt;
}

bool SlackService::response_url_allowed(const std::string& url) const {
  // response_url comes from an authenticated request, but we still only post to Slack's own hosts
  // (or the configured API's host, for tests and proxies), never to an arbitrary URL.
  const std::string origin = origin_of(url);
  return origin == "https://hooks.slack.com" || origin == origin_of(config_.api_base);
}

SlackService::PreparedCommand SlackService::prepare_command(const std::map<std::string, std::string>& fields) const {
  PreparedCommand prepared;
  const CommandDecision decision = interpret_command(fields, config_.command);
  if (!decision.valid || !response_url_allowed(decision.question.response_url)) {
    if (const auto suppressed = refusal_log_.admit("command")) {
      log::warn("slack", "slash command refused",
                {{"reason", log::truncated(decision.valid ? "response_url host" : decision.error, 100)},
                 {"suppressed", std::to_string(*suppressed)}});
    }
    prepared.refused = true;
    prepared.ack = {{"response_type", "ephemeral"}, {"text", "Sorry, I could not read that command."}};
    return prepared;
  }
  const Question& question = decision.question;
  const std::string input = responder_input(question.text);
  prepared.key = question.dedupe_key;
  prepared.channel = question.channel;
  prepared.payload = json{
      {"input", input},
      {"channel", question.channel},
      {"response_url", question.response_url},
      {"user",
       question.user}}.dump(-1, ' ', false, json::error_handler_t::replace);
  // A question gets "searching"; help and commands (stats, reindex, subscribe, ...) just a moment.
  const std::string text = input.rfind('/', 0) == 0 && input.rfind("/ask ", 0) != 0 && input.rfind("/search ", 0) != 0
                               ? "One moment…"
                               : "Searching the roundups for: " + escape_mrkdwn(question.text);
  prepared.ack = {{"response_type", "ephemeral"}, {"text", text}};
  return prepared;
}

void SlackService::log_command(bot::Inbox::Submitted submitted, const PreparedCommand& command) {
  if (submitted == bot::Inbox::Submitted::accepted) {
    log::info("slack", "command accepted", {{"key", command.key}, {"channel", command.channel}});
  }
}

json SlackService::accept_command(const std::map<std::string, std::string>& fields) {
  const PreparedCommand command = prepare_command(fields);
  if (!command.refused) log_command(inbox_.submit(command.key, k_platform, command.payload), command);
  return command.ack;
}

std::vector<bot::OutgoingMessage> SlackService::answer(const bot::InboundItem& item) {
  const json payload = json::parse(item.payload, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) {
    log::error("slack", "unreadable inbox payload; dropped", {{"key", item.key}});
    return {};
  }
  const std::string input = payload.value("input", std::string());
  const std::string channel = payload.value("channel", std::string());
  const std::string thread_ts = payload.value("thread_ts", std::string());
  if (payload.value("greeting", false)) return address_replies(payload, greeting(), item.key);
  // Commands are words after the app's one slash command: "/roundup papers", not "/papers".
  const bot::Speaker speaker{std::string(k_platform),
                             payload.value("user", std::string()),
                             channel,
                             item.key,
                             bot::CommandSpelling{config_.command + " "},
                             payload.value("conversation", std::string()),
                             payload.value("opens", std::string())};

  // DMs are where the AI surface shows a status (and a new thread's title) while the bot works.
  std::shared_future<void> shown;
  if (payload.value("direct", false) && !thread_ts.empty()) shown = show_answering(channel, thread_ts, input);
  // In a channel there is no status line: while a slow answer is written, the question wears a
  // reaction, taken off once the answer is ready to send.
  const std::string marked =
      mark_working_ && !payload.value("direct", false) ? payload.value("message_ts", std::string()) : std::string();
  if (!marked.empty()) {
    side_calls_.post("reactions.add",
                     [this, channel, marked] { api_.add_reaction(channel, marked, std::string(k_working_reaction)); });
  }

  bot::Answer answer;
  try {
    answer = answerer_(speaker, input);
  } catch (const std::exception& error) {
    log::error("slack", "answering failed", {{"key", item.key}, {"error", error.what()}});
    answer = apology();
  }
  if (shown.valid()) shown.wait_for(k_side_call_grace);
  if (!marked.empty()) {
    side_calls_.post("reactions.remove", [this, channel, marked] {
      api_.remove_reaction(channel, marked, std::string(k_working_reaction));
    });
  }

  auto replies = address_replies(payload, answer, item.key);
  if (payload.value("response_url", std::string()).empty() && !thread_ts.empty()) {
    try {
      threads_.remember_thread(k_platform, channel, thread_ts, bot::system_now_ms());
      std::lock_guard lock(answering_mutex_);
      answering_threads_.erase({channel, thread_ts});
    } catch (const std::exception& error) {
      log::warn("slack", "cannot remember the thread", {{"error", error.what()}});
    }
  }
  return replies;
}

std::vector<bot::OutgoingMessage> SlackService::apologize(const bot::InboundItem& item) const {
  const json payload = json::parse(item.payload, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return {};
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {"Sorry, I could not answer that message: it failed every time I tried. Please ask in other words."};
  return address_replies(payload, answer, item.key);
}

std::vector<bot::OutgoingMessage> SlackService::address_replies(const json& payload, const bot::Answer& answer,
                                                                const std::string& key) {
  const std::string channel = payload.value("channel", std::string());
  const std::string thread_ts = payload.value("thread_ts", std::string());
  const std::string response_url = payload.value("response_url", std::string());
  const auto messages = response_url.empty() ? render_messages(answer) : fit_response_url(render_messages(answer));
  return outbox_messages(messages, channel, key, [&](json body) {
    if (response_url.empty()) return chat_envelope(std::move(body), channel, thread_ts);
    // Help goes to the asker only; answers are shared with the channel, as the issue asks.
    body["response_type"] = answer.kind == bot::Answer::Kind::help ? "ephemeral" : "in_channel";
    body["replace_original"] = false;
    return json{{"via", "response_url"}, {"url", response_url}, {"body", std::move(body)}};
  });
}

bool SlackService::in_known_thread(const std::string& channel, const std::string& thread_ts) const {
  {
    std::lock_guard lock(answering_mutex_);
    if (answering_threads_.count({channel, thread_ts}) != 0) return true;
  }
  return threads_.knows_thread(k_platform, channel, thread_ts);
}

std::vector<bot::OutgoingMessage> SlackService::render_post(const std::string& channel, const bot::Answer& answer,
                                                            const std::string& key) const {
  return outbox_messages(render_messages(answer), channel, key,
                         [&channel](json body) { return chat_envelope(std::move(body), channel, ""); });
}

bot::Delivery SlackService::deliver(const bot::OutboxItem& item) {
  const json envelope = json::parse(item.message.payload, nullptr, /*allow_exceptions=*/false);
  if (!envelope.is_object() || !envelope.contains("body"))
    return bot::Delivery::refused("bad_payload", "unreadable outbox payload");
  const std::string via = envelope.value("via", std::string());
  if (via == "chat") return api_.post_message(envelope["body"]);
  if (via == "response_url") return api_.post_response(envelope.value("url", std::string()), envelope["body"]);
  return bot::Delivery::refused("bad_payload", "unknown delivery route '" + via + "'");
}

}  // namespace roundup::adapters::slack

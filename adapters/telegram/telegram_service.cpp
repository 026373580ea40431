#include "adapters/telegram/telegram_service.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>

#include "adapters/telegram/commands.h"
#include "adapters/telegram/html.h"
#include "bot/backoff.h"
#include "telemetry/log.h"

namespace roundup::adapters::telegram {
namespace {

using nlohmann::json;

// A server that answers getUpdates at once with nothing (not Telegram, which holds the request)
// must not turn the loop into a busy spin.
constexpr std::chrono::milliseconds k_min_empty_poll_interval{200};
constexpr std::chrono::milliseconds k_typing_timeout{5000};

// Enough of a refused request's target to recognise it; the rest is whatever the sender chose.
constexpr std::size_t k_logged_target_bytes = 100;

http::Response status_only(int status) {
  http::Response response;
  response.status = status;
  return response;
}

bool secret_matches(const std::string& expected, const std::string& given) {
  // Length is not secret (Telegram documents 1-256 characters); the content is compared in
  // constant time.
  return !expected.empty() && expected.size() == given.size() &&
         CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

bot::Answer apology() {
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {"Sorry, something went wrong while answering. Please try again in a minute."};
  return answer;
}

// The answer's HTML chunks as sendMessage outbox entries for `chat` (the chat id as sent, and as
// text for the outbox target), keyed key#0, key#1, ...; `extra` parameters go into every chunk.
// A non-empty `conversation` rides along for deliver() (reply chains), and is not sent.
std::vector<bot::OutgoingMessage> outbox_messages(const bot::Answer& answer, const json& chat_id,
                                                  const std::string& chat, const std::string& key, const json& extra,
                                                  const std::string& conversation = {}) {
  std::vector<bot::OutgoingMessage> entries;
  const auto chunks = render_messages(answer);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    json params = {{"chat_id", chat_id},
                   {"text", chunks[i]},
                   {"parse_mode", "HTML"},
                   {"link_preview_options", {{"is_disabled", true}}}};
    params.update(extra);
    json envelope = {{"params", params}, {"plain", html_to_plain(chunks[i])}};
    if (!conversation.empty()) envelope["conversation"] = conversation;
    entries.push_back({key + "#" + std::to_string(i), std::string(k_platform), std::string(k_platform) + ":" + chat,
                       envelope.dump(-1, ' ', false, json::error_handler_t::replace)});
  }
  return entries;
}

bot::Answer unknown_command(const std::string& command) {
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {"I don't know the command /" + command + ". Try /help."};
  return answer;
}

std::int64_t chat_of(const std::string& target) {
  try {
    return std::stoll(target.substr(target.find(':') + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

std::string reply_chain_conversation(std::int64_t chat_id, std::int64_t message_id) {
  return "telegram:" + std::to_string(chat_id) + ":reply:" + std::to_string(message_id);
}

std::string responder_input(const Incoming& incoming) {
  if (incoming.kind == Incoming::Kind::question) return incoming.text.empty() ? "/help" : incoming.text;
  const std::string& command = incoming.command;
  if (command == "start" || command == "help") return "/help";
  if (command == "ask") return incoming.text.empty() ? "/help" : "/ask " + incoming.text;
  if (command == "search" || command == "papers" || command == "reindex" || command == "stats" || command == "digest" ||
      command == "subscribe" || command == "unsubscribe") {
    return "/" + command + (incoming.text.empty() ? "" : " " + incoming.text);
  }
  return {};
}

TelegramService::TelegramService(const TelegramConfig& config, http::HttpsClient& client,
                                 http::HttpsClient& poll_client, bot::KeyValues& values, bot::Inbox& inbox,
                                 bot::ChatAnswerer answerer, TelegramTimings timings, PollerElection election,
                                 ReplyChains chains)
    : config_(config),
      api_(client, config.api_base, config.bot_token.value),
      poll_client_(&poll_client),
      poll_api_(std::make_unique<BotApi>(poll_client, config.api_base, config.bot_token.value)),
      values_(values),
      inbox_(inbox),
      answerer_(std::move(answerer)),
      timings_(timings),
      chains_(std::move(chains)) {
  if (!chains_.now_ms) chains_.now_ms = bot::system_now_ms;
  if (election.leases != nullptr) {
    // The token's first part is the bot's public id: one lease per bot, never the secret.
    const std::string& token = config.bot_token.value;
    poller_lease_ = std::make_unique<bot::LeaderLease>(
        *election.leases, "telegram:poller:" + token.substr(0, token.find(':')), election.replica_id,
        std::chrono::seconds(timings_.poll_timeout_seconds + 10), std::move(election.now_ms), "telegram");
  }
}

TelegramService::~TelegramService() {
  stop();
}

bool TelegramService::wait_or_stop(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  // A deliberate wait is not a stall: the heartbeat moves to when the loop will be back.
  last_round_ = std::chrono::steady_clock::now() + duration;
  return stop_signal_.wait_for(lock, duration, [&] { return stopping_; });
}

void TelegramService::connect(std::chrono::milliseconds give_up_after) {
  const auto deadline = std::chrono::steady_clock::now() + give_up_after;
  bot::Backoff backoff(timings_.min_backoff, timings_.max_backoff);
  while (true) {
    try {
      identity_ = api_.get_me();
      break;
    } catch (const BotApiError& error) {
      const auto wait = std::max(backoff.next(), error.retry_after());
      if (!error.retryable() || std::chrono::steady_clock::now() + wait > deadline) throw;
      log::warn("telegram", "getMe failed; retrying",
                {{"error", error.what()}, {"retry_in_ms", std::to_string(wait.count())}});
      if (wait_or_stop(wait)) throw;
    }
  }
  log::info("telegram", "connected", {{"bot", identity_.username}, {"mode", config_.mode}});
  try {
    api_.call("setMyCommands", {{"commands", published_commands()}});
  } catch (const BotApiError& error) {
    // The command menu is a convenience; answering works without it.
    log::warn("telegram", "setMyCommands failed", {{"error", error.what()}});
  }
  if (config_.mode == "webhook") {
    api_.call("setWebhook", {{"url", config_.public_url},
                             {"secret_token", config_.secret_token.value},
                             {"allowed_updates", json::array({"message"})}});
    log::info("telegram", "webhook registered", {{"url", config_.public_url}});
  } else {
    // getUpdates answers 409 while a webhook is set. Pending updates are kept (not dropped).
    api_.call("deleteWebhook", {{"drop_pending_updates", false}});
  }
}

void TelegramService::on_webhook_async(const http::Request& request, http::Respond respond) {
  const auto header = request.headers.find("x-telegram-bot-api-secret-token");
  if (header == request.headers.end() || !secret_matches(config_.secret_token.value, header->second)) {
    if (const auto suppressed = refusal_log_.admit("secret_token")) {
      log::warn("telegram", "rejected a webhook request with a missing or wrong secret token",
                {{"remote", request.remote},
                 {"target", log::truncated(request.target, k_logged_target_bytes)},
                 {"suppressed", std::to_string(*suppressed)}});
    }
    return respond(status_only(401));
  }
  const json update = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!update.is_object()) {
    if (const auto suppressed = refusal_log_.admit("not_json")) {
      log::warn("telegram", "webhook body is not a JSON object",
                {{"remote", request.remote}, {"suppressed", std::to_string(*suppressed)}});
    }
    return respond(status_only(400));
  }
  std::string key;
  std::string payload;
  std::int64_t chat = 0;
  if (!record_of(update, key, payload, chat)) return respond(status_only(200));
  std::string logged_key = key;
  inbox_.submit_async(
      std::move(key), std::string(k_platform), std::move(payload),
      [respond = std::move(respond), key = std::move(logged_key), chat](const bot::Inbox::SubmitResult& result) {
        if (result.error) {
          log::error("telegram", "cannot record the update; Telegram will retry it", {{"error", result.error->what()}});
          respond(status_only(503));
          return;
        }
        if (result.submitted == bot::Inbox::Submitted::duplicate) {
          log::info("telegram", "duplicate update ignored", {{"key", key}});
        } else {
          log::info("telegram", "question accepted", {{"key", key}, {"chat", std::to_string(chat)}});
        }
        respond(status_only(200));
      });
}

bool TelegramService::record_of(const json& update, std::string& key, std::string& payload, std::int64_t& chat) const {
  const Incoming incoming = interpret_update(update, identity_);
  if (incoming.kind == Incoming::Kind::ignore) {
    log::debug("telegram", "update ignored", {{"reason", incoming.ignore_reason}});
    return false;
  }
  json fields = {{"input", responder_input(incoming)}, {"command", incoming.command},     {"chat_id", incoming.chat_id},
                 {"message_id", incoming.message_id},  {"chat_type", incoming.chat_type}, {"user", incoming.user_id}};
  if (incoming.message_thread_id) fields["message_thread_id"] = *incoming.message_thread_id;
  if (incoming.replied_bot_message_id != 0) fields["replied_bot_message_id"] = incoming.replied_bot_message_id;
  key = "telegram:update:" + std::to_string(incoming.update_id);
  payload = fields.dump(-1, ' ', false, json::error_handler_t::replace);
  chat = incoming.chat_id;
  return true;
}

bool TelegramService::accept_update(const json& update) {
  std::string key;
  std::string payload;
  std::int64_t chat = 0;
  if (!record_of(update, key, payload, chat)) return true;
  if (inbox_.submit(key, k_platform, payload) == bot::Inbox::Submitted::duplicate) {
    log::info("telegram", "duplicate update ignored", {{"key", key}});
    return false;
  }
  log::info("telegram", "question accepted", {{"key", key}, {"chat", std::to_string(chat)}});
  return true;
}

void TelegramService::start_polling() {
  std::lock_guard lock(mutex_);
  if (poller_.joinable()) return;
  stopping_ = false;
  last_round_ = last_poll_ = std::chrono::steady_clock::now();
  poller_ = std::thread([this] { poll_loop(); });
}

void TelegramService::restart_polling(http::HttpsClient& fresh_client) {
  stop();
  {
    std::lock_guard lock(mutex_);
    poll_client_ = &fresh_client;
    poll_api_ = std::make_unique<BotApi>(fresh_client, config_.api_base, config_.bot_token.value);
    last_round_ = std::chrono::steady_clock::now();
  }
  log::warn("telegram", "polling restarted by the watchdog");
  start_polling();
}

void TelegramService::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (poller_.joinable()) {
    // A long poll can hold the request for poll_timeout_seconds; cut it short.
    poll_client_->shut_down();
    poller_.join();
  }
  // Another replica takes over at its next try instead of after the ttl.
  if (poller_lease_) poller_lease_->release();
}

bool TelegramService::standing_by() const {
  return poller_lease_ && !poller_lease_->held();
}

std::chrono::steady_clock::time_point TelegramService::last_round() const {
  std::lock_guard lock(mutex_);
  return last_round_;
}

std::chrono::steady_clock::time_point TelegramService::last_poll() const {
  std::lock_guard lock(mutex_);
  return last_poll_;
}

void TelegramService::poll_loop() {
  constexpr const char* k_offset_key = "telegram.offset";
  bot::Backoff backoff(timings_.min_backoff, timings_.max_backoff);
  bool conflict_reported = false;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      // The loop's heartbeat: it advances every round, failing or not, so only a loop stuck
      // inside one round looks stalled to the watchdog.
      last_round_ = std::chrono::steady_clock::now();
    }
    if (poller_lease_) {
      const bool was_standing_by = !poller_lease_->held();
      if (!poller_lease_->hold()) {
        // Another replica polls (or the store does not answer): ask again later.
        if (wait_or_stop(timings_.lease_check)) return;
        continue;
      }
      if (was_standing_by) {
        // Taking over: readiness counts from now, not from before the stand-by.
        std::lock_guard lock(mutex_);
        last_poll_ = std::chrono::steady_clock::now();
      }
    }
    std::int64_t offset = 0;
    try {
      offset = std::stoll(values_.value(k_offset_key).value_or("0"));
    } catch (const std::exception&) {
      offset = 0;
    }
    const auto started = std::chrono::steady_clock::now();
    json updates;
    try {
      updates = poll_api_->get_updates(offset, timings_.poll_timeout_seconds);
    } catch (const BotApiError& error) {
      std::chrono::milliseconds wait = std::max(backoff.next(), error.retry_after());
      if (error.status() == 409) {
        // Another poller or a webhook owns the updates: say so once, then back off hard.
        wait = timings_.max_backoff;
        if (!conflict_reported) {
          log::error("telegram",
                     "getUpdates conflict (409): a webhook is set or another instance is polling with this token; "
                     "backing off",
                     {{"retry_in_ms", std::to_string(wait.count())}});
        }
        conflict_reported = true;
      } else {
        log::warn("telegram", "getUpdates failed; retrying",
                  {{"error", error.what()}, {"retry_in_ms", std::to_string(wait.count())}});
      }
      if (wait_or_stop(wait)) return;
      continue;
    } catch (const std::exception& error) {
      // BotApi reports every failure as BotApiError; anything else is a bug in reading the reply,
      // and must cost one round, not the process (an escaping exception ends it).
      const auto wait = backoff.next();
      log::error("telegram", "getUpdates reply could not be read; retrying",
                 {{"error", error.what()}, {"retry_in_ms", std::to_string(wait.count())}});
      if (wait_or_stop(wait)) return;
      continue;
    }
    backoff.reset();
    conflict_reported = false;
    {
      std::lock_guard lock(mutex_);
      last_poll_ = std::chrono::steady_clock::now();
    }
    for (const json& update : updates) {
      // update_id is a positive counter: skip what cannot be one, including INT64_MAX and above,
      // since id + 1 becomes the next offset and must not overflow.
      const auto found = update.is_object() ? update.find("update_id") : update.end();
      if (found == update.end() || !found->is_number_integer()) continue;
      if (found->is_number_unsigned() &&
          found->get<std::uint64_t>() >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        continue;
      }
      const std::int64_t id = found->get<std::int64_t>();
      if (id < offset) continue;
      try {
        accept_update(update);
        // Only after the update is durably recorded: a crash before this line re-fetches it and
        // the inbox recognises it; a crash after it has it recorded already.
        values_.set_value(k_offset_key, std::to_string(id + 1));
      } catch (const std::exception& error) {
        log::error("telegram", "cannot record an update; it will be fetched again", {{"error", error.what()}});
        break;
      }
    }
    if (updates.empty() && std::chrono::steady_clock::now() - started < k_min_empty_poll_interval) {
      if (wait_or_stop(k_min_empty_poll_interval)) return;
    }
  }
}

std::vector<bot::OutgoingMessage> TelegramService::answer(const bot::InboundItem& item) {
  const json payload = json::parse(item.payload, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) {
    log::error("telegram", "unreadable inbox payload; dropped", {{"key", item.key}});
    return {};
  }
  const std::string input = payload.value("input", std::string());
  const std::int64_t chat_id = payload.value("chat_id", std::int64_t{0});

  const std::string user = std::to_string(payload.value("user", std::int64_t{0}));
  const std::string conversation = conversation_of(payload);
  const bot::Speaker speaker{std::string(k_platform), user,        std::to_string(chat_id), item.key,
                             bot::CommandSpelling{},  conversation};

  if (show_typing_ && !input.empty()) {
    json action{{"chat_id", chat_id}, {"action", "typing"}};
    if (payload.contains("message_thread_id")) action["message_thread_id"] = payload["message_thread_id"];
    // Telegram shows it for 5 s or until the answer arrives; the call's short deadline keeps a
    // slow API from queueing stale ones behind it.
    side_calls_.post("sendChatAction",
                     [this, action = std::move(action)] { api_.call("sendChatAction", action, k_typing_timeout); });
  }

  bot::Answer answer;
  try {
    answer = input.empty() ? unknown_command(payload.value("command", std::string("?"))) : answerer_(speaker, input);
  } catch (const std::exception& error) {
    log::error("telegram", "answering failed", {{"key", item.key}, {"error", error.what()}});
    answer = apology();
  }

  return address_replies(payload, answer, item.key);
}

std::string TelegramService::conversation_of(const json& payload) {
  // A private chat is one conversation. In a group the bot hears only messages addressed to it (a
  // mention, a command, a reply to its message): a reply to its message continues that message's
  // chain, anything else starts a chain of its own, so no one's follow-up reads a stranger's
  // context unless they reply to it.
  const std::string chat = std::to_string(payload.value("chat_id", std::int64_t{0}));
  if (payload.value("chat_type", std::string()) == "private") return "telegram:" + chat;
  if (const auto replied = payload.value("replied_bot_message_id", std::int64_t{0}); replied != 0)
    return reply_chain_conversation(payload.value("chat_id", std::int64_t{0}), replied);
  return "telegram:" + chat + ":message:" + std::to_string(payload.value("message_id", std::int64_t{0}));
}

std::vector<bot::OutgoingMessage> TelegramService::apologize(const bot::InboundItem& item) {
  const json payload = json::parse(item.payload, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object() || payload.value("chat_id", std::int64_t{0}) == 0) return {};
  bot::Answer answer;
  answer.kind = bot::Answer::Kind::notice;
  answer.lines = {"Sorry, I could not answer that message: it failed every time I tried. Please ask in other words."};
  return address_replies(payload, answer, item.key);
}

std::vector<bot::OutgoingMessage> TelegramService::address_replies(const json& payload, const bot::Answer& answer,
                                                                   const std::string& key) {
  const std::int64_t chat_id = payload.value("chat_id", std::int64_t{0});
  const std::int64_t message_id = payload.value("message_id", std::int64_t{0});
  // Every chunk answers the question, so a reader of a busy group sees what it refers to; if the
  // question was deleted meanwhile the answer still goes out.
  json reply_to = json::object();
  if (message_id != 0) {
    reply_to["reply_parameters"] = {{"message_id", message_id}, {"allow_sending_without_reply", true}};
  }
  if (payload.contains("message_thread_id")) reply_to["message_thread_id"] = payload["message_thread_id"];
  // A group reply carries its conversation, for deliver() to extend the reply chain.
  const bool group = payload.value("chat_type", std::string()) != "private";
  return outbox_messages(answer, chat_id, std::to_string(chat_id), key, reply_to,
                         group ? conversation_of(payload) : std::string());
}

std::vector<bot::OutgoingMessage> TelegramService::render_post(const std::string& chat, const bot::Answer& answer,
                                                               const std::string& key) {
  // A numeric chat id is sent as a number; "@channelname" (a public channel) as a string.
  json chat_id = chat;
  try {
    std::size_t used = 0;
    const std::int64_t number = std::stoll(chat, &used);
    if (used == chat.size()) chat_id = number;
  } catch (const std::exception&) {
  }
  return outbox_messages(answer, chat_id, chat, key, json::object());
}

bot::Delivery TelegramService::deliver(const bot::OutboxItem& item) {
  const json envelope = json::parse(item.message.payload, nullptr, /*allow_exceptions=*/false);
  if (!envelope.is_object() || !envelope.contains("params"))
    return bot::Delivery::refused("bad_payload", "unreadable outbox payload");
  std::int64_t sent_id = 0;
  bot::Delivery delivery = api_.send_message(envelope["params"], envelope.value("plain", std::string()), &sent_id);
  if (delivery.outcome == bot::Delivery::Outcome::delivered && sent_id != 0) extend_reply_chain(envelope, sent_id);
  return delivery;
}

void TelegramService::extend_reply_chain(const json& envelope, std::int64_t sent_id) {
  const std::string conversation = envelope.value("conversation", std::string());
  if (chains_.memory == nullptr || conversation.empty()) return;
  const std::int64_t chat_id = envelope["params"].value("chat_id", std::int64_t{0});
  try {
    const std::int64_t now = chains_.now_ms();
    // No state (a refusal keeps none, or it expired): a reply to this message starts afresh.
    if (const auto state = chains_.memory->dialogue(conversation, now))
      chains_.memory->save_dialogue(reply_chain_conversation(chat_id, sent_id), *state, now + chains_.ttl.count());
  } catch (const std::exception& error) {
    // The reply is out; a follow-up to it will ask what "it" means. Never fail the delivery.
    log::warn("telegram", "cannot extend the reply chain", {{"conversation", conversation}, {"error", error.what()}});
  }
}

std::pair<double, double> TelegramService::pace(const std::string& target) {
  // Negative chat ids are groups and channels, and so is "@channelname": Telegram allows about 20
  // messages a minute there.
  if (chat_of(target) < 0 || target.find(":@") != std::string::npos) return {20.0 / 60.0, 3.0};
  return {1.0, 3.0};
}

}  // namespace roundup::adapters::telegram

#pragma once
// Telegram end to end, platform side: the webhook route (secret header checked before parsing)
// or the long-polling loop, both feeding the durable inbox with the same dedupe key per update;
// answers rendered as HTML chunks for the outbox; delivery through sendMessage with a plain-text
// fallback.
//
// Threads: on_webhook runs on I/O threads (authenticate, decode, record: fast). The polling loop
// has its own thread. answer() runs on inbox workers, deliver() on outbox senders.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/http/server.h"
#include "adapters/telegram/bot_api.h"
#include "adapters/telegram/update.h"
#include "bot/answer.h"
#include "bot/inbox.h"
#include "bot/state_store.h"
#include "config/config.h"

namespace roundup::adapters::telegram {

inline constexpr std::string_view k_platform = "telegram";

struct TelegramTimings {
  int poll_timeout_seconds = 50;  // getUpdates long-poll wait
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
};

class TelegramService {
 public:
  // `poll_client` is used only by the polling loop (its long requests must not hold up replies
  // on the shared client), and stop() shuts it down to end a long poll at once; in webhook
  // mode it is never used.
  TelegramService(const config::TelegramConfig& config, http::HttpsClient& client, http::HttpsClient& poll_client,
                  bot::StateStore& store, bot::Inbox& inbox, bot::Answerer answerer, TelegramTimings timings = {});
  ~TelegramService();  // stop()

  // getMe (retrying transient failures for up to `give_up_after`), setMyCommands, then
  // setWebhook (webhook mode) or deleteWebhook (polling mode). Throws BotApiError when Telegram
  // refuses for good (a wrong token).
  void connect(std::chrono::milliseconds give_up_after = std::chrono::seconds(60));
  const BotIdentity& identity() const { return identity_; }

  // POST /telegram/webhook. 401 with no body unless X-Telegram-Bot-Api-Secret-Token matches;
  // 400 for a body that is not a JSON object; 503 when the inbox cannot record it (Telegram
  // retries); 200 otherwise, also for updates the bot ignores.
  http::Response on_webhook(const http::Request& request);

  // Polling mode: the getUpdates loop on its own thread.
  void start_polling();
  void stop();
  // Last time the polling loop completed a getUpdates call (readiness).
  std::chrono::steady_clock::time_point last_poll() const;

  // Records one update (both modes). Returns false when it was a duplicate.
  bool accept_update(const nlohmann::json& update);

  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item);
  bot::Delivery deliver(const bot::OutboxItem& item);

  // Outbox pacing for a target "telegram:<chat_id>": about 1/s in private chats, 20/min in groups.
  static std::pair<double, double> pace(const std::string& target);

 private:
  void poll_loop();
  bool wait_or_stop(std::chrono::milliseconds duration);

  config::TelegramConfig config_;
  BotApi api_;
  http::HttpsClient& poll_client_;
  BotApi poll_api_;
  bot::StateStore& store_;
  bot::Inbox& inbox_;
  bot::Answerer answerer_;
  TelegramTimings timings_;
  BotIdentity identity_;

  std::thread poller_;
  mutable std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_poll_{};
};

// The responder input for an interpreted update: "/help", "/ask q", "/papers 2023-02", a plain
// question, or "" for commands this bot does not know (answered with a short notice).
std::string responder_input(const Incoming& incoming);

}  // namespace roundup::adapters::telegram

#pragma once
// Telegram end to end, platform side: the webhook route (secret header checked before parsing)
// or the long-polling loop, both feeding the durable inbox with the same dedupe key per update;
// answers rendered as HTML chunks for the outbox; delivery through sendMessage with a plain-text
// fallback.
//
// Threads: on_webhook_async authenticates and decodes on an I/O thread, records through the
// inbox's group commit and acks from the committer thread. The polling loop
// has its own thread. answer() runs on inbox workers, deliver() on outbox senders.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/http/server.h"
#include "adapters/telegram/bot_api.h"
#include "adapters/telegram/telegram_config.h"
#include "adapters/telegram/update.h"
#include "bot/answer.h"
#include "bot/conversation.h"
#include "bot/inbox.h"
#include "bot/leader_lease.h"
#include "bot/side_calls.h"
#include "bot/state_store.h"
#include "config/config.h"
#include "telemetry/log.h"

namespace roundup::adapters::telegram {

inline constexpr std::string_view k_platform = "telegram";

struct TelegramTimings {
  int poll_timeout_seconds = 50;  // getUpdates long-poll wait
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  // A replica standing by (another holds the poller lease) asks again this often.
  std::chrono::milliseconds lease_check{10000};
};

// Who long-polls when several replicas share the state: Telegram allows one getUpdates consumer
// per token, so only the holder of the lease "telegram:poller:<bot id>" polls. Its ttl is the poll
// timeout plus 10 s, renewed before every getUpdates; a replica that dies is replaced within that
// ttl plus one lease_check (70 s with the defaults). Without `leases`, the service polls unasked.
struct PollerElection {
  bot::Leases* leases = nullptr;
  std::string replica_id;
  std::function<std::int64_t()> now_ms;  // wall clock, Unix ms
};

// Conversations in groups are reply chains: a question addressed to the bot starts one, and a
// reply to any message the bot sent in it continues it. Telegram does not say what the bot's
// message itself replied to, so when a reply is delivered, the conversation's dialogue state is
// also saved under that message's id (expiring like the conversation), where a reply to it
// finds it. Without `memory`, group conversations do not continue past the first reply.
struct ReplyChains {
  bot::DialogueMemory* memory = nullptr;
  std::chrono::milliseconds ttl{std::chrono::hours(24)};
  std::function<std::int64_t()> now_ms;  // wall clock, Unix ms
};

// The conversation a reply to the bot's message `message_id` in group `chat_id` continues.
std::string reply_chain_conversation(std::int64_t chat_id, std::int64_t message_id);

class TelegramService {
 public:
  // `poll_client` is used only by the polling loop (its long requests must not hold up replies
  // on the shared client), and stop() shuts it down to end a long poll at once; in webhook
  // mode it is never used.
  TelegramService(const TelegramConfig& config, http::HttpsClient& client, http::HttpsClient& poll_client,
                  bot::KeyValues& values, bot::Inbox& inbox, bot::ChatAnswerer answerer, TelegramTimings timings = {},
                  PollerElection election = {}, ReplyChains chains = {});
  ~TelegramService();  // stop()

  // getMe (retrying transient failures for up to `give_up_after`), setMyCommands, then
  // setWebhook (webhook mode) or deleteWebhook (polling mode). Throws BotApiError when Telegram
  // refuses for good (a wrong token).
  void connect(std::chrono::milliseconds give_up_after = std::chrono::seconds(60));
  const BotIdentity& identity() const { return identity_; }

  // POST /telegram/webhook. 401 with no body unless X-Telegram-Bot-Api-Secret-Token matches;
  // 400 for a body that is not a JSON object; 503 when the inbox cannot record it (Telegram
  // retries); 200 otherwise, also for updates the bot ignores. An update's 200 (or 503) is sent
  // through `respond` once the inbox's group commit has recorded it (or failed to), so the I/O
  // thread does not wait for the commit.
  void on_webhook_async(const http::Request& request, http::Respond respond);

  // Polling mode: the getUpdates loop on its own thread.
  void start_polling();
  // The watchdog's remedy for a poll loop that stopped making progress: stops it (shutting down
  // its client), then polls again through `fresh_client`, which must outlive this service.
  void restart_polling(http::HttpsClient& fresh_client);
  void stop();

  // Answers take seconds (a language model writes them): while one is written, the chat shows the
  // bot typing. A best-effort side call, never a promise: a lost one costs nothing.
  void show_typing(bool on) { show_typing_ = on; }
  // Last time the polling loop completed a getUpdates call (readiness).
  std::chrono::steady_clock::time_point last_poll() const;
  // True while another replica holds the poller lease: this one does not poll, and is not stale.
  bool standing_by() const;
  // The poll loop's heartbeat: when it last began a round, or when a deliberate wait (a backoff)
  // will end; the watchdog treats a heartbeat far in the past as a stalled loop.
  std::chrono::steady_clock::time_point last_round() const;

  // Records one update (both modes). Returns false when it was a duplicate.
  bool accept_update(const nlohmann::json& update);

  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item);
  // Inbox apology for an item being quarantined: a reply to its message, without answering it.
  // Nothing when the payload is unreadable or names no chat.
  static std::vector<bot::OutgoingMessage> apologize(const bot::InboundItem& item);
  // A message the bot starts itself (a daily digest) in `chat` (a chat id, or "@channelname"), as
  // outbox messages keyed `key#0`, `key#1`, ...
  static std::vector<bot::OutgoingMessage> render_post(const std::string& chat, const bot::Answer& answer,
                                                       const std::string& key);
  bot::Delivery deliver(const bot::OutboxItem& item);

  // Outbox pacing for a target "telegram:<chat_id>": about 1/s in private chats, 20/min in groups.
  static std::pair<double, double> pace(const std::string& target);

 private:
  // `answer` as sendMessage outbox entries keyed key#0, key#1, ... replying to the recorded
  // update `payload` (in its chat and forum topic).
  static std::vector<bot::OutgoingMessage> address_replies(const nlohmann::json& payload, const bot::Answer& answer,
                                                           const std::string& key);
  // The conversation an inbox payload belongs to (see ReplyChains).
  static std::string conversation_of(const nlohmann::json& payload);
  // After a group reply was delivered as message sent_id: its conversation's state, under the key
  // a reply to that message will look up.
  void extend_reply_chain(const nlohmann::json& envelope, std::int64_t sent_id);
  void poll_loop();
  // The inbox record for an update: false when the bot ignores it.
  bool record_of(const nlohmann::json& update, std::string& key, std::string& payload, std::int64_t& chat) const;
  bool wait_or_stop(std::chrono::milliseconds duration);

  TelegramConfig config_;
  BotApi api_;
  // Replaced by restart_polling(): a shut-down client cannot be used again.
  http::HttpsClient* poll_client_;
  std::unique_ptr<BotApi> poll_api_;
  bot::KeyValues& values_;
  bot::Inbox& inbox_;
  bot::ChatAnswerer answerer_;
  bool show_typing_ = false;
  TelegramTimings timings_;
  ReplyChains chains_;
  BotIdentity identity_;

  std::thread poller_;
  std::unique_ptr<bot::LeaderLease> poller_lease_;  // null: no election
  mutable std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_poll_{};   // the last successful getUpdates
  std::chrono::steady_clock::time_point last_round_{};  // the poll loop's heartbeat
  // Refused webhook requests are logged at most once per reason per 10 s: anyone can send them.
  log::RateLimiter refusal_log_;
  bot::SideCalls side_calls_{"telegram"};  // last: destroyed first, while api_ is still there
};

// The responder input for an interpreted update: "/help", "/ask q", "/papers 2023-02", a plain
// question, or "" for commands this bot does not know (answered with a short notice).
std::string responder_input(const Incoming& incoming);

}  // namespace roundup::adapters::telegram

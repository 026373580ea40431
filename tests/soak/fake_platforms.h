#pragma once
// The soak's fake Slack Web API and Telegram Bot API: two TLS servers on 127.0.0.1 with the test
// CA (tests/support/test_tls.h) that answer the calls roundup-bot makes. The calls that post a
// message (chat.postMessage, a slash command's response_url, sendMessage) get faults injected:
// 429 with Retry-After, 5xx, and connections accepted and never answered. getUpdates is served
// from a queue for long polling, holding the request until an update arrives or its timeout.
//
// Every posted message is recorded by its identity: the path it was posted to and its JSON body
// in canonical form (message_hash). The bot's outbox stores the same body, so the driver can match
// each outbox row to what the fake received: once is right, twice is a duplicate, never is a loss.
// Asynchronous handlers throughout, so a stalled or held call costs no server thread.
//
// Replicas sharing one bot (scripts/ha-demo.sh) are told apart by their API base: a path that
// starts "/r/<replica>/" (api_base https://127.0.0.1:P/r/A/api) is served as without it, and its
// messages are counted for <replica>. getUpdates from a second replica while another replica's
// long poll is still open is refused with 409, as Telegram does, and counted as a conflict.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/http/server.h"

namespace roundup::soak {

using Clock = std::chrono::steady_clock;

// A posted message's identity: FNV-1a of the path and the body's canonical JSON (sorted keys).
std::uint64_t message_hash(std::string_view path, const nlohmann::json& body);

// Chats that refuse the bot for good: an archived Slack channel (chat.postMessage answers
// is_archived) and a Telegram chat that blocked the bot (sendMessage answers 403). A reply to them
// can never be delivered: the bot must set it aside after the first refusal, never retry it.
inline constexpr std::string_view k_refusing_slack_channel = "CARCHIVED";
inline constexpr std::int64_t k_refusing_telegram_chat = 900001;

// Which calls fail, and how. Counters run over all message calls of both fakes together.
struct FaultPlan {
  int rate_limit_every = 29;                     // every Nth message call: 429, Retry-After: 1
  int server_error_every = 31;                   // every Nth: 500 / 502 / 503 in turn
  std::chrono::milliseconds stall_every{20000};  // one message call accepted and never answered
  int poll_fault_every = 40;                     // every Nth getUpdates: 502 or 429 in turn
};

// What happened to one distinct message (by message_hash).
struct Receipt {
  std::string instance;     // the bot process it came from: "A" or "B"
  std::string reply_key;    // the question it answers (see reply keys below) or "post:<inst>:<channel>"
  std::string digest_date;  // "YYYY-MM-DD" for a daily digest post
  int delivered = 0;        // answered with success
  int faults = 0;           // answered 429 / 5xx, stalled or held
  int refused = 0;          // refused for good (a refusing chat)
  Clock::time_point last_rate_limited{};
  double min_gap_after_429_ms = std::numeric_limits<double>::infinity();
  Clock::time_point first_delivered{};
};

struct FaultCounts {
  std::uint64_t rate_limited = 0;
  std::uint64_t server_errors = 0;
  std::uint64_t stalls = 0;
  std::uint64_t held = 0;          // held at the deliberate kill, never answered
  std::uint64_t poll_faults = 0;   // getUpdates answered 502 / 429
  std::uint64_t start_faults = 0;  // auth.test / getMe refused once per process start
  std::uint64_t refusals = 0;      // messages to a refusing chat, refused for good
};

// Reply keys, as the driver gives each question: "se:<channel>:<thread_ts>" (Slack event),
// "sc:<id>" (slash command, from its response_url /commands/respond/<id>),
// "tg<instance>:<chat>:<message_id>" (Telegram reply_parameters).
class FakePlatforms {
 public:
  explicit FakePlatforms(FaultPlan plan);
  ~FakePlatforms();  // stop()
  FakePlatforms(const FakePlatforms&) = delete;
  FakePlatforms& operator=(const FakePlatforms&) = delete;

  std::string slack_api_base() const;  // https://127.0.0.1:P/api
  std::string slack_origin() const;    // https://127.0.0.1:P (response_url host)
  std::string telegram_base() const;   // https://127.0.0.1:Q
  // A Telegram bot token served for bot process `instance`.
  void add_telegram_bot(const std::string& token, const std::string& instance);

  // Long polling: queues an update for getUpdates. A `duplicate` is served twice in its first
  // batch and once more after it was confirmed (the bot must answer it once).
  void push_update(const std::string& token, nlohmann::json update, bool duplicate);
  // Update ids below the offset the bot last confirmed (its getUpdates offset).
  bool confirmed(const std::string& token, std::int64_t update_id);
  std::int64_t unconfirmed(const std::string& token);
  std::uint64_t duplicate_copies_served(const std::string& token);
  // getUpdates refused because another replica's poll was open (two pollers at once).
  std::uint64_t poll_conflicts(const std::string& token);
  // Who polled, in order: {when, replica} each time the replica polling `token` changed.
  std::vector<std::pair<Clock::time_point, std::string>> poller_changes(const std::string& token);

  // Freeze: message calls from now on are held unanswered (before the deliberate kill, so no
  // message is in flight between the platform's success and the bot recording it). thaw()
  // answers the held calls with 503 (their process is gone by then).
  void freeze();
  void thaw();
  // Message calls answered with success for `instance` so far.
  std::uint64_t delivered_count(const std::string& instance);
  // Message calls refused for good (a refusing chat) for `instance` so far.
  std::uint64_t refused_count(const std::string& instance);

  std::map<std::uint64_t, Receipt> receipts();
  // Reply keys that had at least one delivered message, with the first delivery time.
  std::map<std::string, Clock::time_point> replied_keys();
  FaultCounts faults();
  std::uint64_t message_calls();

  // Waits (bounded) for a change in what was received; for the driver's drain loop.
  void wait_change(std::chrono::milliseconds limit);

  // Answers every held, stalled and parked call, then stops both servers. Idempotent.
  void stop();

 private:
  struct Parked {
    adapters::http::Respond respond;
    Clock::time_point deadline;
    std::int64_t offset = 0;
    std::string replica;
  };
  struct Update {
    std::int64_t id = 0;
    nlohmann::json json;
    bool duplicate = false;
    bool duplicate_served = false;
  };
  struct TelegramBot {
    std::string instance;
    int get_me_calls = 0;
    int poll_calls = 0;
    std::int64_t offset = 0;
    std::deque<Update> pending;           // id order, not confirmed yet
    std::vector<nlohmann::json> reserve;  // confirmed duplicates, to be served once more
    std::uint64_t duplicate_copies = 0;
    std::vector<Parked> parked;
    std::uint64_t poll_conflicts = 0;
    std::vector<std::pair<Clock::time_point, std::string>> pollers;
  };

  void on_slack(const adapters::http::Request& request, adapters::http::Respond respond);
  void on_telegram(const adapters::http::Request& request, adapters::http::Respond respond);
  void on_message(const std::string& instance, const std::string& path, const std::string& reply_key,
                  const nlohmann::json& body, bool telegram, bool refusing, adapters::http::Respond respond);
  void on_get_updates(TelegramBot& bot, const std::string& replica, const nlohmann::json& params,
                      adapters::http::Respond respond);
  // With mutex_ held: confirms ids below `offset` and returns the next batch (may be empty).
  nlohmann::json take_batch(TelegramBot& bot, std::int64_t offset);
  void expire_parked();  // the poll timer's thread

  FaultPlan plan_;
  std::unique_ptr<adapters::http::Server> slack_;
  std::unique_ptr<adapters::http::Server> telegram_;
  unsigned short slack_port_ = 0;
  unsigned short telegram_port_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool frozen_ = false;
  int slack_auth_calls_ = 0;
  std::uint64_t message_calls_ = 0;
  Clock::time_point next_stall_;
  FaultCounts faults_;
  std::map<std::uint64_t, Receipt> receipts_;
  std::map<std::string, Clock::time_point> replied_;
  std::map<std::string, std::uint64_t> delivered_by_instance_;
  std::map<std::string, std::uint64_t> refused_by_instance_;
  std::map<std::string, TelegramBot> bots_;  // by token
  std::vector<adapters::http::Respond> held_;
  std::vector<adapters::http::Respond> stalled_;
  std::thread poll_timer_;
};

}  // namespace roundup::soak

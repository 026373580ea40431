#pragma once
// Delivers the messages in the outbox queue (OutboxQueue) through per-platform senders: in order per
// target, paced per target, retried with exponential backoff and jitter, honouring a platform's
// "retry after". A message leaves the outbox only when its platform confirmed it (delivered) or
// refused it for good (failed, logged). Whatever is pending when the process stops is sent after
// the next start.
//
// The head of each target's queue is kept in memory, so choosing what to send next does not ask
// the database to find every target's head again after each delivery (that read the whole backlog
// and held the store's lock while doing it). The database stays the truth: new messages are found
// by id since the last look, a target's next head is looked up when its head leaves, and the whole
// set is reread now and then for changes made by another process sharing the file.
//
// Replicas sharing a store (OutboxOptions::leases): one replica at a time sends to a target, the
// holder of the lease "outbox:<target>". A sender takes (or renews) it before each message and
// then reads the target's head again, since another replica may have sent or rescheduled it
// meanwhile; it lets go once the target has nothing left to send. A target held by another
// replica is left alone for a second, then tried again, so its messages still go out in order,
// and when a holder dies its targets wait at most target_lease_ttl.
//
// An attempt's outcome that cannot be written (SQLITE_BUSY after the busy timeout, a full disk, an
// I/O error) is kept in memory and written again with backoff until it succeeds; meanwhile that
// message's target is not served, so a message that was sent is not sent again because a later
// write failed. Only stopping the process with the write still failing loses that memory.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bot/backoff.h"
#include "bot/state_store.h"

namespace roundup::bot {

// What a sender reports for one attempt, typed by the platform's adapter: the outbox retries
// or sets aside by the outcome, the service counts by `code` and marks a platform not ready while
// it refuses the bot's credentials.
struct Delivery {
  enum class Outcome { delivered, retry, failed };
  enum class Problem {
    none,          // delivered
    rate_limited,  // retry, after retry_after (the platform's wait)
    transient,     // retry: 5xx, a timeout, a reset; retry_after 0 = our backoff
    auth_revoked,  // failed: the platform refuses the bot's credentials (a revoked token)
    refused,       // failed: this message can never be delivered (an archived channel, a blocked bot)
  };
  Outcome outcome = Outcome::delivered;
  Problem problem = Problem::none;
  std::chrono::milliseconds retry_after{0};
  std::string code;   // the platform's error code, few distinct values (a metrics label): "ratelimited", "http_502"
  std::string error;  // one line for the log, never a secret

  static Delivery ok() { return {}; }
  static Delivery rate_limited(std::string code, std::string error, std::chrono::milliseconds after) {
    return {Outcome::retry, Problem::rate_limited, after, std::move(code), std::move(error)};
  }
  static Delivery transient(std::string code, std::string error,
                            std::chrono::milliseconds after = std::chrono::milliseconds{0}) {
    return {Outcome::retry, Problem::transient, after, std::move(code), std::move(error)};
  }
  static Delivery auth_revoked(std::string code, std::string error) {
    return {Outcome::failed, Problem::auth_revoked, std::chrono::milliseconds{0}, std::move(code), std::move(error)};
  }
  static Delivery refused(std::string code, std::string error) {
    return {Outcome::failed, Problem::refused, std::chrono::milliseconds{0}, std::move(code), std::move(error)};
  }
};

// Sends one message; may block on the network. Must not throw for platform errors (an exception
// is treated as a retryable failure).
using Sender = std::function<Delivery(const OutboxItem& item)>;
// Unix milliseconds; injectable for tests.
using ClockMs = std::function<std::int64_t()>;
std::int64_t system_now_ms();

struct OutboxOptions {
  int senders = 4;  // concurrent deliveries (distinct targets)
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{60000};
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
  double per_target_rate = 1.0;  // messages per second per target (Slack and Telegram: about 1/s)
  double per_target_burst = 3;   // a short answer split in a few messages goes out at once
  // Optional per-target override (Telegram groups: 20 per minute). Returns {rate, burst}.
  std::function<std::pair<double, double>(const std::string& target)> pace;
  // Set when other replicas share the store: targets are sent to under a lease held by `owner`
  // (this replica's id). Null: this process is the store's only sender.
  Leases* leases = nullptr;
  std::string owner;
  // Longer than one attempt can take (the HTTP client's connect and request timeouts), so a
  // lease never ends while its holder is still sending.
  std::chrono::milliseconds target_lease_ttl{30000};
};

class Outbox {
 public:
  Outbox(OutboxQueue& store, OutboxOptions options, ClockMs clock = system_now_ms);
  ~Outbox();  // stop()

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Registers the sender for a platform; call before start(). Messages of a platform without a
  // sender stay pending (it may be enabled again after a restart).
  void add_sender(const std::string& platform, Sender sender);
  // Called after every attempt (metrics, tests); on a sender thread.
  void on_attempt(std::function<void(const OutboxItem&, const Delivery&)> observer);

  void start();
  // Stops picking new messages, waits for attempts in flight, joins. Idempotent.
  void stop();
  // New messages were enqueued: look now rather than at the next timer.
  void wake();

 private:
  void run();
  void refresh_heads();                         // with mutex_ held
  void reload_head(const std::string& target);  // with mutex_ held
  bool take_token(const std::string& target, std::int64_t now_ms, std::int64_t& wait_ms);
  void apply(const OutboxItem& item, const Delivery& delivery, std::int64_t now_ms);
  std::int64_t backoff_ms(int attempts);
  // Writes an attempt's outcome, or keeps it in unrecorded_ (target still busy) when it fails.
  // Without mutex_ held. True when it was written.
  bool record(const OutboxItem& item, const Delivery& delivery, std::int64_t now_ms, int failures);
  // After an outcome was written or given up on: frees the target and reads its head again.
  void release_target(const std::string& target);  // with mutex_ held
  // With leases: takes the target's lease and reads its head again, without mutex_ held. True
  // when `item` is still the head, due, and this replica may send it (item is refreshed).
  enum class Turn { ours, changed, held_elsewhere };
  Turn take_turn(OutboxItem& item);
  // With leases: lets go of the target's lease. Without mutex_.
  void hand_back(const std::string& target);
  // With mutex_ held (through `lock`), after the target's outcome was recorded and its head read
  // again: hands the lease back when the target has nothing left to send.
  void hand_back_if_drained(std::unique_lock<std::mutex>& lock, const std::string& target);

  OutboxQueue& store_;
  OutboxOptions options_;
  ClockMs clock_;
  std::map<std::string, Sender> senders_;
  std::function<void(const OutboxItem&, const Delivery&)> observer_;

  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
    double rate = 1;
    double burst = 1;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool started_ = false;
  std::uint64_t wakeups_ = 0;
  bool rescan_requested_ = false;                           // a wake() since the last look: later wakes need not notify
  std::map<std::int64_t, OutboxQueue::OutboxHead> heads_;   // each target's head, by id: oldest first
  std::unordered_map<std::string, std::int64_t> head_ids_;  // target -> its key in heads_
  std::int64_t scanned_id_ = 0;                             // messages up to this id have been seen
  std::chrono::steady_clock::time_point next_full_read_{};
  // An attempt's outcome that the store refused to record, by target, with when to write it again.
  struct Unrecorded {
    OutboxItem item;
    Delivery delivery;
    std::int64_t at_ms = 0;  // when the attempt ended
    int failures = 0;        // writes that failed so far
    std::chrono::steady_clock::time_point retry_at;
    bool writing = false;  // a sender thread is trying it now
  };
  std::map<std::string, Unrecorded> unrecorded_;
  std::unordered_set<std::string> busy_;    // targets with an attempt in flight or an unrecorded outcome
  std::unordered_set<std::string> parked_;  // targets whose platform has no sender
  // Targets another replica holds, with when to ask for their lease again.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> held_elsewhere_;
  std::unordered_set<std::string> leased_;  // targets whose lease this replica holds
  std::unordered_map<std::string, Bucket> buckets_;
  std::vector<std::thread> threads_;
  std::mutex backoff_mutex_;
  Backoff backoff_;  // under backoff_mutex_
};

}  // namespace roundup::bot

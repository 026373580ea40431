#pragma once
// The bot's durable state: one SQLite database (WAL) in data_dir. It holds what must survive a
// restart: inbound work already acknowledged to a platform (which doubles as the dedupe record),
// the outbox of messages promised to someone, the threads the bot takes part in, and small
// key/value state such as a polling offset.
//
// Thread-safe: every method takes an internal mutex, and multi-statement changes run in one
// IMMEDIATE transaction, so records keyed for exactly-once (inbound keys, outbox idempotency
// keys, a channel's digest for a local date) are written once even by two processes sharing the
// file. Sending is not claimed row by row, so the service runs one process per data_dir (a lock
// file, see adapters/service). Times are Unix milliseconds supplied by the caller, which keeps
// the store clock-free and testable.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace roundup::bot {

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Work a platform delivered and the bot acknowledged. `key` is the platform's dedupe key
// ("slack:event:Ev123", "telegram:update:42").
struct InboundItem {
  std::int64_t id = 0;
  std::string key;
  std::string platform;
  std::string payload;  // JSON chosen by the platform adapter
  int attempts = 0;     // handler runs started on it so far, including ones that crashed the process
};

// A message to deliver. `target` orders and paces delivery: messages to the same target go out
// one at a time in id order ("slack:C123", "telegram:-10042"). `idempotency_key` makes
// enqueueing the same message twice a no-op (a crash-and-retry re-enqueues the same keys).
struct OutgoingMessage {
  std::string idempotency_key;
  std::string platform;
  std::string target;
  std::string payload;  // JSON the platform's sender understands
};

struct OutboxItem {
  std::int64_t id = 0;
  OutgoingMessage message;
  int attempts = 0;
  std::int64_t created_ms = 0;
};

// One day's digest for one channel ("slack:C0123") and the papers it carries.
struct DigestRecord {
  std::string channel;
  std::string local_date;  // "YYYY-MM-DD" in the digest's time zone; empty for an off-schedule one
  std::vector<std::string> paper_ids;
  bool started_over = false;  // every paper had been posted; the channel's history restarts here
};

// Audited text (a command, an outcome) is stored at most this long, so that a user repeating
// "/stats <4 KB>" cannot grow the database by 4 KB a time.
inline constexpr std::size_t k_audit_text_bytes = 200;
// `text` itself when it fits in k_audit_text_bytes; otherwise its longest prefix that ends on a
// UTF-8 character boundary and, with an ellipsis ("…") added, still fits. For logs too.
std::string clip_for_audit(std::string_view text);

// One attempt at an admin command, allowed or not. StateStore::audit() clips `command` and
// `outcome` with clip_for_audit().
struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string platform;
  std::string user;
  std::string command;
  bool allowed = false;
  std::string outcome;
};

class StateStore {
 public:
  // Opens or creates `file` (and its directory), enables WAL, and migrates the schema. Throws
  // StateError when the file cannot be opened or was written by a newer version.
  // read_only: for inspection tools (`digest --dry-run`); never creates, migrates or writes, and
  // throws StateError unless the file exists with exactly this build's schema version.
  enum class Access { read_write, read_only };
  explicit StateStore(const std::filesystem::path& file, Access access = Access::read_write);
  ~StateStore();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  static constexpr int k_schema_version = 3;
  int schema_version() const;

  // --- Inbound work -----------------------------------------------------------------------
  // Records new work; returns its id, or nullopt when `key` was already recorded (a platform
  // retry or a duplicate delivery).
  std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform, std::string_view payload,
                                             std::int64_t now_ms);
  // Group commit: records several items in one IMMEDIATE transaction, so they share one commit
  // (the expensive part) instead of paying one each. Results are accept_inbound's, in order; a key
  // that appears twice in `items` is a duplicate the second time. All or nothing: throws
  // StateError, and records none of them, when the transaction fails.
  struct InboundRecord {
    std::string_view key;
    std::string_view platform;
    std::string_view payload;
  };
  std::vector<std::optional<std::int64_t>> accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                std::int64_t now_ms);
  // Work accepted but not completed, oldest first (after a crash or an overflowing queue).
  std::vector<InboundItem> pending_inbound(std::size_t limit) const;
  // Counts one more handler run of a pending item and commits it before the run starts, so a run
  // that takes the process down is counted too. Returns the new count; nullopt when the item is
  // no longer pending (completed or quarantined meanwhile).
  std::optional<int> start_inbound_attempt(std::int64_t id);
  // Sets a pending item aside for good (it failed too often) and enqueues `replies` (an apology),
  // atomically. The row stays, state 'quarantined', until prune() removes it.
  void quarantine_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms);
  // "pending", "done" or "quarantined"; nullopt for a key never recorded (or pruned).
  std::optional<std::string> inbound_state(std::string_view key) const;
  // Atomically marks the work done and enqueues its replies.
  void complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms);

  // --- Outbox -----------------------------------------------------------------------------
  // Returns false when a message with the same idempotency key exists (delivered or not).
  bool enqueue(const OutgoingMessage& message, std::int64_t now_ms);
  void mark_delivered(std::int64_t id, std::int64_t now_ms);
  void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error);
  void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms);
  std::size_t outbox_backlog() const;
  std::optional<std::string> outbox_state(std::string_view idempotency_key) const;
  // Each target's head (oldest pending message), for the Outbox, which keeps them in memory:
  // index lookups whose cost does not grow with the backlog.
  struct OutboxHead {
    OutboxItem item;
    std::int64_t next_attempt_ms = 0;
  };
  // The oldest pending message of `target`.
  std::optional<OutboxHead> outbox_head(std::string_view target) const;
  // The oldest pending message of every target (one index seek per target), oldest first.
  std::vector<OutboxHead> outbox_heads() const;
  // Pending messages with id > after_id, oldest first, at most `limit`: {id, target}. Finds what
  // was enqueued since the caller last looked.
  std::vector<std::pair<std::int64_t, std::string>> pending_outbox_after(std::int64_t after_id,
                                                                         std::size_t limit) const;
  // The largest outbox id so far (0 when empty).
  std::int64_t outbox_last_id() const;

  // --- Conversation state -----------------------------------------------------------------
  void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                       std::int64_t now_ms);
  bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const;

  std::optional<std::string> value(std::string_view key) const;
  void set_value(std::string_view key, std::string_view value);

  // --- Daily digests, subscriptions, audit, counters --------------------------------------
  // Returns false when the channel was already subscribed / was not subscribed.
  bool subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms);
  bool unsubscribe(std::string_view channel);
  std::vector<std::string> subscriptions() const;
  // The latest local date a digest was recorded for `channel`; nullopt when never.
  std::optional<std::string> last_digest_date(std::string_view channel) const;
  // Papers already sent to `channel` since its history last started over.
  std::unordered_set<std::string> digested_papers(std::string_view channel) const;
  // In one transaction: records the digest (and its papers) and enqueues its messages. Returns
  // false, writing nothing, when that channel already has a digest for that local date, whoever
  // recorded it (an earlier run, another replica on the same file); for an undated (off-schedule)
  // digest, when its first message's idempotency key is already enqueued, or it has no message.
  // Counts "digests_posted".
  bool record_digest(const DigestRecord& digest, const std::vector<OutgoingMessage>& messages, std::int64_t now_ms);
  void audit(const AuditEntry& entry);
  std::vector<AuditEntry> audit_log(std::size_t limit) const;  // newest first
  // Named counters that survive restarts (questions answered, digests posted).
  void add_to_counter(std::string_view name, std::int64_t delta);
  std::int64_t counter(std::string_view name) const;

  // Forgets completed or quarantined inbound keys, delivered or failed messages, idle threads and
  // audit entries older than `before_ms`. Inbound keys must outlive the platforms' retry windows (Slack: about an
  // hour).
  void prune(std::int64_t before_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::bot

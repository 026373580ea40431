#pragma once
// The bot's durable state: one SQLite database (WAL) in data_dir. It holds what must survive a
// restart: inbound work already acknowledged to a platform (which doubles as the dedupe record),
// the outbox of messages promised to someone, the threads the bot takes part in, and small
// key/value state such as a polling offset.
//
// Thread-safe: every method takes an internal mutex, and multi-statement changes run in one
// IMMEDIATE transaction, so two processes sharing the file (a restart overlapping, or two
// replicas) never both claim the same work. Times are Unix milliseconds supplied by the caller,
// which keeps the store clock-free and testable.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
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

class StateStore {
 public:
  // Opens or creates `file` (and its directory), enables WAL, and migrates the schema. Throws
  // StateError when the file cannot be opened or was written by a newer version.
  explicit StateStore(const std::filesystem::path& file);
  ~StateStore();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  static constexpr int k_schema_version = 1;
  int schema_version() const;

  // --- Inbound work -----------------------------------------------------------------------
  // Records new work; returns its id, or nullopt when `key` was already recorded (a platform
  // retry or a duplicate delivery).
  std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform, std::string_view payload,
                                             std::int64_t now_ms);
  std::optional<InboundItem> inbound(std::int64_t id) const;
  // Work accepted but not completed, oldest first (after a crash or an overflowing queue).
  std::vector<InboundItem> pending_inbound(std::size_t limit) const;
  // Atomically marks the work done and enqueues its replies.
  void complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms);

  // --- Outbox -----------------------------------------------------------------------------
  // Returns false when a message with the same idempotency key exists (delivered or not).
  bool enqueue(const OutgoingMessage& message, std::int64_t now_ms);
  // For each target not in `busy_targets`, its oldest pending message if that one is due by
  // `now_ms`; at most `limit`, oldest first.
  std::vector<OutboxItem> due_messages(std::int64_t now_ms, std::size_t limit,
                                       const std::unordered_set<std::string>& busy_targets) const;
  // Earliest time a pending head-of-target message becomes due; nullopt when none is pending.
  std::optional<std::int64_t> next_due_ms() const;
  void mark_delivered(std::int64_t id, std::int64_t now_ms);
  void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error);
  void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms);
  std::size_t outbox_backlog() const;
  std::optional<std::string> outbox_state(std::string_view idempotency_key) const;

  // --- Conversation state -----------------------------------------------------------------
  void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                       std::int64_t now_ms);
  bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const;

  std::optional<std::string> value(std::string_view key) const;
  void set_value(std::string_view key, std::string_view value);

  // Forgets completed inbound keys, delivered or failed messages and idle threads older than
  // `before_ms`. Inbound keys must outlive the platforms' retry windows (Slack: about an hour).
  void prune(std::int64_t before_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::bot

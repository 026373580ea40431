#pragma once
// The bot's durable state, as the narrow ports the core uses: the inbound log (dedupe and the
// inbox), the outbox queue, digests and subscriptions, the audit log and counters, the threads
// the bot takes part in, small key/value state such as a polling offset, and leases between
// replicas. The core depends on these interfaces only; storage/ implements them on SQLite
// (SqliteStateStore) and PostgreSQL (open_postgres_state_store), tests on memory
// (tests/support/memory_state_store.h), and all three pass one contract suite
// (tests/bot/state_store_contract_test.cpp).
//
// What every implementation promises:
// - Thread-safe: any method may be called from any thread.
// - Exactly-once records: an inbound key, an outbox idempotency key and a channel's digest for a
//   local date are written once, however often (or by however many processes) they are offered.
// - Atomic changes: what one method records together (an item done and its replies enqueued; a
//   digest and its messages) is all written or none of it, in one transaction.
// - Times are Unix milliseconds supplied by the caller, which keeps stores clock-free.
// - Failures throw StateError.

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

// --- Ports -------------------------------------------------------------------------------------

// Who is working on inbound items: a replica id, and until when its claim holds unless renewed.
// Replicas sharing a store claim work instead of copying it: an item one replica holds is not
// handled by another until that claim expires (the replica died) or is released (it stopped).
struct InboundClaim {
  std::string_view owner;
  std::int64_t until_ms = 0;
};

// Inbound work: the dedupe record of what platforms delivered, and the inbox's durable queue.
class InboundLog {
 public:
  virtual ~InboundLog() = default;

  // Records new work, claimed by `claim` (the replica that accepted it handles it); returns its
  // id, or nullopt when `key` was already recorded (a platform retry or a duplicate delivery).
  virtual std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform,
                                                     std::string_view payload, std::int64_t now_ms,
                                                     const InboundClaim& claim) = 0;
  // Group commit: records several items in one transaction, so they share one commit (the
  // expensive part) instead of paying one each. Results are accept_inbound's, in order; a key that
  // appears twice in `items` is a duplicate the second time. All or nothing: throws StateError,
  // and records none of them, when the transaction fails.
  struct InboundRecord {
    std::string_view key;
    std::string_view platform;
    std::string_view payload;
  };
  virtual std::vector<std::optional<std::int64_t>> accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                        std::int64_t now_ms,
                                                                        const InboundClaim& claim) = 0;
  // Claims, for `claim`, pending work that no one holds (never claimed, released, or whose claim
  // expired by now_ms), oldest first, at most `limit`, and returns it. Callers racing for the same
  // items get disjoint sets. Items `claim.owner` holds already are not returned again.
  virtual std::vector<InboundItem> claim_inbound(const InboundClaim& claim, std::int64_t now_ms, std::size_t limit) = 0;
  // Extends `claim.owner`'s claims on the pending items `ids` to claim.until_ms; returns how many.
  // Only the items the caller still has in hand: a claim it lost track of (its write committed but
  // the answer never came back) then expires, and the item is claimed again.
  virtual std::size_t renew_inbound_claims(const InboundClaim& claim, const std::vector<std::int64_t>& ids) = 0;
  // Lets go of every claim `owner` holds (a clean stop, or a restart taking its work back).
  virtual void release_inbound_claims(std::string_view owner) = 0;
  // Work accepted but not completed, oldest first, claimed or not: a read-only view for
  // inspection (the inbox claims its work with claim_inbound()).
  virtual std::vector<InboundItem> pending_inbound(std::size_t limit) const = 0;
  // Counts one more handler run of a pending item and commits it before the run starts, so a run
  // that takes the process down is counted too; renews the claim. Returns the new count; nullopt
  // when the item is no longer pending (completed or quarantined meanwhile) or `claim.owner` no
  // longer holds it (its claim expired and another replica took it).
  virtual std::optional<int> start_inbound_attempt(std::int64_t id, const InboundClaim& claim) = 0;
  // Sets a pending item aside for good (it failed too often) and enqueues `replies` (an apology),
  // atomically. The record stays, state 'quarantined', until prune() removes it.
  virtual void quarantine_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies,
                                  std::int64_t now_ms) = 0;
  // "pending", "done" or "quarantined"; nullopt for a key never recorded (or pruned).
  virtual std::optional<std::string> inbound_state(std::string_view key) const = 0;
  // Atomically marks the work done and enqueues its replies.
  virtual void complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms) = 0;
};

// Messages promised to someone, until delivered or given up.
class OutboxQueue {
 public:
  virtual ~OutboxQueue() = default;

  // Returns false when a message with the same idempotency key exists (delivered or not).
  virtual bool enqueue(const OutgoingMessage& message, std::int64_t now_ms) = 0;
  virtual void mark_delivered(std::int64_t id, std::int64_t now_ms) = 0;
  virtual void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) = 0;
  virtual void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) = 0;
  virtual std::size_t outbox_backlog() const = 0;
  // "pending", "delivered" or "failed"; nullopt for a key never enqueued (or pruned).
  virtual std::optional<std::string> outbox_state(std::string_view idempotency_key) const = 0;
  // Each target's head (oldest pending message), for the Outbox, which keeps them in memory:
  // lookups whose cost does not grow with the backlog.
  struct OutboxHead {
    OutboxItem item;
    std::int64_t next_attempt_ms = 0;
  };
  // The oldest pending message of `target`.
  virtual std::optional<OutboxHead> outbox_head(std::string_view target) const = 0;
  // The oldest pending message of every target, oldest first.
  virtual std::vector<OutboxHead> outbox_heads() const = 0;
  // Pending messages with id > after_id, oldest first, at most `limit`: {id, target}. Finds what
  // was enqueued since the caller last looked.
  virtual std::vector<std::pair<std::int64_t, std::string>> pending_outbox_after(std::int64_t after_id,
                                                                                 std::size_t limit) const = 0;
  // The largest outbox id so far (0 when empty).
  virtual std::int64_t outbox_last_id() const = 0;
};

// The threads the bot takes part in (Slack answers follow-ups there without a mention).
class ThreadMemory {
 public:
  virtual ~ThreadMemory() = default;
  virtual void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                               std::int64_t now_ms) = 0;
  virtual bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const = 0;
};

// What each conversation remembers between messages (bot/dialogue.h), until it expires. Keys
// name one conversation ("slack:C1:1700000000.000100"), so nothing is shared between them.
class DialogueMemory {
 public:
  virtual ~DialogueMemory() = default;
  // The conversation's state, unless it expired at or before now_ms.
  virtual std::optional<std::string> dialogue(std::string_view conversation, std::int64_t now_ms) const = 0;
  virtual void save_dialogue(std::string_view conversation, std::string_view state, std::int64_t expires_ms) = 0;
};

// Small named values that survive restarts (a polling offset).
class KeyValues {
 public:
  virtual ~KeyValues() = default;
  virtual std::optional<std::string> value(std::string_view key) const = 0;
  virtual void set_value(std::string_view key, std::string_view value) = 0;
  // Every {key, value} whose key starts with `prefix`, in byte order of the keys (one entry per
  // replica, say: "index.replica.<id>").
  virtual std::vector<std::pair<std::string, std::string>> values_with_prefix(std::string_view prefix) const = 0;
};

// Daily digests and the channels subscribed to them.
class DigestLedger {
 public:
  virtual ~DigestLedger() = default;

  // Returns false when the channel was already subscribed / was not subscribed.
  virtual bool subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms) = 0;
  virtual bool unsubscribe(std::string_view channel) = 0;
  virtual std::vector<std::string> subscriptions() const = 0;  // sorted
  // The latest local date a digest was recorded for `channel`; nullopt when never.
  virtual std::optional<std::string> last_digest_date(std::string_view channel) const = 0;
  // Papers already sent to `channel` since its history last started over.
  virtual std::unordered_set<std::string> digested_papers(std::string_view channel) const = 0;
  // In one transaction: records the digest (and its papers) and enqueues its messages. Returns
  // false, writing nothing, when that channel already has a digest for that local date, whoever
  // recorded it (an earlier run, another process on the same store); for an undated
  // (off-schedule) digest, when its first message's idempotency key is already enqueued, or it has
  // no message. Counts "digests_posted".
  virtual bool record_digest(const DigestRecord& digest, const std::vector<OutgoingMessage>& messages,
                             std::int64_t now_ms) = 0;
};

// Who ran which admin command, and named counters for /stats (questions answered, digests posted).
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Clips `command` and `outcome` with clip_for_audit().
  virtual void audit(const AuditEntry& entry) = 0;
  virtual std::vector<AuditEntry> audit_log(std::size_t limit) const = 0;  // newest first
  virtual void add_to_counter(std::string_view name, std::int64_t delta) = 0;
  virtual std::int64_t counter(std::string_view name) const = 0;
};

// Named leases: at most one owner at a time holds a name, until it lets go or stops renewing.
// Replicas sharing a store use them for work only one of them may do at a time: polling
// Telegram (one consumer per token), sending to one chat (its messages in order). Owners are
// replica ids; times are each caller's wall clock, so replicas' clocks must agree to well within
// a lease's ttl (NTP does).
class Leases {
 public:
  virtual ~Leases() = default;
  // Takes `name` for `owner` until now_ms + ttl_ms, or renews it when `owner` holds it already.
  // True when `owner` holds it now; false while another owner's lease has not expired
  // (until_ms > now_ms). Atomic across processes sharing the store.
  virtual bool hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms, std::int64_t ttl_ms) = 0;
  // Lets go of `name` early (a clean stop) when `owner` holds it; otherwise does nothing.
  virtual void release_lease(std::string_view name, std::string_view owner) = 0;
};

// Every durable record, as rows of one portable schema, for moving a state from one store to
// another (`roundup-bot state export` / `state import`: SQLite to PostgreSQL, say). Leases and
// inbound claims are not carried: they belong to the processes of the old store.
struct TransferTable {
  std::string_view name;
  std::vector<std::string_view> columns;
};
// The portable schema: every table, its columns in order. Integers and booleans ("0" / "1") are
// carried as decimal text, absent values (a done_ms of pending work) as nullopt.
const std::vector<TransferTable>& transfer_tables();
struct TransferRow {
  std::string table;
  std::vector<std::optional<std::string>> values;  // in the order of transfer_tables()' columns
  bool operator==(const TransferRow&) const = default;
};
// The table `row` belongs to; throws StateError for an unknown table or a wrong number of values.
const TransferTable& transfer_table_of(const TransferRow& row);
class StateTransfer {
 public:
  virtual ~StateTransfer() = default;
  virtual std::vector<TransferRow> export_rows() const = 0;
  // Whether any record is there (a target that is not empty is not overwritten by accident).
  virtual bool holds_records() const = 0;
  // Writes `rows` in one transaction; `replace` empties every table first. Throws StateError,
  // writing nothing, for a row that does not fit the schema or a target that holds records and
  // !replace.
  virtual void import_rows(const std::vector<TransferRow>& rows, bool replace) = 0;
};

// Every port in one store, as the service holds it.
class StateStore : public InboundLog,
                   public OutboxQueue,
                   public ThreadMemory,
                   public DialogueMemory,
                   public KeyValues,
                   public DigestLedger,
                   public AuditLog,
                   public Leases {
 public:
  // Forgets completed or quarantined inbound keys, delivered or failed messages, idle threads,
  // conversations that expired and audit entries older than `before_ms`. Inbound keys must outlive the platforms' retry
  // windows (Slack: about an hour).
  virtual void prune(std::int64_t before_ms) = 0;
};

}  // namespace roundup::bot

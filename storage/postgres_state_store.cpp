#include "storage/postgres_state_store.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <mutex>
#include <utility>

#include "storage/postgres.h"

namespace roundup::storage {

using postgres::Connection;
using postgres::Param;
using postgres::Result;

namespace {

// Each entry migrates from version (index) to (index + 1). Never edit a shipped entry; append.
// The tables are SQLite's (storage/sqlite_state_store.cpp) in PostgreSQL's types; pending rows
// have partial indexes, since finished ones are most of each table.
constexpr const char* k_migrations[] = {
    R"sql(
    CREATE TABLE inbound (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'quarantined')),
      received_ms BIGINT NOT NULL,
      done_ms BIGINT,
      attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX inbound_pending ON inbound (id) WHERE state = 'pending';
    CREATE INDEX inbound_done ON inbound (done_ms) WHERE state <> 'pending';
    CREATE TABLE outbox (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      target TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_ms BIGINT NOT NULL,
      created_ms BIGINT NOT NULL,
      done_ms BIGINT,
      last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (target, id) WHERE state = 'pending';
    CREATE INDEX outbox_done ON outbox (done_ms) WHERE state <> 'pending';
    CREATE TABLE threads (
      platform TEXT NOT NULL,
      channel TEXT NOT NULL,
      thread TEXT NOT NULL,
      last_ms BIGINT NOT NULL,
      PRIMARY KEY (platform, channel, thread)
    );
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE subscriptions (
      channel TEXT PRIMARY KEY,
      by_user TEXT NOT NULL,
      created_ms BIGINT NOT NULL
    );
    CREATE TABLE digest_posts (
      channel TEXT NOT NULL,
      local_date TEXT NOT NULL,
      posted_ms BIGINT NOT NULL,
      papers INTEGER NOT NULL,
      started_over BOOLEAN NOT NULL,
      PRIMARY KEY (channel, local_date)
    );
    CREATE TABLE digest_papers (
      channel TEXT NOT NULL,
      paper_id TEXT NOT NULL,
      posted_ms BIGINT NOT NULL,
      PRIMARY KEY (channel, paper_id)
    );
    CREATE TABLE audit (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at_ms BIGINT NOT NULL,
      platform TEXT NOT NULL,
      actor TEXT NOT NULL,
      command TEXT NOT NULL,
      allowed BOOLEAN NOT NULL,
      outcome TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at_ms);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    )sql",
    // 2: leases between replicas (bot::Leases).
    R"sql(
    CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until_ms BIGINT NOT NULL);
    )sql",
    // 3: inbound work is claimed (bot::InboundClaim): who handles an item, and until when.
    R"sql(
    ALTER TABLE inbound ADD COLUMN claimed_by TEXT;
    ALTER TABLE inbound ADD COLUMN claim_until_ms BIGINT NOT NULL DEFAULT 0;
    )sql",
    // 4: what each conversation remembers between messages (bot::DialogueMemory).
    R"sql(
    CREATE TABLE dialogues (conversation TEXT PRIMARY KEY, state TEXT NOT NULL, expires_ms BIGINT NOT NULL);
    )sql",
};
static_assert(std::size(k_migrations) == k_postgres_schema_version);

// The advisory lock that serialises migrations between replicas: "roundup" in ASCII, then 1.
constexpr std::int64_t k_migration_lock = 0x726f756e64757001;

[[noreturn]] void raise_state_error(const std::string& message) {
  throw bot::StateError(message);
}

std::string number(std::int64_t value) {
  return std::to_string(value);
}

std::string text(std::string_view value) {
  return std::string(value);
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* k_enqueue =
    "INSERT INTO outbox (idempotency_key, platform, target, payload, next_attempt_ms, created_ms) "
    "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING";
constexpr const char* k_accept =
    "INSERT INTO inbound (key, platform, payload, received_ms, claimed_by, claim_until_ms) "
    "VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6) ON CONFLICT (key) DO NOTHING RETURNING id";
constexpr const char* k_head_columns =
    "id, idempotency_key, platform, target, payload, attempts, created_ms, next_attempt_ms";

bool any_records(Connection& db) {
  for (const auto& table : bot::transfer_tables()) {
    if (db.query("SELECT 1 FROM " + std::string(table.name) + " LIMIT 1").rows() > 0) return true;
  }
  return false;
}

// Rows of (id, key, platform, payload, attempts).
std::vector<bot::InboundItem> read_inbound(const Result& result) {
  std::vector<bot::InboundItem> items;
  items.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) {
    items.push_back({result.integer(row, 0), result.text(row, 1), result.text(row, 2), result.text(row, 3),
                     static_cast<int>(result.integer(row, 4))});
  }
  return items;
}

bot::OutboxQueue::OutboxHead read_head(const Result& result, int row) {
  bot::OutboxQueue::OutboxHead head;
  head.item.id = result.integer(row, 0);
  head.item.message = {result.text(row, 1), result.text(row, 2), result.text(row, 3), result.text(row, 4)};
  head.item.attempts = static_cast<int>(result.integer(row, 5));
  head.item.created_ms = result.integer(row, 6);
  head.next_attempt_ms = result.integer(row, 7);
  return head;
}

struct Impl {
  // Every session: no statement runs longer than 30 s (a hung server or a lock that is never
  // released fails the call instead of holding every caller behind this connection's mutex); and
  // an inspection session stays read-only, also after a reconnect.
  Impl(std::string url, bool read_only)
      : db(std::move(url), raise_state_error,
           std::string("SET statement_timeout = '30s'") +
               (read_only ? "; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY" : "")) {}

  Connection db;
  std::mutex mutex;

  // Runs `body` on the connection under the mutex; a lost connection is re-established first.
  template <typename Body>
  auto locked(Body&& body) {
    std::lock_guard lock(mutex);
    db.reconnect_if_broken();
    return body(db);
  }

  // Adds a message unless its idempotency key exists; returns whether it did. In the caller's lock.
  bool enqueue_message(const bot::OutgoingMessage& message, std::int64_t now_ms) {
    return db.query(k_enqueue,
                    {message.idempotency_key, message.platform, message.target, message.payload, number(now_ms)})
               .affected() > 0;
  }

  // The newest migration applied; 0 before the first (or without the table, for inspection).
  int schema_version() {
    if (db.query("SELECT to_regclass('schema_migrations') IS NOT NULL").text(0, 0) != "t") return 0;
    return static_cast<int>(db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").integer(0, 0));
  }

  // Settles an inbound item with `update_sql` ($1 id, $2 now) and enqueues its replies, atomically.
  void finish_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies, std::int64_t now_ms,
                      const char* update_sql) {
    db.transaction([&] {
      for (const auto& reply : replies) enqueue_message(reply, now_ms);
      db.query(update_sql, {number(id), number(now_ms)});
    });
  }

  void migrate() {
    db.transaction([&] {
      db.query("SELECT pg_advisory_xact_lock($1)", {number(k_migration_lock)});
      db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)");
      const int version = schema_version();
      if (version > k_postgres_schema_version) {
        throw bot::StateError("the PostgreSQL state has schema version " + std::to_string(version) +
                              ", newer than this build understands (" + std::to_string(k_postgres_schema_version) +
                              "); run the newer roundup-bot or restore a backup");
      }
      for (int v = version; v < k_postgres_schema_version; ++v) {
        db.exec(k_migrations[v]);
        db.query("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                 {number(v + 1), number(wall_clock_ms())});
      }
    });
  }
};

// Where PostgreSQL's tables differ from the portable schema (bot::transfer_tables): `user` is
// reserved here (audit.actor), booleans are BOOLEAN, and ids are identity columns.
std::string postgres_column(std::string_view table, std::string_view column) {
  if (table == "audit" && column == "user") return "actor";
  return std::string(column);
}
bool is_boolean(std::string_view table, std::string_view column) {
  return (table == "digest_posts" && column == "started_over") || (table == "audit" && column == "allowed");
}
bool has_identity(std::string_view table) {
  return table == "inbound" || table == "outbox" || table == "audit";
}

// The class is defined whole here: its callers know it as a bot::StateStore
// (open_postgres_state_store), and the ports' methods need no second list in a header.
class PostgresStateStore final : public bot::StateStore, public bot::StateTransfer {
 public:
  using Access = PostgresStateOptions::Access;

  explicit PostgresStateStore(std::string url, Access access) : impl_(std::move(url), access == Access::read_only) {
    if (access == Access::read_write) {
      impl_.migrate();
      return;
    }
    const int version = impl_.schema_version();
    if (version != k_postgres_schema_version) {
      throw bot::StateError("the PostgreSQL state has schema version " + std::to_string(version) +
                            "; this build reads version " + std::to_string(k_postgres_schema_version) +
                            " (run `roundup-bot serve` once to migrate it)");
    }
  }

  std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform, std::string_view payload,
                                             std::int64_t now_ms, const bot::InboundClaim& claim) override {
    return impl_.locked([&](Connection& db) -> std::optional<std::int64_t> {
      const Result result = db.query(k_accept, {text(key), text(platform), text(payload), number(now_ms),
                                                text(claim.owner), number(claim.until_ms)});
      if (result.rows() == 0) return std::nullopt;
      return result.integer(0, 0);
    });
  }

  std::vector<std::optional<std::int64_t>> accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                std::int64_t now_ms,
                                                                const bot::InboundClaim& claim) override {
    return impl_.locked([&](Connection& db) {
      return db.transaction([&] {
        std::vector<std::optional<std::int64_t>> ids;
        ids.reserve(items.size());
        for (const auto& item : items) {
          // ON CONFLICT DO NOTHING returns no row for a key already there, also one inserted earlier
          // in this transaction.
          const Result result = db.query(k_accept, {text(item.key), text(item.platform), text(item.payload),
                                                    number(now_ms), text(claim.owner), number(claim.until_ms)});
          ids.push_back(result.rows() == 0 ? std::nullopt : std::optional<std::int64_t>(result.integer(0, 0)));
        }
        return ids;
      });
    });
  }

  std::vector<bot::InboundItem> claim_inbound(const bot::InboundClaim& claim, std::int64_t now_ms,
                                              std::size_t limit) override {
    return impl_.locked([&](Connection& db) {
      // SKIP LOCKED: replicas claiming at the same moment pass over each other's rows instead of
      // waiting for them, so each gets different items and none gets one twice.
      const Result result = db.query(
          "UPDATE inbound SET claimed_by = $1, claim_until_ms = $2 WHERE id IN (SELECT id FROM inbound "
          "WHERE state = 'pending' AND (claimed_by IS NULL OR claim_until_ms <= $3) ORDER BY id LIMIT $4 "
          "FOR UPDATE SKIP LOCKED) RETURNING id, key, platform, payload, attempts",
          {text(claim.owner), number(claim.until_ms), number(now_ms), number(static_cast<std::int64_t>(limit))});
      auto items = read_inbound(result);
      // RETURNING promises no order.
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
      return items;
    });
  }

  std::size_t renew_inbound_claims(const bot::InboundClaim& claim, const std::vector<std::int64_t>& ids) override {
    // The ids as one array parameter: "{1,2,3}".
    std::string list = "{";
    for (const auto id : ids) list += (list.size() > 1 ? "," : "") + std::to_string(id);
    list += "}";
    return impl_.locked([&](Connection& db) {
      return static_cast<std::size_t>(db.query("UPDATE inbound SET claim_until_ms = $2 WHERE claimed_by = $1 AND "
                                               "state = 'pending' AND id = ANY($3::bigint[])",
                                               {text(claim.owner), number(claim.until_ms), list})
                                          .affected());
    });
  }

  void release_inbound_claims(std::string_view owner) override {
    impl_.locked([&](Connection& db) {
      db.query("UPDATE inbound SET claimed_by = NULL WHERE claimed_by = $1 AND state = 'pending'", {text(owner)});
    });
  }

  std::vector<bot::InboundItem> pending_inbound(std::size_t limit) const override {
    return impl_.locked([&](Connection& db) {
      const Result result = db.query(
          "SELECT id, key, platform, payload, attempts FROM inbound WHERE state = 'pending' ORDER BY id LIMIT $1",
          {number(static_cast<std::int64_t>(limit))});
      return read_inbound(result);
    });
  }

  std::optional<int> start_inbound_attempt(std::int64_t id, const bot::InboundClaim& claim) override {
    return impl_.locked([&](Connection& db) -> std::optional<int> {
      const Result result = db.query(
          "UPDATE inbound SET attempts = attempts + 1, claim_until_ms = $3 "
          "WHERE id = $1 AND state = 'pending' AND claimed_by = $2 RETURNING attempts",
          {number(id), text(claim.owner), number(claim.until_ms)});
      if (result.rows() == 0) return std::nullopt;
      return static_cast<int>(result.integer(0, 0));
    });
  }

  void quarantine_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                          std::int64_t now_ms) override {
    impl_.locked([&](Connection&) {
      impl_.finish_inbound(
          id, replies, now_ms,
          "UPDATE inbound SET state = 'quarantined', done_ms = $2 WHERE id = $1 AND state = 'pending'");
    });
  }

  std::optional<std::string> inbound_state(std::string_view key) const override {
    return impl_.locked([&](Connection& db) -> std::optional<std::string> {
      const Result result = db.query("SELECT state FROM inbound WHERE key = $1", {text(key)});
      if (result.rows() == 0) return std::nullopt;
      return result.text(0, 0);
    });
  }

  void complete_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                        std::int64_t now_ms) override {
    impl_.locked([&](Connection&) {
      impl_.finish_inbound(id, replies, now_ms,
                           "UPDATE inbound SET state = 'done', done_ms = $2, payload = '' WHERE id = $1");
    });
  }

  bool enqueue(const bot::OutgoingMessage& message, std::int64_t now_ms) override {
    return impl_.locked([&](Connection&) { return impl_.enqueue_message(message, now_ms); });
  }

  void mark_delivered(std::int64_t id, std::int64_t now_ms) override {
    impl_.locked([&](Connection& db) {
      db.query("UPDATE outbox SET state = 'delivered', done_ms = $2, attempts = attempts + 1 WHERE id = $1",
               {number(id), number(now_ms)});
    });
  }

  void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) override {
    impl_.locked([&](Connection& db) {
      db.query("UPDATE outbox SET next_attempt_ms = $2, last_error = $3, attempts = attempts + 1 WHERE id = $1",
               {number(id), number(next_attempt_ms), text(error)});
    });
  }

  void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) override {
    impl_.locked([&](Connection& db) {
      db.query(
          "UPDATE outbox SET state = 'failed', last_error = $2, done_ms = $3, attempts = attempts + 1 WHERE id = $1",
          {number(id), text(error), number(now_ms)});
    });
  }

  std::size_t outbox_backlog() const override {
    return impl_.locked([](Connection& db) {
      return static_cast<std::size_t>(db.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").integer(0, 0));
    });
  }

  std::optional<std::string> outbox_state(std::string_view idempotency_key) const override {
    return impl_.locked([&](Connection& db) -> std::optional<std::string> {
      const Result result = db.query("SELECT state FROM outbox WHERE idempotency_key = $1", {text(idempotency_key)});
      if (result.rows() == 0) return std::nullopt;
      return result.text(0, 0);
    });
  }

  std::optional<PostgresStateStore::OutboxHead> outbox_head(std::string_view target) const override {
    return impl_.locked([&](Connection& db) -> std::optional<OutboxHead> {
      const Result result = db.query(std::string("SELECT ") + k_head_columns +
                                         " FROM outbox WHERE state = 'pending' AND target = $1 ORDER BY id LIMIT 1",
                                     {text(target)});
      if (result.rows() == 0) return std::nullopt;
      return read_head(result, 0);
    });
  }

  std::vector<PostgresStateStore::OutboxHead> outbox_heads() const override {
    return impl_.locked([](Connection& db) {
      // The oldest pending message of each target (DISTINCT ON over the partial index), oldest first.
      const Result result = db.query(std::string("SELECT * FROM (SELECT DISTINCT ON (target) ") + k_head_columns +
                                     " FROM outbox WHERE state = 'pending' ORDER BY target, id) heads ORDER BY id");
      std::vector<OutboxHead> heads;
      heads.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) heads.push_back(read_head(result, row));
      return heads;
    });
  }

  std::vector<std::pair<std::int64_t, std::string>> pending_outbox_after(std::int64_t after_id,
                                                                         std::size_t limit) const override {
    return impl_.locked([&](Connection& db) {
      const Result result =
          db.query("SELECT id, target FROM outbox WHERE id > $1 AND state = 'pending' ORDER BY id LIMIT $2",
                   {number(after_id), number(static_cast<std::int64_t>(limit))});
      std::vector<std::pair<std::int64_t, std::string>> rows;
      rows.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) rows.emplace_back(result.integer(row, 0), result.text(row, 1));
      return rows;
    });
  }

  std::int64_t outbox_last_id() const override {
    return impl_.locked(
        [](Connection& db) { return db.query("SELECT COALESCE(MAX(id), 0) FROM outbox").integer(0, 0); });
  }

  void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                       std::int64_t now_ms) override {
    impl_.locked([&](Connection& db) {
      db.query(
          "INSERT INTO threads (platform, channel, thread, last_ms) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (platform, channel, thread) DO UPDATE SET last_ms = EXCLUDED.last_ms",
          {text(platform), text(channel), text(thread), number(now_ms)});
    });
  }

  bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const override {
    return impl_.locked([&](Connection& db) {
      return db.query("SELECT 1 FROM threads WHERE platform = $1 AND channel = $2 AND thread = $3",
                      {text(platform), text(channel), text(thread)})
                 .rows() > 0;
    });
  }

  std::optional<std::string> dialogue(std::string_view conversation, std::int64_t now_ms) const override {
    return impl_.locked([&](Connection& db) -> std::optional<std::string> {
      const auto result = db.query("SELECT state FROM dialogues WHERE conversation = $1 AND expires_ms > $2",
                                   {text(conversation), number(now_ms)});
      if (result.rows() == 0) return std::nullopt;
      return result.text(0, 0);
    });
  }

  void save_dialogue(std::string_view conversation, std::string_view state, std::int64_t expires_ms) override {
    impl_.locked([&](Connection& db) {
      db.query(
          "INSERT INTO dialogues (conversation, state, expires_ms) VALUES ($1, $2, $3) "
          "ON CONFLICT (conversation) DO UPDATE SET state = EXCLUDED.state, expires_ms = EXCLUDED.expires_ms",
          {text(conversation), text(state), number(expires_ms)});
    });
  }

  std::optional<std::string> value(std::string_view key) const override {
    return impl_.locked([&](Connection& db) -> std::optional<std::string> {
      const Result result = db.query("SELECT value FROM kv WHERE key = $1", {text(key)});
      if (result.rows() == 0) return std::nullopt;
      return result.text(0, 0);
    });
  }

  void set_value(std::string_view key, std::string_view value) override {
    impl_.locked([&](Connection& db) {
      db.query("INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
               {text(key), text(value)});
    });
  }

  std::vector<std::pair<std::string, std::string>> values_with_prefix(std::string_view prefix) const override {
    return impl_.locked([&](Connection& db) {
      // left() rather than LIKE: a prefix may hold '%' or '_'. COLLATE "C": byte order, as promised.
      const Result result = db.query(
          "SELECT key, value FROM kv WHERE left(key, length($1)) = $1 ORDER BY key COLLATE \"C\"", {text(prefix)});
      std::vector<std::pair<std::string, std::string>> found;
      found.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) found.emplace_back(result.text(row, 0), result.text(row, 1));
      return found;
    });
  }

  bool subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms) override {
    return impl_.locked([&](Connection& db) {
      return db.query(
                   "INSERT INTO subscriptions (channel, by_user, created_ms) VALUES ($1, $2, $3) "
                   "ON CONFLICT (channel) DO NOTHING",
                   {text(channel), text(by_user), number(now_ms)})
                 .affected() > 0;
    });
  }

  bool unsubscribe(std::string_view channel) override {
    return impl_.locked([&](Connection& db) {
      return db.query("DELETE FROM subscriptions WHERE channel = $1", {text(channel)}).affected() > 0;
    });
  }

  std::vector<std::string> subscriptions() const override {
    return impl_.locked([](Connection& db) {
      // COLLATE "C": byte order, as SQLite sorts and the contract promises, whatever the database's locale.
      const Result result = db.query("SELECT channel FROM subscriptions ORDER BY channel COLLATE \"C\"");
      std::vector<std::string> channels;
      channels.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) channels.push_back(result.text(row, 0));
      return channels;
    });
  }

  std::optional<std::string> last_digest_date(std::string_view channel) const override {
    return impl_.locked([&](Connection& db) -> std::optional<std::string> {
      const Result result =
          db.query("SELECT MAX(local_date COLLATE \"C\") FROM digest_posts WHERE channel = $1", {text(channel)});
      if (result.rows() == 0 || result.is_null(0, 0)) return std::nullopt;
      return result.text(0, 0);
    });
  }

  std::unordered_set<std::string> digested_papers(std::string_view channel) const override {
    return impl_.locked([&](Connection& db) {
      const Result result = db.query("SELECT paper_id FROM digest_papers WHERE channel = $1", {text(channel)});
      std::unordered_set<std::string> papers;
      papers.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) papers.insert(result.text(row, 0));
      return papers;
    });
  }

  bool record_digest(const bot::DigestRecord& digest, const std::vector<bot::OutgoingMessage>& messages,
                     std::int64_t now_ms) override {
    return impl_.locked([&](Connection& db) {
      return db.transaction([&] {
        // The (channel, local_date) key is the exactly-once guard: another replica's transaction
        // inserting the same key waits for this one, then finds the row and writes nothing. An
        // off-schedule digest has no date; its first message's idempotency key is its guard instead.
        std::size_t enqueued = 0;
        if (digest.local_date.empty()) {
          if (messages.empty() || !impl_.enqueue_message(messages.front(), now_ms)) return false;
          enqueued = 1;
        } else {
          const Result inserted = db.query(
              "INSERT INTO digest_posts (channel, local_date, posted_ms, papers, started_over) "
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, local_date) DO NOTHING",
              {digest.channel, digest.local_date, number(now_ms),
               number(static_cast<std::int64_t>(digest.paper_ids.size())), digest.started_over ? "true" : "false"});
          if (inserted.affected() == 0) return false;
        }
        if (digest.started_over) db.query("DELETE FROM digest_papers WHERE channel = $1", {digest.channel});
        for (const auto& paper : digest.paper_ids) {
          db.query(
              "INSERT INTO digest_papers (channel, paper_id, posted_ms) VALUES ($1, $2, $3) "
              "ON CONFLICT (channel, paper_id) DO NOTHING",
              {digest.channel, paper, number(now_ms)});
        }
        for (std::size_t i = enqueued; i < messages.size(); ++i) impl_.enqueue_message(messages[i], now_ms);
        db.query(
            "INSERT INTO counters (name, value) VALUES ('digests_posted', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1");
        return true;
      });
    });
  }

  void audit(const bot::AuditEntry& entry) override {
    impl_.locked([&](Connection& db) {
      db.query("INSERT INTO audit (at_ms, platform, actor, command, allowed, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
               {number(entry.at_ms), entry.platform, entry.user, bot::clip_for_audit(entry.command),
                entry.allowed ? "true" : "false", bot::clip_for_audit(entry.outcome)});
    });
  }

  std::vector<bot::AuditEntry> audit_log(std::size_t limit) const override {
    return impl_.locked([&](Connection& db) {
      const Result result =
          db.query("SELECT at_ms, platform, actor, command, allowed, outcome FROM audit ORDER BY id DESC LIMIT $1",
                   {number(static_cast<std::int64_t>(limit))});
      std::vector<bot::AuditEntry> entries;
      entries.reserve(static_cast<std::size_t>(result.rows()));
      for (int row = 0; row < result.rows(); ++row) {
        entries.push_back({result.integer(row, 0), result.text(row, 1), result.text(row, 2), result.text(row, 3),
                           result.text(row, 4) == "t", result.text(row, 5)});
      }
      return entries;
    });
  }

  void add_to_counter(std::string_view name, std::int64_t delta) override {
    impl_.locked([&](Connection& db) {
      db.query(
          "INSERT INTO counters (name, value) VALUES ($1, $2) "
          "ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value",
          {text(name), number(delta)});
    });
  }

  std::int64_t counter(std::string_view name) const override {
    return impl_.locked([&](Connection& db) -> std::int64_t {
      const Result result = db.query("SELECT value FROM counters WHERE name = $1", {text(name)});
      return result.rows() == 0 ? 0 : result.integer(0, 0);
    });
  }

  bool hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms, std::int64_t ttl_ms) override {
    return impl_.locked([&](Connection& db) {
      // ON CONFLICT locks the row, so racing replicas decide one after the other, each seeing the
      // other's owner and expiry.
      return db.query(
                   "INSERT INTO leases (name, owner, until_ms) VALUES ($1, $2, $3) "
                   "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until_ms = EXCLUDED.until_ms "
                   "WHERE leases.owner = EXCLUDED.owner OR leases.until_ms <= $4 RETURNING owner",
                   {text(name), text(owner), number(now_ms + ttl_ms), number(now_ms)})
                 .rows() > 0;
    });
  }

  void release_lease(std::string_view name, std::string_view owner) override {
    impl_.locked([&](Connection& db) {
      db.query("DELETE FROM leases WHERE name = $1 AND owner = $2", {text(name), text(owner)});
    });
  }

  std::vector<bot::TransferRow> export_rows() const override {
    return impl_.locked([](Connection& db) {
      std::vector<bot::TransferRow> rows;
      db.transaction([&] {
        db.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");  // one snapshot of every table
        for (const auto& table : bot::transfer_tables()) {
          std::string select;
          for (const auto column : table.columns) {
            if (!select.empty()) select += ", ";
            select += postgres_column(table.name, column) + (is_boolean(table.name, column) ? "::int" : "");
          }
          const Result result = db.query("SELECT " + select + " FROM " + std::string(table.name) + " ORDER BY 1");
          for (int r = 0; r < result.rows(); ++r) {
            bot::TransferRow row{std::string(table.name), {}};
            for (int c = 0; c < static_cast<int>(table.columns.size()); ++c) {
              row.values.push_back(result.is_null(r, c) ? std::nullopt : std::optional<std::string>(result.text(r, c)));
            }
            rows.push_back(std::move(row));
          }
        }
      });
      return rows;
    });
  }

  bool holds_records() const override {
    return impl_.locked([](Connection& db) { return any_records(db); });
  }

  void import_rows(const std::vector<bot::TransferRow>& rows, bool replace) override {
    impl_.locked([&](Connection& db) {
      db.transaction([&] {
        if (!replace && any_records(db)) {
          throw bot::StateError("the target state already holds records (import --force replaces them)");
        }
        if (replace) {
          std::string tables = "leases";
          for (const auto& table : bot::transfer_tables()) tables += ", " + std::string(table.name);
          db.exec("TRUNCATE " + tables);
        }
        for (const auto& row : rows) {
          const bot::TransferTable& table = bot::transfer_table_of(row);
          std::string columns;
          std::string placeholders;
          for (std::size_t i = 0; i < table.columns.size(); ++i) {
            columns += (i > 0 ? ", " : "") + postgres_column(table.name, table.columns[i]);
            placeholders += (i > 0 ? ", $" : "$") + std::to_string(i + 1);
          }
          std::string insert = "INSERT INTO ";
          insert.append(table.name).append(" (").append(columns).append(")");
          if (has_identity(table.name)) insert += " OVERRIDING SYSTEM VALUE";
          insert.append(" VALUES (").append(placeholders).append(")");
          db.query(insert, row.values);
        }
        // New ids continue after the imported ones.
        for (const auto& table : bot::transfer_tables()) {
          if (!has_identity(table.name)) continue;
          std::string setval = "SELECT setval(pg_get_serial_sequence('";
          setval.append(table.name).append("', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM ").append(table.name);
          db.query(setval);
        }
      });
    });
  }

  void prune(std::int64_t before_ms) override {
    impl_.locked([&](Connection& db) {
      db.transaction([&] {
        // Quarantined items go too: kept for an operator to look at for as long as completed keys are.
        const std::vector<Param> before = {number(before_ms)};
        db.query("DELETE FROM inbound WHERE state <> 'pending' AND done_ms < $1", before);
        db.query("DELETE FROM outbox WHERE state <> 'pending' AND done_ms < $1", before);
        db.query("DELETE FROM threads WHERE last_ms < $1", before);
        db.query("DELETE FROM dialogues WHERE expires_ms < $1", before);
        db.query("DELETE FROM audit WHERE at_ms < $1", before);
      });
    });
  }

 private:
  mutable Impl impl_;  // mutable: reads take its mutex and may reconnect
};

}  // namespace

std::unique_ptr<bot::StateStore> open_postgres_state_store(std::string url, PostgresStateOptions options) {
  return std::make_unique<PostgresStateStore>(std::move(url), options.access);
}

std::unique_ptr<bot::StateTransfer> open_postgres_state_transfer(std::string url, PostgresStateOptions options) {
  return std::make_unique<PostgresStateStore>(std::move(url), options.access);
}

}  // namespace roundup::storage

#include "storage/sqlite_state_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

#include "storage/sqlite.h"
#include "storage/wal_checkpointer.h"

namespace roundup::storage {

using bot::AuditEntry;
using bot::clip_for_audit;
using bot::DigestRecord;
using bot::InboundItem;
using bot::OutgoingMessage;
using bot::StateError;

namespace {

// Each entry migrates from version (index) to (index + 1). Never edit a shipped entry; append.
constexpr const char* k_migrations[] = {
    R"sql(
    CREATE TABLE inbound (
      id INTEGER PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
      received_ms INTEGER NOT NULL,
      done_ms INTEGER
    );
    CREATE INDEX inbound_pending ON inbound (state, id);
    CREATE TABLE outbox (
      id INTEGER PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      target TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_ms INTEGER NOT NULL,
      created_ms INTEGER NOT NULL,
      done_ms INTEGER,
      last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (state, target, id);
    CREATE TABLE threads (
      platform TEXT NOT NULL,
      channel TEXT NOT NULL,
      thread TEXT NOT NULL,
      last_ms INTEGER NOT NULL,
      PRIMARY KEY (platform, channel, thread)
    ) WITHOUT ROWID;
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    )sql",
    // 2: daily digests (subscriptions, what each channel was sent), the admin audit log, and
    // counters for /stats.
    R"sql(
    CREATE TABLE subscriptions (
      channel TEXT PRIMARY KEY,
      by_user TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE digest_posts (
      channel TEXT NOT NULL,
      local_date TEXT NOT NULL,
      posted_ms INTEGER NOT NULL,
      papers INTEGER NOT NULL,
      started_over INTEGER NOT NULL,
      PRIMARY KEY (channel, local_date)
    ) WITHOUT ROWID;
    CREATE TABLE digest_papers (
      channel TEXT NOT NULL,
      paper_id TEXT NOT NULL,
      posted_ms INTEGER NOT NULL,
      PRIMARY KEY (channel, paper_id)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
      id INTEGER PRIMARY KEY,
      at_ms INTEGER NOT NULL,
      platform TEXT NOT NULL,
      user TEXT NOT NULL,
      command TEXT NOT NULL,
      allowed INTEGER NOT NULL,
      outcome TEXT NOT NULL
    );
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    )sql",
    // 3: poison items. Each inbound item counts the handler runs started on it (committed before
    // each run, so a run that crashes the process is counted too), and one that failed too often
    // is set aside as 'quarantined' instead of being handled at every start. SQLite cannot change
    // a CHECK constraint in place, so the table is rebuilt.
    R"sql(
    CREATE TABLE inbound_v3 (
      id INTEGER PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'quarantined')),
      received_ms INTEGER NOT NULL,
      done_ms INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO inbound_v3 (id, key, platform, payload, state, received_ms, done_ms)
      SELECT id, key, platform, payload, state, received_ms, done_ms FROM inbound;
    DROP TABLE inbound;
    ALTER TABLE inbound_v3 RENAME TO inbound;
    CREATE INDEX inbound_pending ON inbound (state, id);
    CREATE INDEX audit_at ON audit (at_ms);
    )sql",
    // 4: leases between processes sharing the store (bot::Leases).
    R"sql(
    CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until_ms INTEGER NOT NULL) WITHOUT ROWID;
    )sql",
    // 5: inbound work is claimed (bot::InboundClaim): who handles an item, and until when.
    R"sql(
    ALTER TABLE inbound ADD COLUMN claimed_by TEXT;
    ALTER TABLE inbound ADD COLUMN claim_until_ms INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 6: what each conversation remembers between messages (bot::DialogueMemory).
    R"sql(
    CREATE TABLE dialogues (conversation TEXT PRIMARY KEY, state TEXT NOT NULL, expires_ms INTEGER NOT NULL)
      WITHOUT ROWID;
    )sql",
};
static_assert(std::size(k_migrations) == SqliteStateStore::k_schema_version);

[[noreturn]] void raise_state_error(const std::string& message) {
  throw StateError(message);
}

}  // namespace

struct SqliteStateStore::Impl {
  // Declared first, so it closes last: after the checkpointer and every statement.
  std::unique_ptr<Database> db;
  mutable std::mutex mutex;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Checkpoints stop before statements are finalized and the connection closes.
  ~Impl() { checkpointer.reset(); }

  template <typename Body>
  auto transaction(Body&& body) {
    return db->transaction(std::forward<Body>(body));
  }

  std::unique_ptr<WalCheckpointer> checkpointer;  // read-write stores only
  std::unique_ptr<Statement> accept, claim, renew, pending, attempt, quarantine, complete, enqueue, delivered, resched,
      failed, backlog, out_state, remember, knows, get_value, put_value;
  // Outbox head lookups (see outbox_head()).
  std::unique_ptr<Statement> all_heads, head_of, pending_after, last_id;

  std::unique_ptr<Statement> cached(std::string_view sql) {
    return std::make_unique<Statement>(*db, sql, Statement::Lifetime::cached);
  }

  void prepare() {
    accept = cached(
        "INSERT INTO inbound (key, platform, payload, received_ms, claimed_by, claim_until_ms) "
        "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6) ON CONFLICT (key) DO NOTHING RETURNING id");
    claim = cached(
        "UPDATE inbound SET claimed_by = ?1, claim_until_ms = ?2 WHERE id IN (SELECT id FROM inbound "
        "WHERE state = 'pending' AND (claimed_by IS NULL OR claim_until_ms <= ?3) ORDER BY id LIMIT ?4) "
        "RETURNING id, key, platform, payload, attempts");
    // The ids as a JSON array: one statement for any number of them.
    renew = cached(
        "UPDATE inbound SET claim_until_ms = ?2 WHERE claimed_by = ?1 AND state = 'pending' "
        "AND id IN (SELECT value FROM json_each(?3))");
    pending =
        cached("SELECT id, key, platform, payload, attempts FROM inbound WHERE state = 'pending' ORDER BY id LIMIT ?1");
    attempt = cached(
        "UPDATE inbound SET attempts = attempts + 1, claim_until_ms = ?3 "
        "WHERE id = ?1 AND state = 'pending' AND claimed_by = ?2 RETURNING attempts");
    quarantine = cached("UPDATE inbound SET state = 'quarantined', done_ms = ?2 WHERE id = ?1 AND state = 'pending'");
    complete = cached("UPDATE inbound SET state = 'done', done_ms = ?2, payload = '' WHERE id = ?1");
    enqueue = cached(
        "INSERT INTO outbox (idempotency_key, platform, target, payload, next_attempt_ms, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (idempotency_key) DO NOTHING");
    // The head of each target's queue: later messages wait for earlier ones, which keeps a split
    // answer in order and lets pacing work per target. The targets with pending messages are
    // found by hopping through outbox_pending (state, target, id) one target at a time, and each
    // head with one more seek, so the cost grows with the number of targets, not with the backlog
    // (a correlated MIN(id) per pending row read every pending row: EXPLAIN QUERY PLAN "SCAN o").
    const std::string heads =
        "WITH RECURSIVE targets(t) AS ("
        "SELECT (SELECT target FROM outbox WHERE state = 'pending' ORDER BY target LIMIT 1) UNION ALL "
        "SELECT (SELECT target FROM outbox WHERE state = 'pending' AND target > t ORDER BY target LIMIT 1) "
        "FROM targets WHERE t IS NOT NULL) "
        "SELECT o.id, o.idempotency_key, o.platform, o.target, o.payload, o.attempts, o.created_ms, "
        "o.next_attempt_ms FROM targets JOIN outbox o ON o.id = (SELECT h.id FROM outbox h "
        "WHERE h.state = 'pending' AND h.target = targets.t ORDER BY h.id LIMIT 1) WHERE targets.t IS NOT NULL";
    all_heads = cached(heads + " ORDER BY o.id");
    head_of = cached(
        "SELECT id, idempotency_key, platform, target, payload, attempts, created_ms, next_attempt_ms FROM outbox "
        "WHERE state = 'pending' AND target = ?1 ORDER BY id LIMIT 1");
    // "+state": without it (and without ANALYZE statistics) SQLite reads every pending row of
    // outbox_pending and sorts them; this way it is a rowid range over the new rows only.
    pending_after = cached("SELECT id, target FROM outbox WHERE id > ?1 AND +state = 'pending' ORDER BY id LIMIT ?2");
    last_id = cached("SELECT MAX(id) FROM outbox");
    delivered = cached("UPDATE outbox SET state = 'delivered', done_ms = ?2, attempts = attempts + 1 WHERE id = ?1");
    resched = cached("UPDATE outbox SET next_attempt_ms = ?2, last_error = ?3, attempts = attempts + 1 WHERE id = ?1");
    failed = cached(
        "UPDATE outbox SET state = 'failed', last_error = ?2, done_ms = ?3, attempts = attempts + 1 "
        "WHERE id = ?1");
    backlog = cached("SELECT COUNT(*) FROM outbox WHERE state = 'pending'");
    out_state = cached("SELECT state FROM outbox WHERE idempotency_key = ?1");
    remember = cached(
        "INSERT INTO threads (platform, channel, thread, last_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT DO UPDATE SET last_ms = excluded.last_ms");
    knows = cached("SELECT 1 FROM threads WHERE platform = ?1 AND channel = ?2 AND thread = ?3");
    get_value = cached("SELECT value FROM kv WHERE key = ?1");
    put_value = cached("INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT DO UPDATE SET value = excluded.value");
  }

  // Adds a message unless its idempotency key exists; the caller holds the mutex.
  void enqueue_message(const OutgoingMessage& message, std::int64_t now_ms) {
    enqueue->bind(1, message.idempotency_key)
        .bind(2, message.platform)
        .bind(3, message.target)
        .bind(4, message.payload)
        .bind(5, now_ms)
        .run();
  }

  void migrate(const std::filesystem::path& file) {
    transaction([&] {
      const int current = db->user_version();
      if (current > k_schema_version) {
        throw StateError("state database " + file.string() + " has schema version " + std::to_string(current) +
                         ", newer than this build understands (" + std::to_string(k_schema_version) +
                         "); run the newer roundup-bot or restore a backup");
      }
      for (int version = current; version < k_schema_version; ++version) {
        db->exec(k_migrations[version]);
        db->set_user_version(version + 1);
      }
    });
  }
};

SqliteStateStore::SqliteStateStore(const std::filesystem::path& file, Access access) : impl_(std::make_unique<Impl>()) {
  const bool read_only = access == Access::read_only;
  std::error_code ec;
  if (!read_only && file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw StateError("cannot create " + file.parent_path().string() + ": " + ec.message());
  Database::Options options;
  options.mode = read_only ? Database::Mode::read_only : Database::Mode::read_write_create;
  options.name = "state database";
  options.error_prefix = "state database: ";
  options.raise = raise_state_error;
  impl_->db = std::make_unique<Database>(file, options);
  try {
    if (read_only) {
      if (const int version = impl_->db->user_version(); version != k_schema_version) {
        throw StateError("state database " + file.string() + " has schema version " + std::to_string(version) +
                         "; this build reads version " + std::to_string(k_schema_version) +
                         " (run `roundup-bot serve` once to migrate it)");
      }
    } else {
      impl_->db->exec("PRAGMA journal_mode = WAL");
      // NORMAL in WAL mode survives a process crash (the case that matters here); only a power
      // loss can lose the last commits.
      impl_->db->exec("PRAGMA synchronous = NORMAL");
      impl_->db->exec("PRAGMA foreign_keys = ON");
      impl_->migrate(file);
      impl_->checkpointer =
          std::make_unique<WalCheckpointer>(impl_->db->handle(), file, WalCheckpointOptions{}, raise_state_error);
    }
    impl_->prepare();
  } catch (...) {
    impl_.reset();
    throw;
  }
}

SqliteStateStore::~SqliteStateStore() = default;

int SqliteStateStore::schema_version() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->db->user_version();
}

std::optional<std::int64_t> SqliteStateStore::accept_inbound(std::string_view key, std::string_view platform,
                                                             std::string_view payload, std::int64_t now_ms,
                                                             const bot::InboundClaim& claim) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->accept;
  ResetOnExit reset{statement};
  statement.bind(1, key)
      .bind(2, platform)
      .bind(3, payload)
      .bind(4, now_ms)
      .bind(5, claim.owner)
      .bind(6, claim.until_ms);
  if (!statement.step()) return std::nullopt;
  const std::int64_t id = statement.integer(0);
  while (statement.step()) {
  }
  return id;
}

std::vector<InboundItem> SqliteStateStore::pending_inbound(std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->pending;
  ResetOnExit reset{statement};
  statement.bind(1, static_cast<std::int64_t>(limit));
  std::vector<InboundItem> items;
  while (statement.step()) {
    items.push_back({statement.integer(0), statement.text(1), statement.text(2), statement.text(3),
                     static_cast<int>(statement.integer(4))});
  }
  return items;
}

std::vector<InboundItem> SqliteStateStore::claim_inbound(const bot::InboundClaim& claim, std::int64_t now_ms,
                                                         std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->claim;
  ResetOnExit reset{statement};
  statement.bind(1, claim.owner).bind(2, claim.until_ms).bind(3, now_ms).bind(4, static_cast<std::int64_t>(limit));
  std::vector<InboundItem> items;
  while (statement.step()) {
    items.push_back({statement.integer(0), statement.text(1), statement.text(2), statement.text(3),
                     static_cast<int>(statement.integer(4))});
  }
  // RETURNING promises no order.
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return items;
}

std::size_t SqliteStateStore::renew_inbound_claims(const bot::InboundClaim& claim,
                                                   const std::vector<std::int64_t>& ids) {
  std::string list = "[";
  for (const auto id : ids) list += (list.size() > 1 ? "," : "") + std::to_string(id);
  list += "]";
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->renew;
  statement.bind(1, claim.owner).bind(2, claim.until_ms).bind(3, list).run();
  return static_cast<std::size_t>(impl_->db->changes());
}

void SqliteStateStore::release_inbound_claims(std::string_view owner) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db, "UPDATE inbound SET claimed_by = NULL WHERE claimed_by = ?1 AND state = 'pending'")
      .bind(1, owner)
      .run();
}

std::optional<int> SqliteStateStore::start_inbound_attempt(std::int64_t id, const bot::InboundClaim& claim) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->attempt;
  ResetOnExit reset{statement};
  statement.bind(1, id).bind(2, claim.owner).bind(3, claim.until_ms);
  if (!statement.step()) return std::nullopt;
  const int attempts = static_cast<int>(statement.integer(0));
  while (statement.step()) {
  }
  return attempts;
}

void SqliteStateStore::quarantine_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies,
                                          std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    for (const auto& reply : replies) impl_->enqueue_message(reply, now_ms);
    impl_->quarantine->bind(1, id).bind(2, now_ms).run();
  });
}

std::optional<std::string> SqliteStateStore::inbound_state(std::string_view key) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT state FROM inbound WHERE key = ?1");
  statement.bind(1, key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void SqliteStateStore::complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies,
                                        std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    for (const auto& reply : replies) {
      impl_->enqueue_message(reply, now_ms);
    }
    impl_->complete->bind(1, id).bind(2, now_ms).run();
  });
}

bool SqliteStateStore::enqueue(const OutgoingMessage& message, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->enqueue_message(message, now_ms);
  return impl_->db->changes() > 0;
}

void SqliteStateStore::mark_delivered(std::int64_t id, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->delivered->bind(1, id).bind(2, now_ms).run();
}

void SqliteStateStore::reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) {
  std::lock_guard lock(impl_->mutex);
  impl_->resched->bind(1, id).bind(2, next_attempt_ms).bind(3, error).run();
}

void SqliteStateStore::mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->failed->bind(1, id).bind(2, error).bind(3, now_ms).run();
}

std::size_t SqliteStateStore::outbox_backlog() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->backlog;
  ResetOnExit reset{statement};
  statement.step();
  return static_cast<std::size_t>(statement.integer(0));
}

std::optional<std::string> SqliteStateStore::outbox_state(std::string_view idempotency_key) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->out_state;
  ResetOnExit reset{statement};
  statement.bind(1, idempotency_key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void SqliteStateStore::remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                                       std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->remember->bind(1, platform).bind(2, channel).bind(3, thread).bind(4, now_ms).run();
}

bool SqliteStateStore::knows_thread(std::string_view platform, std::string_view channel,
                                    std::string_view thread) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->knows;
  ResetOnExit reset{statement};
  statement.bind(1, platform).bind(2, channel).bind(3, thread);
  return statement.step();
}

std::optional<std::string> SqliteStateStore::dialogue(std::string_view conversation, std::int64_t now_ms) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT state FROM dialogues WHERE conversation = ?1 AND expires_ms > ?2");
  statement.bind(1, conversation).bind(2, now_ms);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void SqliteStateStore::save_dialogue(std::string_view conversation, std::string_view state, std::int64_t expires_ms) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db,
            "INSERT INTO dialogues (conversation, state, expires_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT DO UPDATE SET state = excluded.state, expires_ms = excluded.expires_ms")
      .bind(1, conversation)
      .bind(2, state)
      .bind(3, expires_ms)
      .run();
}

std::optional<std::string> SqliteStateStore::value(std::string_view key) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->get_value;
  ResetOnExit reset{statement};
  statement.bind(1, key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void SqliteStateStore::set_value(std::string_view key, std::string_view value) {
  std::lock_guard lock(impl_->mutex);
  impl_->put_value->bind(1, key).bind(2, value).run();
}

std::vector<std::pair<std::string, std::string>> SqliteStateStore::values_with_prefix(std::string_view prefix) const {
  std::lock_guard lock(impl_->mutex);
  // substr() rather than LIKE: a prefix may hold '%' or '_'. The table is small (a few keys per replica).
  Statement statement(*impl_->db, "SELECT key, value FROM kv WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key");
  statement.bind(1, prefix);
  std::vector<std::pair<std::string, std::string>> found;
  while (statement.step()) found.emplace_back(statement.text(0), statement.text(1));
  return found;
}

namespace {

std::string joined(const std::vector<std::string_view>& names, std::string_view separator) {
  std::string out;
  for (const auto name : names) {
    if (!out.empty()) out += separator;
    out += name;
  }
  return out;
}

}  // namespace

// The portable schema is SQLite's own (the same tables and column names), so rows go in and out
// as they are.
std::vector<bot::TransferRow> SqliteStateStore::export_rows() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<bot::TransferRow> rows;
  impl_->transaction([&] {  // one snapshot of every table
    for (const auto& table : bot::transfer_tables()) {
      Statement select(*impl_->db,
                       "SELECT " + joined(table.columns, ", ") + " FROM " + std::string(table.name) + " ORDER BY 1");
      while (select.step()) {
        bot::TransferRow row{std::string(table.name), {}};
        for (int i = 0; i < static_cast<int>(table.columns.size()); ++i) {
          row.values.push_back(select.is_null(i) ? std::nullopt : std::optional<std::string>(select.text(i)));
        }
        rows.push_back(std::move(row));
      }
    }
  });
  return rows;
}

bool SqliteStateStore::holds_records() const {
  std::lock_guard lock(impl_->mutex);
  for (const auto& table : bot::transfer_tables()) {
    if (Statement(*impl_->db, "SELECT 1 FROM " + std::string(table.name) + " LIMIT 1").step()) return true;
  }
  return false;
}

void SqliteStateStore::import_rows(const std::vector<bot::TransferRow>& rows, bool replace) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    bool empty = true;
    for (const auto& table : bot::transfer_tables()) {
      if (Statement(*impl_->db, "SELECT 1 FROM " + std::string(table.name) + " LIMIT 1").step()) empty = false;
    }
    if (!empty && !replace) throw StateError("the target state already holds records (import --force replaces them)");
    if (replace) {
      for (const auto& table : bot::transfer_tables()) {
        impl_->db->exec(("DELETE FROM " + std::string(table.name)).c_str());
      }
      impl_->db->exec("DELETE FROM leases");
    }
    std::map<std::string_view, std::unique_ptr<Statement>> inserts;
    for (const auto& row : rows) {
      const bot::TransferTable& table = bot::transfer_table_of(row);
      auto& insert = inserts[table.name];
      if (!insert) {
        std::string placeholders;
        for (std::size_t i = 1; i <= table.columns.size(); ++i)
          placeholders += (i > 1 ? ", ?" : "?") + std::to_string(i);
        insert = std::make_unique<Statement>(*impl_->db, "INSERT INTO " + std::string(table.name) + " (" +
                                                             joined(table.columns, ", ") + ") VALUES (" + placeholders +
                                                             ")");
      }
      for (std::size_t i = 0; i < row.values.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        if (row.values[i]) {
          insert->bind(index, *row.values[i]);
        } else {
          insert->bind_null(index);
        }
      }
      insert->run();
    }
  });
}

void SqliteStateStore::prune(std::int64_t before_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    // Quarantined items go too: kept for an operator to look at for as long as completed keys are.
    Statement(*impl_->db, "DELETE FROM inbound WHERE state != 'pending' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(*impl_->db, "DELETE FROM outbox WHERE state != 'pending' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(*impl_->db, "DELETE FROM threads WHERE last_ms < ?1").bind(1, before_ms).run();
    Statement(*impl_->db, "DELETE FROM dialogues WHERE expires_ms < ?1").bind(1, before_ms).run();
    Statement(*impl_->db, "DELETE FROM audit WHERE at_ms < ?1").bind(1, before_ms).run();
  });
}

// --- Digests, subscriptions, audit, counters (schema 2) ---------------------------------------
// These run a few times a day, so their statements are prepared per call rather than cached.

bool SqliteStateStore::subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db,
            "INSERT INTO subscriptions (channel, by_user, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
      .bind(1, channel)
      .bind(2, by_user)
      .bind(3, now_ms)
      .run();
  return impl_->db->changes() > 0;
}

bool SqliteStateStore::unsubscribe(std::string_view channel) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db, "DELETE FROM subscriptions WHERE channel = ?1").bind(1, channel).run();
  return impl_->db->changes() > 0;
}

std::vector<std::string> SqliteStateStore::subscriptions() const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT channel FROM subscriptions ORDER BY channel");
  std::vector<std::string> channels;
  while (statement.step()) channels.push_back(statement.text(0));
  return channels;
}

std::optional<std::string> SqliteStateStore::last_digest_date(std::string_view channel) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT MAX(local_date) FROM digest_posts WHERE channel = ?1");
  statement.bind(1, channel);
  if (!statement.step() || statement.is_null(0)) return std::nullopt;
  return statement.text(0);
}

std::unordered_set<std::string> SqliteStateStore::digested_papers(std::string_view channel) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT paper_id FROM digest_papers WHERE channel = ?1");
  statement.bind(1, channel);
  std::unordered_set<std::string> papers;
  while (statement.step()) papers.insert(statement.text(0));
  return papers;
}

bool SqliteStateStore::record_digest(const DigestRecord& digest, const std::vector<OutgoingMessage>& messages,
                                     std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  return impl_->transaction([&] {
    // The (channel, local_date) key is the exactly-once guard: a second replica, or a restart that
    // races this one, finds the row and writes nothing. An off-schedule digest has no date; its
    // messages' idempotency keys are its guard instead (the first one is enqueued first).
    std::size_t enqueued = 0;
    if (digest.local_date.empty()) {
      if (messages.empty()) return false;
      impl_->enqueue_message(messages.front(), now_ms);
      if (impl_->db->changes() == 0) return false;
      enqueued = 1;
    } else {
      Statement(*impl_->db,
                "INSERT INTO digest_posts (channel, local_date, posted_ms, papers, started_over) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
          .bind(1, digest.channel)
          .bind(2, digest.local_date)
          .bind(3, now_ms)
          .bind(4, static_cast<std::int64_t>(digest.paper_ids.size()))
          .bind(5, std::int64_t{digest.started_over ? 1 : 0})
          .run();
      if (impl_->db->changes() == 0) return false;
    }
    if (digest.started_over) {
      Statement(*impl_->db, "DELETE FROM digest_papers WHERE channel = ?1").bind(1, digest.channel).run();
    }
    Statement remember(*impl_->db,
                       "INSERT INTO digest_papers (channel, paper_id, posted_ms) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT DO NOTHING");
    for (const auto& paper : digest.paper_ids) remember.bind(1, digest.channel).bind(2, paper).bind(3, now_ms).run();
    for (std::size_t i = enqueued; i < messages.size(); ++i) impl_->enqueue_message(messages[i], now_ms);
    Statement(*impl_->db,
              "INSERT INTO counters (name, value) VALUES ('digests_posted', 1) "
              "ON CONFLICT DO UPDATE SET value = value + 1")
        .run();
    return true;
  });
}

void SqliteStateStore::audit(const AuditEntry& entry) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db,
            "INSERT INTO audit (at_ms, platform, user, command, allowed, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, entry.at_ms)
      .bind(2, entry.platform)
      .bind(3, entry.user)
      .bind(4, clip_for_audit(entry.command))
      .bind(5, std::int64_t{entry.allowed ? 1 : 0})
      .bind(6, clip_for_audit(entry.outcome))
      .run();
}

std::vector<AuditEntry> SqliteStateStore::audit_log(std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db,
                      "SELECT at_ms, platform, user, command, allowed, outcome FROM audit ORDER BY id DESC LIMIT ?1");
  statement.bind(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> entries;
  while (statement.step()) {
    entries.push_back({statement.integer(0), statement.text(1), statement.text(2), statement.text(3),
                       statement.integer(4) != 0, statement.text(5)});
  }
  return entries;
}

void SqliteStateStore::add_to_counter(std::string_view name, std::int64_t delta) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db,
            "INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT DO UPDATE SET value = value + ?2")
      .bind(1, name)
      .bind(2, delta)
      .run();
}

std::int64_t SqliteStateStore::counter(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(*impl_->db, "SELECT value FROM counters WHERE name = ?1");
  statement.bind(1, name);
  return statement.step() ? statement.integer(0) : 0;
}

std::vector<std::optional<std::int64_t>> SqliteStateStore::accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                                std::int64_t now_ms,
                                                                                const bot::InboundClaim& claim) {
  std::vector<std::optional<std::int64_t>> ids;
  ids.reserve(items.size());
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    auto& statement = *impl_->accept;
    for (const auto& item : items) {
      ResetOnExit reset{statement};
      statement.bind(1, item.key)
          .bind(2, item.platform)
          .bind(3, item.payload)
          .bind(4, now_ms)
          .bind(5, claim.owner)
          .bind(6, claim.until_ms);
      // ON CONFLICT DO NOTHING returns no row for a key already there, also one inserted earlier
      // in this transaction.
      if (!statement.step()) {
        ids.emplace_back();
        continue;
      }
      ids.emplace_back(statement.integer(0));
      while (statement.step()) {
      }
    }
  });
  return ids;
}

namespace {

SqliteStateStore::OutboxHead read_head(const Statement& statement) {
  SqliteStateStore::OutboxHead head;
  head.item.id = statement.integer(0);
  head.item.message = {statement.text(1), statement.text(2), statement.text(3), statement.text(4)};
  head.item.attempts = static_cast<int>(statement.integer(5));
  head.item.created_ms = statement.integer(6);
  head.next_attempt_ms = statement.integer(7);
  return head;
}

}  // namespace

std::optional<SqliteStateStore::OutboxHead> SqliteStateStore::outbox_head(std::string_view target) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->head_of;
  ResetOnExit reset{statement};
  statement.bind(1, target);
  if (!statement.step()) return std::nullopt;
  return read_head(statement);
}

std::vector<SqliteStateStore::OutboxHead> SqliteStateStore::outbox_heads() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->all_heads;
  ResetOnExit reset{statement};
  std::vector<OutboxHead> heads;
  while (statement.step()) heads.push_back(read_head(statement));
  return heads;
}

std::vector<std::pair<std::int64_t, std::string>> SqliteStateStore::pending_outbox_after(std::int64_t after_id,
                                                                                         std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->pending_after;
  ResetOnExit reset{statement};
  statement.bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::pair<std::int64_t, std::string>> rows;
  while (statement.step()) rows.emplace_back(statement.integer(0), statement.text(1));
  return rows;
}

std::int64_t SqliteStateStore::outbox_last_id() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->last_id;
  ResetOnExit reset{statement};
  if (!statement.step() || statement.is_null(0)) return 0;
  return statement.integer(0);
}

bool SqliteStateStore::hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms,
                                  std::int64_t ttl_ms) {
  std::lock_guard lock(impl_->mutex);
  // One statement: the row is taken, renewed or left alone atomically, also against another
  // process on the same file (the write lock).
  Statement statement(*impl_->db,
                      "INSERT INTO leases (name, owner, until_ms) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms "
                      "WHERE leases.owner = excluded.owner OR leases.until_ms <= ?4 RETURNING owner");
  statement.bind(1, name).bind(2, owner).bind(3, now_ms + ttl_ms).bind(4, now_ms);
  const bool held = statement.step();
  while (held && statement.step()) {
  }
  return held;
}

void SqliteStateStore::release_lease(std::string_view name, std::string_view owner) {
  std::lock_guard lock(impl_->mutex);
  Statement(*impl_->db, "DELETE FROM leases WHERE name = ?1 AND owner = ?2").bind(1, name).bind(2, owner).run();
}

}  // namespace roundup::storage

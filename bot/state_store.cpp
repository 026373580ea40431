#include "bot/state_store.h"

#include <sqlite3.h>

#include <memory>

#include <mutex>
#include <system_error>
#include <type_traits>
#include <utility>

#include "bot/wal_checkpointer.h"

namespace roundup::bot {
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
};
static_assert(std::size(k_migrations) == StateStore::k_schema_version);

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw StateError("state database: " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement, reset after each use so it can be cached.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) fail(db, sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, sqlite3_sql(stmt_));
  }
  // Resets on the way out, also when a step throws: a statement left halted after an error would
  // refuse every later bind (SQLITE_MISUSE) and wedge the cached statement for good.
  void run() {
    struct ResetGuard {
      Statement& statement;
      ~ResetGuard() { statement.reset(); }
    } guard{*this};
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when a scope ends, also on exceptions.
struct ResetOnExit {
  Statement& statement;
  ~ResetOnExit() { statement.reset(); }
};

}  // namespace

std::string clip_for_audit(std::string_view text) {
  if (text.size() <= k_audit_text_bytes) return std::string(text);
  constexpr std::string_view k_ellipsis = "\u2026";
  std::size_t end = k_audit_text_bytes - k_ellipsis.size();
  // Back up to the first byte of a character: never cut one in half. Continuation bytes are
  // 10xxxxxx; valid UTF-8 has at most three in a row, so this also stops on invalid input.
  for (int i = 0; i < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++i) --end;
  std::string clipped(text.substr(0, end));
  clipped += k_ellipsis;
  return clipped;
}

struct StateStore::Impl {
  sqlite3* db = nullptr;
  mutable std::mutex mutex;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Checkpoints stop, and statements are finalized, before the connection closes.
  ~Impl() {
    checkpointer.reset();
    accept.reset(), pending.reset(), attempt.reset(), quarantine.reset(), complete.reset(), enqueue.reset();
    delivered.reset(), resched.reset(), failed.reset(), backlog.reset(), out_state.reset();
    remember.reset(), knows.reset(), get_value.reset(), put_value.reset();
    all_heads.reset(), head_of.reset(), pending_after.reset(), last_id.reset();
    sqlite3_close_v2(db);
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw StateError("state database: " + message);
    }
  }

  // BEGIN IMMEDIATE takes the write lock up front, so a second process waits (busy_timeout)
  // instead of failing half-way through.
  template <typename Body>
  auto transaction(Body&& body) {
    exec("BEGIN IMMEDIATE");
    try {
      if constexpr (std::is_void_v<decltype(body())>) {
        body();
        exec("COMMIT");
      } else {
        auto result = body();
        exec("COMMIT");
        return result;
      }
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::unique_ptr<WalCheckpointer> checkpointer;  // read-write stores only
  std::unique_ptr<Statement> accept, pending, attempt, quarantine, complete, enqueue, delivered, resched, failed,
      backlog, out_state, remember, knows, get_value, put_value;
  // Outbox head lookups (see outbox_head()).
  std::unique_ptr<Statement> all_heads, head_of, pending_after, last_id;

  void prepare() {
    accept =
        std::make_unique<Statement>(db,
                                    "INSERT INTO inbound (key, platform, payload, received_ms) VALUES (?1, ?2, ?3, ?4) "
                                    "ON CONFLICT (key) DO NOTHING RETURNING id");
    pending = std::make_unique<Statement>(
        db, "SELECT id, key, platform, payload, attempts FROM inbound WHERE state = 'pending' ORDER BY id LIMIT ?1");
    attempt = std::make_unique<Statement>(
        db, "UPDATE inbound SET attempts = attempts + 1 WHERE id = ?1 AND state = 'pending' RETURNING attempts");
    quarantine = std::make_unique<Statement>(
        db, "UPDATE inbound SET state = 'quarantined', done_ms = ?2 WHERE id = ?1 AND state = 'pending'");
    complete =
        std::make_unique<Statement>(db, "UPDATE inbound SET state = 'done', done_ms = ?2, payload = '' WHERE id = ?1");
    enqueue = std::make_unique<Statement>(
        db,
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
    all_heads = std::make_unique<Statement>(db, (heads + " ORDER BY o.id").c_str());
    head_of = std::make_unique<Statement>(
        db,
        "SELECT id, idempotency_key, platform, target, payload, attempts, created_ms, next_attempt_ms FROM outbox "
        "WHERE state = 'pending' AND target = ?1 ORDER BY id LIMIT 1");
    // "+state": without it (and without ANALYZE statistics) SQLite reads every pending row of
    // outbox_pending and sorts them; this way it is a rowid range over the new rows only.
    pending_after = std::make_unique<Statement>(
        db, "SELECT id, target FROM outbox WHERE id > ?1 AND +state = 'pending' ORDER BY id LIMIT ?2");
    last_id = std::make_unique<Statement>(db, "SELECT MAX(id) FROM outbox");
    delivered = std::make_unique<Statement>(
        db, "UPDATE outbox SET state = 'delivered', done_ms = ?2, attempts = attempts + 1 WHERE id = ?1");
    resched = std::make_unique<Statement>(
        db, "UPDATE outbox SET next_attempt_ms = ?2, last_error = ?3, attempts = attempts + 1 WHERE id = ?1");
    failed = std::make_unique<Statement>(
        db,
        "UPDATE outbox SET state = 'failed', last_error = ?2, done_ms = ?3, attempts = attempts + 1 "
        "WHERE id = ?1");
    backlog = std::make_unique<Statement>(db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'");
    out_state = std::make_unique<Statement>(db, "SELECT state FROM outbox WHERE idempotency_key = ?1");
    remember =
        std::make_unique<Statement>(db,
                                    "INSERT INTO threads (platform, channel, thread, last_ms) VALUES (?1, ?2, ?3, ?4) "
                                    "ON CONFLICT DO UPDATE SET last_ms = excluded.last_ms");
    knows =
        std::make_unique<Statement>(db, "SELECT 1 FROM threads WHERE platform = ?1 AND channel = ?2 AND thread = ?3");
    get_value = std::make_unique<Statement>(db, "SELECT value FROM kv WHERE key = ?1");
    put_value = std::make_unique<Statement>(
        db, "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT DO UPDATE SET value = excluded.value");
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

  int user_version() {
    Statement version(db, "PRAGMA user_version");
    version.step();
    return static_cast<int>(version.integer(0));
  }

  void migrate(const std::filesystem::path& file) {
    transaction([&] {
      const int current = user_version();
      if (current > k_schema_version) {
        throw StateError("state database " + file.string() + " has schema version " + std::to_string(current) +
                         ", newer than this build understands (" + std::to_string(k_schema_version) +
                         "); run the newer roundup-bot or restore a backup");
      }
      for (int version = current; version < k_schema_version; ++version) {
        exec(k_migrations[version]);
        exec(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
      }
    });
  }
};

StateStore::StateStore(const std::filesystem::path& file, Access access) : impl_(std::make_unique<Impl>()) {
  const bool read_only = access == Access::read_only;
  std::error_code ec;
  if (!read_only && file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw StateError("cannot create " + file.parent_path().string() + ": " + ec.message());
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &impl_->db, flags, nullptr) != SQLITE_OK) {
    const std::string message = impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory";
    sqlite3_close(impl_->db);
    impl_->db = nullptr;
    throw StateError("cannot open state database " + file.string() + ": " + message);
  }
  try {
    // Another process holding the write lock makes us wait, not fail.
    sqlite3_busy_timeout(impl_->db, 10000);
    if (read_only) {
      if (impl_->user_version() != k_schema_version) {
        throw StateError("state database " + file.string() + " has schema version " +
                         std::to_string(impl_->user_version()) + "; this build reads version " +
                         std::to_string(k_schema_version) + " (run `roundup-bot serve` once to migrate it)");
      }
    } else {
      impl_->exec("PRAGMA journal_mode = WAL");
      // NORMAL in WAL mode survives a process crash (the case that matters here); only a power
      // loss can lose the last commits.
      impl_->exec("PRAGMA synchronous = NORMAL");
      impl_->exec("PRAGMA foreign_keys = ON");
      impl_->migrate(file);
      impl_->checkpointer = std::make_unique<WalCheckpointer>(impl_->db, file);
    }
    impl_->prepare();
  } catch (...) {
    impl_.reset();
    throw;
  }
}

StateStore::~StateStore() = default;

int StateStore::schema_version() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->user_version();
}

std::optional<std::int64_t> StateStore::accept_inbound(std::string_view key, std::string_view platform,
                                                       std::string_view payload, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->accept;
  ResetOnExit reset{statement};
  statement.bind(1, key).bind(2, platform).bind(3, payload).bind(4, now_ms);
  if (!statement.step()) return std::nullopt;
  const std::int64_t id = statement.integer(0);
  while (statement.step()) {
  }
  return id;
}

std::vector<InboundItem> StateStore::pending_inbound(std::size_t limit) const {
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

std::optional<int> StateStore::start_inbound_attempt(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->attempt;
  ResetOnExit reset{statement};
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  const int attempts = static_cast<int>(statement.integer(0));
  while (statement.step()) {
  }
  return attempts;
}

void StateStore::quarantine_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    for (const auto& reply : replies) impl_->enqueue_message(reply, now_ms);
    impl_->quarantine->bind(1, id).bind(2, now_ms).run();
  });
}

std::optional<std::string> StateStore::inbound_state(std::string_view key) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db, "SELECT state FROM inbound WHERE key = ?1");
  statement.bind(1, key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void StateStore::complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    for (const auto& reply : replies) {
      impl_->enqueue_message(reply, now_ms);
    }
    impl_->complete->bind(1, id).bind(2, now_ms).run();
  });
}

bool StateStore::enqueue(const OutgoingMessage& message, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->enqueue_message(message, now_ms);
  return sqlite3_changes(impl_->db) > 0;
}

void StateStore::mark_delivered(std::int64_t id, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->delivered->bind(1, id).bind(2, now_ms).run();
}

void StateStore::reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) {
  std::lock_guard lock(impl_->mutex);
  impl_->resched->bind(1, id).bind(2, next_attempt_ms).bind(3, error).run();
}

void StateStore::mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->failed->bind(1, id).bind(2, error).bind(3, now_ms).run();
}

std::size_t StateStore::outbox_backlog() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->backlog;
  ResetOnExit reset{statement};
  statement.step();
  return static_cast<std::size_t>(statement.integer(0));
}

std::optional<std::string> StateStore::outbox_state(std::string_view idempotency_key) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->out_state;
  ResetOnExit reset{statement};
  statement.bind(1, idempotency_key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void StateStore::remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                                 std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->remember->bind(1, platform).bind(2, channel).bind(3, thread).bind(4, now_ms).run();
}

bool StateStore::knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->knows;
  ResetOnExit reset{statement};
  statement.bind(1, platform).bind(2, channel).bind(3, thread);
  return statement.step();
}

std::optional<std::string> StateStore::value(std::string_view key) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->get_value;
  ResetOnExit reset{statement};
  statement.bind(1, key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

void StateStore::set_value(std::string_view key, std::string_view value) {
  std::lock_guard lock(impl_->mutex);
  impl_->put_value->bind(1, key).bind(2, value).run();
}

void StateStore::prune(std::int64_t before_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    // Quarantined items go too: kept for an operator to look at for as long as completed keys are.
    Statement(impl_->db, "DELETE FROM inbound WHERE state != 'pending' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(impl_->db, "DELETE FROM outbox WHERE state != 'pending' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(impl_->db, "DELETE FROM threads WHERE last_ms < ?1").bind(1, before_ms).run();
    Statement(impl_->db, "DELETE FROM audit WHERE at_ms < ?1").bind(1, before_ms).run();
  });
}

// --- Digests, subscriptions, audit, counters (schema 2) ---------------------------------------
// These run a few times a day, so their statements are prepared per call rather than cached.

bool StateStore::subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  Statement(impl_->db,
            "INSERT INTO subscriptions (channel, by_user, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
      .bind(1, channel)
      .bind(2, by_user)
      .bind(3, now_ms)
      .run();
  return sqlite3_changes(impl_->db) > 0;
}

bool StateStore::unsubscribe(std::string_view channel) {
  std::lock_guard lock(impl_->mutex);
  Statement(impl_->db, "DELETE FROM subscriptions WHERE channel = ?1").bind(1, channel).run();
  return sqlite3_changes(impl_->db) > 0;
}

std::vector<std::string> StateStore::subscriptions() const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db, "SELECT channel FROM subscriptions ORDER BY channel");
  std::vector<std::string> channels;
  while (statement.step()) channels.push_back(statement.text(0));
  return channels;
}

std::optional<std::string> StateStore::last_digest_date(std::string_view channel) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db, "SELECT MAX(local_date) FROM digest_posts WHERE channel = ?1");
  statement.bind(1, channel);
  if (!statement.step() || statement.is_null(0)) return std::nullopt;
  return statement.text(0);
}

std::unordered_set<std::string> StateStore::digested_papers(std::string_view channel) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db, "SELECT paper_id FROM digest_papers WHERE channel = ?1");
  statement.bind(1, channel);
  std::unordered_set<std::string> papers;
  while (statement.step()) papers.insert(statement.text(0));
  return papers;
}

bool StateStore::record_digest(const DigestRecord& digest, const std::vector<OutgoingMessage>& messages,
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
      if (sqlite3_changes(impl_->db) == 0) return false;
      enqueued = 1;
    } else {
      Statement(impl_->db,
                "INSERT INTO digest_posts (channel, local_date, posted_ms, papers, started_over) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
          .bind(1, digest.channel)
          .bind(2, digest.local_date)
          .bind(3, now_ms)
          .bind(4, static_cast<std::int64_t>(digest.paper_ids.size()))
          .bind(5, std::int64_t{digest.started_over ? 1 : 0})
          .run();
      if (sqlite3_changes(impl_->db) == 0) return false;
    }
    if (digest.started_over) {
      Statement(impl_->db, "DELETE FROM digest_papers WHERE channel = ?1").bind(1, digest.channel).run();
    }
    Statement remember(impl_->db,
                       "INSERT INTO digest_papers (channel, paper_id, posted_ms) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT DO NOTHING");
    for (const auto& paper : digest.paper_ids) remember.bind(1, digest.channel).bind(2, paper).bind(3, now_ms).run();
    for (std::size_t i = enqueued; i < messages.size(); ++i) impl_->enqueue_message(messages[i], now_ms);
    Statement(impl_->db,
              "INSERT INTO counters (name, value) VALUES ('digests_posted', 1) "
              "ON CONFLICT DO UPDATE SET value = value + 1")
        .run();
    return true;
  });
}

void StateStore::audit(const AuditEntry& entry) {
  std::lock_guard lock(impl_->mutex);
  Statement(impl_->db,
            "INSERT INTO audit (at_ms, platform, user, command, allowed, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, entry.at_ms)
      .bind(2, entry.platform)
      .bind(3, entry.user)
      .bind(4, clip_for_audit(entry.command))
      .bind(5, std::int64_t{entry.allowed ? 1 : 0})
      .bind(6, clip_for_audit(entry.outcome))
      .run();
}

std::vector<AuditEntry> StateStore::audit_log(std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db,
                      "SELECT at_ms, platform, user, command, allowed, outcome FROM audit ORDER BY id DESC LIMIT ?1");
  statement.bind(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> entries;
  while (statement.step()) {
    entries.push_back({statement.integer(0), statement.text(1), statement.text(2), statement.text(3),
                       statement.integer(4) != 0, statement.text(5)});
  }
  return entries;
}

void StateStore::add_to_counter(std::string_view name, std::int64_t delta) {
  std::lock_guard lock(impl_->mutex);
  Statement(impl_->db,
            "INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT DO UPDATE SET value = value + ?2")
      .bind(1, name)
      .bind(2, delta)
      .run();
}

std::int64_t StateStore::counter(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  Statement statement(impl_->db, "SELECT value FROM counters WHERE name = ?1");
  statement.bind(1, name);
  return statement.step() ? statement.integer(0) : 0;
}

std::vector<std::optional<std::int64_t>> StateStore::accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                          std::int64_t now_ms) {
  std::vector<std::optional<std::int64_t>> ids;
  ids.reserve(items.size());
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    auto& statement = *impl_->accept;
    for (const auto& item : items) {
      ResetOnExit reset{statement};
      statement.bind(1, item.key).bind(2, item.platform).bind(3, item.payload).bind(4, now_ms);
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

StateStore::OutboxHead read_head(const Statement& statement) {
  StateStore::OutboxHead head;
  head.item.id = statement.integer(0);
  head.item.message = {statement.text(1), statement.text(2), statement.text(3), statement.text(4)};
  head.item.attempts = static_cast<int>(statement.integer(5));
  head.item.created_ms = statement.integer(6);
  head.next_attempt_ms = statement.integer(7);
  return head;
}

}  // namespace

std::optional<StateStore::OutboxHead> StateStore::outbox_head(std::string_view target) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->head_of;
  ResetOnExit reset{statement};
  statement.bind(1, target);
  if (!statement.step()) return std::nullopt;
  return read_head(statement);
}

std::vector<StateStore::OutboxHead> StateStore::outbox_heads() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->all_heads;
  ResetOnExit reset{statement};
  std::vector<OutboxHead> heads;
  while (statement.step()) heads.push_back(read_head(statement));
  return heads;
}

std::vector<std::pair<std::int64_t, std::string>> StateStore::pending_outbox_after(std::int64_t after_id,
                                                                                   std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->pending_after;
  ResetOnExit reset{statement};
  statement.bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::pair<std::int64_t, std::string>> rows;
  while (statement.step()) rows.emplace_back(statement.integer(0), statement.text(1));
  return rows;
}

std::int64_t StateStore::outbox_last_id() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->last_id;
  ResetOnExit reset{statement};
  if (!statement.step() || statement.is_null(0)) return 0;
  return statement.integer(0);
}

}  // namespace roundup::bot

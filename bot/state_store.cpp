#include "bot/state_store.h"

#include <sqlite3.h>

#include <mutex>
#include <system_error>
#include <type_traits>
#include <utility>

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
  void run() {
    while (step()) {
    }
    reset();
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

struct StateStore::Impl {
  sqlite3* db = nullptr;
  mutable std::mutex mutex;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Statements are finalized before the connection closes.
  ~Impl() {
    accept.reset(), get_inbound.reset(), pending.reset(), complete.reset(), enqueue.reset(), due.reset();
    next_due.reset(), delivered.reset(), resched.reset(), failed.reset(), backlog.reset(), out_state.reset();
    remember.reset(), knows.reset(), get_value.reset(), put_value.reset();
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

  std::unique_ptr<Statement> accept, get_inbound, pending, complete, enqueue, due, next_due, delivered, resched, failed,
      backlog, out_state, remember, knows, get_value, put_value;

  void prepare() {
    accept =
        std::make_unique<Statement>(db,
                                    "INSERT INTO inbound (key, platform, payload, received_ms) VALUES (?1, ?2, ?3, ?4) "
                                    "ON CONFLICT (key) DO NOTHING RETURNING id");
    get_inbound = std::make_unique<Statement>(db, "SELECT id, key, platform, payload FROM inbound WHERE id = ?1");
    pending = std::make_unique<Statement>(
        db, "SELECT id, key, platform, payload FROM inbound WHERE state = 'pending' ORDER BY id LIMIT ?1");
    complete =
        std::make_unique<Statement>(db, "UPDATE inbound SET state = 'done', done_ms = ?2, payload = '' WHERE id = ?1");
    enqueue = std::make_unique<Statement>(
        db,
        "INSERT INTO outbox (idempotency_key, platform, target, payload, next_attempt_ms, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (idempotency_key) DO NOTHING");
    // The head of each target's queue: later messages wait for earlier ones, which keeps a split
    // answer in order and lets pacing work per target.
    due = std::make_unique<Statement>(
        db,
        "SELECT o.id, o.idempotency_key, o.platform, o.target, o.payload, o.attempts, o.created_ms "
        "FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_ms <= ?1 AND o.id = "
        "(SELECT MIN(h.id) FROM outbox h WHERE h.state = 'pending' AND h.target = o.target) ORDER BY o.id");
    next_due = std::make_unique<Statement>(
        db,
        "SELECT MIN(o.next_attempt_ms) FROM outbox o WHERE o.state = 'pending' AND o.id = "
        "(SELECT MIN(h.id) FROM outbox h WHERE h.state = 'pending' AND h.target = o.target)");
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

StateStore::StateStore(const std::filesystem::path& file) : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw StateError("cannot create " + file.parent_path().string() + ": " + ec.message());
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &impl_->db, flags, nullptr) != SQLITE_OK) {
    const std::string message = impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory";
    sqlite3_close(impl_->db);
    impl_->db = nullptr;
    throw StateError("cannot open state database " + file.string() + ": " + message);
  }
  try {
    // Another process holding the write lock makes us wait, not fail.
    sqlite3_busy_timeout(impl_->db, 10000);
    impl_->exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a process crash (the case that matters here); only a power
    // loss can lose the last commits.
    impl_->exec("PRAGMA synchronous = NORMAL");
    impl_->exec("PRAGMA foreign_keys = ON");
    impl_->migrate(file);
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

std::optional<InboundItem> StateStore::inbound(std::int64_t id) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->get_inbound;
  ResetOnExit reset{statement};
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return InboundItem{statement.integer(0), statement.text(1), statement.text(2), statement.text(3)};
}

std::vector<InboundItem> StateStore::pending_inbound(std::size_t limit) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->pending;
  ResetOnExit reset{statement};
  statement.bind(1, static_cast<std::int64_t>(limit));
  std::vector<InboundItem> items;
  while (statement.step()) {
    items.push_back({statement.integer(0), statement.text(1), statement.text(2), statement.text(3)});
  }
  return items;
}

void StateStore::complete_inbound(std::int64_t id, const std::vector<OutgoingMessage>& replies, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  impl_->transaction([&] {
    for (const auto& reply : replies) {
      impl_->enqueue->bind(1, reply.idempotency_key)
          .bind(2, reply.platform)
          .bind(3, reply.target)
          .bind(4, reply.payload)
          .bind(5, now_ms)
          .run();
    }
    impl_->complete->bind(1, id).bind(2, now_ms).run();
  });
}

bool StateStore::enqueue(const OutgoingMessage& message, std::int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->enqueue;
  statement.bind(1, message.idempotency_key)
      .bind(2, message.platform)
      .bind(3, message.target)
      .bind(4, message.payload)
      .bind(5, now_ms)
      .run();
  return sqlite3_changes(impl_->db) > 0;
}

std::vector<OutboxItem> StateStore::due_messages(std::int64_t now_ms, std::size_t limit,
                                                 const std::unordered_set<std::string>& busy_targets) const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->due;
  ResetOnExit reset{statement};
  statement.bind(1, now_ms);
  std::vector<OutboxItem> items;
  while (items.size() < limit && statement.step()) {
    OutboxItem item;
    item.id = statement.integer(0);
    item.message = {statement.text(1), statement.text(2), statement.text(3), statement.text(4)};
    if (busy_targets.count(item.message.target) != 0) continue;
    item.attempts = static_cast<int>(statement.integer(5));
    item.created_ms = statement.integer(6);
    items.push_back(std::move(item));
  }
  return items;
}

std::optional<std::int64_t> StateStore::next_due_ms() const {
  std::lock_guard lock(impl_->mutex);
  auto& statement = *impl_->next_due;
  ResetOnExit reset{statement};
  if (!statement.step() || statement.is_null(0)) return std::nullopt;
  return statement.integer(0);
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
    Statement(impl_->db, "DELETE FROM inbound WHERE state = 'done' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(impl_->db, "DELETE FROM outbox WHERE state != 'pending' AND done_ms < ?1").bind(1, before_ms).run();
    Statement(impl_->db, "DELETE FROM threads WHERE last_ms < ?1").bind(1, before_ms).run();
  });
}

}  // namespace roundup::bot

#include "storage/sqlite_state_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::OutgoingMessage;
using roundup::bot::StateError;
using StateStore = roundup::storage::SqliteStateStore;
using roundup::testing::TempDir;

OutgoingMessage message(std::string key, std::string target) {
  return {std::move(key), "slack", std::move(target), R"({"text":"hi"})"};
}

}  // namespace

TEST_CASE("sqlite state store: inbound keys deduplicate across reopen") {
  TempDir dir;
  const auto file = dir / "state" / "bot.sqlite";
  std::int64_t first_id = 0;
  {
    StateStore store(file);
    CHECK(store.schema_version() == StateStore::k_schema_version);
    const auto id = store.accept_inbound("slack:event:Ev1", "slack", "{}", 1000, {});
    REQUIRE(id);
    first_id = *id;
    CHECK_FALSE(store.accept_inbound("slack:event:Ev1", "slack", "{}", 1001, {}));
  }
  StateStore reopened(file);
  CHECK_FALSE(reopened.accept_inbound("slack:event:Ev1", "slack", "{}", 2000, {}));
  const auto pending = reopened.pending_inbound(10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == first_id);
  CHECK(pending[0].key == "slack:event:Ev1");
}

TEST_CASE("sqlite state store: a database from a newer version is refused clearly") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  { StateStore store(file); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  try {
    StateStore store(file);
    FAIL("expected StateError");
  } catch (const StateError& error) {
    CHECK(std::string(error.what()).find("newer") != std::string::npos);
  }
}

TEST_CASE("sqlite state store: a file that is not a database is refused clearly") {
  TempDir dir;
  roundup::testing::write_file(dir / "bot.sqlite", std::string(4096, 'x'));
  CHECK_THROWS_AS(StateStore(dir / "bot.sqlite"), StateError);
}

namespace {

// A second connection to the store's file, as another process would have: injects failures
// (a trigger) without any hook in the product code.
class RawDatabase {
 public:
  explicit RawDatabase(const std::filesystem::path& file) {
    REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  void exec(const char* sql) { REQUIRE(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("sqlite state store: a failing batch records none of its rows") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  StateStore store(file);
  RawDatabase raw(file);
  raw.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON inbound WHEN NEW.key = 'bad' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  CHECK_THROWS_AS(store.accept_inbound_batch({{"good", "slack", "{}"}, {"bad", "slack", "{}"}}, 10, {}), StateError);
  CHECK(store.pending_inbound(10).empty());
  raw.exec("DROP TRIGGER refuse");
  const auto ids = store.accept_inbound_batch({{"good", "slack", "{}"}, {"bad", "slack", "{}"}}, 20, {});
  CHECK(ids[0]);
  CHECK(ids[1]);
}

namespace {

// The schema as version 2 shipped it (migrations 1 and 2, verbatim), with one row of each kind a
// live database has: a state a real deployment upgrades from.
constexpr const char* k_version_2_database = R"sql(
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
    INSERT INTO inbound (id, key, platform, payload, state, received_ms, done_ms)
      VALUES (7, 'slack:event:Done', 'slack', '', 'done', 100, 150),
             (9, 'slack:event:Pending', 'slack', '{"input":"hi"}', 'pending', 200, NULL);
    INSERT INTO outbox (idempotency_key, platform, target, payload, next_attempt_ms, created_ms)
      VALUES ('slack:event:Done#0', 'slack', 'slack:C1', '{}', 150, 150);
    INSERT INTO audit (at_ms, platform, user, command, allowed, outcome)
      VALUES (100, 'slack', 'U1', '/stats', 1, 'ok');
    INSERT INTO counters (name, value) VALUES ('questions_answered', 5);
    PRAGMA user_version = 2;
)sql";

}  // namespace

TEST_CASE("sqlite state store: a version 2 database migrates to 3 and keeps its rows") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  {
    RawDatabase raw(file);
    raw.exec(k_version_2_database);
  }
  StateStore store(file);
  CHECK(store.schema_version() == StateStore::k_schema_version);
  // The pending item is still pending, with no attempt counted; the done one still dedupes.
  const auto pending = store.pending_inbound(10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == 9);
  CHECK(pending[0].key == "slack:event:Pending");
  CHECK(pending[0].payload == R"({"input":"hi"})");
  CHECK(pending[0].attempts == 0);
  CHECK(store.inbound_state("slack:event:Done") == "done");
  CHECK_FALSE(store.accept_inbound("slack:event:Done", "slack", "{}", 300, {}));
  CHECK(store.outbox_state("slack:event:Done#0") == "pending");
  CHECK(store.audit_log(10).size() == 1);
  CHECK(store.counter("questions_answered") == 5);
  // What versions 3 and 5 add work on the migrated table: a pending item from before claims
  // existed is unclaimed, so a replica can claim it and count its runs.
  const roundup::bot::InboundClaim claim{"replica-a", 1000};
  CHECK(store.claim_inbound(claim, 300, 10).size() == 1);
  CHECK(store.start_inbound_attempt(9, claim) == 1);
  store.quarantine_inbound(9, {message("slack:event:Pending#0", "slack:C1")}, 400);
  CHECK(store.inbound_state("slack:event:Pending") == "quarantined");
  // New ids continue after the old ones.
  const auto next = store.accept_inbound("slack:event:New", "slack", "{}", 500, {});
  REQUIRE(next);
  CHECK(*next > 9);
}

TEST_CASE("sqlite state store: attempts are counted durably and a quarantined item is set aside with its apology") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  std::int64_t id = 0;
  {
    StateStore store(file);
    id = *store.accept_inbound("k", "slack", "{}", 10, {"r", 100});
    CHECK(store.pending_inbound(1)[0].attempts == 0);
    CHECK(store.start_inbound_attempt(id, {"r", 100}) == 1);
    CHECK(store.start_inbound_attempt(id, {"r", 100}) == 2);
  }
  StateStore store(file);  // as after a crash: the count survived
  REQUIRE(store.pending_inbound(1).size() == 1);
  CHECK(store.pending_inbound(1)[0].attempts == 2);
  store.quarantine_inbound(id, {message("k#0", "slack:C1")}, 20);
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.inbound_state("k") == "quarantined");
  CHECK(store.outbox_state("k#0") == "pending");
  CHECK_FALSE(store.start_inbound_attempt(id, {"r", 100}));       // no longer pending
  CHECK_FALSE(store.accept_inbound("k", "slack", "{}", 30, {}));  // still dedupes a platform retry
  store.prune(25);
  CHECK_FALSE(store.inbound_state("k"));
}

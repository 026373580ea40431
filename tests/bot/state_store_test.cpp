#include "bot/state_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::OutgoingMessage;
using roundup::bot::StateError;
using roundup::bot::StateStore;
using roundup::testing::TempDir;

OutgoingMessage message(std::string key, std::string target) {
  return {std::move(key), "slack", std::move(target), R"({"text":"hi"})"};
}

}  // namespace

TEST_CASE("state store: inbound keys deduplicate across reopen") {
  TempDir dir;
  const auto file = dir / "state" / "bot.sqlite";
  std::int64_t first_id = 0;
  {
    StateStore store(file);
    CHECK(store.schema_version() == StateStore::k_schema_version);
    const auto id = store.accept_inbound("slack:event:Ev1", "slack", "{}", 1000);
    REQUIRE(id);
    first_id = *id;
    CHECK_FALSE(store.accept_inbound("slack:event:Ev1", "slack", "{}", 1001));
  }
  StateStore reopened(file);
  CHECK_FALSE(reopened.accept_inbound("slack:event:Ev1", "slack", "{}", 2000));
  const auto pending = reopened.pending_inbound(10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == first_id);
  CHECK(pending[0].key == "slack:event:Ev1");
}

TEST_CASE("state store: completing work enqueues replies once") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  const auto id = store.accept_inbound("k", "slack", R"({"q":1})", 10);
  REQUIRE(id);
  store.complete_inbound(*id, {message("k#0", "slack:C1"), message("k#1", "slack:C1")}, 20);
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.outbox_backlog() == 2);
  // Re-running the same work after a crash re-enqueues the same keys: no duplicates.
  store.complete_inbound(*id, {message("k#0", "slack:C1"), message("k#1", "slack:C1")}, 30);
  CHECK(store.outbox_backlog() == 2);
  CHECK_FALSE(store.enqueue(message("k#0", "slack:C1"), 40));
}

TEST_CASE("state store: the outbox heads are each target's oldest pending message - in order") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  CHECK(store.outbox_heads().empty());
  store.enqueue(message("a1", "slack:A"), 100);
  store.enqueue(message("a2", "slack:A"), 100);
  store.enqueue(message("b1", "slack:B"), 100);
  const auto heads = store.outbox_heads();
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].item.message.idempotency_key == "a1");
  CHECK(heads[0].next_attempt_ms == 100);
  CHECK(heads[1].item.message.idempotency_key == "b1");
  CHECK_FALSE(store.outbox_head("slack:C"));

  store.reschedule(heads[0].item.id, 500, "ratelimited");
  // a1 waits, and a2 stays behind it.
  auto a = store.outbox_head("slack:A");
  REQUIRE(a);
  CHECK(a->item.message.idempotency_key == "a1");
  CHECK(a->next_attempt_ms == 500);
  CHECK(a->item.attempts == 1);
  store.mark_delivered(heads[1].item.id, 200);
  CHECK_FALSE(store.outbox_head("slack:B"));
  store.mark_delivered(a->item.id, 500);
  a = store.outbox_head("slack:A");
  REQUIRE(a);
  CHECK(a->item.message.idempotency_key == "a2");
  store.mark_failed(a->item.id, "channel_not_found", 600);
  CHECK(store.outbox_heads().empty());
  CHECK(store.outbox_backlog() == 0);
  CHECK(store.outbox_state("a1") == "delivered");
  CHECK(store.outbox_state("a2") == "failed");
}

TEST_CASE("state store: threads - values and pruning") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  store.remember_thread("slack", "C1", "1700000000.000100", 100);
  CHECK(store.knows_thread("slack", "C1", "1700000000.000100"));
  CHECK_FALSE(store.knows_thread("slack", "C2", "1700000000.000100"));
  CHECK_FALSE(store.value("telegram.offset"));
  store.set_value("telegram.offset", "42");
  store.set_value("telegram.offset", "43");
  CHECK(store.value("telegram.offset") == "43");

  const auto id = store.accept_inbound("old", "slack", "{}", 100);
  store.complete_inbound(*id, {}, 100);
  store.prune(1000);
  CHECK_FALSE(store.knows_thread("slack", "C1", "1700000000.000100"));
  // The key is forgotten after pruning, as documented: keep prune windows above retry windows.
  CHECK(store.accept_inbound("old", "slack", "{}", 2000));
}

TEST_CASE("state store: a database from a newer version is refused clearly") {
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

TEST_CASE("state store: a file that is not a database is refused clearly") {
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

TEST_CASE("state store: a batch of inbound records dedupes per row within the batch and against earlier ones") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  const auto earlier = store.accept_inbound("old", "slack", "{}", 10);
  REQUIRE(earlier);
  const std::vector<StateStore::InboundRecord> batch = {
      {"a", "slack", "1"}, {"old", "slack", "2"}, {"b", "telegram", "3"}, {"a", "slack", "4"}};
  const auto ids = store.accept_inbound_batch(batch, 20);
  REQUIRE(ids.size() == 4);
  CHECK(ids[0]);
  CHECK_FALSE(ids[1]);
  CHECK(ids[2]);
  CHECK_FALSE(ids[3]);                             // the first "a" of this batch wins
  const auto pending = store.pending_inbound(10);  // oldest first: "old", "a", "b"
  REQUIRE(pending.size() == 3);
  const auto& a = pending[1];
  REQUIRE(a.id == *ids[0]);
  CHECK(a.payload == "1");
  REQUIRE(pending[2].id == *ids[2]);
  CHECK(pending[2].platform == "telegram");
  CHECK(store.accept_inbound_batch({}, 30).empty());
}

TEST_CASE("state store: a failing batch records none of its rows") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  StateStore store(file);
  RawDatabase raw(file);
  raw.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON inbound WHEN NEW.key = 'bad' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  CHECK_THROWS_AS(store.accept_inbound_batch({{"good", "slack", "{}"}, {"bad", "slack", "{}"}}, 10), StateError);
  CHECK(store.pending_inbound(10).empty());
  raw.exec("DROP TRIGGER refuse");
  const auto ids = store.accept_inbound_batch({{"good", "slack", "{}"}, {"bad", "slack", "{}"}}, 20);
  CHECK(ids[0]);
  CHECK(ids[1]);
}

TEST_CASE("state store: outbox heads per target and new messages by id") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  CHECK(store.outbox_heads().empty());
  CHECK_FALSE(store.outbox_head("slack:A"));
  CHECK(store.outbox_last_id() == 0);
  store.enqueue(message("a1", "slack:A"), 100);
  store.enqueue(message("b1", "slack:B"), 100);
  store.enqueue(message("a2", "slack:A"), 100);
  store.enqueue(message("c1", "slack:C"), 300);
  const auto heads = store.outbox_heads();
  REQUIRE(heads.size() == 3);
  CHECK(heads[0].item.message.idempotency_key == "a1");
  CHECK(heads[1].item.message.idempotency_key == "b1");
  CHECK(heads[2].item.message.idempotency_key == "c1");
  CHECK(heads[2].next_attempt_ms == 300);
  CHECK(heads[2].item.created_ms == 300);

  auto a = store.outbox_head("slack:A");
  REQUIRE(a);
  CHECK(a->item.message.idempotency_key == "a1");
  store.reschedule(a->item.id, 900, "HTTP 500");
  a = store.outbox_head("slack:A");
  CHECK(a->next_attempt_ms == 900);
  CHECK(a->item.attempts == 1);
  store.mark_delivered(a->item.id, 1000);
  a = store.outbox_head("slack:A");
  REQUIRE(a);
  CHECK(a->item.message.idempotency_key == "a2");

  const auto last = store.outbox_last_id();
  const auto after_first = store.pending_outbox_after(heads[0].item.id, 10);
  // a1 is delivered: not pending any more; b1, a2, c1 are.
  REQUIRE(after_first.size() == 3);
  CHECK(after_first[0].second == "slack:B");
  CHECK(after_first[2].first == last);
  CHECK(store.pending_outbox_after(heads[0].item.id, 1).size() == 1);
  CHECK(store.pending_outbox_after(last, 10).empty());
  store.enqueue(message("d1", "slack:D"), 100);
  const auto fresh = store.pending_outbox_after(last, 10);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].second == "slack:D");
  CHECK(store.outbox_last_id() == fresh[0].first);
}

// --- Schema 3: attempts, quarantine, bounded audit ---------------------------------------------

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

TEST_CASE("state store: a version 2 database migrates to 3 and keeps its rows") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  {
    RawDatabase raw(file);
    raw.exec(k_version_2_database);
  }
  StateStore store(file);
  CHECK(store.schema_version() == 3);
  // The pending item is still pending, with no attempt counted; the done one still dedupes.
  const auto pending = store.pending_inbound(10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == 9);
  CHECK(pending[0].key == "slack:event:Pending");
  CHECK(pending[0].payload == R"({"input":"hi"})");
  CHECK(pending[0].attempts == 0);
  CHECK(store.inbound_state("slack:event:Done") == "done");
  CHECK_FALSE(store.accept_inbound("slack:event:Done", "slack", "{}", 300));
  CHECK(store.outbox_state("slack:event:Done#0") == "pending");
  CHECK(store.audit_log(10).size() == 1);
  CHECK(store.counter("questions_answered") == 5);
  // What version 3 adds works on the migrated table.
  CHECK(store.start_inbound_attempt(9) == 1);
  store.quarantine_inbound(9, {message("slack:event:Pending#0", "slack:C1")}, 400);
  CHECK(store.inbound_state("slack:event:Pending") == "quarantined");
  // New ids continue after the old ones.
  const auto next = store.accept_inbound("slack:event:New", "slack", "{}", 500);
  REQUIRE(next);
  CHECK(*next > 9);
}

TEST_CASE("state store: attempts are counted durably and a quarantined item is set aside with its apology") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  std::int64_t id = 0;
  {
    StateStore store(file);
    id = *store.accept_inbound("k", "slack", "{}", 10);
    CHECK(store.pending_inbound(1)[0].attempts == 0);
    CHECK(store.start_inbound_attempt(id) == 1);
    CHECK(store.start_inbound_attempt(id) == 2);
  }
  StateStore store(file);  // as after a crash: the count survived
  REQUIRE(store.pending_inbound(1).size() == 1);
  CHECK(store.pending_inbound(1)[0].attempts == 2);
  store.quarantine_inbound(id, {message("k#0", "slack:C1")}, 20);
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.inbound_state("k") == "quarantined");
  CHECK(store.outbox_state("k#0") == "pending");
  CHECK_FALSE(store.start_inbound_attempt(id));               // no longer pending
  CHECK_FALSE(store.accept_inbound("k", "slack", "{}", 30));  // still dedupes a platform retry
  store.prune(25);
  CHECK_FALSE(store.inbound_state("k"));
}

TEST_CASE("state store: audited text is clipped on a character boundary and old entries are pruned") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  // 4 KB after "/stats ", in three-byte characters so that a byte cut would split one.
  std::string argument;
  while (argument.size() < 4096) argument += "\xe4\xb8\xad";  // U+4E2D
  for (int i = 0; i < 10; ++i) {
    store.audit({100 + i, "slack", "U1", "/stats " + argument, false, "refused: not an admin"});
  }
  const auto entries = store.audit_log(100);
  REQUIRE(entries.size() == 10);
  for (const auto& entry : entries) {
    CHECK(entry.command.size() <= roundup::bot::k_audit_text_bytes);
    CHECK(entry.command.rfind("/stats \xe4\xb8\xad", 0) == 0);
    const std::string ellipsis = "\xe2\x80\xa6";
    REQUIRE(entry.command.size() > ellipsis.size());
    CHECK(entry.command.substr(entry.command.size() - ellipsis.size()) == ellipsis);
    // Whole characters only: "/stats " is 7 bytes, then 3-byte characters up to the ellipsis.
    CHECK((entry.command.size() - 7 - ellipsis.size()) % 3 == 0);
    CHECK(entry.outcome == "refused: not an admin");
  }
  store.audit({5000, "slack", "U1", "/stats", true, "ok"});
  store.prune(1000);
  const auto left = store.audit_log(100);
  REQUIRE(left.size() == 1);
  CHECK(left[0].at_ms == 5000);
}

TEST_CASE("state store: clip_for_audit keeps short text and cuts long text whole") {
  using roundup::bot::clip_for_audit;
  using roundup::bot::k_audit_text_bytes;
  CHECK(clip_for_audit("") == "");
  const std::string exact(k_audit_text_bytes, 'a');
  CHECK(clip_for_audit(exact) == exact);
  const std::string longer(k_audit_text_bytes + 1, 'a');
  CHECK(clip_for_audit(longer) == std::string(k_audit_text_bytes - 3, 'a') + "\xe2\x80\xa6");
  // A four-byte character straddling the cut is left out whole.
  std::string emoji(k_audit_text_bytes - 5, 'a');
  emoji += "\xf0\x9f\x98\x80";  // U+1F600, bytes 195..198
  emoji += std::string(10, 'b');
  CHECK(clip_for_audit(emoji) == std::string(k_audit_text_bytes - 5, 'a') + "\xe2\x80\xa6");
}

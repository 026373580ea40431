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

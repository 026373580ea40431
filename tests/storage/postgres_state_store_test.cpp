// What the PostgreSQL backend promises beyond the shared contract (tests/bot/state_store_contract_test.cpp):
// replicas, i.e. several stores on one database at once, migrate once and write each exactly-once
// record once; connection problems are StateErrors without the password; a lost connection is
// re-established. Runs on a throwaway cluster (tests/support/postgres_cluster.h).
#include "storage/postgres_state_store.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres.h"
#include "tests/support/postgres_cluster.h"

namespace {

using roundup::bot::DigestRecord;
using roundup::bot::OutgoingMessage;
using roundup::bot::StateError;
using roundup::bot::StateStore;
using roundup::storage::k_postgres_schema_version;
using roundup::storage::open_postgres_state_store;
using roundup::storage::PostgresStateOptions;
using roundup::storage::postgres::Connection;

[[noreturn]] void raise(const std::string& message) {
  throw StateError(message);
}

// A plain connection beside the stores, to look at the tables as an operator would.
std::int64_t count(const std::string& url, const std::string& sql) {
  Connection db(url, raise);
  return db.query(sql).integer(0, 0);
}

// Runs `body(i)` on `n` threads at once (released together), and waits for all of them.
template <typename Body>
void at_once(int n, Body body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      go.wait(false);
      body(i);
    });
  }
  while (ready.load() < n) std::this_thread::yield();
  go = true;
  go.notify_all();
  for (auto& t : threads) t.join();
}

}  // namespace

TEST_CASE("postgres state: replicas starting together migrate the schema once") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("migrate");
  std::vector<std::unique_ptr<StateStore>> replicas(4);
  at_once(4, [&](int i) { replicas[static_cast<std::size_t>(i)] = open_postgres_state_store(url); });
  for (const auto& replica : replicas) CHECK(replica != nullptr);
  CHECK(count(url, "SELECT COUNT(*) FROM schema_migrations") == k_postgres_schema_version);
  CHECK(count(url, "SELECT MAX(version) FROM schema_migrations") == k_postgres_schema_version);
  // A restart finds the schema current and changes nothing.
  const auto again = open_postgres_state_store(url);
  CHECK(count(url, "SELECT COUNT(*) FROM schema_migrations") == k_postgres_schema_version);
}

TEST_CASE("postgres state: a store whose session is cut off fails that call and reconnects at the next") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("reconnect");
  auto first = open_postgres_state_store(url);
  auto second = open_postgres_state_store(url);  // replicas share the database: no store excludes another
  first->set_value("k", "v1");
  CHECK(second->value("k") == "v1");
  // Every other session ends (a failover, a restarted server).
  Connection(url, raise)
      .query(
          "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity WHERE datname = current_database() "
          "AND pid <> pg_backend_pid()");
  CHECK_THROWS_AS(first->set_value("k", "v2"), StateError);
  first->set_value("k", "v2");
  CHECK_THROWS_AS(second->value("k"), StateError);
  CHECK(second->value("k") == "v2");
}

TEST_CASE("postgres state: a schema newer than this build is refused, not used") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("newer");
  (void)open_postgres_state_store(url);
  Connection(url, raise).exec("INSERT INTO schema_migrations (version, applied_ms) VALUES (99, 0)");
  CHECK_THROWS_WITH_AS(open_postgres_state_store(url), doctest::Contains("newer than this build"), StateError);
}

TEST_CASE("postgres state: racing replicas accept an inbound key once and post a channel's digest once a day") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("race");
  constexpr int k_replicas = 4;
  std::vector<std::unique_ptr<StateStore>> replicas;
  for (int i = 0; i < k_replicas; ++i) replicas.push_back(open_postgres_state_store(url));

  std::atomic<int> accepted{0};
  at_once(k_replicas, [&](int i) {
    if (replicas[static_cast<std::size_t>(i)]->accept_inbound("slack:event:Ev1", "slack", "{}", 1, {})) ++accepted;
  });
  CHECK(accepted == 1);

  std::atomic<int> posted{0};
  at_once(k_replicas, [&](int i) {
    DigestRecord digest{"slack:C1", "2026-12-07", {"p1", "p2"}, false};
    const std::string key = "digest:slack:C1:2026-12-07:replica" + std::to_string(i);
    const OutgoingMessage message{key, "slack", "slack:C1", "{}"};
    if (replicas[static_cast<std::size_t>(i)]->record_digest(digest, {message}, 2)) ++posted;
  });
  CHECK(posted == 1);
  // Only the winner's message was enqueued, and the counter counted one digest.
  CHECK(count(url, "SELECT COUNT(*) FROM outbox") == 1);
  CHECK(replicas[0]->counter("digests_posted") == 1);
  CHECK(replicas[1]->digested_papers("slack:C1").size() == 2);
}

TEST_CASE("postgres state: replicas claiming at once get disjoint work and all of it") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("claims");
  constexpr int k_replicas = 4;
  constexpr int k_items = 200;
  std::vector<std::unique_ptr<StateStore>> replicas;
  for (int i = 0; i < k_replicas; ++i) replicas.push_back(open_postgres_state_store(url));
  for (int i = 0; i < k_items; ++i) {
    REQUIRE(replicas[0]->accept_inbound("k" + std::to_string(i), "slack", "{}", 1, {}));
  }
  // Each replica claims in small bites until nothing is left; SKIP LOCKED makes them pass over
  // each other's rows rather than wait or take them twice.
  std::vector<std::vector<std::int64_t>> taken(k_replicas);
  at_once(k_replicas, [&](int i) {
    const std::string owner = "replica" + std::to_string(i);
    auto& store = *replicas[static_cast<std::size_t>(i)];
    while (true) {
      const auto items = store.claim_inbound({owner, 10'000}, 5, 7);
      if (items.empty()) break;
      for (const auto& item : items) taken[static_cast<std::size_t>(i)].push_back(item.id);
    }
  });
  std::set<std::int64_t> all;
  std::size_t total = 0;
  for (const auto& ids : taken) {
    total += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  CHECK(total == k_items);       // nothing twice
  CHECK(all.size() == k_items);  // nothing left out
}

TEST_CASE("postgres state: a connection string libpq cannot read is refused without quoting it") {
  // libpq's own message would quote the bad piece: here the password.
  for (const std::string& url :
       {std::string("postgresql://bot:p%zzsecret@localhost/db"), std::string("host=localhost password secret-in-kv")}) {
    CAPTURE(url);
    try {
      (void)open_postgres_state_store(url);
      FAIL("expected a StateError");
    } catch (const StateError& error) {
      CHECK(std::string(error.what()).find("secret") == std::string::npos);
    }
  }
}

TEST_CASE("postgres state: a connection that cannot be made is a StateError without the password") {
  const std::string url = "postgresql://roundup:s3cret-pw@%2Fnonexistent-socket-dir:5432/postgres?connect_timeout=5";
  try {
    const auto store = open_postgres_state_store(url);
    FAIL("expected a StateError");
  } catch (const StateError& error) {
    const std::string message = error.what();
    CHECK(message.find("s3cret-pw") == std::string::npos);
    CHECK(message.find("postgresql://roundup@/nonexistent-socket-dir:5432/postgres") != std::string::npos);
  }
  CHECK(roundup::storage::postgres::describe_url("host=db.internal port=6432 user=bot password=pw dbname=state") ==
        "postgresql://bot@db.internal:6432/state");
}

TEST_CASE("postgres state: a lost connection fails one call, and the next call reconnects") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("reconnect");
  const auto owned = open_postgres_state_store(url);
  StateStore& store = *owned;
  store.set_value("telegram:offset", "41");
  // An operator (or a failover) ends every other session on the database. The timeout makes the
  // call wait until the session's process is gone (PostgreSQL 14+), not only signalled.
  const auto ended = Connection(url, raise)
                         .query(
                             "SELECT bool_and(pg_terminate_backend(pid, 30000)) FROM pg_stat_activity WHERE datname = "
                             "current_database() "
                             "AND pid <> pg_backend_pid()");
  REQUIRE(ended.text(0, 0) == "t");
  CHECK_THROWS_AS(store.set_value("telegram:offset", "42"), StateError);
  store.set_value("telegram:offset", "43");
  CHECK(store.value("telegram:offset") == "43");
}

TEST_CASE("postgres state: text with a NUL byte or bytes that are not UTF-8 is stored with U+FFFD, not refused") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("nul");
  const auto owned = open_postgres_state_store(url);
  StateStore& store = *owned;
  store.audit({1, "slack", "U1", std::string("/stats a\0b", 10), true, "ok"});
  const auto log = store.audit_log(1);
  REQUIRE(log.size() == 1);
  CHECK(log[0].command ==
        "/stats a\xEF\xBF\xBD"
        "b");
  // Bytes that are not UTF-8 (a peer's error body cut mid-character) are recorded too, instead
  // of failing the write every time and holding a chat's queue behind it.
  store.enqueue({"k#0", "slack", "slack:C1", "{}"}, 1);
  store.mark_failed(store.outbox_head("slack:C1")->item.id, "HTTP 502: \xE4\xB8", 2);
  CHECK(store.outbox_state("k#0") == "failed");
  store.audit({2, "slack", "U1", "cut \xE4\xB8", true, "ok\xFF"});
  CHECK(store.audit_log(1)[0].command == "cut \xEF\xBF\xBD\xEF\xBF\xBD");  // one per stray byte
}

TEST_CASE("postgres state: replicas racing for a free lease - exactly one holds it") {
  const std::string url = roundup::testing::shared_postgres().fresh_database("lease");
  constexpr int k_replicas = 6;
  std::vector<std::unique_ptr<StateStore>> replicas;
  for (int i = 0; i < k_replicas; ++i) replicas.push_back(open_postgres_state_store(url));
  for (int round = 0; round < 5; ++round) {
    const std::string name = "race:" + std::to_string(round);
    std::atomic<int> holders{0};
    at_once(k_replicas, [&](int i) {
      if (replicas[static_cast<std::size_t>(i)]->hold_lease(name, "replica-" + std::to_string(i), 1'000, 30'000))
        ++holders;
    });
    CHECK(holders == 1);
  }
}

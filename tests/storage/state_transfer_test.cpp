// Moving a state between backends (`roundup-bot state export` / `import`): every record a store
// holds comes out in the portable schema and goes into another backend so that the ports read it
// back the same, and a second round trip gives the same rows.

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "bot/state_store.h"
#include "storage/postgres_state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::AuditEntry;
using roundup::bot::DigestRecord;
using roundup::bot::InboundClaim;
using roundup::bot::OutgoingMessage;
using roundup::bot::StateError;
using roundup::bot::TransferRow;
using roundup::storage::SqliteStateStore;

OutgoingMessage message(std::string key, std::string target) {
  return {std::move(key), "slack", std::move(target), R"({"text":"hi"})"};
}

// One of every kind of record, written through the ports.
void populate(roundup::bot::StateStore& store) {
  const auto done = store.accept_inbound("slack:event:Done", "slack", "{}", 100, {});
  store.complete_inbound(*done, {message("slack:event:Done#0", "slack:C1"), message("slack:event:Done#1", "slack:C1")},
                         110);
  const auto pending = store.accept_inbound("telegram:update:7", "telegram", R"({"q":"watermarks?"})", 120,
                                            InboundClaim{"old-replica", 10'000});
  store.start_inbound_attempt(*pending, InboundClaim{"old-replica", 10'000});
  const auto head = store.outbox_head("slack:C1");
  store.mark_delivered(head->item.id, 130);
  store.remember_thread("slack", "C1", "1700000000.000100", 140);
  store.set_value("telegram.offset", "43");
  store.subscribe("telegram:-100", "telegram:42", 150);
  store.record_digest(DigestRecord{"telegram:-100", "2026-12-07", {"p1", "p2"}, true},
                      {message("digest:telegram:-100:2026-12-07#0", "telegram:-100")}, 160);
  store.audit(AuditEntry{170, "slack", "UADMIN", "/reindex", true, "reindexed"});
  store.audit(AuditEntry{180, "telegram", "99", "/stats", false, "not an admin"});
  store.add_to_counter("questions_answered", 12);
}

// What the ports read back, as text, for comparing two stores.
std::vector<std::string> observed(const roundup::bot::StateStore& store) {
  std::vector<std::string> seen;
  for (const auto& item : store.pending_inbound(10)) {
    seen.push_back("pending " + std::to_string(item.id) + " " + item.key + " " + item.payload + " attempts " +
                   std::to_string(item.attempts));
  }
  for (const char* key : {"slack:event:Done", "telegram:update:7"}) seen.push_back(*store.inbound_state(key));
  for (const char* key : {"slack:event:Done#0", "slack:event:Done#1", "digest:telegram:-100:2026-12-07#0"}) {
    seen.push_back(key + std::string(" ") + *store.outbox_state(key));
  }
  for (const auto& head : store.outbox_heads()) {
    seen.push_back("head " + head.item.message.idempotency_key + " " + std::to_string(head.item.created_ms));
  }
  seen.push_back(store.knows_thread("slack", "C1", "1700000000.000100") ? "thread" : "no thread");
  seen.push_back(store.value("telegram.offset").value_or("-"));
  for (const auto& channel : store.subscriptions()) seen.push_back("subscribed " + channel);
  seen.push_back(store.last_digest_date("telegram:-100").value_or("-"));
  seen.push_back(std::to_string(store.digested_papers("telegram:-100").size()) + " papers");
  for (const auto& entry : store.audit_log(10)) {
    seen.push_back(entry.user + " " + entry.command + (entry.allowed ? " allowed " : " refused ") + entry.outcome);
  }
  seen.push_back(std::to_string(store.counter("questions_answered")) + " answered");
  seen.push_back(std::to_string(store.counter("digests_posted")) + " digests");
  return seen;
}

}  // namespace

TEST_CASE("state transfer: SQLite to PostgreSQL and back reads the same through every port") {
  roundup::testing::TempDir dir;
  SqliteStateStore original(dir / "original.sqlite");
  populate(original);
  const std::vector<TransferRow> rows = original.export_rows();
  // 2 inbound, 3 outbox, a thread, a value, a subscription, a digest and its 2 papers, 2 audit
  // entries, 2 counters (questions_answered, digests_posted).
  CHECK(rows.size() == 15);
  const std::string url = roundup::testing::shared_postgres().fresh_database("transfer");
  {
    auto store = roundup::storage::open_postgres_state_store(url);
    CHECK_FALSE(roundup::storage::open_postgres_state_transfer(url)->holds_records());
  }
  roundup::storage::open_postgres_state_transfer(url)->import_rows(rows, false);
  const auto on_postgres = roundup::storage::open_postgres_state_store(url);
  CHECK(observed(*on_postgres) == observed(original));
  // The claim did not come along: any replica may take the pending item at once.
  CHECK(on_postgres->claim_inbound(InboundClaim{"new-replica", 20'000}, 200, 10).size() == 1);
  // New ids continue after the imported ones.
  const auto next = on_postgres->accept_inbound("slack:event:New", "slack", "{}", 300, {});
  REQUIRE(next);
  for (const auto& row : rows) {
    if (row.table == "inbound") CHECK(std::stoll(*row.values[0]) < *next);
  }

  // And back into SQLite: the same rows again (and the one accepted since).
  SqliteStateStore back(dir / "back.sqlite");
  back.import_rows(roundup::storage::open_postgres_state_transfer(url)->export_rows(), false);
  auto back_rows = back.export_rows();
  CHECK(back_rows.size() == rows.size() + 1);
  std::erase_if(back_rows, [](const TransferRow& row) {
    return row.table == "inbound" && row.values[1] == std::optional<std::string>("slack:event:New");
  });
  CHECK(back_rows == rows);
}

TEST_CASE("state transfer: an import refuses a store that holds records - and a bad row writes nothing") {
  roundup::testing::TempDir dir;
  SqliteStateStore source(dir / "source.sqlite");
  populate(source);
  const auto rows = source.export_rows();

  SqliteStateStore target(dir / "target.sqlite");
  target.set_value("telegram.offset", "99");
  CHECK(target.holds_records());
  CHECK_THROWS_AS(target.import_rows(rows, false), StateError);
  CHECK(target.value("telegram.offset") == "99");
  target.import_rows(rows, true);  // --force: emptied first
  CHECK(observed(target) == observed(source));

  SqliteStateStore empty(dir / "empty.sqlite");
  auto broken = rows;
  broken.push_back(TransferRow{"kv", {std::string("only one value")}});
  CHECK_THROWS_AS(empty.import_rows(broken, false), StateError);
  CHECK_FALSE(empty.holds_records());  // one transaction: nothing from the good rows either
  broken.back() = TransferRow{"leases", {std::string("a"), std::string("b"), std::string("1")}};
  CHECK_THROWS_AS(empty.import_rows(broken, false), StateError);
  CHECK_FALSE(empty.holds_records());
}

// The state ports' contract (bot/state_store.h), run against every implementation: SQLite (the
// single-machine default), PostgreSQL (replicas; a throwaway cluster per test process, a fresh
// database per case) and memory (the core tests' double). A new backend adds itself to
// EVERY_BACKEND.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "bot/state_store.h"
#include "storage/postgres_state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::DigestRecord;
using roundup::bot::OutgoingMessage;

struct SqliteBackend {
  roundup::testing::TempDir dir;
  roundup::storage::SqliteStateStore store{dir / "bot.sqlite"};
};

struct MemoryBackend {
  roundup::testing::MemoryStateStore store;
};

struct PostgresBackend {
  std::unique_ptr<roundup::bot::StateStore> owned =
      roundup::storage::open_postgres_state_store(roundup::testing::shared_postgres().fresh_database("contract"));
  roundup::bot::StateStore& store = *owned;
};

#define EVERY_BACKEND SqliteBackend, PostgresBackend, MemoryBackend

OutgoingMessage message(std::string key, std::string target) {
  return {std::move(key), "slack", std::move(target), R"({"text":"hi"})"};
}

}  // namespace

TEST_CASE_TEMPLATE("state store contract: completing work enqueues replies once", Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  const auto id = store.accept_inbound("k", "slack", R"({"q":1})", 10, {});
  REQUIRE(id);
  store.complete_inbound(*id, {message("k#0", "slack:C1"), message("k#1", "slack:C1")}, 20);
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.outbox_backlog() == 2);
  // Re-running the same work after a crash re-enqueues the same keys: no duplicates.
  store.complete_inbound(*id, {message("k#0", "slack:C1"), message("k#1", "slack:C1")}, 30);
  CHECK(store.outbox_backlog() == 2);
  CHECK_FALSE(store.enqueue(message("k#0", "slack:C1"), 40));
}

TEST_CASE_TEMPLATE("state store contract: values by key prefix", Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  store.set_value("index.replica.b", "2");
  store.set_value("index.replica.a", "1");
  store.set_value("index.replicas", "not a replica");
  store.set_value("index.reindex", "{}");
  store.set_value("index.replica_%", "a literal %");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(store.values_with_prefix("index.replica.") == Pairs{{"index.replica.a", "1"}, {"index.replica.b", "2"}});
  CHECK(store.values_with_prefix("index.replica_%") == Pairs{{"index.replica_%", "a literal %"}});
  CHECK(store.values_with_prefix("nothing.").empty());
  CHECK(store.values_with_prefix("").size() == 5);
}

TEST_CASE_TEMPLATE("state store contract: inbound work is claimed by one replica at a time", Backend, EVERY_BACKEND) {
  using roundup::bot::InboundClaim;
  Backend backend;
  auto& store = backend.store;
  // "a" accepts two items claimed until 100; one more arrives unclaimed (every queue was full).
  const auto first = store.accept_inbound("k1", "slack", "1", 10, InboundClaim{"a", 100});
  const auto second = store.accept_inbound("k2", "slack", "2", 10, InboundClaim{"a", 100});
  const auto spare = store.accept_inbound("k3", "slack", "3", 10, {});
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(spare);
  CHECK(store.pending_inbound(10).size() == 3);  // the read-only view shows every pending item

  // "b" gets only what no one holds, and runs only what it holds.
  auto claimed = store.claim_inbound(InboundClaim{"b", 200}, 50, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == *spare);
  CHECK(claimed[0].payload == "3");
  CHECK_FALSE(store.start_inbound_attempt(*first, InboundClaim{"b", 200}));
  CHECK(store.start_inbound_attempt(*first, InboundClaim{"a", 100}) == 1);
  CHECK(store.claim_inbound(InboundClaim{"c", 200}, 50, 10).empty());  // and "a" does not get "b"'s either

  // "a" renews until 300; at 150 its items are still held, and "b"'s (until 200) too.
  CHECK(store.renew_inbound_claims(InboundClaim{"a", 300}, {*first, *second, *spare}) == 2);  // not b's
  CHECK(store.claim_inbound(InboundClaim{"c", 400}, 150, 10).empty());
  // At 250 "b" has died (its claim expired): "c" takes its item over, attempts and all.
  CHECK(store.start_inbound_attempt(*spare, InboundClaim{"b", 200}) == 1);
  claimed = store.claim_inbound(InboundClaim{"c", 400}, 250, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == *spare);
  CHECK(claimed[0].attempts == 1);
  CHECK_FALSE(store.start_inbound_attempt(*spare, InboundClaim{"b", 500}));  // "b" lost it
  CHECK(store.start_inbound_attempt(*spare, InboundClaim{"c", 400}) == 2);

  // "a" stops cleanly: its items are free at once, oldest first, up to the limit.
  store.release_inbound_claims("a");
  claimed = store.claim_inbound(InboundClaim{"d", 400}, 260, 1);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == *first);
  CHECK(claimed[0].attempts == 1);
  CHECK(store.claim_inbound(InboundClaim{"d", 400}, 260, 10).size() == 1);  // the second, not the first again
  // Finished work is never claimed, whoever held it.
  store.complete_inbound(*first, {}, 270);
  store.release_inbound_claims("d");
  claimed = store.claim_inbound(InboundClaim{"e", 500}, 280, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == *second);
  CHECK(store.renew_inbound_claims(InboundClaim{"d", 600}, {*first, *second}) == 0);

  // A claim its holder lost track of (not among the ids it renews) expires, and is claimed again.
  const auto orphan = store.accept_inbound("k4", "slack", "4", 300, InboundClaim{"e", 400});
  REQUIRE(orphan);
  CHECK(store.renew_inbound_claims(InboundClaim{"c", 1000}, {*spare}) == 1);  // c still works on it
  CHECK(store.renew_inbound_claims(InboundClaim{"e", 700}, {*second}) == 1);
  CHECK(store.claim_inbound(InboundClaim{"f", 900}, 350, 10).empty());
  claimed = store.claim_inbound(InboundClaim{"f", 900}, 450, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == *orphan);
}

TEST_CASE_TEMPLATE("state store contract: the outbox heads are each target's oldest pending message - in order",
                   Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
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

TEST_CASE_TEMPLATE("state store contract: threads - values and pruning", Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  store.remember_thread("slack", "C1", "1700000000.000100", 100);
  CHECK(store.knows_thread("slack", "C1", "1700000000.000100"));
  CHECK_FALSE(store.knows_thread("slack", "C2", "1700000000.000100"));
  CHECK_FALSE(store.value("telegram.offset"));
  store.set_value("telegram.offset", "42");
  store.set_value("telegram.offset", "43");
  CHECK(store.value("telegram.offset") == "43");

  const auto id = store.accept_inbound("old", "slack", "{}", 100, {});
  store.complete_inbound(*id, {}, 100);
  store.prune(1000);
  CHECK_FALSE(store.knows_thread("slack", "C1", "1700000000.000100"));
  // The key is forgotten after pruning, as documented: keep prune windows above retry windows.
  CHECK(store.accept_inbound("old", "slack", "{}", 2000, {}));
}

TEST_CASE_TEMPLATE("state store contract: dialogues - per conversation, replaced, expired, pruned", Backend,
                   EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  CHECK_FALSE(store.dialogue("slack:C1:1.1", 100));
  store.save_dialogue("slack:C1:1.1", R"({"v":1,"focus":"arxiv:2203.15556"})", 1000);
  store.save_dialogue("slack:C1:2.2", R"({"v":1,"focus":"arxiv:2301.10226"})", 1000);
  CHECK(store.dialogue("slack:C1:1.1", 100) == R"({"v":1,"focus":"arxiv:2203.15556"})");
  CHECK(store.dialogue("slack:C1:2.2", 100) == R"({"v":1,"focus":"arxiv:2301.10226"})");
  CHECK_FALSE(store.dialogue("slack:C1", 100));  // keys are whole: no prefix matches
  // Saving again replaces the state and its expiry.
  store.save_dialogue("slack:C1:1.1", "{}", 5000);
  CHECK(store.dialogue("slack:C1:1.1", 2000) == "{}");
  // Expired at its time, whether or not it was pruned yet.
  CHECK_FALSE(store.dialogue("slack:C1:2.2", 1000));
  store.prune(1500);
  CHECK_FALSE(store.dialogue("slack:C1:2.2", 0));
  CHECK(store.dialogue("slack:C1:1.1", 2000) == "{}");
}

TEST_CASE_TEMPLATE(
    "state store contract: a batch of inbound records dedupes per row within the batch and against earlier ones",
    Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  const auto earlier = store.accept_inbound("old", "slack", "{}", 10, {});
  REQUIRE(earlier);
  const std::vector<roundup::bot::InboundLog::InboundRecord> batch = {
      {"a", "slack", "1"}, {"old", "slack", "2"}, {"b", "telegram", "3"}, {"a", "slack", "4"}};
  const auto ids = store.accept_inbound_batch(batch, 20, {});
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
  CHECK(store.accept_inbound_batch({}, 30, {}).empty());
}

TEST_CASE_TEMPLATE("state store contract: outbox heads per target and new messages by id", Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
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

TEST_CASE_TEMPLATE("state store contract: audited text is clipped on a character boundary and old entries are pruned",
                   Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
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

TEST_CASE_TEMPLATE("state store contract: a channel's dated digest is recorded once - with its messages", Backend,
                   EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  CHECK_FALSE(store.last_digest_date("slack:C1"));
  const DigestRecord monday{"slack:C1", "2026-12-07", {"p1", "p2"}, false};
  CHECK(store.record_digest(monday, {message("d:C1:2026-12-07#0", "slack:C1")}, 100));
  // Another run (or replica) on the same day writes nothing, not even its differently keyed messages.
  CHECK_FALSE(store.record_digest(monday, {message("d:C1:2026-12-07#0:again", "slack:C1")}, 110));
  CHECK_FALSE(store.outbox_state("d:C1:2026-12-07#0:again"));
  CHECK(store.outbox_state("d:C1:2026-12-07#0") == "pending");
  CHECK(store.last_digest_date("slack:C1") == "2026-12-07");
  CHECK(store.digested_papers("slack:C1") == std::unordered_set<std::string>{"p1", "p2"});
  CHECK(store.digested_papers("slack:C2").empty());
  CHECK(store.counter("digests_posted") == 1);

  // The next day adds its papers; a start-over forgets the earlier ones.
  CHECK(
      store.record_digest({"slack:C1", "2026-12-08", {"p3"}, false}, {message("d:C1:2026-12-08#0", "slack:C1")}, 200));
  CHECK(store.digested_papers("slack:C1") == std::unordered_set<std::string>{"p1", "p2", "p3"});
  CHECK(store.record_digest({"slack:C1", "2026-12-09", {"p1"}, true}, {message("d:C1:2026-12-09#0", "slack:C1")}, 300));
  CHECK(store.digested_papers("slack:C1") == std::unordered_set<std::string>{"p1"});
  CHECK(store.last_digest_date("slack:C1") == "2026-12-09");
  CHECK(store.counter("digests_posted") == 3);
}

TEST_CASE_TEMPLATE("state store contract: an undated digest is guarded by its first message's key", Backend,
                   EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  const DigestRecord now{"telegram:-100", "", {"p1"}, false};
  CHECK_FALSE(store.record_digest(now, {}, 100));  // no message: nothing to record
  const std::vector<OutgoingMessage> messages = {message("now:1#0", "telegram:-100"),
                                                 message("now:1#1", "telegram:-100")};
  CHECK(store.record_digest(now, messages, 100));
  CHECK_FALSE(store.record_digest(now, messages, 110));
  CHECK(store.outbox_backlog() == 2);
  CHECK_FALSE(store.last_digest_date("telegram:-100"));
  CHECK(store.digested_papers("telegram:-100").count("p1") == 1);
  CHECK(store.counter("digests_posted") == 1);
}

TEST_CASE_TEMPLATE("state store contract: subscriptions and counters", Backend, EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  CHECK(store.subscriptions().empty());
  CHECK(store.subscribe("telegram:-100", "42", 10));
  CHECK(store.subscribe("slack:C1", "U1", 20));
  CHECK_FALSE(store.subscribe("slack:C1", "U2", 30));
  CHECK(store.subscriptions() == std::vector<std::string>{"slack:C1", "telegram:-100"});
  CHECK(store.unsubscribe("slack:C1"));
  CHECK_FALSE(store.unsubscribe("slack:C1"));
  CHECK(store.subscriptions() == std::vector<std::string>{"telegram:-100"});

  CHECK(store.counter("questions_answered") == 0);
  store.add_to_counter("questions_answered", 1);
  store.add_to_counter("questions_answered", 2);
  CHECK(store.counter("questions_answered") == 3);
}

TEST_CASE_TEMPLATE("state store contract: pruning keeps pending work and forgets finished work", Backend,
                   EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  const auto done = store.accept_inbound("done", "slack", "{}", 10, {});
  const auto waiting = store.accept_inbound("waiting", "slack", "{}", 10, {});
  REQUIRE(done);
  REQUIRE(waiting);
  store.complete_inbound(*done, {message("done#0", "slack:C1")}, 20);
  store.enqueue(message("pending#0", "slack:C2"), 20);
  const auto head = store.outbox_head("slack:C1");
  REQUIRE(head);
  store.mark_delivered(head->item.id, 30);
  CHECK(store.inbound_state("done") == "done");
  store.prune(1000);
  CHECK_FALSE(store.inbound_state("done"));
  CHECK(store.inbound_state("waiting") == "pending");
  CHECK_FALSE(store.outbox_state("done#0"));
  CHECK(store.outbox_state("pending#0") == "pending");
  CHECK(store.outbox_backlog() == 1);
}

TEST_CASE_TEMPLATE("state store contract: a lease has one owner until it expires or is released", Backend,
                   EVERY_BACKEND) {
  Backend backend;
  auto& store = backend.store;
  CHECK(store.hold_lease("telegram:poller", "replica-a", 1'000, 10'000));
  // Another owner waits while the lease runs; its holder renews it.
  CHECK_FALSE(store.hold_lease("telegram:poller", "replica-b", 5'000, 10'000));
  CHECK(store.hold_lease("telegram:poller", "replica-a", 9'000, 10'000));  // now until 19,000
  CHECK_FALSE(store.hold_lease("telegram:poller", "replica-b", 18'999, 10'000));
  // Names are independent.
  CHECK(store.hold_lease("outbox:slack:C1", "replica-b", 18'999, 10'000));
  // Expired (not renewed by 19,000): the next owner takes it, and the old one has lost it.
  CHECK(store.hold_lease("telegram:poller", "replica-b", 19'000, 10'000));
  CHECK_FALSE(store.hold_lease("telegram:poller", "replica-a", 19'001, 10'000));
  // Only the holder's release counts.
  store.release_lease("telegram:poller", "replica-a");
  CHECK_FALSE(store.hold_lease("telegram:poller", "replica-a", 19'002, 10'000));
  store.release_lease("telegram:poller", "replica-b");
  CHECK(store.hold_lease("telegram:poller", "replica-a", 19'003, 10'000));
}

// LeaderLease: one replica at a time does a singleton job; a dead holder is replaced once its
// lease expires, a clean stop hands over at once, and a store that does not answer means nobody
// here does the job.
#include "bot/leader_lease.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

#include "tests/support/memory_state_store.h"

namespace {

using roundup::bot::LeaderLease;

struct Clock {
  std::int64_t now = 1'000'000;
  std::function<std::int64_t()> reader() {
    return [this] { return now; };
  }
};

// A store whose leases table cannot be reached.
class UnreachableLeases final : public roundup::bot::Leases {
 public:
  bool hold_lease(std::string_view, std::string_view, std::int64_t, std::int64_t) override {
    throw roundup::bot::StateError("connection refused");
  }
  void release_lease(std::string_view, std::string_view) override {}
};

}  // namespace

TEST_CASE("leader lease: one holder - a dead holder is replaced after the ttl - a clean stop hands over at once") {
  roundup::testing::MemoryStateStore store;
  Clock clock;
  const auto ttl = std::chrono::seconds(60);
  LeaderLease a(store, "telegram:poller:1", "replica-a", ttl, clock.reader(), "test");
  LeaderLease b(store, "telegram:poller:1", "replica-b", ttl, clock.reader(), "test");
  CHECK(a.hold());
  CHECK_FALSE(b.hold());
  CHECK(a.held());
  CHECK_FALSE(b.held());

  // a renews every round: b keeps standing by, however long that goes on.
  for (int round = 0; round < 10; ++round) {
    clock.now += 30'000;
    CHECK(a.hold());
    CHECK_FALSE(b.hold());
  }
  // a dies (stops renewing): b takes over once the ttl has passed since a's last renewal.
  clock.now += 59'999;
  CHECK_FALSE(b.hold());
  clock.now += 1;
  CHECK(b.hold());
  CHECK_FALSE(a.hold());  // a, back from a pause, finds it lost

  // b stops cleanly: a takes over at its next try, without waiting for the ttl.
  b.release();
  CHECK_FALSE(b.held());
  CHECK(a.hold());
}

TEST_CASE("leader lease: while the store does not answer, nobody here holds the lease") {
  UnreachableLeases leases;
  Clock clock;
  LeaderLease lease(leases, "telegram:poller:1", "replica-a", std::chrono::seconds(60), clock.reader(), "test");
  CHECK_FALSE(lease.hold());
  CHECK_FALSE(lease.held());
  lease.release();  // nothing held: nothing to do, and no throw
}

TEST_CASE("leader lease: a replica id is the same across restarts and differs between data directories") {
  const std::string id = roundup::bot::make_replica_id("/var/lib/roundup");
  CHECK(id.find(':') != std::string::npos);
  CHECK(id == roundup::bot::make_replica_id("/var/lib/roundup"));
  CHECK(id != roundup::bot::make_replica_id("/var/lib/roundup-2"));
}

TEST_CASE("leader lease: restarted after a crash, the same replica takes its own lease back at once") {
  roundup::testing::MemoryStateStore store;
  Clock clock;
  const std::string id = roundup::bot::make_replica_id("/var/lib/roundup");
  {
    LeaderLease before_crash(store, "telegram:poller:1", id, std::chrono::seconds(60), clock.reader(), "test");
    CHECK(before_crash.hold());
  }  // no release: the process died
  clock.now += 1'000;
  LeaderLease after_restart(store, "telegram:poller:1", id, std::chrono::seconds(60), clock.reader(), "test");
  CHECK(after_restart.hold());
}

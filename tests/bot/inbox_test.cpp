#include "bot/inbox.h"

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/sqlite_state_store.h"
#include "tests/support/log_watch.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/metrics_text.h"
#include "tests/support/second_connection.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace {

using roundup::bot::Delivery;
using roundup::bot::InboundItem;
using roundup::bot::Inbox;
using roundup::bot::InboxOptions;
using roundup::bot::OutboxItem;
using roundup::bot::OutgoingMessage;
using roundup::bot::StateStore;
using roundup::storage::SqliteStateStore;
using roundup::testing::exec_on;
using roundup::testing::MemoryStateStore;
using roundup::testing::Signal;
using roundup::testing::TempDir;

std::vector<OutgoingMessage> echo(const InboundItem& item) {
  return {{item.key + "#0", "fake", "fake:" + item.payload, item.payload}};
}

struct Delivered {
  Signal signal;
  std::vector<std::string> payloads;
  Delivery operator()(const OutboxItem& item) {
    signal.update([&] { payloads.push_back(item.message.payload); });
    return Delivery::ok();
  }
};

// A started inbox whose handler echoes each item, and an outbox that records what it delivers.
struct EchoRig {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox{store, {}};
  Delivered delivered;
  Inbox inbox{store, outbox, {}};

  EchoRig() {
    outbox.add_sender("fake", [this](const OutboxItem& item) { return delivered(item); });
    inbox.add_handler("fake", echo);
    outbox.start();
    inbox.start();
  }
};

}  // namespace

TEST_CASE("inbox: each key is handled and answered exactly once") {
  EchoRig rig;
  auto& outbox = rig.outbox;
  auto& delivered = rig.delivered;
  auto& inbox = rig.inbox;
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::accepted);
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::duplicate);
  CHECK(inbox.submit("k2", "fake", "b") == Inbox::Submitted::accepted);
  CHECK(inbox.submit("k2", "fake", "b") == Inbox::Submitted::duplicate);
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 2; }));
  inbox.stop();
  outbox.stop();
  CHECK(std::multiset<std::string>(delivered.payloads.begin(), delivered.payloads.end()) ==
        std::multiset<std::string>{"a", "b"});
}

TEST_CASE("inbox: work left pending by a previous run is handled at start") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  {
    SqliteStateStore store(file);
    roundup::bot::Outbox outbox(store, {});
    Inbox inbox(store, outbox, {});  // never started: as if the process died after the ack
    CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::accepted);
  }
  SqliteStateStore store(file);
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  Inbox inbox(store, outbox, {});
  inbox.add_handler("fake", echo);
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::duplicate);
  outbox.start();
  inbox.start();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  inbox.stop();
  outbox.stop();
  CHECK(store.pending_inbound(10).empty());
}

TEST_CASE("inbox: a full queue keeps the overflow in the database - nothing is lost") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  InboxOptions options;
  options.workers = 1;
  options.queue_limit = 2;
  Inbox inbox(store, outbox, options);
  inbox.add_handler("fake", echo);
  for (int i = 0; i < 20; ++i) {
    CHECK(inbox.submit("k" + std::to_string(i), "fake", std::to_string(i)) == Inbox::Submitted::accepted);
  }
  outbox.start();
  inbox.start();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 20; }));
  inbox.stop();
  outbox.stop();
  CHECK(std::set<std::string>(delivered.payloads.begin(), delivered.payloads.end()).size() == 20);
}

TEST_CASE("inbox: a throwing handler does not stop the workers") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  roundup::telemetry::Registry registry;
  InboxOptions options;
  options.min_retry_backoff = std::chrono::milliseconds(1);
  options.registry = &registry;
  Inbox inbox(store, outbox, options);
  inbox.add_handler("fake", [](const InboundItem& item) -> std::vector<OutgoingMessage> {
    if (item.payload == "boom") throw std::runtime_error("handler bug");
    return echo(item);
  });
  outbox.start();
  inbox.start();
  inbox.submit("k1", "fake", "boom");
  inbox.submit("k2", "fake", "fine");
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  REQUIRE(inbox.wait_until_idle(std::chrono::seconds(30)));
  inbox.stop();
  outbox.stop();
  CHECK(delivered.payloads == std::vector<std::string>{"fine"});
  CHECK(store.pending_inbound(10).empty());
}

namespace {

// The apology a test platform sends for a quarantined item: to the item's own target.
std::vector<OutgoingMessage> apology(const InboundItem& item) {
  return {{item.key + "#0", "fake", "fake:" + item.key, "sorry:" + item.key}};
}

double quarantined(const roundup::telemetry::Registry& registry) {
  return roundup::testing::sample_number(registry.render(), R"(roundup_inbound_quarantined_total{platform="fake"})");
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

}  // namespace

TEST_CASE("inbox: a handler that keeps throwing is retried with backoff then quarantined with an apology") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  roundup::telemetry::Registry registry;
  InboxOptions options;
  options.max_attempts = 3;
  options.min_retry_backoff = std::chrono::milliseconds(1);
  options.registry = &registry;
  Inbox inbox(store, outbox, options);
  std::atomic<int> runs{0};
  inbox.add_handler(
      "fake",
      [&](const InboundItem& item) -> std::vector<OutgoingMessage> {
        if (item.key != "poison") return echo(item);
        ++runs;
        throw std::runtime_error("handler bug");
      },
      apology);
  Signal log_signal;
  roundup::testing::LogWatch log(log_signal);
  outbox.start();
  inbox.start();
  inbox.submit("poison", "fake", "private question text");
  inbox.submit("next", "fake", "fine");
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 2; }));
  REQUIRE(inbox.wait_until_idle(std::chrono::seconds(30)));
  inbox.stop();
  outbox.stop();
  CHECK(runs == 3);
  CHECK(std::multiset<std::string>(delivered.payloads.begin(), delivered.payloads.end()) ==
        std::multiset<std::string>{"fine", "sorry:poison"});
  CHECK(store.inbound_state("poison") == "quarantined");
  CHECK(store.inbound_state("next") == "done");
  CHECK(quarantined(registry) == 1);
  const std::string text = log.text();
  CHECK(occurrences(text, "will retry") == 2);
  CHECK(occurrences(text, "item quarantined") == 1);
  const auto line_at = text.find("item quarantined");
  REQUIRE(line_at != std::string::npos);
  const std::string line = text.substr(line_at, text.find('\n', line_at) - line_at);
  CHECK(line.find("key=poison") != std::string::npos);
  CHECK(line.find("platform=fake") != std::string::npos);
  CHECK(line.find("attempts=3") != std::string::npos);
  CHECK(text.find("private question text") == std::string::npos);  // the payload is never logged
}

TEST_CASE("inbox: an item that already failed max_attempts times is quarantined at start without running") {
  TempDir dir;
  MemoryStateStore store;
  // Claimed by this replica's previous run, which counted two runs and died in both.
  const roundup::bot::InboundClaim previous_run{"local", 1'000'000};
  const auto id = store.accept_inbound("crashed", "fake", "x", 10, previous_run);
  REQUIRE(id);
  store.accept_inbound("after", "fake", "y", 10, previous_run);
  for (int i = 0; i < 2; ++i) REQUIRE(store.start_inbound_attempt(*id, previous_run));
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  roundup::telemetry::Registry registry;
  InboxOptions options;
  options.max_attempts = 2;
  options.registry = &registry;
  Inbox inbox(store, outbox, options);
  std::atomic<int> crashed_runs{0};
  inbox.add_handler(
      "fake",
      [&](const InboundItem& item) {
        if (item.key == "crashed") ++crashed_runs;
        return echo(item);
      },
      apology);
  outbox.start();
  inbox.start();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 2; }));
  REQUIRE(inbox.wait_until_idle(std::chrono::seconds(30)));
  inbox.stop();
  outbox.stop();
  CHECK(crashed_runs == 0);
  CHECK(std::multiset<std::string>(delivered.payloads.begin(), delivered.payloads.end()) ==
        std::multiset<std::string>{"y", "sorry:crashed"});
  CHECK(store.inbound_state("crashed") == "quarantined");
  CHECK(quarantined(registry) == 1);
}

TEST_CASE("inbox: a failed completion write keeps the replies in memory and retries - the handler runs once") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  SqliteStateStore store(file);
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  InboxOptions options;
  options.min_retry_backoff = std::chrono::milliseconds(1);
  options.max_retry_backoff = std::chrono::milliseconds(20);
  Inbox inbox(store, outbox, options);
  std::atomic<int> runs{0};
  inbox.add_handler("fake", [&](const InboundItem& item) {
    ++runs;
    return echo(item);
  });
  // Marking the item done fails (SQLITE_BUSY after the busy timeout, a full disk): before the fix
  // it stayed pending, unanswered, until the next restart.
  exec_on(file,
          "CREATE TRIGGER refuse BEFORE UPDATE ON inbound WHEN NEW.state = 'done' "
          "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END");
  Signal log_signal;
  roundup::testing::LogWatch log(log_signal);
  outbox.start();
  inbox.start();
  inbox.submit("k1", "fake", "a");
  REQUIRE(log_signal.wait_for([&] { return occurrences(log.buffer.seen, "cannot record the outcome") >= 3; }));
  CHECK(store.inbound_state("k1") == "pending");
  exec_on(file, "DROP TRIGGER refuse");
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  REQUIRE(inbox.wait_until_idle(std::chrono::seconds(30)));
  inbox.stop();
  outbox.stop();
  CHECK(runs == 1);
  CHECK(delivered.payloads == std::vector<std::string>{"a"});
  CHECK(store.inbound_state("k1") == "done");
}

TEST_CASE("inbox: a handler over the timeout is logged once - counted - and reported as stuck until it ends") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  roundup::telemetry::Registry registry;
  InboxOptions options;
  options.handler_timeout = std::chrono::milliseconds(1);
  options.registry = &registry;
  std::shared_future<void> released;  // outlives the inbox, whose handler waits on it
  Inbox inbox(store, outbox, options);
  // Released at the latest when the test ends, so a failed REQUIRE does not leave the handler
  // (and the inbox's stop()) waiting forever.
  struct Release {
    std::promise<void> promise;
    bool done = false;
    void operator()() {
      if (!std::exchange(done, true)) promise.set_value();
    }
    ~Release() { (*this)(); }
  };
  inbox.add_handler("fake", [&](const InboundItem& item) {
    released.wait();
    return echo(item);
  });
  Signal log_signal;
  roundup::testing::LogWatch log(log_signal);
  Release release;  // after the inbox: destroyed, and so released, before the inbox stops
  released = release.promise.get_future().share();
  outbox.start();
  inbox.start();
  CHECK(inbox.stuck_handlers() == 0);
  inbox.submit("slow", "fake", "a");
  REQUIRE(log.wait_for("handler still running after the handler timeout"));
  CHECK(inbox.stuck_handlers() == 1);
  CHECK(roundup::testing::sample_number(registry.render(),
                                        R"(roundup_inbound_handler_timeouts_total{platform="fake"})") == 1);
  release();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  REQUIRE(inbox.wait_until_idle(std::chrono::seconds(30)));
  CHECK(inbox.stuck_handlers() == 0);
  inbox.stop();
  outbox.stop();
  CHECK(occurrences(log.text(), "handler still running") == 1);
  CHECK(store.inbound_state("slow") == "done");
}

TEST_CASE("inbox: workers run at a lower scheduling priority than the thread that started them") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Inbox inbox(store, outbox, {});
  Signal signal;
  std::optional<int> worker_nice;
  inbox.add_handler("fake", [&](const InboundItem&) {
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    const int failure = errno;
    signal.update([&] { worker_nice = failure == 0 ? nice : 1000; });
    return std::vector<OutgoingMessage>{};
  });
  inbox.start();
  inbox.submit("k", "fake", "x");
  REQUIRE(signal.wait_for([&] { return worker_nice.has_value(); }));
  inbox.stop();
  errno = 0;
  const int mine = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  REQUIRE(errno == 0);
  REQUIRE(*worker_nice != 1000);
  CHECK(*worker_nice == std::min(mine + 10, 19));
  if (mine < 19) CHECK(*worker_nice > mine);
}

// --- Group commit (submit_async) ---------------------------------------------------------------

namespace {

// Collects submit_async results by key.
struct Results {
  Signal signal;
  std::map<std::string, std::vector<Inbox::SubmitResult>> by_key;
  std::size_t count = 0;

  Inbox::SubmitDone done_for(const std::string& key) {
    return [this, key](const Inbox::SubmitResult& result) {
      signal.update([&] {
        by_key[key].push_back(result);
        ++count;
      });
    };
  }
  bool wait_for_count(std::size_t n) {
    return signal.wait_for([&] { return count >= n; });
  }
};

// A submit whose callback holds the committer until released: everything submitted meanwhile
// queues, so the next group commit holds all of it. That makes batches deterministic in tests.
struct CommitterGate {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  void submit(Inbox& inbox, const std::string& key) {
    inbox.submit_async(key, "fake", "gate", [this](const Inbox::SubmitResult&) {
      entered.set_value();
      released.wait();
    });
    entered.get_future().wait();
  }
};

std::size_t accepted_count(const std::vector<Inbox::SubmitResult>& results) {
  return static_cast<std::size_t>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return !r.error && r.submitted == Inbox::Submitted::accepted;
  }));
}

}  // namespace

TEST_CASE("inbox: concurrent submit_async calls record each key once and answer every caller") {
  EchoRig rig;
  auto& store = rig.store;
  auto& outbox = rig.outbox;
  auto& delivered = rig.delivered;
  auto& inbox = rig.inbox;

  constexpr int k_threads = 8;
  constexpr int k_keys = 300;
  Results results;
  std::vector<std::thread> submitters;
  submitters.reserve(k_threads);
  // Every thread submits every key: one of the eight wins, the others are duplicates, whether
  // they land in the same group commit or a later one.
  for (int t = 0; t < k_threads; ++t) {
    submitters.emplace_back([&] {
      for (int k = 0; k < k_keys; ++k) {
        const std::string key = "k" + std::to_string(k);
        inbox.submit_async(key, "fake", std::to_string(k), results.done_for(key));
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  REQUIRE(results.wait_for_count(k_threads * k_keys));
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == k_keys; }));
  inbox.stop();
  outbox.stop();

  CHECK(results.by_key.size() == k_keys);
  for (const auto& [key, list] : results.by_key) {
    CHECK(list.size() == k_threads);
    CHECK(accepted_count(list) == 1);
    for (const auto& result : list) CHECK_FALSE(result.error);
  }
  CHECK(inbox.group_commits() <= k_threads * k_keys);
  CHECK(std::set<std::string>(delivered.payloads.begin(), delivered.payloads.end()).size() == k_keys);
  CHECK(store.pending_inbound(10).empty());
}

TEST_CASE("inbox: one group commit holds everything queued meanwhile with duplicates inside it and across commits") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Inbox inbox(store, outbox, {});  // not started: only recording is under test
  Results results;
  inbox.submit_async("early", "fake", "1", results.done_for("early"));
  REQUIRE(results.wait_for_count(1));

  CommitterGate gate;
  gate.submit(inbox, "gate");
  const std::size_t commits_before = inbox.group_commits();
  inbox.submit_async("early", "fake", "2", results.done_for("early"));  // committed before
  inbox.submit_async("new", "fake", "3", results.done_for("new"));
  inbox.submit_async("new", "fake", "4", results.done_for("new"));  // same batch
  inbox.submit_async("gate", "fake", "5", results.done_for("gate"));
  gate.release.set_value();
  REQUIRE(results.wait_for_count(5));
  CHECK(inbox.group_commits() == commits_before + 1);

  REQUIRE(results.by_key["early"].size() == 2);
  CHECK(results.by_key["early"][0].submitted == Inbox::Submitted::accepted);
  CHECK(results.by_key["early"][1].submitted == Inbox::Submitted::duplicate);
  REQUIRE(results.by_key["new"].size() == 2);
  CHECK(results.by_key["new"][0].submitted == Inbox::Submitted::accepted);
  CHECK(results.by_key["new"][1].submitted == Inbox::Submitted::duplicate);
  CHECK(results.by_key["gate"][0].submitted == Inbox::Submitted::duplicate);
  const auto pending = store.pending_inbound(10);
  REQUIRE(pending.size() == 3);
  CHECK(pending[2].key == "new");
  CHECK(pending[2].payload == "3");
}

TEST_CASE("inbox: a failing group commit answers every callback with the error and records none") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  SqliteStateStore store(file);
  roundup::bot::Outbox outbox(store, {});
  Inbox inbox(store, outbox, {});
  exec_on(file,
          "CREATE TRIGGER refuse BEFORE INSERT ON inbound WHEN NEW.key = 'k7' "
          "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  CommitterGate gate;
  gate.submit(inbox, "gate");
  Results results;
  for (int k = 0; k < 20; ++k) {
    const std::string key = "k" + std::to_string(k);
    inbox.submit_async(key, "fake", "x", results.done_for(key));
  }
  gate.release.set_value();
  REQUIRE(results.wait_for_count(20));
  for (const auto& [key, list] : results.by_key) {
    REQUIRE(list.size() == 1);
    REQUIRE(list[0].error);
    CHECK(std::string(list[0].error->what()).find("injected failure") != std::string::npos);
  }
  CHECK(store.pending_inbound(10).size() == 1);  // the gate's own item only

  // The platform retries later; by then the database works again.
  exec_on(file, "DROP TRIGGER refuse");
  inbox.submit_async("k7", "fake", "x", results.done_for("k7"));
  REQUIRE(results.wait_for_count(21));
  CHECK_FALSE(results.by_key["k7"][1].error);
  CHECK(results.by_key["k7"][1].submitted == Inbox::Submitted::accepted);
}

TEST_CASE("inbox: stop() commits what is queued and answers it and a later submit fails at once") {
  TempDir dir;
  MemoryStateStore store;
  roundup::bot::Outbox outbox(store, {});
  Inbox inbox(store, outbox, {});
  inbox.start();
  CommitterGate gate;
  gate.submit(inbox, "gate");
  Results results;
  for (int k = 0; k < 10; ++k) {
    const std::string key = "k" + std::to_string(k);
    inbox.submit_async(key, "fake", "x", results.done_for(key));
  }
  auto stopped = std::async(std::launch::async, [&] { inbox.stop(); });
  // Once a submit is refused on the spot, stop() has closed the queue while ten items (and the
  // probes before) still wait in it behind the gate.
  std::atomic<bool> refused{false};
  REQUIRE(roundup::testing::poll_until([&] {
    inbox.submit_async("probe", "fake", "x", [&](const Inbox::SubmitResult& result) {
      if (result.error) refused = true;
    });
    return refused.load();
  }));
  gate.release.set_value();
  stopped.get();
  REQUIRE(results.wait_for_count(10));
  for (const auto& [key, list] : results.by_key) {
    REQUIRE(list.size() == 1);
    CHECK_FALSE(list[0].error);
    CHECK(list[0].submitted == Inbox::Submitted::accepted);
  }

  bool answered = false;
  inbox.submit_async("late", "fake", "x", [&](const Inbox::SubmitResult& result) {
    answered = true;
    CHECK(result.error);
  });
  CHECK(answered);                                 // synchronously, on this thread
  CHECK(store.pending_inbound(100).size() >= 10);  // recorded, for the workers of the next start
}

// --- Replicas sharing one store ----------------------------------------------------------------

namespace {

// One replica's inbox on a shared store: it echoes each item and counts its runs per key.
struct Replica {
  Replica(StateStore& store, std::string owner, std::function<std::int64_t()> clock,
          std::chrono::milliseconds claim_ttl = std::chrono::milliseconds(30000))
      : outbox(store, {}, clock), inbox(store, outbox, options(std::move(owner), claim_ttl), clock) {
    outbox.add_sender("fake", [this](const OutboxItem& item) { return delivered(item); });
    inbox.add_handler("fake", [this](const InboundItem& item) {
      runs.update([&] { ++runs_by_key[item.key]; });
      return echo(item);
    });
  }
  static InboxOptions options(std::string owner, std::chrono::milliseconds claim_ttl) {
    InboxOptions options;
    options.owner = std::move(owner);
    options.claim_ttl = claim_ttl;
    return options;
  }
  int runs_of(const std::string& key) {
    int count = 0;
    runs.update([&] { count = runs_by_key[key]; });
    return count;
  }

  Delivered delivered;
  Signal runs;
  std::map<std::string, int> runs_by_key;  // under runs
  roundup::bot::Outbox outbox;
  Inbox inbox;
};

}  // namespace

TEST_CASE("inbox replicas: work accepted on either replica is run once, by the replica that accepted it") {
  MemoryStateStore store;
  const auto clock = [] { return std::int64_t{1'000'000}; };
  // Claims renew (and unheld work is looked for) every 10 ms: many rounds in which a replica could
  // take the other's work, if claims did not stop it.
  Replica a(store, "a", clock, std::chrono::milliseconds(30));
  Replica b(store, "b", clock, std::chrono::milliseconds(30));
  a.outbox.start();
  b.outbox.start();
  a.inbox.start();
  b.inbox.start();
  constexpr int k_items = 40;
  for (int i = 0; i < k_items; ++i) {
    Replica& to = i % 2 == 0 ? a : b;
    REQUIRE(to.inbox.submit("k" + std::to_string(i), "fake", std::to_string(i)) == Inbox::Submitted::accepted);
  }
  REQUIRE(a.inbox.wait_until_idle(std::chrono::seconds(30)));
  REQUIRE(b.inbox.wait_until_idle(std::chrono::seconds(30)));
  a.inbox.stop();
  b.inbox.stop();
  a.outbox.stop();
  b.outbox.stop();
  for (int i = 0; i < k_items; ++i) {
    const std::string key = "k" + std::to_string(i);
    CAPTURE(key);
    CHECK(a.runs_of(key) == (i % 2 == 0 ? 1 : 0));
    CHECK(b.runs_of(key) == (i % 2 == 0 ? 0 : 1));
    CHECK(store.inbound_state(key) == "done");
  }
}

TEST_CASE("inbox replicas: a dead replica's work is taken over once its claims expire") {
  MemoryStateStore store;
  std::atomic<std::int64_t> now{1000};
  const auto clock = [&] { return now.load(); };
  // A replica accepted two items, claimed until 5000, and died before running them.
  const roundup::bot::InboundClaim dead{"dead", 5000};
  REQUIRE(store.accept_inbound("k1", "fake", "one", 900, dead));
  REQUIRE(store.accept_inbound("k2", "fake", "two", 900, dead));
  Replica survivor(store, "survivor", clock, std::chrono::milliseconds(30));
  survivor.outbox.start();
  survivor.inbox.start();
  // Still held: the survivor's ticks (every 10 ms) leave them alone.
  CHECK_FALSE(survivor.runs.wait_for([&] { return !survivor.runs_by_key.empty(); }, std::chrono::milliseconds(200)));
  now = 5001;  // the dead replica's claims have expired
  REQUIRE(survivor.delivered.signal.wait_for([&] { return survivor.delivered.payloads.size() == 2; }));
  survivor.inbox.stop();
  survivor.outbox.stop();
  CHECK(survivor.runs_of("k1") == 1);
  CHECK(survivor.runs_of("k2") == 1);
}

TEST_CASE("inbox replicas: a replica that stops hands its queued work to the others at once") {
  MemoryStateStore store;
  const auto clock = [] { return std::int64_t{1000}; };  // no claim ever expires in this test
  Replica leaving(store, "leaving", clock);
  // The leaving replica was never started: what it accepted is queued there, claimed by it.
  REQUIRE(leaving.inbox.submit("k1", "fake", "one") == Inbox::Submitted::accepted);
  REQUIRE(leaving.inbox.submit("k2", "fake", "two") == Inbox::Submitted::accepted);
  Replica staying(store, "staying", clock, std::chrono::milliseconds(30));  // looks for unheld work every 10 ms
  staying.outbox.start();
  staying.inbox.start();
  leaving.inbox.stop();
  REQUIRE(staying.delivered.signal.wait_for([&] { return staying.delivered.payloads.size() == 2; }));
  staying.inbox.stop();
  staying.outbox.stop();
  CHECK(leaving.runs_of("k1") == 0);
  CHECK(staying.runs_of("k1") == 1);
  CHECK(staying.runs_of("k2") == 1);
}

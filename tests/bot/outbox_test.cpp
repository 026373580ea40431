#include "bot/outbox.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "storage/sqlite_state_store.h"
#include "tests/support/log_watch.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/second_connection.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace {

using roundup::bot::Delivery;
using roundup::bot::OutboxItem;
using roundup::bot::OutboxOptions;
using roundup::bot::OutgoingMessage;
using roundup::bot::StateStore;
using roundup::storage::SqliteStateStore;
using roundup::testing::exec_on;
using roundup::testing::LogWatch;
using roundup::testing::MemoryStateStore;
using roundup::testing::Signal;
using roundup::testing::TempDir;

OutgoingMessage message(std::string key, std::string target) {
  return {std::move(key), "fake", std::move(target), "{}"};
}

// A sender that plays back scripted outcomes and records every attempt.
struct ScriptedSender {
  Signal signal;
  std::deque<Delivery> script;  // consumed in order; afterwards every attempt succeeds
  std::vector<std::string> attempts;
  std::vector<std::int64_t> attempt_times;
  std::atomic<std::int64_t>* clock = nullptr;
  int clock_reads = 0;  // how often the outbox read `clock` through read_clock()

  // The outbox's clock, counting reads.
  std::int64_t read_clock() {
    signal.update([&] { ++clock_reads; });
    return clock->load();
  }
  // For an outbox with one sender thread, after the test moved the clock: wakes the outbox and
  // waits until the sender has read the clock twice more, that is, it decided what to do at the
  // new time and then either recorded the attempt it made (apply() reads the clock) or, woken
  // again, decided again. Any attempt it was going to make at the new time is in `attempts` then.
  // This counts on Outbox::run reading the clock exactly twice per attempt (at the top of its
  // loop, under its lock, and in apply()); another read there would need this revisited.
  bool looked_again(roundup::bot::Outbox& outbox) {
    const int seen = signal.read([&] { return clock_reads; });
    outbox.wake();
    if (!signal.wait_for([&] { return clock_reads >= seen + 1; })) return false;
    // The sender reads the clock and then waits under the outbox's lock, which wake() takes: this
    // wake comes after the sender began to wait, so it is not lost.
    outbox.wake();
    return signal.wait_for([&] { return clock_reads >= seen + 2; });
  }
  std::size_t attempt_count() {
    return signal.read([&] { return attempts.size(); });
  }

  Delivery operator()(const OutboxItem& item) {
    Delivery result = Delivery::ok();
    signal.update([&] {
      attempts.push_back(item.message.idempotency_key);
      attempt_times.push_back(clock ? clock->load() : 0);
      if (!script.empty()) {
        result = script.front();
        script.pop_front();
      }
    });
    return result;
  }
};

}  // namespace

TEST_CASE("outbox: delivers in order per target and marks delivered") {
  TempDir dir;
  MemoryStateStore store;
  std::atomic<std::int64_t> now{1000};
  ScriptedSender sender;
  OutboxOptions options;
  options.per_target_burst = 10;
  roundup::bot::Outbox outbox(store, options, [&] { return now.load(); });
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  for (int i = 0; i < 5; ++i) store.enqueue(message("m" + std::to_string(i), "fake:A"), 1000);
  outbox.start();
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() == 5; }));
  outbox.stop();
  CHECK(sender.attempts == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
  CHECK(store.outbox_backlog() == 0);
}

TEST_CASE("outbox: a retry-after is honoured and the message is sent once after it") {
  TempDir dir;
  MemoryStateStore store;
  std::atomic<std::int64_t> now{1000};
  ScriptedSender sender;
  sender.clock = &now;
  sender.script = {Delivery::rate_limited("ratelimited", "ratelimited", std::chrono::milliseconds(1000))};
  OutboxOptions options;
  options.senders = 1;  // so that looked_again() can tell when the sender has seen a new time
  roundup::bot::Outbox outbox(store, options, [&] { return sender.read_clock(); });
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  std::atomic<int> results{0};
  outbox.on_attempt([&](const OutboxItem&, const Delivery&) { sender.signal.update([&] { ++results; }); });
  store.enqueue(message("m", "fake:A"), 1000);
  outbox.start();
  REQUIRE(sender.signal.wait_for([&] { return results == 1; }));
  // Due one millisecond late: the clock reads whole milliseconds, so "1000" may be up to 1 ms
  // after the refusal really came, and 1000 + 1000 would then be less than 1000 ms after it.
  const auto waiting = store.outbox_head("fake:A");
  REQUIRE(waiting);
  CHECK(waiting->next_attempt_ms == 2001);
  // Nothing is sent before then, however often the outbox is woken.
  now = 2000;
  REQUIRE(sender.looked_again(outbox));
  CHECK(sender.attempt_count() == 1);
  now = 2001;
  outbox.wake();
  REQUIRE(sender.signal.wait_for([&] { return results == 2; }));
  outbox.stop();
  CHECK(sender.attempts.size() == 2);
  CHECK(sender.attempt_times[1] == 2001);
  CHECK(store.outbox_state("m") == "delivered");
}

TEST_CASE("outbox: permanent failures are not retried - other targets keep flowing") {
  TempDir dir;
  MemoryStateStore store;
  std::atomic<std::int64_t> now{1000};
  ScriptedSender sender;
  // The refusal goes by target, not by call order: the two targets are served by concurrent
  // senders, so either may be attempted first.
  roundup::bot::Outbox outbox(store, {}, [&] { return now.load(); });
  outbox.add_sender("fake", [&](const OutboxItem& item) {
    const Delivery result = sender(item);
    return item.message.target == "fake:gone" ? Delivery::refused("channel_not_found", "channel_not_found") : result;
  });
  std::atomic<int> results{0};
  outbox.on_attempt([&](const OutboxItem&, const Delivery&) { sender.signal.update([&] { ++results; }); });
  store.enqueue(message("bad", "fake:gone"), 1000);
  store.enqueue(message("good", "fake:B"), 1000);
  outbox.start();
  REQUIRE(sender.signal.wait_for([&] { return results == 2; }));
  outbox.stop();
  CHECK(sender.attempts.size() == 2);  // one attempt each
  CHECK(store.outbox_state("bad") == "failed");
  CHECK(store.outbox_state("good") == "delivered");
}

TEST_CASE("outbox: transient failures back off - then succeed - gives up after the limit") {
  TempDir dir;
  MemoryStateStore store;
  std::atomic<std::int64_t> now{0};
  ScriptedSender sender;
  sender.script = {Delivery::transient("http_500", "HTTP 500"), Delivery::transient("http_502", "HTTP 502")};
  OutboxOptions options;
  options.min_backoff = std::chrono::milliseconds(100);
  options.give_up_after = std::chrono::milliseconds(1'000'000);
  roundup::bot::Outbox outbox(store, options, [&] { return now.load(); });
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  std::atomic<int> results{0};
  outbox.on_attempt([&](const OutboxItem&, const Delivery&) { sender.signal.update([&] { ++results; }); });
  store.enqueue(message("m", "fake:A"), 0);
  outbox.start();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    REQUIRE(sender.signal.wait_for([&] { return results == attempt; }));
    if (attempt < 3) {
      const auto head = store.outbox_head("fake:A");
      REQUIRE(head);
      const std::int64_t next = head->next_attempt_ms;
      // Exponential: between half and all of min_backoff * 2^(attempt-1).
      CHECK(next - now >= 50 * (1 << (attempt - 1)));
      CHECK(next - now <= 100 * (1 << (attempt - 1)));
      now = next;
      outbox.wake();
    }
  }
  outbox.stop();
  CHECK(store.outbox_state("m") == "delivered");

  // A message older than give_up_after fails for good instead of retrying forever.
  sender.script = {Delivery::transient("http_503", "HTTP 503")};
  store.enqueue(message("old", "fake:A"), 0);
  now = 2'000'000;
  roundup::bot::Outbox second(store, options, [&] { return now.load(); });
  second.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  second.on_attempt([&](const OutboxItem&, const Delivery&) { sender.signal.update([&] { ++results; }); });
  second.start();
  REQUIRE(sender.signal.wait_for([&] { return results == 4; }));
  second.stop();
  CHECK(store.outbox_state("old") == "failed");
}

TEST_CASE("outbox: pacing limits each target to its rate after the burst") {
  TempDir dir;
  MemoryStateStore store;
  std::atomic<std::int64_t> now{10'000};
  ScriptedSender sender;
  sender.clock = &now;
  OutboxOptions options;
  options.per_target_burst = 2;
  options.per_target_rate = 1.0;
  options.senders = 1;  // so that looked_again() can tell when the sender has looked again
  roundup::bot::Outbox outbox(store, options, [&] { return sender.read_clock(); });
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  // Counted after each result is stored, so the backlog below is settled.
  std::atomic<int> results{0};
  outbox.on_attempt([&](const OutboxItem&, const Delivery&) { sender.signal.update([&] { ++results; }); });
  for (int i = 0; i < 4; ++i) store.enqueue(message("m" + std::to_string(i), "fake:A"), 10'000);
  outbox.start();
  REQUIRE(sender.signal.wait_for([&] { return results == 2; }));
  // The clock has not moved: no token for a third, however often the outbox is woken.
  REQUIRE(sender.looked_again(outbox));
  CHECK(sender.attempt_count() == 2);
  CHECK(store.outbox_backlog() == 2);
  now = 11'000;
  outbox.wake();
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() == 3; }));
  now = 12'000;
  outbox.wake();
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() == 4; }));
  outbox.stop();
  CHECK(sender.attempt_times == std::vector<std::int64_t>{10'000, 10'000, 11'000, 12'000});
}

TEST_CASE("outbox: messages of a platform without a sender stay pending") {
  TempDir dir;
  MemoryStateStore store;
  ScriptedSender sender;
  roundup::bot::Outbox outbox(store, {});
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  store.enqueue({"t", "telegram", "telegram:1", "{}"}, 0);
  store.enqueue(message("f", "fake:A"), 0);
  outbox.start();
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() == 1; }));
  outbox.stop();
  CHECK(store.outbox_state("t") == "pending");
}

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

}  // namespace

TEST_CASE("outbox: a message is not sent again when recording its delivery fails - the write is retried") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  SqliteStateStore store(file);
  ScriptedSender sender;
  OutboxOptions options;
  options.min_backoff = std::chrono::milliseconds(1);  // write retries come quickly
  options.max_backoff = std::chrono::milliseconds(20);
  options.per_target_rate = 1000;  // pacing never holds a second send back
  options.per_target_burst = 10;
  roundup::bot::Outbox outbox(store, options);
  outbox.add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
  // SQLite refuses to mark "m" delivered, as with SQLITE_BUSY after the busy timeout or a full disk.
  exec_on(file,
          "CREATE TRIGGER refuse BEFORE UPDATE ON outbox WHEN OLD.idempotency_key = 'm' "
          "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END");
  store.enqueue(message("m", "fake:A"), 0);
  store.enqueue(message("m-next", "fake:A"), 0);  // behind it: waits until m's outcome is recorded
  store.enqueue(message("other", "fake:B"), 0);   // another target keeps flowing meanwhile
  Signal log_signal;
  LogWatch log(log_signal);
  outbox.start();
  // Three failed writes of m's outcome: before the fix, each one was followed by sending m again.
  REQUIRE(log_signal.wait_for([&] { return occurrences(log.buffer.seen, "cannot record a delivery result") >= 3; }));
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() >= 2; }));  // "other" went out
  CHECK(sender.signal.read([&] { return std::count(sender.attempts.begin(), sender.attempts.end(), "m"); }) == 1);
  CHECK(sender.signal.read([&] { return std::count(sender.attempts.begin(), sender.attempts.end(), "m-next"); }) == 0);

  exec_on(file, "DROP TRIGGER refuse");
  REQUIRE(log.wait_for("delivery result recorded after retrying"));
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() == 3; }));
  outbox.stop();
  CHECK(sender.attempts.size() == 3);
  CHECK(std::count(sender.attempts.begin(), sender.attempts.end(), "m") == 1);
  CHECK(store.outbox_state("m") == "delivered");
  CHECK(store.outbox_state("m-next") == "delivered");
  CHECK(store.outbox_state("other") == "delivered");
}

TEST_CASE("outbox replicas: two outboxes on one store send each message once - in order per target") {
  MemoryStateStore store;
  ScriptedSender sender;  // both replicas deliver to the same chats
  const auto replica = [&](const std::string& owner) {
    OutboxOptions options;
    options.senders = 4;
    options.per_target_rate = 1000;
    options.per_target_burst = 1000;
    options.leases = &store;
    options.owner = owner;
    auto outbox = std::make_unique<roundup::bot::Outbox>(store, options);
    outbox->add_sender("fake", [&](const OutboxItem& item) { return sender(item); });
    return outbox;
  };
  constexpr int k_per_target = 30;
  const std::vector<std::string> targets = {"fake:A", "fake:B", "fake:C"};
  for (int i = 0; i < k_per_target; ++i) {
    for (const auto& target : targets) store.enqueue(message(target + "#" + std::to_string(i), target), 1000);
  }
  auto a = replica("a");
  auto b = replica("b");
  a->start();
  b->start();
  REQUIRE(sender.signal.wait_for([&] { return sender.attempts.size() >= targets.size() * k_per_target; }));
  REQUIRE(roundup::testing::poll_until([&] { return store.outbox_backlog() == 0; }));
  a->stop();
  b->stop();
  const auto attempts = sender.signal.read([&] { return sender.attempts; });
  CHECK(attempts.size() == targets.size() * k_per_target);  // none twice
  for (const auto& target : targets) {
    std::vector<std::string> sent;
    for (const auto& key : attempts) {
      if (key.rfind(target + "#", 0) == 0) sent.push_back(key);
    }
    std::vector<std::string> expected;
    for (int i = 0; i < k_per_target; ++i) expected.push_back(target + "#" + std::to_string(i));
    CHECK(sent == expected);
    // Drained: the target's lease was let go, so any replica may take it at once.
    CHECK(store.hold_lease("outbox:" + target, "someone else", 1000, 1000));
  }
}

namespace {

// The store's leases, with every refused hold_lease recorded by owner.
struct WatchedLeases : roundup::bot::Leases {
  explicit WatchedLeases(roundup::bot::Leases& inner) : inner(inner) {}
  bool hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms, std::int64_t ttl_ms) override {
    const bool held = inner.hold_lease(name, owner, now_ms, ttl_ms);
    if (!held) signal.update([&] { refused.emplace_back(owner, name); });
    return held;
  }
  void release_lease(std::string_view name, std::string_view owner) override { inner.release_lease(name, owner); }

  roundup::bot::Leases& inner;
  Signal signal;
  std::vector<std::pair<std::string, std::string>> refused;  // {owner, lease}, under signal
};

}  // namespace

TEST_CASE("outbox replicas: while one replica sends to a target the other does not - it takes over after") {
  MemoryStateStore store;
  WatchedLeases leases(store);
  Signal gate;
  bool open = false;                  // under gate
  std::vector<std::string> attempts;  // under gate
  const auto replica = [&](const std::string& owner) {
    OutboxOptions options;
    options.per_target_rate = 1000;
    options.per_target_burst = 1000;
    options.leases = &leases;
    options.owner = owner;
    auto outbox = std::make_unique<roundup::bot::Outbox>(store, options);
    outbox->add_sender("fake", [&](const OutboxItem& item) {
      gate.update([&] { attempts.push_back(item.message.idempotency_key); });
      gate.wait_for([&] { return open; });  // the first attempt stays in flight until the test opens it
      return Delivery::ok();
    });
    return outbox;
  };
  for (int i = 0; i < 5; ++i) store.enqueue(message("m" + std::to_string(i), "fake:A"), 1000);
  auto a = replica("a");
  a->start();
  REQUIRE(gate.wait_for([&] { return attempts.size() == 1; }));  // a is sending m0
  auto b = replica("b");
  b->start();
  // b asks for the target, is refused, and so does not send m0 a second time.
  REQUIRE(leases.signal.wait_for([&] {
    return std::find(leases.refused.begin(), leases.refused.end(),
                     std::pair<std::string, std::string>{"b", "outbox:fake:A"}) != leases.refused.end();
  }));
  CHECK(gate.read([&] { return attempts; }) == std::vector<std::string>{"m0"});
  // a stops (a clean stop lets go of the target) and b sends whatever a had not, in order.
  gate.update([&] { open = true; });
  a->stop();
  REQUIRE(gate.wait_for([&] { return attempts.size() >= 5; }));
  REQUIRE(roundup::testing::poll_until([&] { return store.outbox_backlog() == 0; }));
  b->stop();
  CHECK(gate.read([&] { return attempts; }) == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
}

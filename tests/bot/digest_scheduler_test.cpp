#include "bot/digest_scheduler.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/sqlite_state_store.h"
#include "tests/support/digest_support.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::Answer;
using roundup::bot::DigestScheduler;
using roundup::bot::DigestSettings;
using roundup::bot::OutgoingMessage;
using roundup::bot::PostRenderer;
using roundup::bot::StateStore;
using roundup::storage::SqliteStateStore;
using roundup::testing::bundled_catalog;
using roundup::testing::MemoryStateStore;
using roundup::testing::TempDir;
using roundup::testing::utc;
using std::chrono::system_clock;

// One outbox message per digest, whose payload lists the paper titles; enough to see what was sent.
PostRenderer recording_renderer(const std::string& platform) {
  return [platform](const std::string& chat, const Answer& answer, const std::string& key) {
    std::string titles;
    for (const auto& paper : answer.citations) titles += paper.title + "\n";
    return std::vector<OutgoingMessage>{{key + "#0", platform, platform + ":" + chat, titles}};
  };
}

struct Harness {
  StateStore& store;
  system_clock::time_point now;
  std::size_t enqueued_signals = 0;
  DigestScheduler scheduler;

  Harness(StateStore& s, DigestSettings settings, system_clock::time_point start)
      : store(s),
        now(start),
        scheduler(
            s, [] { return bundled_catalog(); },
            {{"slack", recording_renderer("slack")}, {"telegram", recording_renderer("telegram")}}, std::move(settings),
            [this] { ++enqueued_signals; }, [this] { return now; }) {}
};

DigestSettings shanghai_nine(std::vector<std::string> channels, std::size_t per_post = 1) {
  DigestSettings settings;
  settings.schedule = {9, 0, "Asia/Shanghai"};
  settings.channels = std::move(channels);
  settings.papers_per_post = per_post;
  return settings;
}

// The payloads of the messages next in line (the head of each target's queue).
std::vector<std::string> pending_payloads(StateStore& store) {
  std::vector<std::string> payloads;
  for (const auto& head : store.outbox_heads()) payloads.push_back(head.item.message.payload);
  return payloads;
}

}  // namespace

TEST_CASE("digest scheduler: posts once at the local time - not before - and not again that day") {
  TempDir dir;
  MemoryStateStore store;
  // 09:00 in Shanghai is 01:00 UTC.
  Harness h(store, shanghai_nine({"slack:C1"}), utc(2026, 11, 22, 0, 59));
  CHECK(h.scheduler.run_due() == 0);
  CHECK(store.outbox_backlog() == 0);

  h.now = utc(2026, 11, 22, 1, 0);
  CHECK(h.scheduler.run_due() == 1);
  CHECK(h.enqueued_signals == 1);
  CHECK(store.outbox_state("digest:slack:C1:2026-11-22#0") == "pending");
  CHECK(store.last_digest_date("slack:C1") == "2026-11-22");
  CHECK(store.counter("digests_posted") == 1);

  h.now = utc(2026, 11, 22, 15, 0);  // 23:00 local: still the same day
  CHECK(h.scheduler.run_due() == 0);
  CHECK(store.outbox_backlog() == 1);

  h.now = utc(2026, 11, 23, 1, 0);  // next local day
  CHECK(h.scheduler.run_due() == 1);
  CHECK(store.outbox_backlog() == 2);
  const auto payloads = pending_payloads(store);
  REQUIRE(payloads.size() == 1);  // one target: only its head is due
}

TEST_CASE("digest scheduler: a restart at digest time posts exactly once") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  {
    SqliteStateStore store(file);
    Harness h(store, shanghai_nine({"telegram:-100123"}), utc(2026, 11, 22, 1, 0));
    CHECK(h.scheduler.run_due() == 1);
  }
  // The process died right after recording; the new one comes up a few seconds later.
  SqliteStateStore store(file);
  Harness h(store, shanghai_nine({"telegram:-100123"}), utc(2026, 11, 22, 1, 1));
  CHECK(h.scheduler.run_due() == 0);
  CHECK(store.outbox_backlog() == 1);
  CHECK(store.counter("digests_posted") == 1);
}

TEST_CASE("digest scheduler: down at digest time - posted once when back the same local day") {
  TempDir dir;
  MemoryStateStore store;
  Harness h(store, shanghai_nine({"slack:C1"}), utc(2026, 11, 22, 9, 30));  // 17:30 local
  CHECK(h.scheduler.run_due() == 1);
  CHECK(store.last_digest_date("slack:C1") == "2026-11-22");
  CHECK(h.scheduler.run_due() == 0);
}

TEST_CASE("digest scheduler: follows daylight saving time in the channel's zone") {
  TempDir dir;
  MemoryStateStore store;
  DigestSettings settings;
  settings.schedule = {9, 0, "America/New_York"};
  settings.channels = {"slack:C1"};
  // 2026-03-08: New York springs forward; 09:00 EDT is 13:00 UTC (it was 14:00 UTC the day before).
  Harness h(store, settings, utc(2026, 3, 7, 13, 59));
  CHECK(h.scheduler.run_due() == 0);
  h.now = utc(2026, 3, 7, 14, 0);
  CHECK(h.scheduler.run_due() == 1);
  h.now = utc(2026, 3, 8, 12, 59);
  CHECK(h.scheduler.run_due() == 0);
  h.now = utc(2026, 3, 8, 13, 0);
  CHECK(h.scheduler.run_due() == 1);
  CHECK(store.last_digest_date("slack:C1") == "2026-03-08");
}

TEST_CASE("digest scheduler: each channel gets new papers every day - and subscriptions count") {
  TempDir dir;
  MemoryStateStore store;
  Harness h(store, shanghai_nine({"slack:C1"}, 2), utc(2026, 11, 22, 2, 0));
  CHECK(store.subscribe("telegram:42", "42", 0));
  CHECK(store.subscribe("discord:1", "x", 0));  // no renderer for it: skipped, not an error
  CHECK(h.scheduler.channels() == std::vector<std::string>{"slack:C1", "telegram:42"});

  std::set<std::string> seen;
  for (unsigned day = 22; day <= 24; ++day) {
    h.now = utc(2026, 11, day, 2, 0);
    CHECK(h.scheduler.run_due() == 2);
    const auto papers = store.digested_papers("slack:C1");
    CHECK(papers.size() == 2 * (day - 21));
    seen.insert(papers.begin(), papers.end());
  }
  CHECK(seen.size() == 6);  // no paper repeated in a channel
  CHECK(store.digested_papers("telegram:42").size() == 6);

  CHECK(store.unsubscribe("telegram:42"));
  h.now = utc(2026, 11, 25, 2, 0);
  CHECK(h.scheduler.run_due() == 1);
}

TEST_CASE("digest scheduler: post_now posts through the outbox once per request and not as the scheduled digest") {
  TempDir dir;
  MemoryStateStore store;
  Harness h(store, shanghai_nine({"slack:C1"}), utc(2026, 11, 22, 0, 0));
  const Answer preview = h.scheduler.preview("slack:C1");
  REQUIRE(preview.citations.size() == 1);
  CHECK(h.scheduler.post_now("slack:C1", "slack:command:t1") == std::optional<std::size_t>{1});
  CHECK(store.outbox_state("digest-now:slack:C1:slack:command:t1#0") == "pending");
  CHECK(store.digested_papers("slack:C1").count(preview.citations[0].paper_id) == 1);
  // The same request handled again (a crash before its reply was recorded) posts nothing more.
  CHECK(h.scheduler.post_now("slack:C1", "slack:command:t1") == std::nullopt);
  CHECK(store.digested_papers("slack:C1").size() == 1);
  CHECK(store.outbox_backlog() == 1);
  CHECK(h.scheduler.post_now("slack:C1", "slack:command:t2") == std::optional<std::size_t>{1});
  CHECK(store.digested_papers("slack:C1").size() == 2);
  CHECK(h.enqueued_signals == 2);
  CHECK_THROWS_AS(h.scheduler.post_now("discord:1", "x"), std::invalid_argument);

  h.now = utc(2026, 11, 22, 1, 0);
  CHECK(h.scheduler.run_due() == 1);  // the scheduled one still goes out, with the next paper
  CHECK(store.digested_papers("slack:C1").size() == 3);
}

// Found by the soak test (scripts/soak.sh): a pass that began just before the due time (nothing
// due yet) and ended just after it planned its next wake-up from the later time, which was then
// past today's due time, so it slept a whole minute and the digest went out a minute late.
TEST_CASE("digest scheduler: a pass that straddles the due time does not put the digest off a minute" *
          doctest::timeout(60)) {
  TempDir dir;
  MemoryStateStore store;
  const auto due = utc(2026, 11, 22, 1, 0);  // 09:00 in Shanghai
  // The first read of the clock is 1 ms before the due time, every later one 1 ms after it: the
  // scheduler's first pass straddles the due instant.
  std::atomic<int> reads{0};
  std::mutex mutex;
  std::condition_variable changed;
  bool enqueued = false;
  DigestScheduler scheduler(
      store, [] { return bundled_catalog(); }, {{"slack", recording_renderer("slack")}}, shanghai_nine({"slack:C1"}),
      [&] {
        std::lock_guard lock(mutex);
        enqueued = true;
        changed.notify_all();
      },
      [&] { return reads++ == 0 ? due - std::chrono::milliseconds(1) : due + std::chrono::milliseconds(1); });
  scheduler.start();
  {
    std::unique_lock lock(mutex);
    // Well under the minute the bug waited; generous for a loaded machine.
    CHECK(changed.wait_for(lock, std::chrono::seconds(20), [&] { return enqueued; }));
  }
  scheduler.stop();
  CHECK(store.last_digest_date("slack:C1") == "2026-11-22");
}

TEST_CASE("digest scheduler: two processes on one database post each channel's digest once") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  { SqliteStateStore create(file); }
  const std::vector<std::string> channels = {"slack:C1", "slack:C2", "telegram:-1001", "telegram:-1002"};
  (void)bundled_catalog();  // loaded before fork: both processes read the same corpus

  // Both processes wait on one pipe, so they start the pass together.
  int go[2];
  REQUIRE(::pipe(go) == 0);
  const auto run_once = [&]() -> std::size_t {
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) return 100;
    SqliteStateStore store(file);
    Harness h(store, shanghai_nine(channels), utc(2026, 11, 22, 1, 0));
    return h.scheduler.run_due();
  };
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::size_t recorded = 100;
    try {
      recorded = run_once();
    } catch (...) {
    }
    ::_exit(static_cast<int>(recorded));
  }
  const char bytes[2] = {'g', 'g'};
  REQUIRE(::write(go[1], bytes, 2) == 2);
  const std::size_t mine = run_once();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  const auto theirs = static_cast<std::size_t>(WEXITSTATUS(status));
  ::close(go[0]);
  ::close(go[1]);

  CHECK(mine + theirs == channels.size());
  SqliteStateStore store(file);
  CHECK(store.outbox_backlog() == channels.size());
  CHECK(store.counter("digests_posted") == static_cast<std::int64_t>(channels.size()));
  for (const auto& channel : channels) CHECK(store.outbox_state("digest:" + channel + ":2026-11-22#0") == "pending");
}

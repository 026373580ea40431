#include "bot/index_sync.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/memory_state_store.h"

namespace {

using roundup::bot::IndexSync;
using roundup::bot::IndexSyncOptions;
using roundup::bot::Knowledge;

// A replica's knowledge base: its generation is what its corpus holds when it last rebuilt.
class CorpusKnowledge final : public Knowledge {
 public:
  explicit CorpusKnowledge(std::shared_ptr<std::string> corpus) : corpus_(std::move(corpus)), generation_(*corpus_) {}
  roundup::bot::Answer answer(std::string_view, const roundup::bot::CommandSpelling&) const override { return {}; }
  roundup::bot::Answer follow_up(const roundup::bot::FollowUpQuestion&,
                                 const roundup::bot::CommandSpelling&) const override {
    return {};
  }
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine() const override { return nullptr; }
  ReindexOutcome reindex() override {
    ++rebuilds;
    if (busy) return {false, "a reindex is running", true};
    if (broken) return {false, "corpus unreadable", false};
    generation_ = *corpus_;
    // As the service wires it: a successful reindex is announced, unless the sync is following.
    if (sync) sync->announce_reindex();
    return {true, "reindexed", false};
  }
  std::vector<std::string> stats_lines() const override { return {}; }
  std::uintmax_t index_bytes() const override { return 0; }
  std::string index_generation() const override { return generation_; }

  std::atomic<int> rebuilds{0};
  bool busy = false;
  bool broken = false;
  IndexSync* sync = nullptr;

 private:
  std::shared_ptr<std::string> corpus_;
  std::string generation_;
};

struct Replica {
  Replica(roundup::testing::MemoryStateStore& store, std::shared_ptr<std::string> corpus, std::string id,
          std::atomic<std::int64_t>& now)
      : knowledge(std::move(corpus)), sync(store, knowledge, options(std::move(id)), [&now] { return now.load(); }) {
    knowledge.sync = &sync;
  }
  static IndexSyncOptions options(std::string id) {
    IndexSyncOptions options;
    options.replica_id = std::move(id);
    options.period = std::chrono::hours(1);  // the test calls follow() itself
    options.report_ttl = std::chrono::minutes(10);
    return options;
  }
  CorpusKnowledge knowledge;
  IndexSync sync;
};

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("index sync: an admin's reindex on one replica is followed by the others - once, with no echo") {
  roundup::testing::MemoryStateStore store;
  std::atomic<std::int64_t> now{1'000'000};
  auto corpus = std::make_shared<std::string>("gen1");  // one corpus, as on one volume
  Replica a(store, corpus, "a", now);
  Replica b(store, corpus, "b", now);
  a.sync.start();
  b.sync.start();
  CHECK(a.sync.stats_lines() == std::vector<std::string>{"Replica a: index gen1 (this one)", "Replica b: index gen1"});

  *corpus = "gen2";  // a new roundup arrives; an admin reindexes through replica a
  CHECK(a.knowledge.reindex().ok);
  CHECK(contains(b.sync.stats_lines(), "Replica a: index gen2"));
  CHECK(contains(b.sync.stats_lines(), "Replicas serve different indexes"));
  b.sync.follow();
  CHECK(b.knowledge.rebuilds == 1);
  CHECK(b.knowledge.index_generation() == "gen2");
  CHECK_FALSE(contains(a.sync.stats_lines(), "different"));
  CHECK(contains(a.sync.stats_lines(), "Replica b: index gen2"));
  // b's rebuild announced nothing (no echo): neither replica rebuilds again.
  a.sync.follow();
  b.sync.follow();
  CHECK(a.knowledge.rebuilds == 1);
  CHECK(b.knowledge.rebuilds == 1);
  a.sync.stop();
  b.sync.stop();
}

TEST_CASE("index sync: a follower that finds a build running tries again - one whose build fails waits for the next") {
  roundup::testing::MemoryStateStore store;
  std::atomic<std::int64_t> now{1'000'000};
  auto corpus = std::make_shared<std::string>("gen1");
  Replica a(store, corpus, "a", now);
  Replica b(store, corpus, "b", now);
  a.sync.start();
  b.sync.start();
  *corpus = "gen2";
  a.sync.announce_reindex();

  b.knowledge.busy = true;
  b.sync.follow();
  b.knowledge.busy = false;
  b.sync.follow();  // tried again
  CHECK(b.knowledge.rebuilds == 2);
  CHECK(b.knowledge.index_generation() == "gen2");

  *corpus = "gen3";
  a.sync.announce_reindex();
  b.knowledge.broken = true;
  b.sync.follow();
  b.sync.follow();  // not again: a failing build is not retried at every look
  CHECK(b.knowledge.rebuilds == 3);
  CHECK(b.knowledge.index_generation() == "gen2");
  b.knowledge.broken = false;
  a.sync.announce_reindex();  // the next announcement is followed
  b.sync.follow();
  CHECK(b.knowledge.index_generation() == "gen3");
  b.sync.stop();
  a.sync.stop();
}

TEST_CASE(
    "index sync: stats list replicas that reported recently, and a replica that starts late follows nothing old") {
  roundup::testing::MemoryStateStore store;
  std::atomic<std::int64_t> now{1'000'000};
  auto corpus = std::make_shared<std::string>("gen1");
  Replica a(store, corpus, "a", now);
  a.sync.start();
  a.sync.announce_reindex();
  {
    Replica gone(store, std::make_shared<std::string>("old"), "gone", now);
    gone.sync.start();
    gone.sync.stop();
  }
  CHECK(contains(a.sync.stats_lines(), "Replica gone: index old"));
  now += 11 * 60 * 1000;  // "gone" has not reported for 11 minutes; a reports at each look
  a.sync.follow();
  CHECK(a.sync.stats_lines() == std::vector<std::string>{"Replica a: index gen1 (this one)"});
  // A replica started after the announcement built its index from the corpus already: no rebuild.
  Replica late(store, corpus, "late", now);
  late.sync.start();
  late.sync.follow();
  CHECK(late.knowledge.rebuilds == 0);
  late.sync.stop();
  // One that comes back with the index it had before the reindex (a container restart without a
  // build) rebuilds once at its first look.
  auto stale_corpus = std::make_shared<std::string>("gen0");
  Replica stale(store, stale_corpus, "stale", now);
  *stale_corpus = "gen1";  // the corpus has the new roundup; the index it opens does not
  stale.sync.start();
  stale.sync.follow();
  stale.sync.follow();
  CHECK(stale.knowledge.rebuilds == 1);
  CHECK(stale.knowledge.index_generation() == "gen1");
  stale.sync.stop();
  a.sync.stop();
}

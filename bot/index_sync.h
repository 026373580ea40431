#pragma once
// Keeps replicas that share a state store on the same index generation. An admin's /reindex runs
// on the replica that received it; that replica then announces it in the store (the key
// "index.reindex": a sequence number), and every other replica, looking every `period`, rebuilds
// from its own corpus when the number has moved. Replicas reading the same corpus (one image, or
// one volume) then serve the same generation (retrieval::KnowledgeBase::generation()). Each
// replica reports the generation it serves under "index.replica.<id>"; /stats lists them and says
// so when they differ.
//
// A row polled through the KeyValues port rather than LISTEN/NOTIFY: it works on every backend,
// costs one small read per period, and a replica that was down when the reindex happened catches
// up at its next look. A reindex reaches every replica within one period plus its own build.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bot/knowledge.h"
#include "bot/state_store.h"

namespace roundup::bot {

struct IndexSyncOptions {
  std::string replica_id;  // make_replica_id()
  std::chrono::milliseconds period{5000};
  // /stats lists replicas that reported within this long (a replica reports every period).
  std::chrono::milliseconds report_ttl{std::chrono::minutes(10)};
};

class IndexSync {
 public:
  IndexSync(KeyValues& values, Knowledge& knowledge, IndexSyncOptions options, std::function<std::int64_t()> now_ms);
  ~IndexSync();  // stop()
  IndexSync(const IndexSync&) = delete;
  IndexSync& operator=(const IndexSync&) = delete;

  // Takes the announced sequence as seen (the index this replica just opened was built from its
  // corpus after it), reports its generation, and starts looking every period.
  void start();
  void stop();

  // After an admin's reindex succeeded on this replica: tells the others to rebuild. Ignored for
  // the rebuilds follow() itself runs, so replicas never answer each other's announcements in a
  // loop. Never throws (a store that does not answer is logged).
  void announce_reindex();
  // One look (the thread's, or a test's): rebuilds when another replica announced a reindex this
  // one has not followed yet, then reports. A rebuild that fails is logged and not tried again
  // until the next announcement; one that found a build running is tried at the next look.
  void follow();
  // For /stats: this replica's generation and every replica's that reported recently.
  std::vector<std::string> stats_lines() const;

 private:
  // The last announced reindex: its sequence (0 when none) and the generation it produced.
  std::pair<std::int64_t, std::string> announcement() const;
  void report();
  void run();

  KeyValues& values_;
  Knowledge& knowledge_;
  IndexSyncOptions options_;
  std::function<std::int64_t()> now_ms_;
  std::atomic<std::int64_t> seen_{0};  // the announced sequence this replica's index reflects
  std::atomic<bool> following_{false};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roundup::bot

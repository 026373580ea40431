#pragma once
// Inbound work that a platform delivered and the bot acknowledged: recorded durably first (which
// also deduplicates platform retries), then handled on a bounded pool of worker threads so the
// I/O threads that acked it never wait for retrieval. Webhook acks record through submit_async():
// a committer thread writes whatever was submitted meanwhile in one transaction (group commit),
// because one commit per ack, under the store's single lock, is what limited the ack rate. A handler turns one item
// into the replies to send; replies and "done" are committed together, then the outbox delivers them. Items not
// finished when the process stopped or crashed are handled again at the next start, and their
// replies' idempotency keys make that safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bot/outbox.h"
#include "bot/state_store.h"

namespace roundup::bot {

// Turns one item into replies. May throw: the item is then logged and dropped rather than
// retried forever; handlers should turn expected failures into an apology reply instead.
using InboundHandler = std::function<std::vector<OutgoingMessage>(const InboundItem& item)>;

struct InboxOptions {
  int workers = 4;
  // Items beyond this wait in the database (not in memory) until a worker is free.
  std::size_t queue_limit = 1024;
};

class Inbox {
 public:
  Inbox(StateStore& store, Outbox& outbox, InboxOptions options, ClockMs clock = system_now_ms);
  ~Inbox();  // stop()

  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void add_handler(const std::string& platform, InboundHandler handler);  // before start()

  enum class Submitted { accepted, duplicate };
  // Records the item durably and queues it. Fast (one SQLite insert); safe on I/O threads.
  // Throws StateError when the database cannot record it, so the caller can refuse the request
  // and let the platform retry.
  Submitted submit(std::string_view key, std::string_view platform, std::string_view payload);

  struct SubmitResult {
    Submitted submitted = Submitted::accepted;  // when !error
    std::optional<StateError> error;            // set: nothing was recorded; refuse the request
  };
  using SubmitDone = std::function<void(const SubmitResult&)>;
  // Records the item in the next group commit and calls `done` exactly once: after the commit
  // (so an ack sent from `done` never promises an item that is not durable), with the error when
  // that commit failed, or at once, on the calling thread, after stop(). Never waits for the
  // database. `done` runs on the committer thread, where it holds up the next commit: it must be
  // quick (send the ack, log) and must not call submit() or submit_async().
  void submit_async(std::string key, std::string platform, std::string payload, SubmitDone done);

  // Starts the workers and queues whatever a previous run left unfinished.
  void start();
  // Finishes the items being handled and joins; queued items stay pending in the database.
  // Commits what submit_async() has queued and completes its callbacks before it returns.
  void stop();

  std::size_t handled() const;
  // Transactions the committer has run (each holding one or more submit_async() items).
  std::size_t group_commits() const { return group_commits_.load(); }

 private:
  void run();
  void refill_from_store();  // with mutex_ held
  void handle(const InboundItem& item);
  // With mutex_ held. The item is queued whole, so a worker does not read it back from the store.
  void queue_accepted(InboundItem item);

  struct PendingSubmit {
    std::string key;
    std::string platform;
    std::string payload;
    SubmitDone done;
  };
  void commit_loop();
  void commit(std::vector<PendingSubmit>& batch);

  StateStore& store_;
  Outbox& outbox_;
  InboxOptions options_;
  ClockMs clock_;
  std::map<std::string, InboundHandler> handlers_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<InboundItem> queue_;
  std::unordered_set<std::int64_t> queued_or_running_;
  bool overflowed_ = false;  // some accepted items are only in the database
  bool stopping_ = false;
  bool started_ = false;
  std::size_t handled_ = 0;
  std::vector<std::thread> threads_;

  // Group commit. Its own lock, so submitting never waits for a worker or for the database.
  std::mutex commit_mutex_;
  std::condition_variable commit_changed_;
  std::vector<PendingSubmit> commit_queue_;
  bool commit_stopping_ = false;
  std::atomic<std::size_t> group_commits_{0};
  std::thread committer_;  // last: started in the constructor, after everything it uses
};

}  // namespace roundup::bot

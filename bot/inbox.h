#pragma once
// Inbound work that a platform delivered and the bot acknowledged: recorded durably first (which
// also deduplicates platform retries), then handled on a bounded pool of worker threads so the
// I/O threads that acked it never wait for retrieval. Webhook acks record through submit_async():
// a committer thread writes whatever was submitted meanwhile in one transaction (group commit),
// because one commit per ack, under the store's single lock, is what limited the ack rate. A handler turns one item
// into the replies to send; replies and "done" are committed together, then the outbox delivers them. Items not
// finished when the process stopped or crashed are handled again at the next start, and their
// replies' idempotency keys make that safe.
//
// Poison items: every handler run is counted in the database before it starts, so a run that
// crashes the process, throws or hangs is counted too. An item whose runs failed max_attempts
// times is quarantined (set aside, logged once, counted in roundup_inbound_quarantined_total, and
// answered with the platform's apology where it has one) instead of being handled at every start.
// An item that was started before and not finished (after a crash) runs alone, with no other
// handler beside it, so a crash it causes is not counted against the items that happened to run
// next to it.
//
// Replicas sharing a store claim work instead of copying it (InboundClaim): an item is claimed by
// the replica that accepted it, or by the first to find it unclaimed, and only the holder runs it.
// Each inbox renews its claims every third of claim_ttl and, at the same tick, claims what no one
// holds: work whose replica died (its claims expired) or that was accepted while every queue was
// full. A clean stop releases its claims for the others at once.

#include <atomic>
#include <chrono>
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
#include "telemetry/metrics.h"

namespace roundup::bot {

// Turns one item into replies. May throw: the run then counts as a failed attempt and the item is
// tried again after a backoff, up to InboxOptions::max_attempts; handlers should turn expected
// failures into an apology reply instead.
using InboundHandler = std::function<std::vector<OutgoingMessage>(const InboundItem& item)>;
// The apology for an item being quarantined, addressed as its answer would be. Must not run the
// work that failed (no retrieval): it reads only the item's addressing. May throw, or return
// nothing, when the item cannot be answered; it is quarantined without an apology then.
using ApologyBuilder = std::function<std::vector<OutgoingMessage>(const InboundItem& item)>;

struct InboxOptions {
  int workers = 4;
  // Items beyond this wait in the database (not in memory) until a worker is free.
  std::size_t queue_limit = 1024;
  // Handler runs (ended by a crash, an exception or a restart after a timeout) before an item is
  // quarantined. 1 means no second run: an item that crashed the process is set aside at the next
  // start, and so is one that was running beside it.
  int max_attempts = 3;
  // A handler still running after this is logged once and counted (stuck_handlers()); it keeps
  // its worker, since a thread cannot be stopped from outside. Its attempt is already counted, so
  // a restart by the operator or a supervisor counts against it.
  std::chrono::milliseconds handler_timeout{60000};
  // Wait before trying again after a handler threw or a database write failed; doubles each time.
  std::chrono::milliseconds min_retry_backoff{1000};
  std::chrono::milliseconds max_retry_backoff{60000};
  // Workers run this much nicer than the threads that start the inbox (the I/O threads), so acks
  // keep their share of the cores while every worker is answering. 0 leaves them as they are.
  int worker_nice_increment = 10;
  // Where the inbox's counters live; null means the process-wide telemetry::metrics().
  telemetry::Registry* registry = nullptr;
  // This replica's id (bot::make_replica_id): the owner of the work it claims. Replicas sharing a
  // store must have different ones.
  std::string owner = "local";
  // A claim lasts this long unless renewed. Work a dead replica held is taken over after at most
  // claim_ttl plus a third of it.
  std::chrono::milliseconds claim_ttl{30000};
};

class Inbox {
 public:
  Inbox(InboundLog& store, Outbox& outbox, InboxOptions options, ClockMs clock = system_now_ms);
  ~Inbox();  // stop()

  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Before start(). `apology` (optional) answers the items of this platform that get quarantined.
  void add_handler(const std::string& platform, InboundHandler handler, ApologyBuilder apology = {});

  enum class Submitted { accepted, duplicate };
  // Records the item durably and queues it. Fast (one insert in the inbound log); safe on I/O threads.
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

  // Handlers running longer than handler_timeout now (for readiness: a worker may be wedged).
  std::size_t stuck_handlers() const;
  // Waits until nothing is queued, waiting for a retry, running or left in the database by an
  // overflow; false when `limit` passed first. For tests and tools that run the inbox to the end.
  bool wait_until_idle(std::chrono::milliseconds limit);
  // Transactions the committer has run (each holding one or more submit_async() items).
  std::size_t group_commits() const { return group_commits_.load(); }

 private:
  struct Platform {
    InboundHandler handler;
    ApologyBuilder apology;
    telemetry::Counter* quarantined = nullptr;
    telemetry::Counter* timeouts = nullptr;
  };
  // A handler run in progress.
  struct Running {
    std::string key;
    std::string platform;
    std::chrono::steady_clock::time_point deadline;
    bool alone = false;  // a suspect: nothing else starts while it runs (until it is over time)
    bool over_time = false;
  };

  void run();
  void watch();                  // the timeout watchdog's thread
  bool may_start_front() const;  // with mutex_ held
  bool idle() const;             // with mutex_ held
  void promote_due_retries();    // with mutex_ held
  void refill_from_store();      // with mutex_ held: claims unclaimed work while the queue has room
  InboundClaim claim() const;    // this inbox's claim, from now for claim_ttl
  void keep_claims(const std::vector<std::int64_t>& held);  // renews the claims on `held`
  // Runs one item; returns when it should run again (after a thrown handler or a write that could
  // not be made), nullopt when it is finished with: completed, quarantined, or left to the next
  // start because the inbox is stopping.
  std::optional<std::chrono::steady_clock::time_point> handle(InboundItem& item);
  void quarantine(const InboundItem& item, const Platform* platform);
  // Runs `write` until it succeeds, waiting with backoff between failures; false when the inbox
  // stopped first (the item stays pending in the database).
  bool write_until_done(const InboundItem& item, std::string_view what, const std::function<void()>& write);
  std::chrono::milliseconds retry_backoff(int failures) const;
  // With mutex_ held. The item is queued whole, so a worker does not read it back from the store.
  void queue_claimed(InboundItem item);
  // With mutex_ held: whether `count` more items fit in the queue, so that they are accepted
  // claimed; otherwise they are accepted unclaimed and wait in the store for any replica.
  bool has_room(std::size_t count) const;

  struct PendingSubmit {
    std::string key;
    std::string platform;
    std::string payload;
    SubmitDone done;
  };
  void commit_loop();
  void commit(std::vector<PendingSubmit>& batch);

  InboundLog& store_;
  Outbox& outbox_;
  InboxOptions options_;
  ClockMs clock_;
  std::map<std::string, Platform> platforms_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::condition_variable watch_changed_;  // the watchdog's: a handler started, or stopping
  std::deque<InboundItem> queue_;
  std::multimap<std::chrono::steady_clock::time_point, InboundItem> retries_;  // by due time
  std::map<std::int64_t, Running> running_;
  std::unordered_set<std::int64_t> queued_or_running_;
  bool overflowed_ = false;  // some accepted items are only in the database
  bool stopping_ = false;
  bool started_ = false;
  std::vector<std::thread> threads_;
  std::thread watchdog_;
  std::chrono::steady_clock::time_point next_claim_tick_{};  // the watchdog's

  // Group commit. Its own lock, so submitting never waits for a worker or for the database.
  std::mutex commit_mutex_;
  std::condition_variable commit_changed_;
  std::vector<PendingSubmit> commit_queue_;
  bool commit_stopping_ = false;
  std::atomic<std::size_t> group_commits_{0};
  std::thread committer_;  // last: started in the constructor, after everything it uses
};

}  // namespace roundup::bot

#include "bot/inbox.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iterator>
#include <utility>

#include "telemetry/log.h"

namespace roundup::bot {
namespace {

// Items per transaction at most, so one commit (and the acks waiting for it) stays short even
// when a burst has queued thousands.
constexpr std::size_t k_max_group = 256;

using SteadyClock = std::chrono::steady_clock;

// Makes the calling thread `increment` nicer. On Linux a thread has its own nice value, which
// setpriority() on its thread id changes; raising it needs no privilege. A failure costs only the
// priority of acks over answers, so it is logged (once per process) and the worker runs anyway.
void lower_thread_priority(int increment) {
  if (increment <= 0) return;
  static std::atomic<bool> reported{false};
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if ((current == -1 && errno != 0) || setpriority(PRIO_PROCESS, tid, std::min(current + increment, 19)) != 0) {
    const int failure = errno;
    if (!reported.exchange(true)) {
      log::warn("inbox", "cannot lower the workers' scheduling priority; acks may wait behind answers",
                {{"error", std::strerror(failure)}});
    }
  }
}

}  // namespace

Inbox::Inbox(InboundLog& store, Outbox& outbox, InboxOptions options, ClockMs clock)
    : store_(store), outbox_(outbox), options_(std::move(options)), clock_(std::move(clock)) {
  options_.workers = std::max(1, options_.workers);
  options_.queue_limit = std::max<std::size_t>(1, options_.queue_limit);
  options_.max_attempts = std::max(1, options_.max_attempts);
  options_.min_retry_backoff = std::max(std::chrono::milliseconds(1), options_.min_retry_backoff);
  options_.max_retry_backoff = std::max(options_.min_retry_backoff, options_.max_retry_backoff);
  options_.claim_ttl = std::max(std::chrono::milliseconds(30), options_.claim_ttl);
  committer_ = std::thread([this] { commit_loop(); });
}

Inbox::~Inbox() {
  stop();
}

void Inbox::add_handler(const std::string& platform, InboundHandler handler, ApologyBuilder apology) {
  telemetry::Registry& registry = options_.registry ? *options_.registry : telemetry::metrics();
  Platform entry{std::move(handler), std::move(apology), nullptr, nullptr};
  entry.quarantined =
      &registry.counter("roundup_inbound_quarantined_total",
                        "Inbound items set aside after failing inbox.max_attempts times", {{"platform", platform}});
  entry.timeouts =
      &registry.counter("roundup_inbound_handler_timeouts_total",
                        "Handler runs still going after inbox.handler_timeout_ms", {{"platform", platform}});
  std::lock_guard lock(mutex_);
  platforms_[platform] = std::move(entry);
}

InboundClaim Inbox::claim() const {
  return {options_.owner, clock_() + options_.claim_ttl.count()};
}

bool Inbox::has_room(std::size_t count) const {
  return queue_.size() + count <= options_.queue_limit;
}

Inbox::Submitted Inbox::submit(std::string_view key, std::string_view platform, std::string_view payload) {
  bool room = false;
  {
    std::lock_guard lock(mutex_);
    room = has_room(1);
  }
  const auto id = store_.accept_inbound(key, platform, payload, clock_(), room ? claim() : InboundClaim{});
  if (!id) return Submitted::duplicate;
  {
    std::lock_guard lock(mutex_);
    if (room) {
      queue_claimed({*id, std::string(key), std::string(platform), std::string(payload)});
    } else {
      overflowed_ = true;
    }
  }
  changed_.notify_one();
  return Submitted::accepted;
}

void Inbox::queue_claimed(InboundItem item) {
  // Claimed items are always queued, also when a refill filled the queue since has_room() was
  // asked: no one else may run them. That overshoot is at most one group commit.
  queued_or_running_.insert(item.id);
  queue_.push_back(std::move(item));
}

void Inbox::submit_async(std::string key, std::string platform, std::string payload, SubmitDone done) {
  {
    std::lock_guard lock(commit_mutex_);
    if (!commit_stopping_) {
      const bool was_empty = commit_queue_.empty();
      commit_queue_.push_back({std::move(key), std::move(platform), std::move(payload), std::move(done)});
      // A committer that is busy looks at the queue again when it finishes; only an idle one
      // (empty queue) needs waking.
      if (was_empty) commit_changed_.notify_one();
      return;
    }
  }
  SubmitResult result;
  result.error.emplace("state database: the inbox is stopped");
  done(result);
}

void Inbox::commit_loop() {
  std::vector<PendingSubmit> batch;
  std::unique_lock lock(commit_mutex_);
  while (true) {
    commit_changed_.wait(lock, [&] { return commit_stopping_ || !commit_queue_.empty(); });
    // After stop() the queue is still committed: its callers are waiting for an answer.
    if (commit_queue_.empty()) return;
    if (commit_queue_.size() <= k_max_group) {
      batch.swap(commit_queue_);
    } else {
      const auto end = commit_queue_.begin() + static_cast<std::ptrdiff_t>(k_max_group);
      batch.assign(std::make_move_iterator(commit_queue_.begin()), std::make_move_iterator(end));
      commit_queue_.erase(commit_queue_.begin(), end);
    }
    lock.unlock();
    commit(batch);
    batch.clear();
    lock.lock();
  }
}

void Inbox::commit(std::vector<PendingSubmit>& batch) {
  std::vector<InboundLog::InboundRecord> records;
  records.reserve(batch.size());
  for (const auto& item : batch) records.push_back({item.key, item.platform, item.payload});
  std::vector<std::optional<std::int64_t>> ids;
  std::optional<StateError> error;
  bool room = false;
  {
    std::lock_guard lock(mutex_);
    room = has_room(batch.size());
  }
  try {
    ids = store_.accept_inbound_batch(records, clock_(), room ? claim() : InboundClaim{});
  } catch (const StateError& failure) {
    error = failure;
  } catch (const std::exception& failure) {
    error.emplace(std::string("state database: ") + failure.what());
  }
  ++group_commits_;
  std::size_t accepted = 0;
  if (!error) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!ids[i]) continue;
      ++accepted;
      if (!room) {
        overflowed_ = true;  // unclaimed in the store, for whichever replica has room first
        continue;
      }
      // The callbacks below still log the key; platform and payload are not needed again.
      queue_claimed({*ids[i], batch[i].key, std::move(batch[i].platform), std::move(batch[i].payload)});
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    SubmitResult result;
    if (error) {
      result.error = error;
    } else {
      result.submitted = ids[i] ? Submitted::accepted : Submitted::duplicate;
    }
    // One callback's failure must not leave the others without their answer.
    try {
      batch[i].done(result);
    } catch (const std::exception& failure) {
      log::error("inbox", "submit callback failed", {{"key", batch[i].key}, {"error", failure.what()}});
    } catch (...) {
      log::error("inbox", "submit callback failed", {{"key", batch[i].key}});
    }
  }
  // Workers are woken only after the acks are on their way: a woken worker competes for the cores
  // with the I/O threads that still have to write those acks.
  if (accepted == 1) {
    changed_.notify_one();
  } else if (accepted > 1) {
    changed_.notify_all();
  }
}

void Inbox::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  // What this replica held before a restart (its id is stable) is not being run by anyone now.
  try {
    store_.release_inbound_claims(options_.owner);
  } catch (const std::exception& error) {
    log::warn("inbox", "cannot release the claims of the previous run; they expire on their own",
              {{"error", error.what()}, {"claim_ttl_ms", std::to_string(options_.claim_ttl.count())}});
  }
  next_claim_tick_ = SteadyClock::now() + options_.claim_ttl / 3;
  refill_from_store();
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { run(); });
  watchdog_ = std::thread([this] { watch(); });
}

void Inbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  watch_changed_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  if (watchdog_.joinable()) watchdog_.join();
  {
    std::lock_guard lock(commit_mutex_);
    commit_stopping_ = true;
  }
  commit_changed_.notify_all();
  if (committer_.joinable()) committer_.join();
  // Queued work, and what the committer accepted last, goes to the other replicas at once rather
  // than after claim_ttl.
  try {
    store_.release_inbound_claims(options_.owner);
  } catch (const std::exception& error) {
    log::warn("inbox", "cannot release this replica's claims at stop; they expire on their own",
              {{"error", error.what()}});
  }
}

std::size_t Inbox::stuck_handlers() const {
  const auto now = SteadyClock::now();
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(running_.begin(), running_.end(), [&](const auto& entry) { return entry.second.deadline <= now; }));
}

bool Inbox::idle() const {
  return queue_.empty() && retries_.empty() && queued_or_running_.empty() && !overflowed_;
}

bool Inbox::wait_until_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, limit, [&] { return idle(); });
}

void Inbox::refill_from_store() {
  const std::size_t room = options_.queue_limit - std::min(options_.queue_limit, queue_.size());
  if (room == 0) {
    overflowed_ = true;  // look again when the queue has drained
    return;
  }
  try {
    const auto items = store_.claim_inbound(claim(), clock_(), room);
    for (const auto& item : items) {
      // Already here when this inbox's own claim had expired (renewals failed) and it took the
      // item back.
      if (queued_or_running_.count(item.id) != 0) continue;
      queued_or_running_.insert(item.id);
      queue_.push_back(item);
    }
    overflowed_ = items.size() == room;  // there may be more
  } catch (const std::exception& error) {
    // The watchdog's next tick tries again (a worker trying at once would spin while the store is down).
    overflowed_ = false;
    log::error("inbox", "cannot claim pending work", {{"error", error.what()}});
  }
}

void Inbox::keep_claims(const std::vector<std::int64_t>& held) {
  try {
    store_.renew_inbound_claims(claim(), held);
  } catch (const std::exception& error) {
    // Another replica may take this work over once the claims expire; start_inbound_attempt()
    // then refuses it here, so it still runs once.
    log::error("inbox", "cannot renew this replica's claims", {{"error", error.what()}});
  }
}

void Inbox::promote_due_retries() {
  const auto now = SteadyClock::now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    queue_.push_back(std::move(retries_.begin()->second));
    retries_.erase(retries_.begin());
  }
}

bool Inbox::may_start_front() const {
  if (queue_.empty()) return false;
  // A suspect running alone keeps the others waiting until it ends or is over time.
  for (const auto& [id, running] : running_) {
    if (running.alone && !running.over_time) return false;
  }
  // A suspect (started before and never finished: maybe it crashed the process) waits until it can
  // run alone. The queue keeps its order: nothing overtakes it meanwhile.
  return queue_.front().attempts == 0 || running_.empty();
}

void Inbox::run() {
  lower_thread_priority(options_.worker_nice_increment);
  std::unique_lock lock(mutex_);
  while (true) {
    promote_due_retries();
    const auto ready = [&] { return stopping_ || may_start_front() || (queue_.empty() && overflowed_); };
    if (retries_.empty()) {
      changed_.wait(lock, ready);
    } else {
      // A copy: wait_until reads its deadline again after each wake-up, and another worker may
      // have taken that retry (freeing the map node) by then.
      const auto next_retry = retries_.begin()->first;
      changed_.wait_until(lock, next_retry, ready);
    }
    if (stopping_) return;
    promote_due_retries();
    if (queue_.empty()) {
      if (overflowed_) refill_from_store();
      if (queue_.empty() && idle()) changed_.notify_all();  // for wait_until_idle()
      continue;
    }
    if (!may_start_front()) continue;
    InboundItem item = std::move(queue_.front());
    queue_.pop_front();
    running_[item.id] = {item.key, item.platform, SteadyClock::now() + options_.handler_timeout, item.attempts > 0};
    watch_changed_.notify_one();
    lock.unlock();
    const auto again = handle(item);
    lock.lock();
    const auto running = running_.find(item.id);
    bool was_alone = false;
    if (running != running_.end()) {
      was_alone = running->second.alone;
      running_.erase(running);
    }
    if (again && !stopping_) {
      retries_.emplace(*again, std::move(item));
    } else {
      queued_or_running_.erase(item.id);
    }
    // Workers held back by a suspect running alone, or waiting for the others to finish so that a
    // suspect can run, and wait_until_idle(). Otherwise no one waits for this item to end: the
    // queue's items were announced when they came.
    if (was_alone || (!queue_.empty() && queue_.front().attempts > 0) || idle()) changed_.notify_all();
  }
}

void Inbox::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (SteadyClock::now() >= next_claim_tick_) {
      // The store is asked without mutex_: a slow database must not hold up acks (has_room) or
      // readiness (stuck_handlers) behind this tick.
      const std::vector<std::int64_t> held(queued_or_running_.begin(), queued_or_running_.end());
      const std::size_t room = options_.queue_limit - std::min(options_.queue_limit, queue_.size());
      lock.unlock();
      keep_claims(held);
      // Work no one holds: a dead replica's, a claim this inbox lost track of, or work accepted
      // unclaimed while every queue was full.
      std::vector<InboundItem> claimed;
      if (room > 0) {
        try {
          claimed = store_.claim_inbound(claim(), clock_(), room);
        } catch (const std::exception& error) {
          log::error("inbox", "cannot claim pending work", {{"error", error.what()}});
        }
      }
      lock.lock();
      if (stopping_) return;  // what was claimed is released by stop()
      bool added = false;
      for (auto& item : claimed) {
        if (!queued_or_running_.insert(item.id).second) continue;
        queue_.push_back(std::move(item));
        added = true;
      }
      if (room > 0 && claimed.size() == room) overflowed_ = true;  // there may be more
      if (added) changed_.notify_all();
      next_claim_tick_ = SteadyClock::now() + options_.claim_ttl / 3;
      continue;  // stopping_ and the deadlines are looked at again
    }
    const auto now = SteadyClock::now();
    auto next = next_claim_tick_;
    for (auto& [id, running] : running_) {
      if (running.over_time) continue;
      if (running.deadline > now) {
        next = std::min(next, running.deadline);
        continue;
      }
      running.over_time = true;
      const auto found = platforms_.find(running.platform);
      if (found != platforms_.end()) found->second.timeouts->inc();
      log::warn("inbox", "handler still running after the handler timeout; its worker stays busy",
                {{"key", running.key},
                 {"platform", running.platform},
                 {"timeout_ms", std::to_string(options_.handler_timeout.count())}});
      // Others may start now beside a suspect that is over time.
      if (running.alone) changed_.notify_all();
    }
    watch_changed_.wait_until(lock, next);
  }
}

std::chrono::milliseconds Inbox::retry_backoff(int failures) const {
  const auto doubled = options_.min_retry_backoff.count() * (std::int64_t{1} << std::clamp(failures - 1, 0, 20));
  return std::chrono::milliseconds(std::min<std::int64_t>(doubled, options_.max_retry_backoff.count()));
}

bool Inbox::write_until_done(const InboundItem& item, std::string_view what, const std::function<void()>& write) {
  for (int failures = 1;; ++failures) {
    const auto wait = retry_backoff(failures);
    try {
      write();
      if (failures > 1) log::info("inbox", "recorded after retrying", {{"key", item.key}, {"what", std::string(what)}});
      return true;
    } catch (const std::exception& error) {
      log::error("inbox", "cannot record the outcome; keeping it in memory and retrying",
                 {{"key", item.key},
                  {"what", std::string(what)},
                  {"error", error.what()},
                  {"retry_in_ms", std::to_string(wait.count())}});
    }
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, wait, [&] { return stopping_; })) {
      log::warn("inbox", "stopping before the outcome was recorded; the item is handled again at the next start",
                {{"key", item.key}});
      return false;
    }
  }
}

void Inbox::quarantine(const InboundItem& item, const Platform* platform) {
  std::vector<OutgoingMessage> apology;
  if (platform && platform->apology) {
    try {
      apology = platform->apology(item);
    } catch (const std::exception& error) {
      log::warn("inbox", "cannot build the apology; quarantining without one",
                {{"key", item.key}, {"error", error.what()}});
    }
  }
  if (!write_until_done(item, "quarantine", [&] { store_.quarantine_inbound(item.id, apology, clock_()); })) return;
  // The payload is the user's text: never logged.
  log::error("inbox", "item quarantined: it failed every attempt; it will not be handled again",
             {{"key", item.key}, {"platform", item.platform}, {"attempts", std::to_string(item.attempts)}});
  if (platform) platform->quarantined->inc();
  if (!apology.empty()) outbox_.wake();
}

std::optional<std::chrono::steady_clock::time_point> Inbox::handle(InboundItem& item) {
  const Platform* platform = nullptr;
  {
    std::lock_guard lock(mutex_);
    const auto found = platforms_.find(item.platform);
    if (found != platforms_.end()) platform = &found->second;
  }
  if (!platform) {
    log::warn("inbox", "no handler for this platform; dropping the item", {{"platform", item.platform}});
    write_until_done(item, "completion", [&] { store_.complete_inbound(item.id, {}, clock_()); });
    return std::nullopt;
  }
  if (item.attempts >= options_.max_attempts) {
    quarantine(item, platform);
    return std::nullopt;
  }
  // Counted, and committed, before the handler runs: a run that takes the process down with it
  // counts as well.
  try {
    const auto attempts = store_.start_inbound_attempt(item.id, claim());
    // Finished meanwhile, or no longer this replica's (its claim expired and another took it).
    if (!attempts) return std::nullopt;
    item.attempts = *attempts;
  } catch (const std::exception& error) {
    const auto wait = retry_backoff(1);
    log::error("inbox", "cannot count an attempt; the item waits",
               {{"key", item.key}, {"error", error.what()}, {"retry_in_ms", std::to_string(wait.count())}});
    return SteadyClock::now() + wait;
  }
  std::vector<OutgoingMessage> replies;
  try {
    replies = platform->handler(item);
  } catch (const std::exception& error) {
    if (item.attempts >= options_.max_attempts) {
      log::error("inbox", "handler failed", {{"platform", item.platform}, {"key", item.key}, {"error", error.what()}});
      quarantine(item, platform);
      return std::nullopt;
    }
    const auto wait = retry_backoff(item.attempts);
    log::error("inbox", "handler failed; will retry",
               {{"platform", item.platform},
                {"key", item.key},
                {"error", error.what()},
                {"attempt", std::to_string(item.attempts)},
                {"retry_in_ms", std::to_string(wait.count())}});
    return SteadyClock::now() + wait;
  }
  // The handler is done: a suspect no longer holds the others back while its outcome is written,
  // and a write that waits for the database is not a handler over time.
  bool was_alone = false;
  {
    std::lock_guard lock(mutex_);
    if (const auto found = running_.find(item.id); found != running_.end()) {
      was_alone = found->second.alone;
      found->second.alone = false;
      found->second.deadline = SteadyClock::time_point::max();
    }
  }
  if (was_alone) changed_.notify_all();
  // The replies stay in memory until recorded: handling the item again would redo the work, and
  // their idempotency keys make a repeated write harmless.
  if (write_until_done(item, "completion", [&] { store_.complete_inbound(item.id, replies, clock_()); }) &&
      !replies.empty()) {
    outbox_.wake();
  }
  return std::nullopt;
}

}  // namespace roundup::bot

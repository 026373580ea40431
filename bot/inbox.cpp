#include "bot/inbox.h"

#include <algorithm>
#include <exception>
#include <iterator>

#include "bot/log.h"

namespace roundup::bot {
namespace {

// Items per transaction at most, so one commit (and the acks waiting for it) stays short even
// when a burst has queued thousands.
constexpr std::size_t k_max_group = 256;

}  // namespace

Inbox::Inbox(StateStore& store, Outbox& outbox, InboxOptions options, ClockMs clock)
    : store_(store), outbox_(outbox), options_(options), clock_(std::move(clock)) {
  options_.workers = std::max(1, options_.workers);
  options_.queue_limit = std::max<std::size_t>(1, options_.queue_limit);
  committer_ = std::thread([this] { commit_loop(); });
}

Inbox::~Inbox() {
  stop();
}

void Inbox::add_handler(const std::string& platform, InboundHandler handler) {
  std::lock_guard lock(mutex_);
  handlers_[platform] = std::move(handler);
}

Inbox::Submitted Inbox::submit(std::string_view key, std::string_view platform, std::string_view payload) {
  const auto id = store_.accept_inbound(key, platform, payload, clock_());
  if (!id) return Submitted::duplicate;
  {
    std::lock_guard lock(mutex_);
    queue_accepted({*id, std::string(key), std::string(platform), std::string(payload)});
  }
  changed_.notify_one();
  return Submitted::accepted;
}

void Inbox::queue_accepted(InboundItem item) {
  if (queue_.size() >= options_.queue_limit) {
    overflowed_ = true;
  } else {
    queued_or_running_.insert(item.id);
    queue_.push_back(std::move(item));
  }
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
  std::vector<StateStore::InboundRecord> records;
  records.reserve(batch.size());
  for (const auto& item : batch) records.push_back({item.key, item.platform, item.payload});
  std::vector<std::optional<std::int64_t>> ids;
  std::optional<StateError> error;
  try {
    ids = store_.accept_inbound_batch(records, clock_());
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
      // The callbacks below still log the key; platform and payload are not needed again.
      queue_accepted({*ids[i], batch[i].key, std::move(batch[i].platform), std::move(batch[i].payload)});
      ++accepted;
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
  refill_from_store();
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { run(); });
}

void Inbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  {
    std::lock_guard lock(commit_mutex_);
    commit_stopping_ = true;
  }
  commit_changed_.notify_all();
  if (committer_.joinable()) committer_.join();
}

std::size_t Inbox::handled() const {
  std::lock_guard lock(mutex_);
  return handled_;
}

void Inbox::refill_from_store() {
  overflowed_ = false;
  try {
    // Oldest first; the items already queued or running come back too, so ask for that many more.
    const std::size_t room = options_.queue_limit - std::min(options_.queue_limit, queue_.size());
    for (auto& item : store_.pending_inbound(room + queued_or_running_.size() + 1)) {
      if (queued_or_running_.count(item.id) != 0) continue;
      if (queue_.size() >= options_.queue_limit) {
        overflowed_ = true;  // more is waiting in the database
        break;
      }
      queued_or_running_.insert(item.id);
      queue_.push_back(std::move(item));
    }
  } catch (const std::exception& error) {
    log::error("inbox", "cannot read pending work", {{"error", error.what()}});
  }
}

void Inbox::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty() || overflowed_; });
    if (stopping_) return;
    if (queue_.empty()) {
      refill_from_store();
      if (queue_.empty()) {
        overflowed_ = false;
        continue;
      }
    }
    const InboundItem item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    handle(item);
    lock.lock();
    queued_or_running_.erase(item.id);
    ++handled_;
  }
}

void Inbox::handle(const InboundItem& item) {
  InboundHandler handler;
  {
    std::lock_guard lock(mutex_);
    const auto found = handlers_.find(item.platform);
    if (found != handlers_.end()) handler = found->second;
  }
  std::vector<OutgoingMessage> replies;
  if (!handler) {
    log::warn("inbox", "no handler for this platform; dropping the item", {{"platform", item.platform}});
  } else {
    try {
      replies = handler(item);
    } catch (const std::exception& error) {
      log::error("inbox", "handler failed; dropping the item",
                 {{"platform", item.platform}, {"key", item.key}, {"error", error.what()}});
      replies.clear();
    }
  }
  try {
    store_.complete_inbound(item.id, replies, clock_());
  } catch (const std::exception& error) {
    // Left pending: handled again after a restart; idempotency keys prevent double replies.
    log::error("inbox", "cannot record completed work", {{"key", item.key}, {"error", error.what()}});
    return;
  }
  if (!replies.empty()) outbox_.wake();
}

}  // namespace roundup::bot

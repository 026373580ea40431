#include "bot/inbox.h"

#include <algorithm>
#include <exception>

#include "bot/log.h"

namespace roundup::bot {

Inbox::Inbox(StateStore& store, Outbox& outbox, InboxOptions options, ClockMs clock)
    : store_(store), outbox_(outbox), options_(options), clock_(std::move(clock)) {
  options_.workers = std::max(1, options_.workers);
  options_.queue_limit = std::max<std::size_t>(1, options_.queue_limit);
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
    if (queue_.size() >= options_.queue_limit) {
      overflowed_ = true;
    } else {
      queue_.push_back(*id);
      queued_or_running_.insert(*id);
    }
  }
  changed_.notify_one();
  return Submitted::accepted;
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
    for (const auto& item : store_.pending_inbound(room + queued_or_running_.size() + 1)) {
      if (queued_or_running_.count(item.id) != 0) continue;
      if (queue_.size() >= options_.queue_limit) {
        overflowed_ = true;  // more is waiting in the database
        break;
      }
      queued_or_running_.insert(item.id);
      queue_.push_back(item.id);
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
    const std::int64_t id = queue_.front();
    queue_.pop_front();
    lock.unlock();
    handle(id);
    lock.lock();
    queued_or_running_.erase(id);
    ++handled_;
  }
}

void Inbox::handle(std::int64_t id) {
  std::optional<InboundItem> item;
  try {
    item = store_.inbound(id);
  } catch (const std::exception& error) {
    log::error("inbox", "cannot load work item; it stays pending",
               {{"id", std::to_string(id)}, {"error", error.what()}});
    return;
  }
  if (!item) return;
  InboundHandler handler;
  {
    std::lock_guard lock(mutex_);
    const auto found = handlers_.find(item->platform);
    if (found != handlers_.end()) handler = found->second;
  }
  std::vector<OutgoingMessage> replies;
  if (!handler) {
    log::warn("inbox", "no handler for this platform; dropping the item", {{"platform", item->platform}});
  } else {
    try {
      replies = handler(*item);
    } catch (const std::exception& error) {
      log::error("inbox", "handler failed; dropping the item",
                 {{"platform", item->platform}, {"key", item->key}, {"error", error.what()}});
      replies.clear();
    }
  }
  try {
    store_.complete_inbound(id, replies, clock_());
  } catch (const std::exception& error) {
    // Left pending: handled again after a restart; idempotency keys prevent double replies.
    log::error("inbox", "cannot record completed work", {{"key", item->key}, {"error", error.what()}});
    return;
  }
  if (!replies.empty()) outbox_.wake();
}

}  // namespace roundup::bot

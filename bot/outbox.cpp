#include "bot/outbox.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <tuple>

#include "bot/log.h"

namespace roundup::bot {
namespace {

// Upper bound on an idle wait, so a message enqueued by another process sharing the database is
// noticed without a wake() from us.
constexpr std::int64_t k_max_idle_wait_ms = 1000;
constexpr std::size_t k_candidates = 32;
constexpr std::size_t k_max_buckets = 10000;

}  // namespace

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Outbox::Outbox(StateStore& store, OutboxOptions options, ClockMs clock)
    : store_(store),
      options_(std::move(options)),
      clock_(std::move(clock)),
      jitter_state_(static_cast<std::uint64_t>(system_now_ms()) | 1U) {
  options_.senders = std::max(1, options_.senders);
  options_.per_target_burst = std::max(1.0, options_.per_target_burst);
}

Outbox::~Outbox() {
  stop();
}

void Outbox::add_sender(const std::string& platform, Sender sender) {
  std::lock_guard lock(mutex_);
  senders_[platform] = std::move(sender);
}

void Outbox::on_attempt(std::function<void(const OutboxItem&, const Delivery&)> observer) {
  std::lock_guard lock(mutex_);
  observer_ = std::move(observer);
}

void Outbox::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  for (int i = 0; i < options_.senders; ++i) threads_.emplace_back([this] { run(); });
}

void Outbox::stop() {
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

void Outbox::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  changed_.notify_all();
}

// Token bucket per target. Returns false and how long to wait when the target has no token.
bool Outbox::take_token(const std::string& target, std::int64_t now_ms, std::int64_t& wait_ms) {
  if (buckets_.size() > k_max_buckets) {
    std::erase_if(buckets_, [&](const auto& entry) { return !busy_.count(entry.first); });
  }
  auto it = buckets_.find(target);
  if (it == buckets_.end()) {
    Bucket fresh;
    std::tie(fresh.rate, fresh.burst) =
        options_.pace ? options_.pace(target) : std::pair{options_.per_target_rate, options_.per_target_burst};
    fresh.rate = std::max(fresh.rate, 1e-3);
    fresh.burst = std::max(fresh.burst, 1.0);
    fresh.tokens = fresh.burst;
    fresh.updated_ms = now_ms;
    it = buckets_.emplace(target, fresh).first;
  }
  Bucket& bucket = it->second;
  const double refill = static_cast<double>(now_ms - bucket.updated_ms) / 1000.0 * bucket.rate;
  bucket.tokens = std::min(bucket.burst, bucket.tokens + std::max(0.0, refill));
  bucket.updated_ms = now_ms;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return true;
  }
  wait_ms = static_cast<std::int64_t>(std::ceil((1.0 - bucket.tokens) / bucket.rate * 1000.0));
  return false;
}

std::int64_t Outbox::backoff_ms(int attempts) {
  // Full jitter between half and all of the exponential step (xorshift: no shared <random> state).
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const double step =
      std::min(static_cast<double>(options_.max_backoff.count()),
               static_cast<double>(options_.min_backoff.count()) * std::pow(2.0, std::min(attempts, 30)));
  const double fraction = 0.5 + 0.5 * static_cast<double>(jitter_state_ % 1000) / 1000.0;
  return static_cast<std::int64_t>(step * fraction);
}

void Outbox::apply(const OutboxItem& item, const Delivery& delivery, std::int64_t now_ms) {
  const auto& message = item.message;
  switch (delivery.outcome) {
    case Delivery::Outcome::delivered: store_.mark_delivered(item.id, now_ms); return;
    case Delivery::Outcome::failed:
      store_.mark_failed(item.id, delivery.error, now_ms);
      log::error("outbox", "message refused by the platform; not retrying",
                 {{"platform", message.platform}, {"target", message.target}, {"error", delivery.error}});
      return;
    case Delivery::Outcome::retry: break;
  }
  if (now_ms - item.created_ms > options_.give_up_after.count()) {
    store_.mark_failed(item.id, "gave up: " + delivery.error, now_ms);
    log::error("outbox", "message undeliverable for too long; giving up",
               {{"platform", message.platform},
                {"target", message.target},
                {"error", delivery.error},
                {"attempts", std::to_string(item.attempts + 1)}});
    return;
  }
  const std::int64_t wait = delivery.retry_after.count() > 0 ? delivery.retry_after.count() : backoff_ms(item.attempts);
  store_.reschedule(item.id, now_ms + wait, delivery.error);
  log::warn("outbox", "delivery failed; will retry",
            {{"platform", message.platform},
             {"target", message.target},
             {"error", delivery.error},
             {"attempt", std::to_string(item.attempts + 1)},
             {"retry_in_ms", std::to_string(wait)}});
}

void Outbox::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const std::int64_t now = clock_();
    std::int64_t wait_ms = k_max_idle_wait_ms;
    std::optional<OutboxItem> chosen;
    Sender sender;
    try {
      std::unordered_set<std::string> excluded = busy_;
      excluded.insert(parked_.begin(), parked_.end());
      for (auto& item : store_.due_messages(now, k_candidates, excluded)) {
        const auto found = senders_.find(item.message.platform);
        if (found == senders_.end()) {
          if (parked_.insert(item.message.target).second) {
            log::warn("outbox", "no sender for this platform; its messages stay pending",
                      {{"platform", item.message.platform}, {"target", item.message.target}});
          }
          continue;
        }
        std::int64_t token_wait = 0;
        if (!take_token(item.message.target, now, token_wait)) {
          wait_ms = std::min(wait_ms, token_wait);
          continue;
        }
        sender = found->second;
        chosen = std::move(item);
        break;
      }
      if (!chosen) {
        if (const auto next = store_.next_due_ms()) wait_ms = std::min(wait_ms, std::max<std::int64_t>(1, *next - now));
      }
    } catch (const std::exception& error) {
      log::error("outbox", "cannot read the outbox; retrying", {{"error", error.what()}});
    }

    if (!chosen) {
      const auto seen = wakeups_;
      changed_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || wakeups_ != seen; });
      continue;
    }

    const std::string target = chosen->message.target;
    busy_.insert(target);
    lock.unlock();
    Delivery delivery;
    try {
      delivery = sender(*chosen);
    } catch (const std::exception& error) {
      delivery = Delivery::retry(std::string("sender error: ") + error.what());
    }
    try {
      apply(*chosen, delivery, clock_());
    } catch (const std::exception& error) {
      // The attempt stays pending in the store and is tried again.
      log::error("outbox", "cannot record a delivery result", {{"error", error.what()}});
    }
    std::function<void(const OutboxItem&, const Delivery&)> observer;
    lock.lock();
    observer = observer_;
    busy_.erase(target);
    lock.unlock();
    if (observer) observer(*chosen, delivery);
    changed_.notify_all();
    lock.lock();
  }
}

}  // namespace roundup::bot

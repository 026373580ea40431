#include "bot/outbox.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <tuple>

#include "telemetry/log.h"

namespace roundup::bot {
namespace {

// Upper bound on an idle wait, so a message enqueued by another process sharing the database is
// noticed without a wake() from us.
constexpr std::int64_t k_max_idle_wait_ms = 1000;
constexpr std::size_t k_max_buckets = 10000;
// How often the heads are reread in full, to notice what another process sharing the database
// delivered or rescheduled (this process's own changes are applied as they happen).
constexpr std::chrono::seconds k_full_read_interval{10};
// New messages read per query when catching up; a larger backlog takes several.
constexpr std::size_t k_scan_page = 1024;
// How long a target that another replica holds is left alone before its lease is asked for again.
constexpr std::chrono::seconds k_held_elsewhere_wait{1};

std::string target_lease(const std::string& target) {
  return "outbox:" + target;
}

}  // namespace

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Outbox::Outbox(OutboxQueue& store, OutboxOptions options, ClockMs clock)
    : store_(store),
      options_(std::move(options)),
      clock_(std::move(clock)),
      backoff_(options_.min_backoff, options_.max_backoff) {
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
  // A last try for outcomes still unrecorded: what is lost here is sent again after a restart.
  std::map<std::string, Unrecorded> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(unrecorded_);
  }
  std::unordered_set<std::string> still_unrecorded;
  for (const auto& [target, entry] : left) {
    try {
      apply(entry.item, entry.delivery, entry.at_ms);
    } catch (const std::exception& error) {
      still_unrecorded.insert(target);
      log::error("outbox", "stopping with a delivery result unrecorded; the message may be sent again after a restart",
                 {{"target", target}, {"error", error.what()}});
    }
  }
  // Another replica sends to these targets at once instead of after target_lease_ttl; not to one
  // whose last outcome is unrecorded, which it would send again at once.
  std::vector<std::string> leased;
  {
    std::lock_guard lock(mutex_);
    for (const auto& target : leased_) {
      if (still_unrecorded.count(target) == 0) leased.push_back(target);
    }
  }
  for (const auto& target : leased) hand_back(target);
}

void Outbox::wake() {
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
    // Many wakes before a sender looks (one per answered question, in a burst) fold into one look.
    notify = !rescan_requested_;
    rescan_requested_ = true;
  }
  // One sender looks; if it finds work it wakes another (see run()).
  if (notify) changed_.notify_one();
}

void Outbox::reload_head(const std::string& target) {
  if (const auto found = head_ids_.find(target); found != head_ids_.end()) {
    heads_.erase(found->second);
    head_ids_.erase(found);
  }
  if (auto head = store_.outbox_head(target)) {
    head_ids_[target] = head->item.id;
    heads_.emplace(head->item.id, std::move(*head));
  }
}

void Outbox::refresh_heads() {
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_full_read_) {
    // The last id first: a message enqueued between the two reads is then seen again below, and
    // skipped there if it is not its target's head.
    const std::int64_t last = store_.outbox_last_id();
    auto heads = store_.outbox_heads();
    heads_.clear();
    head_ids_.clear();
    for (auto& head : heads) {
      head_ids_[head.item.message.target] = head.item.id;
      heads_.emplace(head.item.id, std::move(head));
    }
    // Also right when ids were reused (the newest rows were pruned): it may go down.
    scanned_id_ = last;
    next_full_read_ = now + k_full_read_interval;
  }
  // Messages enqueued since the last look. Only a target without a head in memory can have a new
  // head: behind an existing head, a new message just waits its turn.
  while (true) {
    const auto fresh = store_.pending_outbox_after(scanned_id_, k_scan_page);
    for (const auto& [id, target] : fresh) {
      scanned_id_ = std::max(scanned_id_, id);
      if (head_ids_.count(target) == 0) reload_head(target);
    }
    if (fresh.size() < k_scan_page) break;
  }
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
  // Sender threads record outcomes concurrently, some of them under mutex_ (unrecorded ones).
  std::lock_guard lock(backoff_mutex_);
  return backoff_.delay(attempts + 1).count();
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
  // +1 after a platform's Retry-After: now_ms is whole milliseconds rounded down, so the refusal
  // may have come up to 1 ms after it, and a sender that wakes on its own at exactly now_ms +
  // retry_after could then send before the platform's wait is over.
  const std::int64_t wait =
      delivery.retry_after.count() > 0 ? delivery.retry_after.count() + 1 : backoff_ms(item.attempts);
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
    // Outcomes the store refused before come first: their targets wait for them.
    const auto steady_now = std::chrono::steady_clock::now();
    auto due = std::find_if(unrecorded_.begin(), unrecorded_.end(), [&](const auto& entry) {
      return !entry.second.writing && entry.second.retry_at <= steady_now;
    });
    if (due != unrecorded_.end()) {
      due->second.writing = true;
      const Unrecorded entry = due->second;
      lock.unlock();
      const bool recorded = record(entry.item, entry.delivery, entry.at_ms, entry.failures);
      lock.lock();
      if (recorded) {
        const std::string target = entry.item.message.target;
        unrecorded_.erase(target);
        release_target(target);
        hand_back_if_drained(lock, target);
      }
      continue;
    }
    const std::int64_t now = clock_();
    std::int64_t wait_ms = k_max_idle_wait_ms;
    for (const auto& [target, entry] : unrecorded_) {
      if (entry.writing) continue;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(entry.retry_at - steady_now).count();
      wait_ms = std::min<std::int64_t>(wait_ms, std::max<std::int64_t>(1, left));
    }
    std::optional<OutboxItem> chosen;
    Sender sender;
    rescan_requested_ = false;
    try {
      refresh_heads();
      for (const auto& [id, head] : heads_) {
        const auto& target = head.item.message.target;
        if (busy_.count(target) != 0 || parked_.count(target) != 0) continue;
        if (const auto held = held_elsewhere_.find(target); held != held_elsewhere_.end()) {
          if (held->second > steady_now) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(held->second - steady_now).count();
            wait_ms = std::min<std::int64_t>(wait_ms, std::max<std::int64_t>(1, left));
            continue;
          }
          held_elsewhere_.erase(held);
        }
        if (head.next_attempt_ms > now) {
          // +1: the clock reads whole milliseconds, rounded down, so after waiting exactly the
          // difference it could still read one less and go round once more for nothing.
          wait_ms = std::min(wait_ms, head.next_attempt_ms - now + 1);
          continue;
        }
        const auto found = senders_.find(head.item.message.platform);
        if (found == senders_.end()) {
          parked_.insert(target);
          log::warn("outbox", "no sender for this platform; its messages stay pending",
                    {{"platform", head.item.message.platform}, {"target", target}});
          continue;
        }
        std::int64_t token_wait = 0;
        if (!take_token(target, now, token_wait)) {
          wait_ms = std::min(wait_ms, token_wait);
          continue;
        }
        sender = found->second;
        chosen = head.item;
        break;
      }
    } catch (const std::exception& error) {
      log::error("outbox", "cannot read the outbox; retrying", {{"error", error.what()}});
      next_full_read_ = {};  // the heads in memory may be incomplete: reread them all
    }

    if (!chosen) {
      const auto seen = wakeups_;
      changed_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(1, wait_ms)),
                        [&] { return stopping_ || wakeups_ != seen; });
      continue;
    }

    const std::string target = chosen->message.target;
    busy_.insert(target);
    // Another sender may find a second target to serve meanwhile.
    if (busy_.size() < heads_.size()) changed_.notify_one();
    lock.unlock();
    if (options_.leases) {
      const Turn turn = take_turn(*chosen);
      if (turn != Turn::ours) {
        lock.lock();
        if (turn == Turn::held_elsewhere)
          held_elsewhere_[target] = std::chrono::steady_clock::now() + k_held_elsewhere_wait;
        release_target(target);  // the head in memory may be stale: read it again
        if (turn == Turn::changed) hand_back_if_drained(lock, target);
        continue;
      }
    }
    Delivery delivery;
    try {
      delivery = sender(*chosen);
    } catch (const std::exception& error) {
      delivery = Delivery::transient("sender_error", std::string("sender error: ") + error.what());
    }
    const bool recorded = record(*chosen, delivery, clock_(), 0);
    std::function<void(const OutboxItem&, const Delivery&)> observer;
    lock.lock();
    observer = observer_;
    if (recorded) {
      release_target(target);
      hand_back_if_drained(lock, target);
    }
    lock.unlock();
    if (observer) observer(*chosen, delivery);
    lock.lock();
  }
}

bool Outbox::record(const OutboxItem& item, const Delivery& delivery, std::int64_t now_ms, int failures) {
  try {
    apply(item, delivery, now_ms);
    if (failures > 0) {
      log::info("outbox", "delivery result recorded after retrying",
                {{"target", item.message.target}, {"failed_writes", std::to_string(failures)}});
    }
    return true;
  } catch (const std::exception& error) {
    // The platform has the message (or refused it): sending it again would be the wrong fix for a
    // write that failed. Keep the outcome, hold the target, write it again later.
    ++failures;
    const auto wait = std::chrono::milliseconds(backoff_ms(failures - 1));
    log::error("outbox", "cannot record a delivery result; keeping it in memory and retrying",
               {{"target", item.message.target},
                {"error", error.what()},
                {"failed_writes", std::to_string(failures)},
                {"retry_in_ms", std::to_string(wait.count())}});
    std::lock_guard lock(mutex_);
    unrecorded_[item.message.target] =
        Unrecorded{item, delivery, now_ms, failures, std::chrono::steady_clock::now() + wait, false};
    return false;
  }
}

Outbox::Turn Outbox::take_turn(OutboxItem& item) {
  const std::string& target = item.message.target;
  try {
    if (!options_.leases->hold_lease(target_lease(target), options_.owner, clock_(),
                                     options_.target_lease_ttl.count())) {
      return Turn::held_elsewhere;
    }
    {
      std::lock_guard lock(mutex_);
      leased_.insert(target);
    }
    // Under the lease now: what the store says is the head is what may be sent.
    const auto head = store_.outbox_head(target);
    if (!head || head->item.id != item.id || head->next_attempt_ms > clock_()) return Turn::changed;
    item = head->item;  // its attempts as the store counts them, also another replica's
    return Turn::ours;
  } catch (const std::exception& error) {
    log::error("outbox", "cannot take the target's lease; retrying", {{"target", target}, {"error", error.what()}});
    return Turn::held_elsewhere;  // wait a little, like for another holder
  }
}

void Outbox::hand_back_if_drained(std::unique_lock<std::mutex>& lock, const std::string& target) {
  if (!options_.leases || head_ids_.count(target) != 0) return;
  // Busy until the lease is gone: another sender of this replica renewing it meanwhile (a message
  // enqueued just now) would have it deleted under it, and another replica could then send the
  // same message. Skipped while busy, that message waits for the next look.
  busy_.insert(target);
  lock.unlock();
  hand_back(target);
  lock.lock();
  busy_.erase(target);
}

void Outbox::hand_back(const std::string& target) {
  if (!options_.leases) return;
  {
    std::lock_guard lock(mutex_);
    if (leased_.erase(target) == 0) return;
  }
  try {
    options_.leases->release_lease(target_lease(target), options_.owner);
  } catch (const std::exception& error) {
    // It expires on its own after target_lease_ttl.
    log::warn("outbox", "cannot release the target's lease", {{"target", target}, {"error", error.what()}});
  }
}

void Outbox::release_target(const std::string& target) {
  busy_.erase(target);
  // Delivered or failed: the target's next message (if any) is its head now; rescheduled: the
  // same head with its new time.
  try {
    reload_head(target);
  } catch (const std::exception& error) {
    log::error("outbox", "cannot read the outbox; retrying", {{"error", error.what()}});
    next_full_read_ = {};
  }
}

}  // namespace roundup::bot

#pragma once
// Waiting for something another thread does, without sleeping: a condition variable that the
// observed code notifies. The deadline only bounds a broken test; it is not a timing assertion.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace roundup::testing {

class Signal {
 public:
  // Runs `change` under the lock, then wakes waiters.
  template <typename Change>
  void update(Change&& change) {
    {
      std::lock_guard lock(mutex_);
      change();
    }
    changed_.notify_all();
  }
  void notify() {
    update([] {});
  }
  // What `read` returns, evaluated under the lock.
  template <typename Read>
  auto read(Read&& read) {
    std::lock_guard lock(mutex_);
    return read();
  }

  // True when `predicate` (evaluated under the lock) held before the deadline.
  template <typename Predicate>
  bool wait_for(Predicate&& predicate, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, predicate);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

// For a state no one signals (a server's connection count, a refusal seen only by trying): polls
// `predicate`, yielding in between, until it holds or `limit` passes. True when it held; the
// limit only bounds a broken test.
template <typename Predicate>
bool poll_until(Predicate&& predicate, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace roundup::testing

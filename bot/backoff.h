#pragma once
// The one retry policy of every loop that waits after a failure (the outbox, Socket Mode, Telegram
// polling, and the platforms' start-up checks): exponential, capped, with jitter. The wait after
// the n-th consecutive failure is a random point in [b/2, b], b = min(min * 2^(n-1), max), so
// clients that failed together do not retry together; no wait is shorter than half a step or 1 ms.
// Not thread-safe: one per loop, or under its owner's lock.

#include <chrono>
#include <cstdint>
#include <random>

namespace roundup::bot {

class Backoff {
 public:
  // `min` is raised to 1 ms and `max` to `min`.
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);

  // The wait after failure number `failures` (1 = the first), for callers that count failures
  // themselves (the outbox keeps them in the database).
  std::chrono::milliseconds delay(std::int64_t failures);
  // For a loop: the wait after one more consecutive failure.
  std::chrono::milliseconds next() { return delay(++failures_); }
  // After a success: the next failure waits about `min` again.
  void reset() { failures_ = 0; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::int64_t failures_ = 0;
  std::minstd_rand random_;
};

}  // namespace roundup::bot

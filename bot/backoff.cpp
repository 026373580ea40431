#include "bot/backoff.h"

#include <algorithm>

namespace roundup::bot {

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      random_(static_cast<std::minstd_rand::result_type>(std::random_device{}())) {}

std::chrono::milliseconds Backoff::delay(std::int64_t failures) {
  auto step = min_;
  for (std::int64_t i = 1; i < failures && step < max_; ++i) step *= 2;
  step = std::min(step, max_);
  std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(
      std::max<std::chrono::milliseconds::rep>(1, step.count() / 2), step.count());
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace roundup::bot

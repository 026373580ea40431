#include "bot/side_calls.h"

#include <exception>
#include <utility>

namespace roundup::bot {

SideCalls::SideCalls(std::string component, std::size_t capacity)
    : component_(std::move(component)), capacity_(capacity), thread_([this] { run(); }) {}

SideCalls::~SideCalls() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (Job& job : queue_) job.done.set_value();
}

std::shared_future<void> SideCalls::post(std::string method, std::function<void()> call) {
  Job job{std::move(method), std::move(call), {}};
  std::shared_future<void> done = job.done.get_future().share();
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < capacity_) {
      queue_.push_back(std::move(job));
      wake_.notify_one();
      return done;
    }
  }
  if (const auto suppressed = failure_log_.admit("queue_full")) {
    log::warn(component_, "side call dropped: the queue is full",
              {{"method", job.method}, {"suppressed", std::to_string(*suppressed)}});
  }
  job.done.set_value();
  return done;
}

void SideCalls::run() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::string error;
    try {
      job.call();
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    job.done.set_value();
    if (error.empty()) continue;
    if (const auto suppressed = failure_log_.admit(job.method)) {
      log::warn(
          component_, "side call failed; the reply is not affected",
          {{"method", job.method}, {"error", log::truncated(error, 200)}, {"suppressed", std::to_string(*suppressed)}});
    }
  }
}

}  // namespace roundup::bot

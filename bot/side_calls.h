#pragma once
// Best-effort Web API calls made beside the replies: Slack's suggested prompts, status and thread
// titles, Telegram's typing action. A reply is a promise, kept by the durable outbox; these are decoration, so
// they run here instead: on one background thread, in the order posted, each tried once (the
// WebApi call's own short timeout bounds it), and dropped with a log line when Slack refuses it,
// when the queue is full, or at shutdown. Nothing here can hold up or lose a reply.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "telemetry/log.h"

namespace roundup::bot {

class SideCalls {
 public:
  // `component` names the platform in log lines ("slack").
  explicit SideCalls(std::string component, std::size_t capacity = 256);
  // Drops what is still queued and joins the thread once the call in flight returns.
  ~SideCalls();
  SideCalls(const SideCalls&) = delete;
  SideCalls& operator=(const SideCalls&) = delete;

  // Queues `call` (a Web API call; it may throw, and what() is logged) named `method` for the log. Never blocks on
  // the network, so I/O threads may post. The future is ready once the call has been made,
  // whatever its outcome, or at once when it is dropped.
  std::shared_future<void> post(std::string method, std::function<void()> call);

 private:
  struct Job {
    std::string method;
    std::function<void()> call;
    std::promise<void> done;
  };
  void run();

  const std::string component_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  log::RateLimiter failure_log_;  // per method: a refusing Slack must not flood the log
  std::thread thread_;            // last: started once everything it uses exists
};

}  // namespace roundup::bot

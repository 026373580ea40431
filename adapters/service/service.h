#pragma once
// The long-running bot service behind `roundup-bot serve`: the webhook HTTP server, the durable
// inbox and outbox, and each enabled chat platform, wired from the configuration. main() only
// adds signal handling around start() and stop(); tests run the same object in-process.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "bot/answer.h"
#include "bot/state_store.h"
#include "config/config.h"

namespace roundup::app {

struct ServiceHooks {
  // Unix seconds for Slack's signature window; tests pin it. Default: the system clock.
  std::function<std::int64_t()> unix_seconds;
  // Trust only tls.ca_file, not the system store (tests with a generated CA).
  bool tls_ca_only = false;
  // Telegram long polling: getUpdates wait, and the first reconnect backoff (tests shorten them).
  int telegram_poll_timeout_seconds = 50;
  std::chrono::milliseconds telegram_min_backoff{1000};
  // Slack Socket Mode: first reconnect backoff (0 = the client's default).
  std::chrono::milliseconds socket_min_backoff{0};
  // Called after every delivery attempt, on an outbox thread (tests wait on it).
  std::function<void()> on_delivery_attempt;
};

class Service {
 public:
  using Answerer = bot::Answerer;

  // Throws config::ConfigError when the configuration cannot run (check_runnable).
  Service(config::Config config, Answerer answerer, ServiceHooks hooks = {});
  ~Service();  // stop()

  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the state database, connects each enabled platform (Slack: auth.test), starts the
  // workers and binds `listen`. Returns the bound port. Throws on any start-up failure, with a
  // message that says what to fix.
  unsigned short start();
  // Graceful: stops accepting, drains HTTP requests in flight (bounded), finishes answers being
  // computed and deliveries being sent, and leaves everything else pending in the database for
  // the next start. Idempotent.
  void stop();

  bot::StateStore& store();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `roundup-bot serve`: start, wait for SIGTERM or SIGINT, stop. Returns the process exit code.
int run_service(const config::Config& config, Service::Answerer answerer);

}  // namespace roundup::app

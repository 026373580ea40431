#pragma once
// The long-running bot service behind `roundup-bot serve`: the webhook HTTP server, the durable
// inbox and outbox, and each enabled chat platform, wired from the configuration. main() only
// adds signal handling around start() and stop(); tests run the same object in-process.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/service/platform_registry.h"
#include "bot/knowledge.h"
#include "bot/state_store.h"
#include "config/config.h"

namespace roundup::adapters::service {

class Service {
 public:
  // Throws config::ConfigError when the configuration cannot run (check_runnable). `knowledge`
  // answers questions, feeds the digests and runs admins' reindexes; it is opened already.
  // `platforms` are the chat platforms it may run (each runs when the configuration enables it).
  Service(config::Config config, std::shared_ptr<bot::Knowledge> knowledge, ServiceHooks hooks = {},
          std::vector<PlatformEntry> platforms = builtin_platforms());
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

  // The port of `metrics_listen` once started (0 when it is not set).
  unsigned short metrics_port() const;
  // Readiness as GET /readyz reports it: empty when ready, else one reason code per failing check
  // ("index", "state_db", "slack_socket", "telegram_poll", "slack_auth", "telegram_auth"). The
  // state database's check is the refresher's last (see gauge_refresh_period).
  std::vector<std::string> readiness_problems() const;
  // Recomputes the cached gauges and the state database check now, on the calling thread (the
  // service does it itself every gauge_refresh_period and after a reindex).
  void refresh_gauges();
  // The digest scheduler's pass, for tests that pin the clock (the service also runs it itself).
  std::size_t run_due_digests();
  // With a shared state store: one look for another replica's reindex, rebuilding when there was
  // one (bot::IndexSync; the service also looks every 5 s). For tests.
  void follow_index();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `roundup-bot serve`: start, wait for SIGTERM or SIGINT, stop. Returns the process exit code.
int run_service(const config::Config& config, std::shared_ptr<bot::Knowledge> knowledge);

}  // namespace roundup::adapters::service

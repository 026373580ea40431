#pragma once
// The chat platforms the service can run, and what it gives each to build itself. A platform is
// a folder under adapters/ with a factory (make_platform) and a configuration section
// (config_section), and one line in builtin_platforms();
// the service knows it only through bot::ChatPlatform. Tests add their own entries.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/http/client.h"
#include "bot/chat_platform.h"
#include "bot/conversation.h"
#include "bot/inbox.h"
#include "bot/state_store.h"
#include "config/config.h"

namespace roundup::adapters::service {

// Knobs the tests turn; the defaults are production's.
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
  // The wall clock the daily digest reads (tests pin it). Default: the system clock.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  // Readiness: a Telegram poll loop with no successful getUpdates for this long is not ready,
  // and after twice as long the watchdog restarts it. 0 = twice the poll timeout plus 10 s.
  std::chrono::milliseconds poll_stale_after{0};
  // How often a replica standing by for a singleton job (Telegram polling) asks for its lease
  // again. 0 = the job's default (10 s).
  std::chrono::milliseconds lease_check{0};
  // How often the refresher recomputes the /metrics gauges that cost a database query or a
  // directory walk (outbox backlog, digests posted, index size) and checks the state database for
  // /readyz. Scrapes read the cached values. The two refreshes after a reindex also return the
  // allocator's free pages to the system (malloc_trim), so RSS follows the memory in use.
  std::chrono::milliseconds gauge_refresh_period{15000};
  // Called after each such refresh, on the refreshing thread (tests wait on it).
  std::function<void()> on_gauges_refreshed;
};

// How long a poll loop may go without a successful poll before it is not ready (twice that, and
// the watchdog restarts it): hooks.poll_stale_after, else twice the poll timeout plus 10 s.
inline std::chrono::milliseconds poll_stale_after(const ServiceHooks& hooks) {
  if (hooks.poll_stale_after.count() > 0) return hooks.poll_stale_after;
  return std::chrono::seconds(2 * hooks.telegram_poll_timeout_seconds + 10);
}

// What the service gives a platform: the configuration, the shared Web API client (and the
// options for clients of its own: long polling, Socket Mode), the state, the inbox to record what
// it receives in, and the conversation to answer with.
struct PlatformDeps {
  const config::Config& config;
  adapters::http::HttpsClient& client;
  adapters::http::ClientOptions client_options;
  bot::StateStore& store;
  bot::Inbox& inbox;
  bot::ChatAnswerer answerer;
  const ServiceHooks& hooks;
  std::string replica_id;  // this process among replicas sharing the state (leases)
  // A language model writes answers (config `llm`), so one takes seconds: platforms show the bot
  // working meanwhile (Telegram's typing; Slack's DMs show a status whatever the answerer).
  bool answers_take_a_while = false;
};

// Builds the platform when the configuration enables it, else returns nullptr. Throws
// config::ConfigError or std::runtime_error when it cannot be built.
using PlatformFactory = std::function<std::unique_ptr<bot::ChatPlatform>(const PlatformDeps& deps)>;

struct PlatformEntry {
  // Its part of the configuration: its section, environment variables, checks and id grammar.
  // section.name is the platform's name (ChatPlatform::name()).
  config::PlatformSection section;
  PlatformFactory make;
};

// Slack and Telegram, in the order the service starts them.
std::vector<PlatformEntry> builtin_platforms();

// The configuration sections of `platforms`, for config::load_config and the rest.
config::PlatformSections platform_sections(const std::vector<PlatformEntry>& platforms);
// platform_sections(builtin_platforms()).
config::PlatformSections builtin_platform_sections();

}  // namespace roundup::adapters::service

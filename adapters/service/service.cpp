#include "adapters/service/service.h"

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "adapters/http/client.h"
#include "adapters/http/server.h"
#include "adapters/service/data_dir_lock.h"
#include "adapters/service/descriptor_limit.h"
#include "adapters/service/measured_knowledge.h"
#include "adapters/service/service_metrics.h"
#include "adapters/service/state_backend.h"
#include "bot/channel_address.h"
#include "bot/conversation.h"
#include "bot/digest_scheduler.h"
#include "bot/inbox.h"
#include "bot/index_sync.h"
#include "bot/leader_lease.h"
#include "bot/outbox.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::service {
namespace {

namespace http = adapters::http;

http::Response plain(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::string path_of(const std::string& target) {
  return target.substr(0, target.find('?'));
}

// Connections the metrics_listen server holds at once: probes and a scraper or two.
constexpr std::size_t k_metrics_connections = 64;

// The operational paths; with every platform's webhook paths they are the route labels of
// requests, everything else "other", so a scanner probing random URLs cannot blow up the number
// of series.
constexpr std::array<std::string_view, 3> k_operational_paths = {"/healthz", "/readyz", "/metrics"};
using DigestClock = std::function<std::chrono::system_clock::time_point()>;

// A reindex builds the new index while the old one still answers, then frees the old one (or the
// last answer still holding it does, a little later). It runs on whichever worker is free, and
// glibc keeps what each thread frees in that thread's arena for reuse: with reindexes every few
// seconds the process's RSS kept growing (the soak test, docs/RELIABILITY.md) while the memory in
// use did not. malloc_trim returns the free pages of every arena to the system. It takes a few
// milliseconds, holding each arena's lock in turn, so the refresher calls it only after a
// reindex: right after, and at its next period (for an old index an answer freed late).
void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

struct Service::Impl {
  config::Config config;
  std::shared_ptr<MeasuredKnowledge> knowledge;
  ServiceHooks hooks;
  // Declared before the state it guards, so it is released only after all of it is gone.
  std::unique_ptr<DataDirLock> lock;

  std::vector<PlatformEntry> registry;  // the platforms this service may run
  // This process among replicas sharing one state (the owner of its leases).
  std::string replica_id;

  std::unique_ptr<bot::StateStore> store;
  std::unique_ptr<http::HttpsClient> client;
  std::unique_ptr<bot::Outbox> outbox;
  std::unique_ptr<bot::Inbox> inbox;
  // The enabled platforms, in registry order; filled by start() before anything runs.
  std::vector<std::unique_ptr<bot::ChatPlatform>> platforms;
  std::unordered_map<std::string, bot::ChatPlatform*> webhook_routes;  // path -> its platform
  std::unique_ptr<RequestCounters> requests;
  std::unique_ptr<bot::DigestScheduler> digests;
  std::unique_ptr<bot::Conversation> conversation;
  std::unique_ptr<bot::IndexSync> index_sync;  // with a shared state store only
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Server> metrics_server;  // metrics_listen, when set
  unsigned short metrics_port = 0;
  std::vector<telemetry::GaugeRegistration> gauges;
  log::RateLimiter connection_refusal_log;

  // On an I/O thread, for a connection closed at accept: counted always, logged at most once per
  // reason per interval (a flood of connections must not become a flood of lines).
  void connection_refused(http::ConnectionRefusal why) {
    service_metrics().refused_connection(why).inc();
    const std::string reason = http::to_string(why);
    if (const auto suppressed = connection_refusal_log.admit(reason)) {
      log::warn("service", "closed connections over a connection cap (http.max_connections*)",
                {{"reason", reason}, {"suppressed", std::to_string(*suppressed)}});
    }
  }
  bool started = false;

  // Watchdog: restarts a Telegram poll loop that stopped making progress.
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  bool watchdog_stopping = false;
  std::thread watchdog;

  // How often the watchdog looks: half of the time a stuck poll loop is tolerated.
  std::chrono::milliseconds watchdog_interval() const {
    return std::max(std::chrono::milliseconds(50), poll_stale_after(hooks) / 2);
  }

  bot::ChatPlatform* platform(std::string_view name) const {
    for (const auto& p : platforms)
      if (p->name() == name) return p.get();
    return nullptr;
  }
  // The platform with webhook path `path`, or nullptr. On the ack path: one hash lookup.
  bot::ChatPlatform* webhook_owner(const std::string& path) const {
    const auto found = webhook_routes.find(path);
    return found == webhook_routes.end() ? nullptr : found->second;
  }

  // A platform whose API refuses the bot's credentials (a revoked token) cannot deliver anything,
  // whatever mode it receives in: not ready until a delivery succeeds again.
  mutable std::mutex credentials_mutex;
  std::map<std::string, std::string> credentials_refused;  // platform -> the API's error code

  // Every delivery reports here, so only a change is logged.
  void note_credentials(const std::string& platform, const std::string& refused_code) {
    std::lock_guard guard(credentials_mutex);
    if (refused_code.empty()) {
      if (credentials_refused.erase(platform) != 0) {
        log::info("service", "the platform accepts the bot's credentials again", {{"platform", platform}});
      }
    } else if (credentials_refused.insert_or_assign(platform, refused_code).second) {
      log::error("service", "the platform refuses the bot's credentials; not ready until a delivery succeeds",
                 {{"platform", platform}, {"code", refused_code}, {"ready_reason", platform + "_auth"}});
    }
  }

  // The /metrics gauges that cost a database query or a directory walk, and whether the state
  // database answers, as the refresher last found them. Scrapes and /readyz read only these, so an
  // I/O thread never waits on SQLite's lock or the file system.
  std::atomic<double> cached_outbox_backlog{0};
  std::atomic<double> cached_digests_posted{0};
  std::atomic<double> cached_index_bytes{0};
  std::atomic<bool> state_db_ok{true};
  // Refreshes that still return free memory to the system after a reindex (release_free_memory).
  std::atomic<int> trims_due{0};

  std::mutex refresher_mutex;
  std::condition_variable refresher_wake;
  bool refresher_stopping = false;
  bool refresh_requested = false;
  std::thread refresher;
  std::mutex refresh_mutex;  // one refresh at a time (the refresher's and Service::refresh_gauges())

  void refresh_gauges() {
    std::lock_guard serial(refresh_mutex);
    if (!store) return;  // not started
    cached_index_bytes = static_cast<double>(knowledge->index_bytes());
    try {
      cached_outbox_backlog = static_cast<double>(store->outbox_backlog());
      cached_digests_posted = static_cast<double>(store->counter("digests_posted"));
      if (!state_db_ok.exchange(true)) log::info("service", "the state database answers again");
    } catch (const std::exception& error) {
      // The details go to the log, once per outage; /readyz says only "state_db".
      if (state_db_ok.exchange(false)) {
        log::error("service", "the state database does not answer; not ready",
                   {{"error", error.what()}, {"ready_reason", "state_db"}});
      }
    }
    if (trims_due > 0) {
      --trims_due;
      release_free_memory();
    }
    if (hooks.on_gauges_refreshed) hooks.on_gauges_refreshed();
  }

  void request_refresh() {
    {
      std::lock_guard lock(refresher_mutex);
      refresh_requested = true;
    }
    refresher_wake.notify_all();
  }

  void run_refresher() {
    std::unique_lock lock(refresher_mutex);
    for (;;) {
      refresher_wake.wait_for(lock, hooks.gauge_refresh_period,
                              [this] { return refresher_stopping || refresh_requested; });
      if (refresher_stopping) return;
      refresh_requested = false;
      lock.unlock();
      refresh_gauges();
      lock.lock();
    }
  }

  // Reason codes, documented in the README; what lies behind them is logged where it is found.
  std::vector<std::string> readiness_problems() const {
    std::vector<std::string> problems;
    {
      std::lock_guard guard(credentials_mutex);
      for (const auto& [platform, code] : credentials_refused) problems.push_back(platform + "_auth");
    }
    if (!knowledge || !knowledge->engine()) problems.emplace_back("index");
    if (!state_db_ok) problems.emplace_back("state_db");
    // One handler over time leaves the others answering; when every worker is held, nothing is
    // answered until a handler returns or the process restarts (which counts the attempt).
    if (inbox && inbox->stuck_handlers() >= static_cast<std::size_t>(std::max(1, config.workers))) {
      problems.emplace_back("workers_stuck");
    }
    for (const auto& p : platforms) {
      for (auto& problem : p->readiness_problems()) problems.push_back(std::move(problem));
    }
    return problems;
  }

  void run_watchdog() {
    const auto interval = watchdog_interval();
    std::unique_lock lock(watchdog_mutex);
    // start() pruned already. A prune waits out another writer's lock (up to the busy timeout),
    // which would hold up the stall check below, so it is rare.
    auto last_prune = std::chrono::steady_clock::now();
    while (!watchdog_wake.wait_for(lock, interval, [this] { return watchdog_stopping; })) {
      if (std::chrono::steady_clock::now() - last_prune > std::chrono::hours(1)) {
        last_prune = std::chrono::steady_clock::now();
        prune_state();
      }
      for (const auto& p : platforms) p->check_progress();
    }
  }

  // Forgets finished work older than a week: far beyond the platforms' retry windows (Slack
  // retries for about an hour), so dedupe still holds, and the database stays small.
  void prune_state() {
    try {
      store->prune(bot::system_now_ms() -
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::hours(24 * 7)).count());
    } catch (const std::exception& error) {
      log::warn("service", "pruning the state database failed", {{"error", error.what()}});
    }
  }

  http::ClientOptions client_options() const {
    http::ClientOptions options;
    options.ca_file = config.tls.ca_file.string();
    options.use_system_store = !hooks.tls_ca_only;
    return options;
  }

  // /healthz, /readyz and /metrics. With `metrics_listen` set, readiness and metrics are served
  // there only, and the webhook listener (often the public one) keeps just /healthz.
  std::optional<http::Response> operational(const http::Request& request, bool internal_listener) {
    const std::string path = path_of(request.target);
    if (path != "/healthz" && path != "/readyz" && path != "/metrics") return std::nullopt;
    if (path != "/healthz" && !internal_listener && !config.metrics_listen.empty()) return plain(404, "not found\n");
    if (request.method != "GET" && request.method != "HEAD") return plain(405, "method not allowed\n");
    if (path == "/healthz") return plain(200, "ok\n");
    if (path == "/readyz") {
      const auto problems = readiness_problems();
      if (problems.empty()) return plain(200, "ready\n");
      std::string body = "not ready: ";
      for (std::size_t i = 0; i < problems.size(); ++i) body += (i == 0 ? "" : ", ") + problems[i];
      return plain(503, body + "\n");
    }
    http::Response response = plain(200, telemetry::metrics().render());
    response.content_type = std::string(telemetry::k_metrics_content_type);
    return response;
  }

  http::Response route(const http::Request& request) {
    if (auto response = operational(request, /*internal_listener=*/false)) return *response;
    // A POST to a webhook path of a platform receiving by webhook went to route_async() already.
    const bot::ChatPlatform* owner = webhook_owner(path_of(request.target));
    if (owner && owner->receives_webhooks()) return plain(405, "method not allowed\n");
    return plain(404, "not found\n");
  }

  // The webhook routes that record a question ack once the inbox's group commit has it, without
  // holding an I/O thread meanwhile; everything else answers at once through route().
  void route_async(const http::Request& request, http::Respond respond) {
    // Counts every response by route and status on its way out.
    const std::string path = path_of(request.target);
    respond = [respond = std::move(respond), &counters = *requests,
               route = requests->route(path)](http::Response response) {
      counters.count(route, response.status).inc();
      respond(std::move(response));
    };
    if (request.method == "POST") {
      bot::ChatPlatform* owner = webhook_owner(path);
      if (owner && owner->receives_webhooks()) return owner->on_webhook(request, std::move(respond));
    }
    respond(route(request));
  }
};

Service::Service(config::Config config, std::shared_ptr<bot::Knowledge> knowledge, ServiceHooks hooks,
                 std::vector<PlatformEntry> platforms)
    : impl_(std::make_unique<Impl>()) {
  if (auto problems = config::check_runnable(config); !problems.empty()) throw config::ConfigError(std::move(problems));
  if (!knowledge) throw std::invalid_argument("Service needs a knowledge base");
  impl_->config = std::move(config);
  impl_->knowledge = std::make_shared<MeasuredKnowledge>(
      std::move(knowledge), [impl = impl_.get()](const bot::Knowledge::ReindexOutcome& outcome) {
        impl->trims_due = 2;
        impl->request_refresh();
        // Set before any request can reach a reindex; only read here.
        if (outcome.ok && impl->index_sync) impl->index_sync->announce_reindex();
      });
  impl_->hooks = std::move(hooks);
  impl_->registry = std::move(platforms);
  std::error_code ec;
  const auto data_dir = std::filesystem::absolute(impl_->config.data_dir, ec);
  impl_->replica_id = bot::make_replica_id((ec ? impl_->config.data_dir : data_dir).string());
}

unsigned short Service::metrics_port() const {
  return impl_->metrics_port;
}

std::vector<std::string> Service::readiness_problems() const {
  return impl_->readiness_problems();
}

void Service::refresh_gauges() {
  impl_->refresh_gauges();
}

std::size_t Service::run_due_digests() {
  return impl_->digests ? impl_->digests->run_due() : 0;
}

void Service::follow_index() {
  if (impl_->index_sync) impl_->index_sync->follow();
}

Service::~Service() {
  stop();
}

bot::StateStore& Service::store() {
  return *impl_->store;
}

unsigned short Service::start() {
  Impl& s = *impl_;
  if (s.started) throw std::logic_error("Service::start called twice");
  s.started = true;
  const config::Config& config = s.config;
  ServiceMetrics& metrics = service_metrics();

  s.lock = std::make_unique<DataDirLock>(config.data_dir / "state", std::chrono::seconds(30));
  s.store = open_state_store(config);
  log::info("service", "state opened", {{"state", describe_state(config)}});
  const http::ClientOptions client_options = s.client_options();
  s.client = std::make_unique<http::HttpsClient>(client_options);
  bot::OutboxOptions outbox_options;
  // Read only once the outbox runs, after every platform is built.
  outbox_options.pace = [&s](const std::string& target) -> std::pair<double, double> {
    const auto address = bot::parse_channel_address(target);
    const bot::ChatPlatform* owner = address ? s.platform(address->platform) : nullptr;
    return owner ? owner->pace(target) : std::pair<double, double>{1.0, 3.0};
  };
  if (state_is_shared(config)) {
    outbox_options.leases = s.store.get();
    outbox_options.owner = s.replica_id;
  }
  s.outbox = std::make_unique<bot::Outbox>(*s.store, outbox_options);
  s.outbox->on_attempt(
      [&s, &metrics, hook = s.hooks.on_delivery_attempt](const bot::OutboxItem& item, const bot::Delivery& delivery) {
        const std::string& platform = item.message.platform;
        switch (delivery.outcome) {
          case bot::Delivery::Outcome::delivered:
            metrics.sent(platform).inc();
            s.note_credentials(platform, {});
            break;
          case bot::Delivery::Outcome::retry:
            metrics.retry(platform).inc();
            metrics.api_error(platform, code_label(delivery.code)).inc();
            break;
          case bot::Delivery::Outcome::failed:
            metrics.api_error(platform, code_label(delivery.code)).inc();
            if (delivery.problem == bot::Delivery::Problem::auth_revoked) s.note_credentials(platform, delivery.code);
            break;
        }
        if (hook) hook();
      });
  bot::InboxOptions inbox_options;
  inbox_options.workers = config.workers;
  inbox_options.max_attempts = config.inbox.max_attempts;
  inbox_options.handler_timeout = std::chrono::milliseconds(config.inbox.handler_timeout_ms);
  inbox_options.owner = s.replica_id;
  s.inbox = std::make_unique<bot::Inbox>(*s.store, *s.outbox, inbox_options);

  // The platforms render digests; the conversation (admin commands, subscriptions) sits between
  // them and the knowledge base.
  std::map<std::string, bot::PostRenderer> renderers;
  const DigestClock wall_clock =
      s.hooks.wall_clock ? s.hooks.wall_clock : DigestClock([] { return std::chrono::system_clock::now(); });
  bot::ChatAnswerer chat = [&s](const bot::Speaker& speaker, std::string_view input) {
    return s.conversation->handle(speaker, input);
  };
  // Every accepted event goes through here on an inbox worker: counted, timed, and its log lines
  // tagged with its key.
  const auto handler = [&metrics](bot::ChatPlatform* platform) {
    // Looked up once here: a registry lookup takes its lock and allocates.
    return
        [platform, &inbound = metrics.inbound(std::string(platform->name())), &metrics](const bot::InboundItem& item) {
          log::RequestScope scope(item.key);
          inbound.inc();
          const auto start = std::chrono::steady_clock::now();
          auto replies = platform->answer(item);
          metrics.answer_seconds.observe(seconds_since(start));
          return replies;
        };
  };

  const PlatformDeps deps{config,  *s.client,    client_options,        *s.store, *s.inbox, chat,
                          s.hooks, s.replica_id, config.llm.has_value()};
  std::vector<std::string> routes(k_operational_paths.begin(), k_operational_paths.end());
  for (const PlatformEntry& entry : s.registry) {
    std::unique_ptr<bot::ChatPlatform> built = entry.make(deps);
    if (!built) continue;
    bot::ChatPlatform* platform = built.get();
    s.platforms.push_back(std::move(built));
    platform->connect();
    const std::string name(platform->name());
    s.inbox->add_handler(name, handler(platform),
                         [platform](const bot::InboundItem& item) { return platform->apologize(item); });
    s.outbox->add_sender(name, [platform](const bot::OutboxItem& item) {
      log::RequestScope scope(item.message.idempotency_key);
      return platform->deliver(item);
    });
    renderers[name] = [platform](const std::string& channel, const bot::Answer& answer, const std::string& key) {
      return platform->render_post(channel, answer, key);
    };
    for (const auto& path : platform->webhook_paths()) {
      s.webhook_routes.emplace(path, platform);
      routes.push_back(path);
    }
  }
  s.requests = std::make_unique<RequestCounters>(std::move(routes));
  if (s.platforms.empty()) log::info("service", "no chat platform is enabled; serving health checks only");

  s.digests = std::make_unique<bot::DigestScheduler>(
      *s.store,
      [knowledge = s.knowledge]() -> std::shared_ptr<const retrieval::Catalog> {
        const auto engine = knowledge->engine();
        if (!engine) throw std::runtime_error("the index is not loaded");
        return {engine, &engine->catalog()};
      },
      std::move(renderers), bot::digest_settings(config.digest), [&s] { s.outbox->wake(); }, wall_clock);
  if (state_is_shared(config)) {
    bot::IndexSyncOptions sync_options;
    sync_options.replica_id = s.replica_id;
    s.index_sync =
        std::make_unique<bot::IndexSync>(*s.store, *s.knowledge, sync_options, [] { return bot::system_now_ms(); });
  }
  bot::ConversationOptions conversation_options;
  conversation_options.admins = config.admins;
  conversation_options.dialogue_ttl = std::chrono::minutes(config.conversation_ttl_minutes);
  conversation_options.more_stats = [&s] {
    return s.index_sync ? s.index_sync->stats_lines() : std::vector<std::string>{};
  };
  s.conversation = std::make_unique<bot::Conversation>(
      *s.store, *s.knowledge,
      bot::DigestControl{[&s](const std::string& channel, const std::string& request) {
                           return s.digests->post_now(channel, request);
                         },
                         [&s] { return s.digests->channels().size(); }},
      conversation_options, [] { return bot::system_now_ms(); });

  // Read from the refresher's cache (see refresh_gauges()); filled once here before anyone can
  // scrape, then every gauge_refresh_period and after a reindex.
  s.refresh_gauges();
  s.refresher = std::thread([&s] { s.run_refresher(); });
  s.gauges.push_back(metrics.registry.gauge("roundup_outbox_backlog", "Messages waiting to be delivered", {},
                                            [&s] { return s.cached_outbox_backlog.load(); }));
  s.gauges.push_back(metrics.registry.gauge("roundup_digests_posted", "Daily digests recorded in the state database",
                                            {}, [&s] { return s.cached_digests_posted.load(); }));
  s.gauges.push_back(metrics.registry.gauge("roundup_index_size_bytes", "Size of the current index on disk", {},
                                            [&s] { return s.cached_index_bytes.load(); }));
  s.gauges.push_back(metrics.registry.gauge("roundup_ready", "1 when GET /readyz reports ready", {},
                                            [&s] { return s.readiness_problems().empty() ? 1.0 : 0.0; }));

  // Pruned here first, before anything else writes, then hourly by the watchdog.
  s.prune_state();
  s.outbox->start();
  s.inbox->start();
  s.digests->start();
  if (s.index_sync) s.index_sync->start();

  const auto listen = config::parse_listen(config.listen);
  http::ServerOptions server_options;
  server_options.address = listen->host;
  server_options.port = listen->port;
  // systemd gives a unit 1,024 descriptors unless LimitNOFILE says otherwise; take what the hard
  // limit allows, and keep the connection cap below it so outbound work always has descriptors.
  const auto descriptor_limit = raise_descriptor_limit();
  server_options.max_connections =
      connection_cap(static_cast<std::size_t>(config.http.max_connections), descriptor_limit);
  server_options.max_connections_per_peer =
      std::min(server_options.max_connections, static_cast<std::size_t>(config.http.max_connections_per_peer));
  server_options.on_refused = [&s](http::ConnectionRefusal why) { s.connection_refused(why); };
  if (server_options.max_connections < static_cast<std::size_t>(config.http.max_connections)) {
    log::warn("service", "http.max_connections lowered to fit the descriptor limit",
              {{"max_connections", std::to_string(server_options.max_connections)},
               {"descriptor_limit", std::to_string(descriptor_limit)}});
  }
  s.server = std::make_unique<http::Server>(server_options, [&s](const http::Request& request, http::Respond respond) {
    s.route_async(request, std::move(respond));
  });
  const unsigned short port = s.server->start();
  if (!config.metrics_listen.empty()) {
    const auto metrics_listen = config::parse_listen(config.metrics_listen);
    http::ServerOptions metrics_options;
    metrics_options.address = metrics_listen->host;
    metrics_options.port = metrics_listen->port;
    metrics_options.threads = 1;
    // Scrapers and probes are few; a cap of their own keeps a flood on `listen` from reaching
    // them, and them from taking descriptors from the webhooks.
    metrics_options.max_connections = k_metrics_connections;
    metrics_options.on_refused = server_options.on_refused;
    s.metrics_server = std::make_unique<http::Server>(metrics_options, [&s](const http::Request& request) {
      auto response = s.operational(request, /*internal_listener=*/true);
      return response ? *response : plain(404, "not found\n");
    });
    s.metrics_port = s.metrics_server->start();
    log::info("service", "health and metrics listening",
              {{"address", metrics_listen->host}, {"port", std::to_string(s.metrics_port)}});
  }
  for (const auto& platform : s.platforms) platform->start();
  s.watchdog = std::thread([&s] { s.run_watchdog(); });
  log::info("service", "listening", {{"address", listen->host}, {"port", std::to_string(port)}});
  return port;
}

void Service::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.watchdog_mutex);
    s.watchdog_stopping = true;
  }
  s.watchdog_wake.notify_all();
  if (s.watchdog.joinable()) s.watchdog.join();
  {
    std::lock_guard lock(s.refresher_mutex);
    s.refresher_stopping = true;
  }
  s.refresher_wake.notify_all();
  if (s.refresher.joinable()) s.refresher.join();
  // Order: no new requests, then no new answers, then no new deliveries.
  for (const auto& platform : s.platforms) platform->stop();
  if (s.metrics_server) s.metrics_server->stop();
  if (s.server) s.server->stop();
  if (s.digests) s.digests->stop();
  if (s.inbox) s.inbox->stop();
  if (s.outbox) s.outbox->stop();
  // Last: a rebuild it may be running must not keep the inbox and outbox from handing their claims
  // and leases over to the other replicas.
  if (s.index_sync) s.index_sync->stop();
  s.gauges.clear();  // the callbacks read objects that are about to go
}

int run_service(const config::Config& config, std::shared_ptr<bot::Knowledge> knowledge) {
  // Block the signals before any thread exists so every thread inherits the mask and only
  // sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Service service(config, std::move(knowledge));
  service.start();
  int received = 0;
  sigwait(&signals, &received);
  log::info("service", "shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  service.stop();
  log::info("service", "stopped");
  return 0;
}

}  // namespace roundup::adapters::service

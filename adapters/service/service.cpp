#include "adapters/service/service.h"

#include <signal.h>

#include <iostream>
#include <optional>

#include "adapters/http/client.h"
#include "adapters/http/server.h"
#include "adapters/slack/slack_service.h"
#include "adapters/slack/socket_mode.h"
#include "adapters/telegram/telegram_service.h"
#include "bot/inbox.h"
#include "bot/log.h"
#include "bot/outbox.h"

namespace roundup::app {
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

}  // namespace

struct Service::Impl {
  config::Config config;
  Answerer answerer;
  ServiceHooks hooks;

  std::unique_ptr<bot::StateStore> store;
  std::unique_ptr<http::HttpsClient> client;
  std::unique_ptr<http::HttpsClient> poll_client;  // Telegram long polling only
  std::unique_ptr<bot::Outbox> outbox;
  std::unique_ptr<bot::Inbox> inbox;
  std::unique_ptr<adapters::slack::SlackService> slack;
  std::unique_ptr<adapters::slack::SocketModeClient> slack_socket;
  std::unique_ptr<adapters::telegram::TelegramService> telegram;
  std::unique_ptr<http::Server> server;
  bool started = false;

  http::Response route(const http::Request& request) {
    const std::string path = path_of(request.target);
    if (path == "/healthz") {
      if (request.method != "GET" && request.method != "HEAD") return plain(405, "method not allowed\n");
      return plain(200, "ok\n");
    }
    if (path == "/slack/events" || path == "/slack/commands") {
      if (!slack || config.slack.mode != "events") return plain(404, "not found\n");
      if (request.method != "POST") return plain(405, "method not allowed\n");
      return path == "/slack/events" ? slack->on_events(request) : slack->on_command(request);
    }
    if (path == "/telegram/webhook") {
      if (!telegram || config.telegram.mode != "webhook") return plain(404, "not found\n");
      if (request.method != "POST") return plain(405, "method not allowed\n");
      return telegram->on_webhook(request);
    }
    return plain(404, "not found\n");
  }
};

Service::Service(config::Config config, Answerer answerer, ServiceHooks hooks) : impl_(std::make_unique<Impl>()) {
  if (auto problems = config::check_runnable(config); !problems.empty()) throw config::ConfigError(std::move(problems));
  impl_->config = std::move(config);
  impl_->answerer = std::move(answerer);
  impl_->hooks = std::move(hooks);
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

  s.store = std::make_unique<bot::StateStore>(config.data_dir / "state" / "bot.sqlite");
  http::ClientOptions client_options;
  client_options.ca_file = config.tls.ca_file.string();
  client_options.use_system_store = !s.hooks.tls_ca_only;
  s.client = std::make_unique<http::HttpsClient>(client_options);
  bot::OutboxOptions outbox_options;
  outbox_options.pace = [](const std::string& target) -> std::pair<double, double> {
    if (target.rfind("telegram:", 0) == 0) return adapters::telegram::TelegramService::pace(target);
    return {1.0, 3.0};  // Slack: about one message per second per channel, short bursts
  };
  s.outbox = std::make_unique<bot::Outbox>(*s.store, outbox_options);
  if (s.hooks.on_delivery_attempt) {
    s.outbox->on_attempt(
        [hook = s.hooks.on_delivery_attempt](const bot::OutboxItem&, const bot::Delivery&) { hook(); });
  }
  bot::InboxOptions inbox_options;
  inbox_options.workers = config.workers;
  s.inbox = std::make_unique<bot::Inbox>(*s.store, *s.outbox, inbox_options);

  bool any_platform = false;
  if (config.slack.enabled) {
    any_platform = true;
    auto clock =
        s.hooks.unix_seconds ? s.hooks.unix_seconds : adapters::slack::SecondsClock(adapters::slack::unix_seconds_now);
    s.slack = std::make_unique<adapters::slack::SlackService>(config.slack, *s.client, *s.store, *s.inbox, s.answerer,
                                                              std::move(clock));
    s.slack->connect();
    auto* slack = s.slack.get();
    s.inbox->add_handler(std::string(adapters::slack::k_platform),
                         [slack](const bot::InboundItem& item) { return slack->answer(item); });
    s.outbox->add_sender(std::string(adapters::slack::k_platform),
                         [slack](const bot::OutboxItem& item) { return slack->deliver(item); });
    if (config.slack.mode == "socket") {
      adapters::slack::SocketModeOptions socket_options;
      socket_options.ca_file = client_options.ca_file;
      socket_options.use_system_store = client_options.use_system_store;
      if (s.hooks.socket_min_backoff.count() > 0) socket_options.min_backoff = s.hooks.socket_min_backoff;
      s.slack_socket = std::make_unique<adapters::slack::SocketModeClient>(
          socket_options, [slack] { return slack->open_socket_url(); },
          [slack](const std::string& type, const nlohmann::json& payload) {
            return slack->accept_envelope(type, payload);
          });
    }
  }
  if (config.telegram.enabled) {
    any_platform = true;
    adapters::telegram::TelegramTimings timings;
    timings.poll_timeout_seconds = s.hooks.telegram_poll_timeout_seconds;
    timings.min_backoff = s.hooks.telegram_min_backoff;
    s.poll_client = std::make_unique<http::HttpsClient>(client_options);
    s.telegram = std::make_unique<adapters::telegram::TelegramService>(config.telegram, *s.client, *s.poll_client,
                                                                       *s.store, *s.inbox, s.answerer, timings);
    s.telegram->connect();
    auto* telegram = s.telegram.get();
    s.inbox->add_handler(std::string(adapters::telegram::k_platform),
                         [telegram](const bot::InboundItem& item) { return telegram->answer(item); });
    s.outbox->add_sender(std::string(adapters::telegram::k_platform),
                         [telegram](const bot::OutboxItem& item) { return telegram->deliver(item); });
  }
  if (!any_platform) log::info("service", "no chat platform is enabled; serving health checks only");

  s.outbox->start();
  s.inbox->start();

  const auto listen = config::parse_listen(config.listen);
  http::ServerOptions server_options;
  server_options.address = listen->host;
  server_options.port = listen->port;
  s.server =
      std::make_unique<http::Server>(server_options, [&s](const http::Request& request) { return s.route(request); });
  const unsigned short port = s.server->start();
  if (s.telegram && config.telegram.mode == "polling") s.telegram->start_polling();
  if (s.slack_socket) s.slack_socket->start();
  log::info("service", "listening", {{"address", listen->host}, {"port", std::to_string(port)}});
  return port;
}

void Service::stop() {
  Impl& s = *impl_;
  // Order: no new requests, then no new answers, then no new deliveries.
  if (s.slack_socket) s.slack_socket->stop();
  if (s.telegram) s.telegram->stop();
  if (s.server) s.server->stop();
  if (s.inbox) s.inbox->stop();
  if (s.outbox) s.outbox->stop();
}

int run_service(const config::Config& config, Service::Answerer answerer) {
  // Block the signals before any thread exists so every thread inherits the mask and only
  // sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Service service(config, std::move(answerer));
  service.start();
  int received = 0;
  sigwait(&signals, &received);
  log::info("service", "shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  service.stop();
  log::info("service", "stopped");
  return 0;
}

}  // namespace roundup::app

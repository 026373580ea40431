#include "adapters/slack/slack_platform.h"

#include "adapters/slack/slack_config.h"

#include "adapters/slack/slack_service.h"
#include "adapters/slack/socket_mode.h"

namespace roundup::adapters::slack {
namespace {

constexpr std::string_view k_events_path = "/slack/events";
constexpr std::string_view k_commands_path = "/slack/commands";

class SlackPlatform final : public bot::ChatPlatform {
 public:
  explicit SlackPlatform(const adapters::service::PlatformDeps& deps)
      : socket_mode_(settings_of(deps.config).mode == "socket"),
        client_options_(deps.client_options),
        socket_min_backoff_(deps.hooks.socket_min_backoff),
        service_(settings_of(deps.config), deps.client, deps.store, deps.inbox, deps.answerer,
                 deps.hooks.unix_seconds ? deps.hooks.unix_seconds : SecondsClock(unix_seconds_now)) {
    service_.mark_working(deps.answers_take_a_while);
  }

  std::string_view name() const override { return k_platform; }

  // Upper-case letters and digits (channels C…/G…/D…), as the configuration's ids.
  bool valid_channel_id(std::string_view id) const override { return slack::valid_channel_id(id); }

  std::vector<std::string> webhook_paths() const override {
    return {std::string(k_events_path), std::string(k_commands_path)};
  }
  bool receives_webhooks() const override { return !socket_mode_; }
  void on_webhook(const bot::WebRequest& request, bot::WebRespond respond) override {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path == k_commands_path) return service_.on_command_async(request, std::move(respond));
    service_.on_events_async(request, std::move(respond));
  }

  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item) override { return service_.answer(item); }
  std::vector<bot::OutgoingMessage> apologize(const bot::InboundItem& item) const override {
    return service_.apologize(item);
  }
  bot::Delivery deliver(const bot::OutboxItem& item) override { return service_.deliver(item); }
  std::vector<bot::OutgoingMessage> render_post(const std::string& channel_id, const bot::Answer& answer,
                                                const std::string& key) const override {
    return service_.render_post(channel_id, answer, key);
  }
  // About one message per second per channel, in short bursts.
  std::pair<double, double> pace(const std::string&) const override { return {1.0, 3.0}; }

  void connect() override {
    service_.connect();
    if (!socket_mode_) return;
    SocketModeOptions options;
    options.ca_file = client_options_.ca_file;
    options.use_system_store = client_options_.use_system_store;
    if (socket_min_backoff_.count() > 0) options.min_backoff = socket_min_backoff_;
    socket_ = std::make_unique<SocketModeClient>(
        options, [this] { return service_.open_socket_url(); },
        [this](const std::string& type, const nlohmann::json& payload) {
          return service_.accept_envelope(type, payload);
        });
  }
  void start() override {
    if (socket_) socket_->start();
  }
  void stop() override {
    if (socket_) socket_->stop();
  }
  std::vector<std::string> readiness_problems() const override {
    if (socket_ && !socket_->connected()) return {"slack_socket"};
    return {};
  }

 private:
  bool socket_mode_;
  http::ClientOptions client_options_;
  std::chrono::milliseconds socket_min_backoff_;
  SlackService service_;
  std::unique_ptr<SocketModeClient> socket_;  // Socket Mode only, from connect()
};

}  // namespace

std::unique_ptr<bot::ChatPlatform> make_platform(const adapters::service::PlatformDeps& deps) {
  if (!settings_of(deps.config).enabled) return nullptr;
  return std::make_unique<SlackPlatform>(deps);
}

}  // namespace roundup::adapters::slack

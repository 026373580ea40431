#include "adapters/telegram/telegram_platform.h"

#include "adapters/telegram/telegram_config.h"

#include "adapters/telegram/telegram_service.h"
#include "telemetry/log.h"

namespace roundup::adapters::telegram {
namespace {

constexpr std::string_view k_webhook_path = "/telegram/webhook";

TelegramTimings timings_of(const adapters::service::ServiceHooks& hooks) {
  TelegramTimings timings;
  timings.poll_timeout_seconds = hooks.telegram_poll_timeout_seconds;
  timings.min_backoff = hooks.telegram_min_backoff;
  if (hooks.lease_check.count() > 0) timings.lease_check = hooks.lease_check;
  return timings;
}

PollerElection election_of(const adapters::service::PlatformDeps& deps) {
  PollerElection election;
  election.leases = &deps.store;
  election.replica_id = deps.replica_id;
  election.now_ms = [clock = deps.hooks.wall_clock] {
    const auto now = clock ? clock() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  };
  return election;
}

ReplyChains reply_chains_of(const adapters::service::PlatformDeps& deps) {
  // The same memory, lifetime and clock as the conversations themselves (Conversation).
  return {&deps.store, std::chrono::minutes(deps.config.conversation_ttl_minutes), [] { return bot::system_now_ms(); }};
}

class TelegramPlatform final : public bot::ChatPlatform {
 public:
  explicit TelegramPlatform(const adapters::service::PlatformDeps& deps)
      : polling_(settings_of(deps.config).mode == "polling"),
        client_options_(deps.client_options),
        stale_after_(adapters::service::poll_stale_after(deps.hooks)),
        poll_client_(std::make_unique<http::HttpsClient>(client_options_)),
        service_(settings_of(deps.config), deps.client, *poll_client_, deps.store, deps.inbox, deps.answerer,
                 timings_of(deps.hooks), election_of(deps), reply_chains_of(deps)) {
    service_.show_typing(deps.answers_take_a_while);
  }

  std::string_view name() const override { return k_platform; }

  // A chat id (negative for groups and channels) or a public channel's "@username", as the
  // configuration's ids.
  bool valid_channel_id(std::string_view id) const override { return telegram::valid_channel_id(id); }

  std::vector<std::string> webhook_paths() const override { return {std::string(k_webhook_path)}; }
  bool receives_webhooks() const override { return !polling_; }
  void on_webhook(const bot::WebRequest& request, bot::WebRespond respond) override {
    service_.on_webhook_async(request, std::move(respond));
  }

  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item) override { return service_.answer(item); }
  std::vector<bot::OutgoingMessage> apologize(const bot::InboundItem& item) const override {
    return TelegramService::apologize(item);
  }
  bot::Delivery deliver(const bot::OutboxItem& item) override { return service_.deliver(item); }
  std::vector<bot::OutgoingMessage> render_post(const std::string& channel_id, const bot::Answer& answer,
                                                const std::string& key) const override {
    return TelegramService::render_post(channel_id, answer, key);
  }
  std::pair<double, double> pace(const std::string& target) const override { return TelegramService::pace(target); }

  void connect() override { service_.connect(); }
  void start() override {
    if (polling_) service_.start_polling();
  }
  void stop() override { service_.stop(); }

  // A poll loop with no successful getUpdates for stale_after_ is not ready.
  std::vector<std::string> readiness_problems() const override {
    if (polling_ && !service_.standing_by() && std::chrono::steady_clock::now() - service_.last_poll() > stale_after_)
      return {"telegram_poll"};
    return {};
  }

  // A loop that fails (an outage, a 409) still begins a round after each backoff and is left to
  // retry; this is for one stuck inside a round beyond every deadline.
  void check_progress() override {
    if (!polling_) return;
    const auto since = std::chrono::steady_clock::now() - service_.last_round();
    if (since <= 2 * stale_after_) return;
    log::warn("service", "telegram polling stalled; restarting it",
              {{"stalled_s", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count())}});
    try {
      // A fresh client, because the stuck one is shut down to unblock the loop. The old one is
      // unused once restart_polling() has joined the old loop.
      auto fresh = std::make_unique<http::HttpsClient>(client_options_);
      service_.restart_polling(*fresh);
      poll_client_ = std::move(fresh);
    } catch (const std::exception& error) {
      log::error("service", "cannot restart telegram polling", {{"error", error.what()}});
    }
  }

 private:
  bool polling_;
  http::ClientOptions client_options_;
  std::chrono::milliseconds stale_after_;
  // Long polling's own client (its long requests must not hold up replies on the shared one);
  // replaced when the watchdog restarts the loop. Declared before the service that uses it.
  std::unique_ptr<http::HttpsClient> poll_client_;
  TelegramService service_;
};

}  // namespace

std::unique_ptr<bot::ChatPlatform> make_platform(const adapters::service::PlatformDeps& deps) {
  if (!settings_of(deps.config).enabled) return nullptr;
  return std::make_unique<TelegramPlatform>(deps);
}

}  // namespace roundup::adapters::telegram

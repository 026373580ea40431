#pragma once
// The port a chat platform implements (Slack, Telegram, and the test platform in tests/). The
// service (adapters/service) builds each enabled platform from the registry
// (adapters/service/platform_registry.cpp) and then knows platforms only through this interface:
// it serves their webhook routes, runs their inbox handlers and outbox senders, asks them to
// render digests, paces their targets, reports their readiness, and starts and stops them.
//
// Threads: on_webhook runs on HTTP I/O threads and must not block; answer() and apologize() on
// inbox workers; deliver() on outbox senders; render_post() on the digest scheduler's thread or
// an inbox worker (/digest now); readiness_problems() on any thread; check_progress() on the
// service's watchdog thread.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bot/answer.h"
#include "bot/outbox.h"
#include "bot/state_store.h"
#include "bot/web_message.h"

namespace roundup::bot {

class ChatPlatform {
 public:
  virtual ~ChatPlatform() = default;

  // The platform's key: the prefix of its channel addresses ("slack" in "slack:C0123"), and the
  // platform of its inbox items and outbox messages. Lower-case letters, digits and '_'.
  virtual std::string_view name() const = 0;
  // Whether `id` is a well-formed id of a chat this platform can post to (ChannelAddress::id).
  virtual bool valid_channel_id(std::string_view id) const = 0;

  // Every webhook path the platform has ("/slack/events"), whether or not this configuration
  // receives through them: a GET there is 405, and a path served by no platform 404.
  virtual std::vector<std::string> webhook_paths() const = 0;
  // Whether this configuration receives through the webhook paths (not Socket Mode or polling).
  virtual bool receives_webhooks() const = 0;
  // A POST to one of webhook_paths() while receives_webhooks(): authenticates before parsing,
  // records what it accepts in the inbox, and responds once it is recorded.
  virtual void on_webhook(const WebRequest& request, WebRespond respond) = 0;

  // Inbox handler: the replies to one recorded item, addressed as outbox messages.
  virtual std::vector<OutgoingMessage> answer(const InboundItem& item) = 0;
  // Inbox apology for an item set aside after failing every attempt; nothing when it names no chat.
  virtual std::vector<OutgoingMessage> apologize(const InboundItem& item) const = 0;
  // Outbox sender. Must not throw for platform errors.
  virtual Delivery deliver(const OutboxItem& item) = 0;
  // A message the bot starts itself (a digest) in chat `channel_id`, as outbox messages keyed
  // `key#0`, `key#1`, ...
  virtual std::vector<OutgoingMessage> render_post(const std::string& channel_id, const Answer& answer,
                                                   const std::string& key) const = 0;
  // Outbox pacing for one of its targets: {messages per second, burst}.
  virtual std::pair<double, double> pace(const std::string& target) const = 0;

  // Before anything is received or sent: checks the credentials with the platform (throws when
  // it refuses them for good) and registers webhooks or commands.
  virtual void connect() = 0;
  // After the HTTP server is up: starts the platform's own loops (Socket Mode, long polling).
  virtual void start() = 0;
  // Stops receiving; idempotent. Deliveries and answers in flight are the service's to finish.
  virtual void stop() = 0;
  // Readiness reason codes ("slack_socket", "telegram_poll"); empty when ready.
  virtual std::vector<std::string> readiness_problems() const = 0;
  // Called every few seconds by the service's watchdog: restart a loop that stopped making progress.
  virtual void check_progress() {}
};

}  // namespace roundup::bot

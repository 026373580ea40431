#pragma once
// Slack end to end, platform side: authenticates and decodes inbound traffic (Events API and
// slash commands over HTTP, or the same payloads from Socket Mode), records each question in
// the durable inbox, turns a question into Block Kit replies on a worker, and delivers replies
// through the Web API for the outbox.
//
// Threads: on_*_async run on I/O threads and only authenticate and decode; they record through
// the inbox's group commit and ack from the committer thread, so the I/O thread does not wait for
// the commit. accept_* (Socket Mode, on the socket client's own thread) record with one
// synchronous insert each. answer() runs on inbox workers; deliver() on outbox senders. The AI
// surface's suggested prompts, status and titles (assistant_pane.h) are best-effort side calls on
// SideCalls' own thread; only replies and the legacy pane's greeting go through the outbox.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/http/server.h"
#include "adapters/slack/events.h"
#include "adapters/slack/slack_config.h"
#include "adapters/slack/web_api.h"
#include "bot/answer.h"
#include "bot/conversation.h"
#include "bot/inbox.h"
#include "bot/side_calls.h"
#include "bot/state_store.h"
#include "config/config.h"
#include "telemetry/log.h"

namespace roundup::adapters::slack {

inline constexpr std::string_view k_platform = "slack";

// Unix seconds, for the signature's replay window; injectable for tests.
using SecondsClock = std::function<std::int64_t()>;
std::int64_t unix_seconds_now();

class SlackService {
 public:
  SlackService(const SlackConfig& config, http::HttpsClient& client, bot::ThreadMemory& threads, bot::Inbox& inbox,
               bot::ChatAnswerer answerer, SecondsClock clock = unix_seconds_now);

  // auth.test: learns the bot's own user id. Retries transient failures with backoff until
  // `give_up_after`; throws ApiError for a permanent one (invalid_auth, ...).
  void connect(std::chrono::milliseconds give_up_after = std::chrono::seconds(60));

  // Answers take seconds (a language model writes them): a channel question wears a reaction
  // while its answer is written (DMs show the AI surface's status instead). Best-effort.
  void mark_working(bool on) { mark_working_ = on; }
  const AuthIdentity& identity() const { return identity_; }
  // Socket Mode: a fresh wss:// URL from apps.connections.open (app-level token). Throws ApiError.
  std::string open_socket_url() { return api_.open_socket_connection(); }
  // Socket Mode: one envelope's payload, already authenticated by the socket. Returns the ack
  // payload (slash commands) or nullopt. Throws StateError when it cannot be recorded, so the
  // envelope is not acked and Slack redelivers it.
  std::optional<nlohmann::json> accept_envelope(const std::string& type, const nlohmann::json& payload);

  // HTTP routes (Events API mode). 401 with no body for anything not signed correctly; 400 for
  // a signed but malformed body; 200 otherwise (ignored events are acked too, so Slack does not
  // retry them); 503 when the inbox cannot record the question, so Slack retries later. A
  // question's 200 (or 503) is sent once the inbox's group commit has recorded it (or failed
  // to), through `respond`, from the committer thread.
  void on_events_async(const http::Request& request, http::Respond respond);
  // Slash commands: the same, acked with the ephemeral reply (or, when the inbox cannot record
  // the command, an ephemeral apology: Slack shows a 200's text to the user, a 5xx only as a
  // generic failure).
  void on_command_async(const http::Request& request, http::Respond respond);

  // Socket Mode (already authenticated by the socket), one synchronous insert each; the HTTP
  // routes above share their decoding (decide_event, prepare_command). accept_event returns the
  // url_verification challenge when there is one. accept_command returns the immediate
  // acknowledgement payload ({"response_type": "ephemeral", "text": ...}).
  EventDecision accept_event(const nlohmann::json& envelope);
  nlohmann::json accept_command(const std::map<std::string, std::string>& fields);

  // Inbox handler: the answer to one recorded question, as outbox messages.
  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item);
  // Inbox apology for an item being quarantined: addressed as its answer would be, without
  // answering it. Nothing when the payload is unreadable.
  std::vector<bot::OutgoingMessage> apologize(const bot::InboundItem& item) const;
  // A message the bot starts itself (a daily digest) in channel `channel`, as outbox messages
  // keyed `key#0`, `key#1`, ...
  std::vector<bot::OutgoingMessage> render_post(const std::string& channel, const bot::Answer& answer,
                                                const std::string& key) const;
  // Outbox sender.
  bot::Delivery deliver(const bot::OutboxItem& item);

 private:
  bool response_url_allowed(const std::string& url) const;
  // `answer` as outbox entries keyed key#0, key#1, ... for the recorded item `payload`: in its
  // thread, or through its slash command's response_url.
  static std::vector<bot::OutgoingMessage> address_replies(const nlohmann::json& payload, const bot::Answer& answer,
                                                           const std::string& key);
  // A slash command decoded: a refusal (nothing to record; `ack` says why) or the inbox item to
  // record and the ephemeral ack to send once it is recorded.
  struct PreparedCommand {
    bool refused = false;
    std::string key;
    std::string channel;
    std::string payload;
    nlohmann::json ack;
  };
  PreparedCommand prepare_command(const std::map<std::string, std::string>& fields) const;
  void log_command(bot::Inbox::Submitted submitted, const PreparedCommand& command);  // logs it
  // interpret_event, and for a question the inbox payload to record. Throws StateError.
  EventDecision decide_event(const nlohmann::json& envelope, std::string& payload);
  void log_event(bot::Inbox::Submitted submitted, const Question& question);  // logs it
  http::Response authenticate(const http::Request& request) const;            // status 0 = authentic
  // A thread the bot takes part in: remembered in the store once answered, or still being answered.
  bool in_known_thread(const std::string& channel, const std::string& thread_ts) const;
  // The AI surface opened: its suggested prompts as a side call, and for the legacy pane a
  // greeting, which becomes a question to record with `payload`.
  void open_pane(EventDecision& decision, std::string& payload);
  // Before answering a DM question: the status, and the title of a thread not answered in yet, as
  // side calls. Ready once they are made.
  std::shared_future<void> show_answering(const std::string& channel, const std::string& thread_ts,
                                          const std::string& question);

  SlackConfig config_;
  WebApi api_;
  bot::ThreadMemory& threads_;
  bot::Inbox& inbox_;
  bot::ChatAnswerer answerer_;
  SecondsClock clock_;
  AuthIdentity identity_;
  bot::SideCalls side_calls_{"slack"};  // after api_, which its calls use
  // Threads whose first question is accepted but not answered yet (answer() then remembers them in
  // the store), so that a follow-up arriving meanwhile is answered too. In memory only: after a
  // restart the pending questions are answered, and so remembered, again.
  bool mark_working_ = false;
  mutable std::mutex answering_mutex_;
  std::set<std::pair<std::string, std::string>> answering_threads_;
  // Refused requests are logged at most once per reason per 10 s: anyone can send them.
  mutable log::RateLimiter refusal_log_;
};

}  // namespace roundup::adapters::slack

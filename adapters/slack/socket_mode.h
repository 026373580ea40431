#pragma once
// Slack Socket Mode: one outbound websocket (wss://) over which Slack delivers the same events,
// slash commands and interactions it would otherwise POST to a public URL. The client connects in
// the background, acks every envelope after the handler has recorded it, and reconnects:
//  - Slack's {"type":"disconnect"} (warning, refresh_requested, ...): connect again at once with a
//    fresh URL while the old connection goes on being read and acked; once the new one has said
//    hello the old one is closed politely. If the new one fails, the old one serves until Slack
//    drops it, and the attempts go on with backoff as below. link_disabled closes the connection,
//    is logged as an error and retried with backoff;
//  - any other end (read or write error, EOF, close frame from Slack, ping timeout, no hello):
//    reconnect with exponential backoff and jitter.
// Acks are written in envelope order, one at a time, from the client's single thread, each on the
// connection its envelope arrived on. While a connection is being replaced, envelopes from both
// reach the handler, in no particular order between the two.
//
// Beast, Asio and OpenSSL stay out of this header on purpose: only socket_mode.cpp includes them.
//
// Secrets: the connection URL carries a ticket in its query, and the URL source uses the app-level
// token. Nothing here logs either: log lines name only the host.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace roundup::adapters::slack {

struct SocketModeOptions {
  // Trust, as for http::ClientOptions: an extra PEM CA file (read once, by the constructor) and/or
  // the system store. The peer is always verified, including its host name (or IP literal), and
  // SNI is sent for host names.
  std::string ca_file;
  bool use_system_store = true;
  // Reconnect delays: after the n-th consecutive failure the wait is a random time in
  // [b/2, b] with b = min(min_backoff * 2^(n-1), max_backoff). A hello resets the count.
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  // Bounds each of: DNS + TCP connect + TLS handshake together; the websocket handshake; the wait
  // for Slack's hello on a new connection; a polite websocket close.
  std::chrono::milliseconds handshake_timeout{10000};
  // A websocket ping is sent after this long without receiving anything; a connection on which
  // nothing (no frame, no pong) arrives for two intervals is dropped and reconnected. Zero or
  // less disables both.
  std::chrono::milliseconds ping_interval{30000};
};

// Returns the URL to connect to, wss://host[:port]/path?query (ws:// too, for completeness).
// Called on the client's thread before every connection attempt, so it may block (production:
// WebApi::open_socket_connection, bounded by the HTTP client's timeout); stop() waits for a call
// in progress. May throw ApiError: a retryable one is retried with backoff (at least its
// retry_after), a permanent one (invalid_auth, ...) is logged as an error and retried every
// max_backoff, so a fixed token is picked up without a restart. Any other exception counts as
// retryable.
using UrlSource = std::function<std::string()>;

// Called on the client's thread for each envelope of type "events_api", "slash_commands" or
// "interactive", BEFORE its ack is sent, with the envelope's "payload" (an empty object if it has
// none). It must be fast: it only records the work durably. Its return value becomes the ack's
// "payload" (slash commands: the immediate ephemeral reply); nullopt sends a bare ack. If it
// throws, the envelope is not acked and Slack redelivers it; the connection carries on.
// Envelopes of other types are acked without calling it.
using EnvelopeHandler =
    std::function<std::optional<nlohmann::json>(const std::string& type, const nlohmann::json& payload)>;

// One websocket message from Slack, decoded. Pure (no I/O, never throws on any text): the client
// acts on it, and fuzz/slack_socket_mode_fuzz.cpp feeds it arbitrary frames.
struct SocketMessage {
  enum class Kind {
    not_json,    // not a JSON object: nothing to do or ack
    ignored,     // no envelope_id: nothing to do or ack
    hello,       // the connection is usable; num_connections as Slack sent it ("" when absent)
    disconnect,  // Slack asks for a new connection, `reason` says why
    envelope,    // to ack with envelope_id; `dispatch` when the handler sees the payload first
  };
  Kind kind = Kind::not_json;
  std::string type;  // the message's "type" ("" when it has none)
  std::string envelope_id;
  std::string reason;
  std::string num_connections;
  // Envelopes of type "events_api", "slash_commands" or "interactive": the handler gets `payload`
  // (an empty object when the envelope has none). Other types are acked without it.
  bool dispatch = false;
  nlohmann::json payload;
};
SocketMessage decode_socket_message(std::string_view text);

// The ack of envelope `envelope_id`: {"envelope_id": ..., "payload": ...} with the handler's
// reply as payload when there is one. Strings that are not UTF-8 are replaced, never thrown on.
std::string socket_ack(const std::string& envelope_id, std::optional<nlohmann::json> reply);

class SocketModeClient {
 public:
  // Throws std::invalid_argument for an empty url_source or handler, std::runtime_error if
  // ca_file is set and cannot be loaded or the system store cannot be set up.
  SocketModeClient(SocketModeOptions options, UrlSource url_source, EnvelopeHandler handler);
  // Calls stop().
  ~SocketModeClient();

  SocketModeClient(const SocketModeClient&) = delete;
  SocketModeClient& operator=(const SocketModeClient&) = delete;

  // Starts the client's own thread, which connects and reconnects in the background until
  // stop(). Throws std::logic_error if called twice.
  void start();

  // Idempotent. Closes the current connection politely (websocket close, bounded by
  // handshake_timeout), ends any connect or backoff wait at once and joins the thread. An
  // envelope whose handler already ran may lose its ack; Slack then redelivers it, so handlers
  // must dedupe (the inbox does). Must not be called from the url source or the handler.
  void stop();

  // Thread-safe observers, for health checks, metrics and tests.
  // Whether a connection on which Slack's hello has arrived is being served (the current one, or
  // one being replaced until its successor says hello).
  bool connected() const;
  // Hellos received so far, i.e. connections that became usable.
  std::uint64_t connections() const;
  // The last time anything arrived from Slack (any frame, ping or pong), or when the client was
  // constructed. A readiness watchdog compares it with ping_interval.
  std::chrono::steady_clock::time_point last_activity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::adapters::slack

#pragma once
// A blocking HTTP/1.1 client over TLS (or plain TCP) for the platform Web APIs: Slack's
// https://slack.com/api, Telegram's Bot API (including a local Bot API server over http://).
// Callers are worker threads; the I/O runs on one internal thread, so a call never needs an
// event loop of its own. Connections are kept alive and reused per origin.
//
// Beast, Asio and OpenSSL stay out of this header on purpose: only client.cpp includes them.
//
// Secrets: request URLs can carry tokens (Telegram puts the bot token in the path) and headers
// carry them (Authorization). Nothing here logs, and error messages name only the method and
// the origin (scheme://host:port), never the path, query or headers.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roundup::adapters::http {

struct ClientOptions {
  // Extra PEM CA certificate(s) trusted for https:// in addition to the system store; empty =
  // none. The file is read once, by the constructor.
  std::string ca_file;
  // Trust the system's default CA store (OpenSSL's default verify paths). Tests set this false so
  // that only their own CA is trusted.
  bool use_system_store = true;
  // Bounds opening a new connection: DNS, TCP connect and TLS handshake together. The request's
  // own timeout still applies on top (whichever ends first).
  std::chrono::milliseconds connect_timeout{5000};
  // Idle keep-alive connections kept per origin (scheme://host:port); 0 disables reuse.
  std::size_t max_idle_per_origin = 4;
  // Largest decoded response body accepted, in bytes; a larger one is a protocol error.
  std::size_t max_response_bytes = 8 << 20;
  // Sent as User-Agent unless the request sets its own; empty = no User-Agent.
  std::string user_agent = "roundup-bot/0.1";
};

struct ClientRequest {
  std::string method = "POST";  // any HTTP token; GET, POST, ... as usual
  // http[s]://host[:port][/path][?query]; host may be a name, an IPv4 literal or a bracketed
  // IPv6 literal. http:// is meant for a local Telegram Bot API server. A #fragment is dropped.
  std::string url;
  // Extra header fields, sent in this order. Host, Content-Length, Transfer-Encoding and
  // Connection are the client's business and are ignored here; User-Agent overrides the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Length (also 0 for POST/PUT/OPTIONS when empty)
  // Deadline for the whole exchange, counted from the send() call: connecting (if no pooled
  // connection is free), writing the request and reading the whole response. Long-polling
  // callers (Telegram getUpdates) pass the poll time plus a margin.
  std::chrono::milliseconds timeout{15000};
};

struct ClientResponse {
  int status = 0;
  // In arrival order, names lower-cased, repeated fields kept as separate entries.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunked transfer coding removed); content codings are not undone

  // The first field with this name (compared case-insensitively), if any.
  std::optional<std::string> header(std::string_view name) const;
};

// A failure to get a complete HTTP response. An HTTP error status (4xx, 5xx) is NOT a transport
// error: it is a normal ClientResponse.
class TransportError : public std::runtime_error {
 public:
  enum class Kind {
    connect,   // DNS lookup failed, connection refused or unreachable
    tls,       // TLS handshake failed: untrusted certificate, host-name mismatch, no common protocol
    timeout,   // a deadline passed (connect_timeout or the request timeout)
    io,        // reset or closed mid-exchange, or the client is being destroyed
    protocol,  // the peer did not speak valid HTTP/1.x, or the response was over a size limit
  };
  TransportError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// "connect", "tls", "timeout", "io" or "protocol".
std::string_view to_string(TransportError::Kind kind);

class HttpsClient {
 public:
  // Throws std::runtime_error if ca_file is set and cannot be loaded, or the system store is
  // requested and cannot be set up.
  explicit HttpsClient(ClientOptions options = {});
  // Makes send() calls still in flight fail at once with TransportError (io), closes every
  // connection and joins the I/O thread. Callers must not start new send() calls meanwhile.
  ~HttpsClient();

  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Thread-safe; blocks the calling thread until the response is complete or the request's
  // timeout passes (a DNS lookup that cannot be interrupted gets one extra second at most).
  // Throws TransportError for transport failures, std::invalid_argument for a malformed URL,
  // method or header (name not a token, CR/LF/NUL in a value). Must not be called on the
  // client's own I/O thread, i.e. not from anything the client calls back (it calls nothing).
  //
  // A request sent on a reused keep-alive connection that the server had already closed is
  // retried once on a new connection, and only when not a single response byte had arrived.
  // Nothing else is retried: retrying after a timeout or a server error is the caller's call.
  ClientResponse send(const ClientRequest& request);

  // Fails every send() in flight at once with TransportError (io), and every later one too.
  // Irreversible; for stopping a thread blocked in a long poll. Thread-safe.
  void shut_down();

  // Closes all idle pooled connections (politely: TLS close_notify, in the background).
  void close_idle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::adapters::http

#pragma once
// A small asynchronous HTTP/1.1 server, optionally over TLS, for webhooks (Slack, Telegram) and
// for the fake platform APIs that tests run on loopback. It accepts connections, parses requests
// with bounded size and time, and hands each complete request to one Handler.
// Routing, authentication and the actual work are the Handler's job.
//
// Beast and Asio stay out of this header on purpose: only server.cpp includes them, so callers
// compile fast and do not need Boost's compile definitions for their own sake.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bot/web_message.h"

namespace roundup::adapters::http {

// One complete request (bot/web_message.h). `headers` keys are lower-cased; repeated header
// fields are joined with ", " in arrival order. `body` holds at most ServerOptions::body_limit
// bytes. `remote` is the peer as "address:port" (the TCP peer, not any X-Forwarded-For).
using Request = bot::WebRequest;

// `status` must be 200..599 (anything else, a 1xx included, is sent as 500); a 204 or 304 is sent
// without a body. `headers` are extra fields; a field whose name or value is not valid field
// syntax (fields.h: a control character, say) is dropped rather than sent. Content-Length,
// Transfer-Encoding, Connection and Content-Type are set by the server: a handler's own are
// dropped.
using Response = bot::WebResponse;

// Called on an I/O thread, once per request, possibly concurrently for different connections:
// it must be thread-safe and fast (ack, then hand heavy work to another thread). An exception
// becomes a 500 response; it never takes the server down.
using Handler = std::function<Response(const Request&)>;

// Answers one request of an AsyncHandler. Call it once, from any thread, during the handler call
// or later; calls after the first are ignored. Copyable, so it can travel with the work.
using Respond = bot::WebRespond;

// For a handler whose answer depends on slow work (a webhook acked only once its record is
// committed): it starts the work and returns, and whoever finishes the work calls `respond`. The
// I/O thread serves other connections meanwhile; this connection waits (no deadline) for its
// response, then keep-alive and the write deadline work as with a Handler. Called on an I/O thread,
// possibly concurrently, and must itself be quick; `request` is valid only during the call. An
// exception before `respond` is called becomes a 500, and so does every copy of `respond` being
// destroyed uncalled. stop() waits for responses still due up to drain_timeout like for any
// request in flight, then closes those connections without an answer.
using AsyncHandler = std::function<void(const Request& request, Respond respond)>;

// Why a connection was closed at accept.
enum class ConnectionRefusal { server_full, peer_full };
// "server_full" / "peer_full": for a metric label or a log field.
const char* to_string(ConnectionRefusal why);

struct ServerOptions {
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6 address to bind
  unsigned short port = 8080;         // 0 = ephemeral; start() returns the real port
  // Bytes; a larger body gets 413 and the connection closes. A request whose body framing is
  // ambiguous (a Transfer-Encoding other than exactly "chunked", or one beside Content-Length)
  // gets 400 and the connection closes, since where the next request starts is unknown
  // (RFC 9112 section 6.3).
  std::size_t body_limit = 1 << 20;
  // header_timeout bounds the wait for a request and the reading of its header (the idle wait on
  // a keep-alive connection and the TLS handshake included), so an idle or trickling peer is shed
  // quickly; body_timeout then bounds reading that request's body; write_timeout bounds writing
  // one response; drain_timeout bounds how long stop() waits for in-flight requests.
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds drain_timeout{5000};
  // Connections open at once, in all and from one peer address (the TCP peer: behind a reverse
  // proxy that is the proxy). A connection over either cap is closed as soon as it is accepted,
  // before anything is read, and reported to on_refused. 0 = no cap.
  std::size_t max_connections = 0;
  std::size_t max_connections_per_peer = 0;
  // Called on an I/O thread for each connection closed at accept (must be quick and must not
  // throw): for a counter and a rate-limited log line. The server itself logs nothing per refusal,
  // so a flood cannot fill the log.
  std::function<void(ConnectionRefusal)> on_refused;
  int threads = 2;  // I/O threads; values below 1 mean 1
  // TLS: the certificate chain (leaf first) and its private key as PEM text, not file names.
  // Both empty = plain HTTP; both set = every connection starts with a TLS handshake (TLS 1.2 or
  // later), bounded by header_timeout, and a failed handshake just closes the connection. Limits,
  // keep-alive and stop() behave the same either way. Setting only one of them, or PEM that does
  // not parse or whose key does not match the certificate, makes the constructor throw
  // std::invalid_argument.
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

class Server {
 public:
  // Throws std::invalid_argument for an empty handler or unusable TLS material (see above).
  Server(ServerOptions options, Handler handler);
  Server(ServerOptions options, AsyncHandler handler);
  // Calls stop().
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads; returns the bound port. Throws std::system_error
  // (or boost::system::system_error) if the address is invalid or cannot be bound, and
  // std::logic_error if called twice.
  unsigned short start();

  // Graceful and idempotent: stops accepting (new connects are refused once this returns),
  // closes idle keep-alive connections, lets requests already being handled finish and send
  // their response (with "Connection: close") for up to drain_timeout, then closes whatever is
  // left and joins the I/O threads. It cannot interrupt a Handler call, so it also waits for
  // handlers still running; an AsyncHandler's response still missing then is given up (a later
  // `respond` call is ignored). Must not be called from a handler.
  void stop();

  // Connections currently open (accepted and not yet closed).
  std::size_t active_connections() const;
  // Connections closed at accept because a cap in ServerOptions was reached, since start().
  std::uint64_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend std::string serve_connection_bytes(const ServerOptions& options, AsyncHandler handler, std::string_view input);
};

// The server's request loop run on one connection's bytes held in memory: `input` is everything
// the peer sends before it half-closes, the result everything the server writes back until it
// closes. The parsing, body_limit, framing checks, error replies, handler calls (answered by
// `handler`, which must respond before it returns), keep-alive and pipelining are the server's
// own; deadlines, TLS, connection caps and stop() are not involved (TLS options are ignored). An
// exception that would end the connection in the server propagates. No socket or thread: for the
// fuzz target fuzz/http_server_fuzz.cpp.
std::string serve_connection_bytes(const ServerOptions& options, AsyncHandler handler, std::string_view input);

}  // namespace roundup::adapters::http

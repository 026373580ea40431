#include "adapters/http/client.h"

#include "telemetry/log.h"
#include "text/unicode.h"

#include "adapters/http/fields.h"
#include "adapters/http/tls_client.h"

#include "adapters/http/url.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace roundup::adapters::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto k_use_tuple = net::as_tuple(net::use_awaitable);

// Response headers from Slack run to a few KiB; Beast's default limit (8 KiB) is too tight.
constexpr std::uint32_t k_response_header_limit = 64 * 1024;

// How long a polite close (TLS close_notify) of a retired connection may take in the background.
constexpr std::chrono::milliseconds k_close_timeout{2000};

// getaddrinfo runs on a resolver thread and cannot be interrupted: send() stops waiting this long
// after the request's deadline even if the lookup is still going.
constexpr std::chrono::milliseconds k_resolve_grace{1000};

// Bounds a caller's timeout so `now + timeout` cannot overflow.
constexpr std::chrono::milliseconds k_max_timeout = std::chrono::hours(24);

Url parse_request_url(std::string_view text) {
  return parse_url(text, "https", "http", "request URL");
}

using WireRequest = bhttp::request<bhttp::string_body>;
using WireResponse = bhttp::response<bhttp::string_body>;

WireRequest to_wire(const ClientRequest& request, const Url& url, const std::string& default_user_agent) {
  WireRequest wire;
  wire.version(11);
  const auto verb = bhttp::string_to_verb(request.method);
  if (verb != bhttp::verb::unknown) {
    wire.method(verb);
  } else if (is_token(request.method)) {
    wire.method_string(request.method);
  } else {
    throw std::invalid_argument("bad request method");
  }
  wire.target(url.target);
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    // The name, not the value: values carry tokens.
    if (!is_token(name) || !is_field_value(value)) throw std::invalid_argument("bad request header '" + name + "'");
    const auto lower = ascii_lower(name);
    if (lower == "host" || lower == "content-length" || lower == "transfer-encoding" || lower == "connection") continue;
    has_user_agent = has_user_agent || lower == "user-agent";
    wire.insert(name, value);
  }
  wire.set(bhttp::field::host, url.host_field);
  if (!has_user_agent && !default_user_agent.empty()) wire.set(bhttp::field::user_agent, default_user_agent);
  wire.body() = request.body;
  wire.prepare_payload();
  return wire;
}

ClientResponse to_client_response(WireResponse&& wire) {
  ClientResponse response;
  response.status = static_cast<int>(wire.result_int());
  for (const auto& field : wire)
    response.headers.emplace_back(ascii_lower(field.name_string()), std::string(field.value()));
  response.body = std::move(wire.body());
  return response;
}

// Errors that mean a reused keep-alive connection had been closed by the server while idle.
bool is_stale_connection_error(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::connection_aborted || ec == net::error::broken_pipe || ec == net::error::not_connected ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

std::string_view to_string(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::connect: return "connect";
    case TransportError::Kind::tls: return "tls";
    case TransportError::Kind::timeout: return "timeout";
    case TransportError::Kind::io: return "io";
    case TransportError::Kind::protocol: return "protocol";
  }
  return "unknown";
}

std::optional<std::string> ClientResponse::header(std::string_view name) const {
  const auto lower = ascii_lower(name);
  for (const auto& [field, value] : headers) {
    if (field == lower) return value;
  }
  return std::nullopt;
}

namespace {

// One connection to one origin. The TLS layer (if any) wraps `tcp` by reference, so the deadline
// and close() always act on the one socket. Only touched on the client's I/O thread; never moved.
struct Connection {
  Connection(const net::any_io_executor& executor, ssl::context* tls_context, std::string origin_key)
      : tcp(executor), origin(std::move(origin_key)) {
    if (tls_context != nullptr) tls.emplace(tcp, *tls_context);
  }
  beast::tcp_stream tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream&>> tls;
  beast::flat_buffer buffer;  // bytes read past a response stay with their connection
  std::string origin;
};

// What one request/response exchange on one connection gave.
struct RoundTrip {
  beast::error_code ec;
  const char* stage = "";           // "sending the request" or "reading the response", for messages
  bool got_response_bytes = false;  // on failure: whether anything of a response had arrived
  bool reusable = false;            // on success: the connection may serve another request
  WireResponse response;
};

}  // namespace

struct HttpsClient::Impl {
  explicit Impl(ClientOptions options);

  net::awaitable<ClientResponse> exchange(WireRequest wire, Url url, Clock::time_point deadline);
  net::awaitable<std::shared_ptr<Connection>> open_connection(const Url& url, const std::string& what,
                                                              Clock::time_point deadline);
  template <class Stream>
  net::awaitable<RoundTrip> round_trip(Connection& connection, Stream& stream, const WireRequest& wire,
                                       Clock::time_point deadline);

  // Pool bookkeeping; I/O thread only.
  std::shared_ptr<Connection> take_idle(const std::string& origin);
  void keep_idle(std::shared_ptr<Connection> connection);
  void retire(std::shared_ptr<Connection> connection);          // polite close, in the background
  void discard(const std::shared_ptr<Connection>& connection);  // immediate close
  void shut_down();

  TransportError shutting_down(const std::string& what) const {
    return TransportError(TransportError::Kind::io, what + ": HTTP client shut down");
  }

  const ClientOptions options_;
  ssl::context tls_context_{ssl::context::tls_client};

  // Declared before the pool so the pool's sockets are destroyed before their io_context.
  net::io_context io_context_{1};
  net::executor_work_guard<net::io_context::executor_type> work_{io_context_.get_executor()};

  // I/O thread only: the single thread is the strand.
  std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;  // oldest first
  std::unordered_set<std::shared_ptr<Connection>> open_;  // every open connection: idle, busy, closing
  bool stopping_ = false;

  std::thread thread_;
};

HttpsClient::Impl::Impl(ClientOptions options) : options_(std::move(options)) {
  configure_verifying_context(tls_context_, options_.use_system_store, options_.ca_file, "HTTP client");
}

std::shared_ptr<Connection> HttpsClient::Impl::take_idle(const std::string& origin) {
  const auto found = idle_.find(origin);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  // Most recently used first: the least likely to have been closed by the server meanwhile.
  auto connection = std::move(found->second.back());
  found->second.pop_back();
  return connection;
}

void HttpsClient::Impl::keep_idle(std::shared_ptr<Connection> connection) {
  if (stopping_ || options_.max_idle_per_origin == 0) {
    retire(std::move(connection));
    return;
  }
  auto& idle = idle_[connection->origin];
  if (idle.size() >= options_.max_idle_per_origin) {
    retire(std::move(idle.front()));
    idle.erase(idle.begin());
  }
  idle.push_back(std::move(connection));
}

void HttpsClient::Impl::discard(const std::shared_ptr<Connection>& connection) {
  connection->tcp.close();
  open_.erase(connection);
}

void HttpsClient::Impl::retire(std::shared_ptr<Connection> connection) {
  if (stopping_ || !connection->tls) {
    beast::error_code ec;
    connection->tcp.socket().shutdown(tcp::socket::shutdown_both, ec);
    discard(connection);
    return;
  }
  auto executor = connection->tcp.get_executor();
  net::co_spawn(
      executor,
      [](Impl* impl, std::shared_ptr<Connection> closing) -> net::awaitable<void> {
        closing->tcp.expires_after(k_close_timeout);
        // stream_truncated (the server closed TCP without its own close_notify, as most do) and
        // eof are the usual outcomes; whatever happens, the connection is done, since
        // close_notify is only a courtesy.
        auto [ec] = co_await closing->tls->async_shutdown(k_use_tuple);
        (void)ec;
        impl->discard(closing);
      }(this, std::move(connection)),
      [](const std::exception_ptr&) {});
}

void HttpsClient::Impl::shut_down() {
  stopping_ = true;
  idle_.clear();
  // Every pending operation on these completes at once with operation_aborted; the exchanges
  // then see stopping_ and fail without retrying.
  for (const auto& connection : open_) connection->tcp.close();
}

net::awaitable<std::shared_ptr<Connection>> HttpsClient::Impl::open_connection(const Url& url, const std::string& what,
                                                                               Clock::time_point deadline) {
  using Kind = TransportError::Kind;
  const auto connect_deadline = std::min(deadline, Clock::now() + options_.connect_timeout);
  const auto timed_out = [&] { return Clock::now() >= connect_deadline; };
  auto executor = co_await net::this_coro::executor;

  // DNS. beast::tcp_stream's deadline does not cover the resolver, so a timer cancels it. The
  // timer's handler may run after this frame is gone, hence the shared resolver.
  auto resolver = std::make_shared<tcp::resolver>(executor);
  net::steady_timer resolve_timer(executor, connect_deadline);
  resolve_timer.async_wait([resolver](const beast::error_code& ec) {
    if (!ec) resolver->cancel();
  });
  auto flags = tcp::resolver::numeric_service;
  if (url.host_is_ip) flags |= tcp::resolver::numeric_host;
  auto [resolve_ec, endpoints] = co_await resolver->async_resolve(url.host, url.port, flags, k_use_tuple);
  resolve_timer.cancel();
  if (stopping_) throw shutting_down(what);
  if (resolve_ec) {
    if (timed_out()) throw TransportError(Kind::timeout, what + ": DNS lookup timed out");
    throw TransportError(Kind::connect, what + ": DNS lookup failed: " + resolve_ec.message());
  }

  auto connection = std::make_shared<Connection>(executor, url.tls ? &tls_context_ : nullptr, url.origin);
  open_.insert(connection);

  connection->tcp.expires_at(connect_deadline);
  auto [connect_ec, endpoint] = co_await connection->tcp.async_connect(endpoints, k_use_tuple);
  (void)endpoint;
  if (connect_ec) {
    discard(connection);
    if (stopping_) throw shutting_down(what);
    if (connect_ec == beast::error::timeout || timed_out())
      throw TransportError(Kind::timeout, what + ": connect timed out");
    throw TransportError(Kind::connect, what + ": connect failed: " + connect_ec.message());
  }

  if (connection->tls) {
    SSL* ssl_handle = connection->tls->native_handle();
    if (!expect_peer_name(ssl_handle, url.host, url.host_is_ip)) {
      discard(connection);
      throw TransportError(Kind::tls, what + ": cannot set the expected host name for verification");
    }
    connection->tcp.expires_at(connect_deadline);
    auto [handshake_ec] = co_await connection->tls->async_handshake(ssl::stream_base::client, k_use_tuple);
    if (handshake_ec) {
      const std::string unverified = verification_error(ssl_handle);
      discard(connection);
      if (stopping_) throw shutting_down(what);
      if (handshake_ec == beast::error::timeout || timed_out()) {
        throw TransportError(Kind::timeout, what + ": TLS handshake timed out");
      }
      std::string reason = handshake_ec.message();
      if (!unverified.empty()) reason += " (" + unverified + ")";
      throw TransportError(Kind::tls, what + ": TLS handshake failed: " + reason);
    }
  }
  co_return connection;
}

template <class Stream>
net::awaitable<RoundTrip> HttpsClient::Impl::round_trip(Connection& connection, Stream& stream, const WireRequest& wire,
                                                        Clock::time_point deadline) {
  RoundTrip result;
  connection.tcp.expires_at(deadline);
  auto [write_ec, written] = co_await bhttp::async_write(stream, wire, k_use_tuple);
  (void)written;
  if (write_ec) {
    result.ec = write_ec;
    result.stage = "sending the request";
    // A server may answer and close before reading everything (e.g. 413); that answer is lost
    // here, which is fine: the request failed either way.
    result.got_response_bytes = connection.buffer.size() > 0;
    co_return result;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(k_response_header_limit);
  parser.body_limit(options_.max_response_bytes);
  if (wire.method() == bhttp::verb::head) parser.skip(true);
  connection.tcp.expires_at(deadline);
  auto [read_ec, read] = co_await bhttp::async_read(stream, connection.buffer, parser, k_use_tuple);
  (void)read;
  if (read_ec) {
    result.ec = read_ec;
    result.stage = "reading the response";
    result.got_response_bytes = parser.got_some() || connection.buffer.size() > 0;
    co_return result;
  }
  // keep_alive() is false for HTTP/1.0 without keep-alive, "Connection: close" and a body that
  // ends at EOF.
  result.reusable = parser.keep_alive();
  result.response = parser.release();
  co_return result;
}

net::awaitable<ClientResponse> HttpsClient::Impl::exchange(WireRequest wire, Url url, Clock::time_point deadline) {
  using Kind = TransportError::Kind;
  const std::string what = std::string(wire.method_string()) + " " + url.origin;
  for (int attempt = 0;; ++attempt) {
    if (stopping_) throw shutting_down(what);
    auto connection = attempt == 0 ? take_idle(url.origin) : nullptr;
    const bool reused = connection != nullptr;
    if (!connection) connection = co_await open_connection(url, what, deadline);

    RoundTrip result;
    if (connection->tls) {
      result = co_await round_trip(*connection, *connection->tls, wire, deadline);
    } else {
      result = co_await round_trip(*connection, connection->tcp, wire, deadline);
    }
    if (!result.ec) {
      if (result.reusable && !stopping_) {
        connection->tcp.expires_never();
        keep_idle(std::move(connection));
      } else {
        retire(std::move(connection));
      }
      co_return to_client_response(std::move(result.response));
    }

    discard(connection);
    if (stopping_) throw shutting_down(what);
    const auto& ec = result.ec;
    if (reused && attempt == 0 && !result.got_response_bytes && is_stale_connection_error(ec)) continue;

    const std::string where = what + ": " + result.stage;
    if (ec == beast::error::timeout || Clock::now() >= deadline)
      throw TransportError(Kind::timeout, where + " timed out");
    if (ec == bhttp::error::body_limit) {
      throw TransportError(
          Kind::protocol, where + ": body over the limit of " + std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) throw TransportError(Kind::protocol, where + ": header block too large");
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      throw TransportError(Kind::protocol, where + ": invalid HTTP: " + ec.message());
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == ssl::error::stream_truncated) {
      throw TransportError(Kind::io, where + ": connection closed by the server");
    }
    throw TransportError(Kind::io, where + ": " + ec.message());
  }
}

HttpsClient::HttpsClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& impl = *impl_;
  impl.thread_ = std::thread([&impl] {
    // Every coroutine catches what it expects; this only keeps a bug from ending the thread
    // (and with it every later send()) silently.
    for (;;) {
      try {
        impl.io_context_.run();
        return;
      } catch (const std::exception& error) {
        log::error("http", "client I/O thread caught an exception", {{"error", error.what()}});
      }
    }
  });
}

HttpsClient::~HttpsClient() {
  auto& impl = *impl_;
  net::post(impl.io_context_, [&impl] { impl.shut_down(); });
  // run() returns once the last exchange and polite close has finished.
  impl.work_.reset();
  impl.thread_.join();
  impl.idle_.clear();
  impl.open_.clear();
}

ClientResponse HttpsClient::send(const ClientRequest& request) {
  auto& impl = *impl_;
  auto url = parse_request_url(request.url);
  auto wire = to_wire(request, url, impl.options_.user_agent);
  const auto timeout = std::clamp(request.timeout, std::chrono::milliseconds(0), k_max_timeout);
  const auto deadline = Clock::now() + timeout;
  const std::string what = std::string(wire.method_string()) + " " + url.origin;

  auto result =
      net::co_spawn(impl.io_context_, impl.exchange(std::move(wire), std::move(url), deadline), net::use_future);
  // Everything but DNS honours the deadline by itself; this only bounds an uninterruptible lookup.
  // The exchange owns copies of everything it uses, so abandoning it here is safe.
  if (result.wait_until(deadline + k_resolve_grace) != std::future_status::ready) {
    throw TransportError(TransportError::Kind::timeout, what + ": timed out (DNS lookup did not return)");
  }
  try {
    return result.get();
  } catch (const std::future_error&) {
    // The exchange was destroyed unfinished: only happens when the client is destroyed.
    throw TransportError(TransportError::Kind::io, what + ": HTTP client shut down");
  }
}

void HttpsClient::shut_down() {
  auto& impl = *impl_;
  std::promise<void> done;
  net::post(impl.io_context_, [&impl, &done] {
    impl.shut_down();
    done.set_value();
  });
  done.get_future().wait();
}

void HttpsClient::close_idle() {
  auto& impl = *impl_;
  std::promise<void> done;
  net::post(impl.io_context_, [&impl, &done] {
    for (auto& [origin, connections] : impl.idle_) {
      for (auto& connection : connections) impl.retire(std::move(connection));
    }
    impl.idle_.clear();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace roundup::adapters::http

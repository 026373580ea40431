#include "adapters/slack/socket_mode.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "adapters/http/tls_client.h"
#include "adapters/http/url.h"
#include "adapters/slack/web_api.h"
#include "bot/backoff.h"
#include "telemetry/log.h"

// Asio's SSL implementation is compiled once, in adapters/http/client.cpp (roundup_http); this
// file only uses it, like every other user of the separately compiled Asio and Beast.

namespace roundup::adapters::slack {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr auto k_use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::string_view k_component = "slack";

// Largest websocket message accepted. Slack's envelopes are a few KiB; interactive payloads with
// a whole view can reach a few hundred. A larger message fails the connection (and Slack would
// redeliver it), so the limit is generous.
constexpr std::size_t k_max_message_bytes = 16 << 20;

constexpr std::string_view k_user_agent = "roundup-bot/0.1 (Slack Socket Mode)";

std::string millis(std::chrono::milliseconds duration) {
  return std::to_string(duration.count());
}

// Only `host` of a Socket Mode URL may appear in logs: the target's query carries the ticket.
using SocketUrl = http::Url;

SocketUrl parse_socket_url(std::string_view text) {
  return http::parse_url(text, "wss", "ws", "Socket Mode URL");
}

std::string string_field(const json& object, const char* name) {
  const auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

using PlainWebsocket = websocket::stream<beast::tcp_stream>;
using TlsWebsocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// One connection attempt and, once open, one websocket session. Touched only on the client's
// thread. Never moved: the websocket's timers refer to it.
struct Connection {
  Connection(const net::any_io_executor& executor, ssl::context* tls_context, std::string host)
      : hello_timer(executor), host(std::move(host)) {
    if (tls_context != nullptr) {
      tls.emplace(executor, *tls_context);
    } else {
      plain.emplace(executor);
    }
  }
  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : beast::get_lowest_layer(*plain); }

  std::optional<PlainWebsocket> plain;
  std::optional<TlsWebsocket> tls;
  net::steady_timer hello_timer;  // drops a connection on which no hello arrives
  std::string host;               // for log lines
  bool open = false;              // websocket handshake done, no close started: a polite close is possible
  bool closing = false;           // a websocket close is under way
  bool hello = false;
  bool hello_timed_out = false;
  bool replaced = false;  // Slack asked for a new connection; this one serves until the next says hello
};

// How a session ended, which decides how soon to reconnect.
enum class SessionEnd {
  dropped,        // read/write error, EOF, close frame from Slack, ping timeout, no hello: back off
  refresh,        // Slack's "disconnect" (warning, refresh_requested, ...): reconnect at once
  link_disabled,  // Slack's "disconnect" with link_disabled: back off
  replaced,       // closed by us once the connection replacing it said hello
  stopped,        // stop() was called
};

// What to do after one received message: an ack to write, and/or the end of the session.
struct Step {
  std::optional<std::string> ack;
  std::optional<SessionEnd> end;
};

}  // namespace

struct SocketModeClient::Impl {
  Impl(SocketModeOptions options, UrlSource url_source, EnvelopeHandler handler);

  net::awaitable<void> run();
  // One URL, one connection, one session; returns how long to wait before the next attempt.
  net::awaitable<std::chrono::milliseconds> attempt();
  // Resolve, connect, TLS and websocket handshakes; null after a failure (logged) or stop().
  net::awaitable<std::shared_ptr<Connection>> open(const SocketUrl& url);
  template <class Websocket>
  net::awaitable<void> handshake(Connection& connection, Websocket& ws, const SocketUrl& url, beast::error_code& ec);
  template <class Websocket>
  net::awaitable<SessionEnd> serve(Connection& connection, Websocket& ws);
  // Keeps serving a connection Slack asked to replace, until it is closed or dropped.
  net::awaitable<void> serve_replaced(std::shared_ptr<Connection> connection);
  Step on_message(Connection& connection, const std::string& text);
  // A websocket close in the background, bounded by handshake_timeout; just a TCP close if the
  // websocket is not open. A pending read or write on the connection ends once it is done.
  void close_politely(const std::shared_ptr<Connection>& connection, websocket::close_code code);
  // connected_: a connection that said hello is being served, the current one or a replaced one.
  void update_connected();

  std::chrono::milliseconds next_backoff();
  void touch() { last_activity_.store(Clock::now().time_since_epoch().count()); }
  void request_stop();  // client thread

  const SocketModeOptions options_;
  const UrlSource url_source_;
  const EnvelopeHandler handler_;
  ssl::context tls_context_{ssl::context::tls_client};

  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<Clock::rep> last_activity_{Clock::now().time_since_epoch().count()};

  // Client thread only. The thread is the strand: every read, write and close of a connection
  // happens on it, and a session reads and writes from one coroutine, so acks go out in order.
  bool stopping_ = false;
  bot::Backoff backoff_{options_.min_backoff, options_.max_backoff};  // reset by a hello

  // Declared before what uses it, so those are destroyed first.
  net::io_context io_context_{1};
  net::steady_timer backoff_timer_{io_context_};
  std::shared_ptr<tcp::resolver> resolver_;  // during a DNS lookup, so stop() can cancel it
  std::shared_ptr<Connection> current_;      // during an attempt, so stop() can end it
  std::shared_ptr<Connection> replaced_;     // still served until current_ says hello or Slack drops it

  std::mutex lifecycle_mutex_;  // serialises start() and stop()
  bool started_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

SocketModeClient::Impl::Impl(SocketModeOptions options, UrlSource url_source, EnvelopeHandler handler)
    : options_(std::move(options)), url_source_(std::move(url_source)), handler_(std::move(handler)) {
  if (!url_source_) throw std::invalid_argument("SocketModeClient needs a URL source");
  if (!handler_) throw std::invalid_argument("SocketModeClient needs an envelope handler");
  http::configure_verifying_context(tls_context_, options_.use_system_store, options_.ca_file, "Socket Mode");
}

std::chrono::milliseconds SocketModeClient::Impl::next_backoff() {
  return backoff_.next();
}

net::awaitable<void> SocketModeClient::Impl::run() {
  while (!stopping_) {
    std::chrono::milliseconds delay{0};
    try {
      delay = co_await attempt();
    } catch (const std::exception& error) {
      // Everything expected comes back as a value; this only keeps a bug from ending the client.
      log::error(k_component, "Socket Mode attempt failed unexpectedly; retrying", {{"error", error.what()}});
      delay = next_backoff();
    }
    // A dropped connection's socket may still be open; a stop's polite close owns it until done.
    if (current_ && !stopping_) current_->tcp().close();
    current_.reset();
    update_connected();
    if (stopping_) break;
    if (delay.count() > 0) {
      backoff_timer_.expires_after(delay);
      auto [ec] = co_await backoff_timer_.async_wait(k_use_tuple);
      (void)ec;  // cancelled only by stop(), checked above
    }
  }
}

net::awaitable<std::chrono::milliseconds> SocketModeClient::Impl::attempt() {
  std::string url_text;
  try {
    url_text = url_source_();
  } catch (const ApiError& error) {
    if (!error.retryable()) {
      log::error(k_component, "cannot open a Socket Mode connection; check the app-level token, retrying",
                 {{"error", error.error()}, {"retry_in_ms", millis(options_.max_backoff)}});
      co_return options_.max_backoff;
    }
    const auto delay = std::max(next_backoff(), error.retry_after());
    log::warn(k_component, "cannot open a Socket Mode connection; retrying",
              {{"error", error.error()}, {"retry_in_ms", millis(delay)}});
    co_return delay;
  } catch (const std::exception& error) {
    const auto delay = next_backoff();
    log::warn(k_component, "cannot get a Socket Mode URL; retrying",
              {{"error", error.what()}, {"retry_in_ms", millis(delay)}});
    co_return delay;
  }

  SocketUrl url;
  try {
    url = parse_socket_url(url_text);
  } catch (const std::invalid_argument& error) {
    log::error(k_component, "unusable Socket Mode URL; retrying",
               {{"error", error.what()}, {"retry_in_ms", millis(options_.max_backoff)}});
    co_return options_.max_backoff;
  }

  auto connection = co_await open(url);
  if (stopping_) co_return std::chrono::milliseconds(0);
  if (!connection) co_return next_backoff();

  SessionEnd end = SessionEnd::dropped;
  if (connection->tls) {
    end = co_await serve(*connection, *connection->tls);
  } else {
    end = co_await serve(*connection, *connection->plain);
  }
  switch (end) {
    case SessionEnd::stopped:
    case SessionEnd::replaced: co_return std::chrono::milliseconds(0);
    case SessionEnd::refresh:
      // At once, unless the connection never became usable: a server that sends disconnect
      // straight away must not make us spin.
      if (!connection->hello) co_return next_backoff();
      // serve() left it open: it goes on reading and acking while the next connection opens, so
      // nothing is missed in between. The next one's hello closes it.
      if (replaced_) close_politely(replaced_, websocket::close_code::normal);
      replaced_ = std::exchange(current_, nullptr);
      net::co_spawn(io_context_, serve_replaced(replaced_), net::detached);
      co_return std::chrono::milliseconds(0);
    case SessionEnd::link_disabled: {
      const auto delay = next_backoff();
      log::error(k_component, "Slack disabled this Socket Mode link (link_disabled); retrying",
                 {{"host", url.host}, {"retry_in_ms", millis(delay)}});
      co_return delay;
    }
    case SessionEnd::dropped: {
      const auto delay = next_backoff();
      log::info(k_component, "Socket Mode reconnecting", {{"host", url.host}, {"retry_in_ms", millis(delay)}});
      co_return delay;
    }
  }
  co_return next_backoff();
}

net::awaitable<std::shared_ptr<Connection>> SocketModeClient::Impl::open(const SocketUrl& url) {
  const net::any_io_executor executor = io_context_.get_executor();
  const auto deadline = Clock::now() + options_.handshake_timeout;
  const auto fail = [&](std::string_view stage, const beast::error_code& ec, std::string_view detail = {}) {
    if (stopping_) return;
    std::string error = ec == beast::error::timeout ? std::string("timed out") : ec.message();
    if (!detail.empty()) {
      error += " (";
      error += detail;
      error += ")";
    }
    log::warn(k_component, "Socket Mode connection failed",
              {{"host", url.host}, {"stage", std::string(stage)}, {"error", error}});
  };

  // DNS. beast::tcp_stream's deadline does not cover the resolver, so a timer cancels it.
  resolver_ = std::make_shared<tcp::resolver>(executor);
  net::steady_timer resolve_timer(executor, deadline);
  resolve_timer.async_wait([resolver = resolver_](const beast::error_code& ec) {
    if (!ec) resolver->cancel();
  });
  auto flags = tcp::resolver::numeric_service;
  if (url.host_is_ip) flags |= tcp::resolver::numeric_host;
  auto [resolve_ec, endpoints] = co_await resolver_->async_resolve(url.host, url.port, flags, k_use_tuple);
  resolve_timer.cancel();
  resolver_.reset();
  if (stopping_) co_return nullptr;
  if (resolve_ec) {
    fail("DNS lookup", Clock::now() >= deadline ? beast::error_code(beast::error::timeout) : resolve_ec);
    co_return nullptr;
  }

  auto connection = std::make_shared<Connection>(executor, url.tls ? &tls_context_ : nullptr, url.host);
  current_ = connection;
  auto& stream = connection->tcp();
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, k_use_tuple);
  (void)endpoint;
  if (stopping_) co_return nullptr;
  if (connect_ec) {
    fail("TCP connect", connect_ec);
    co_return nullptr;
  }
  // Acks are small frames that Slack waits for; Nagle's algorithm would hold them back behind
  // the peer's delayed ACK.
  beast::error_code no_delay_ec;
  stream.socket().set_option(tcp::no_delay(true), no_delay_ec);

  if (connection->tls) {
    SSL* ssl_handle = connection->tls->next_layer().native_handle();
    if (!http::expect_peer_name(ssl_handle, url.host, url.host_is_ip)) {
      log::error(k_component, "Socket Mode: cannot set the expected host name for verification", {{"host", url.host}});
      co_return nullptr;
    }
    stream.expires_at(deadline);
    auto [tls_ec] = co_await connection->tls->next_layer().async_handshake(ssl::stream_base::client, k_use_tuple);
    if (stopping_) co_return nullptr;
    if (tls_ec) {
      fail("TLS handshake", tls_ec, http::verification_error(ssl_handle));
      co_return nullptr;
    }
  }

  beast::error_code ws_ec;
  if (connection->tls) {
    co_await handshake(*connection, *connection->tls, url, ws_ec);
  } else {
    co_await handshake(*connection, *connection->plain, url, ws_ec);
  }
  if (stopping_) co_return nullptr;
  if (ws_ec) {
    fail("websocket handshake", ws_ec);
    co_return nullptr;
  }
  connection->open = true;
  touch();

  // Slack says hello straight away; a connection that stays silent is no use.
  connection->hello_timer.expires_after(options_.handshake_timeout);
  connection->hello_timer.async_wait([weak = std::weak_ptr<Connection>(connection)](const beast::error_code& ec) {
    const auto alive = weak.lock();
    if (ec || !alive || alive->hello || alive->closing) return;
    alive->hello_timed_out = true;  // the session's read fails and says why
    alive->tcp().close();
  });
  co_return connection;
}

template <class Websocket>
net::awaitable<void> SocketModeClient::Impl::handshake(Connection& connection, Websocket& ws, const SocketUrl& url,
                                                       beast::error_code& ec) {
  // From here on the websocket's own timers apply: handshake_timeout for the handshake and the
  // close, and the idle timeout with keep-alive pings (a ping after idle/2 of silence).
  connection.tcp().expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = options_.handshake_timeout;
  if (options_.ping_interval.count() > 0) {
    timeouts.idle_timeout = 2 * options_.ping_interval;
    timeouts.keep_alive_pings = true;
  } else {
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
  }
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& request) { request.set(beast::http::field::user_agent, k_user_agent); }));
  ws.read_message_max(k_max_message_bytes);
  ws.control_callback([this](websocket::frame_type, beast::string_view) { touch(); });
  auto [handshake_ec] = co_await ws.async_handshake(url.host_field, url.target, k_use_tuple);
  ec = handshake_ec;
  if (!ec) ws.text(true);
}

template <class Websocket>
net::awaitable<SessionEnd> SocketModeClient::Impl::serve(Connection& connection, Websocket& ws) {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [read_ec, read] = co_await ws.async_read(buffer, k_use_tuple);
    (void)read;
    if (stopping_) co_return SessionEnd::stopped;
    if (connection.closing) co_return SessionEnd::replaced;  // close_politely() ended the read
    if (read_ec) {
      std::string reason = read_ec.message();
      if (read_ec == beast::error::timeout) {
        reason = "no traffic and no pong for two ping intervals";
      } else if (read_ec == websocket::error::closed) {
        reason = "closed by Slack (code " + std::to_string(ws.reason().code) + ")";
      } else if (connection.hello_timed_out) {
        reason = "no hello within the handshake timeout";
      }
      if (connection.replaced) {
        log::info(k_component, "Socket Mode connection being replaced has ended",
                  {{"host", connection.host}, {"reason", reason}});
      } else {
        log::warn(k_component, "Socket Mode connection lost", {{"host", connection.host}, {"reason", reason}});
      }
      co_return SessionEnd::dropped;
    }
    touch();
    if (!ws.got_text()) {
      log::warn(k_component, "ignoring a binary Socket Mode frame", {{"host", connection.host}});
      continue;
    }

    const Step step = on_message(connection, beast::buffers_to_string(buffer.data()));
    if (step.ack) {
      auto [write_ec, written] = co_await ws.async_write(net::buffer(*step.ack), k_use_tuple);
      (void)written;
      if (stopping_) co_return SessionEnd::stopped;
      if (connection.closing) co_return SessionEnd::replaced;
      if (write_ec) {
        log::warn(k_component, "Socket Mode connection lost while acking; Slack will redeliver",
                  {{"host", connection.host}, {"reason", write_ec.message()}});
        co_return SessionEnd::dropped;
      }
    }
    if (step.end == SessionEnd::refresh && connection.hello) {
      // Left open for the caller to hand over; once handed over, a further request (a warning,
      // then refresh_requested) changes nothing: the next connection is already on its way.
      if (!connection.replaced) co_return SessionEnd::refresh;
      continue;
    }
    if (step.end) {
      connection.open = false;
      connection.closing = true;
      connection.hello_timer.cancel();
      update_connected();
      // Polite and bounded by handshake_timeout; Slack usually closes by itself, so an error here
      // is expected and changes nothing.
      auto [close_ec] = co_await ws.async_close(websocket::close_code::normal, k_use_tuple);
      (void)close_ec;
      connection.tcp().close();
      co_return stopping_ ? SessionEnd::stopped : *step.end;
    }
  }
}

SocketMessage decode_socket_message(std::string_view text) {
  SocketMessage decoded;
  json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) return decoded;
  decoded.kind = SocketMessage::Kind::ignored;
  decoded.type = string_field(message, "type");
  if (decoded.type == "hello") {
    decoded.kind = SocketMessage::Kind::hello;
    if (const auto found = message.find("num_connections"); found != message.end() && found->is_number_integer()) {
      decoded.num_connections = found->is_number_unsigned() ? std::to_string(found->get<std::uint64_t>())
                                                            : std::to_string(found->get<std::int64_t>());
    }
    return decoded;
  }
  if (decoded.type == "disconnect") {
    decoded.kind = SocketMessage::Kind::disconnect;
    decoded.reason = string_field(message, "reason");
    return decoded;
  }
  decoded.envelope_id = string_field(message, "envelope_id");
  if (decoded.envelope_id.empty()) return decoded;
  decoded.kind = SocketMessage::Kind::envelope;
  decoded.dispatch = decoded.type == "events_api" || decoded.type == "slash_commands" || decoded.type == "interactive";
  if (decoded.dispatch) {
    const auto payload = message.find("payload");
    decoded.payload = payload != message.end() ? std::move(*payload) : json::object();
  }
  return decoded;
}

std::string socket_ack(const std::string& envelope_id, std::optional<json> reply) {
  json ack = {{"envelope_id", envelope_id}};
  if (reply) ack["payload"] = std::move(*reply);
  return ack.dump(-1, ' ', false, json::error_handler_t::replace);
}

Step SocketModeClient::Impl::on_message(Connection& connection, const std::string& text) {
  const SocketMessage message = decode_socket_message(text);
  switch (message.kind) {
    case SocketMessage::Kind::not_json:
      log::warn(k_component, "ignoring a Socket Mode frame that is not a JSON object",
                {{"host", connection.host}, {"bytes", std::to_string(text.size())}});
      return {};
    case SocketMessage::Kind::ignored:
      log::debug(k_component, "ignoring a Socket Mode message without envelope_id", {{"type", message.type}});
      return {};
    case SocketMessage::Kind::hello:
      if (!connection.hello) {
        connection.hello = true;
        connection.hello_timer.cancel();
        backoff_.reset();
        connected_.store(true);
        ++connections_;
        log::info(k_component, "Socket Mode connected",
                  {{"host", connection.host}, {"num_connections", message.num_connections}});
        if (replaced_) {
          log::info(k_component, "closing the replaced Socket Mode connection", {{"host", replaced_->host}});
          close_politely(std::exchange(replaced_, nullptr), websocket::close_code::normal);
        }
      }
      return {};
    case SocketMessage::Kind::disconnect:
      if (message.reason == "link_disabled") return {std::nullopt, SessionEnd::link_disabled};
      log::info(k_component, "Slack asked to reconnect", {{"host", connection.host}, {"reason", message.reason}});
      return {std::nullopt, SessionEnd::refresh};
    case SocketMessage::Kind::envelope: break;
  }
  const std::string& envelope_id = message.envelope_id;
  const std::string& type = message.type;
  std::optional<json> reply;
  if (message.dispatch) {
    try {
      reply = handler_(type, message.payload);
    } catch (const std::exception& error) {
      log::warn(k_component, "Socket Mode envelope not accepted; not acked, Slack will redeliver it",
                {{"envelope_id", envelope_id}, {"type", type}, {"error", error.what()}});
      return {};
    } catch (...) {
      log::warn(k_component, "Socket Mode envelope not accepted; not acked, Slack will redeliver it",
                {{"envelope_id", envelope_id}, {"type", type}, {"error", "non-standard exception"}});
      return {};
    }
  } else {
    // Acked so Slack does not redeliver what we could never handle.
    log::warn(k_component, "unsupported Socket Mode envelope type; acked and ignored",
              {{"envelope_id", envelope_id}, {"type", type}});
  }
  return {socket_ack(envelope_id, std::move(reply)), std::nullopt};
}

net::awaitable<void> SocketModeClient::Impl::serve_replaced(std::shared_ptr<Connection> connection) {
  connection->replaced = true;
  if (connection->tls) {
    co_await serve(*connection, *connection->tls);
  } else {
    co_await serve(*connection, *connection->plain);
  }
  if (replaced_ == connection) replaced_.reset();
  // Dropped (by Slack, usually): the socket may still be open. A polite close owns it until done.
  if (!connection->closing) connection->tcp().close();
  update_connected();
}

void SocketModeClient::Impl::update_connected() {
  const auto usable = [](const std::shared_ptr<Connection>& connection) {
    return connection && connection->hello && !connection->closing;
  };
  connected_.store(!stopping_ && (usable(current_) || usable(replaced_)));
}

void SocketModeClient::Impl::close_politely(const std::shared_ptr<Connection>& connection, websocket::close_code code) {
  connection->hello_timer.cancel();
  if (connection->closing) return;  // a close is already under way, bounded by handshake_timeout
  if (!connection->open) {
    // Connecting or in a handshake: nothing to be polite to.
    connection->tcp().close();
    return;
  }
  connection->open = false;
  connection->closing = true;
  update_connected();
  // Beast allows a close while the session's read (and possibly an ack write) is pending; they
  // complete once the close is done, and the session sees `closing` (or stopping_).
  net::co_spawn(
      io_context_,
      [](std::shared_ptr<Connection> closing, websocket::close_code code) -> net::awaitable<void> {
        if (closing->tls) {
          auto [ec] = co_await closing->tls->async_close(code, k_use_tuple);
          (void)ec;
        } else {
          auto [ec] = co_await closing->plain->async_close(code, k_use_tuple);
          (void)ec;
        }
        closing->tcp().close();
      }(connection, code),
      net::detached);
}

void SocketModeClient::Impl::request_stop() {
  stopping_ = true;
  connected_.store(false);
  backoff_timer_.cancel();
  if (resolver_) resolver_->cancel();
  if (current_) close_politely(current_, websocket::close_code::going_away);
  if (replaced_) close_politely(replaced_, websocket::close_code::going_away);
}

SocketModeClient::SocketModeClient(SocketModeOptions options, UrlSource url_source, EnvelopeHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(url_source), std::move(handler))) {}

SocketModeClient::~SocketModeClient() {
  stop();
}

void SocketModeClient::start() {
  auto& impl = *impl_;
  std::lock_guard lock(impl.lifecycle_mutex_);
  if (impl.started_) throw std::logic_error("SocketModeClient::start called twice");
  impl.started_ = true;
  if (impl.stopped_) return;
  net::co_spawn(impl.io_context_, impl.run(), [](const std::exception_ptr& error) {
    if (error) log::error(k_component, "Socket Mode client ended with an unexpected exception");
  });
  impl.thread_ = std::thread([&impl] {
    // run() ends once the connect loop has seen stop() and the polite close is done.
    for (;;) {
      try {
        impl.io_context_.run();
        return;
      } catch (const std::exception& error) {
        log::error(k_component, "Socket Mode thread caught an exception", {{"error", error.what()}});
      }
    }
  });
}

void SocketModeClient::stop() {
  auto& impl = *impl_;
  std::lock_guard lock(impl.lifecycle_mutex_);
  if (impl.stopped_) return;
  impl.stopped_ = true;
  if (!impl.thread_.joinable()) return;
  net::post(impl.io_context_, [&impl] { impl.request_stop(); });
  impl.thread_.join();
}

bool SocketModeClient::connected() const {
  return impl_->connected_.load();
}

std::uint64_t SocketModeClient::connections() const {
  return impl_->connections_.load();
}

std::chrono::steady_clock::time_point SocketModeClient::last_activity() const {
  return Clock::time_point(Clock::duration(impl_->last_activity_.load()));
}

}  // namespace roundup::adapters::slack

#include "adapters/http/server.h"

#include "adapters/http/fields.h"
#include "telemetry/log.h"
#include "text/unicode.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace roundup::adapters::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto k_use_tuple = net::as_tuple(net::use_awaitable);

// After an error response we stop reading requests, but the client may still be sending the
// rejected body. Closing with unread data makes the kernel send RST, which can destroy our
// response before the client reads it, so we read and discard a bounded amount first.
constexpr std::size_t k_max_discard_bytes = 256 * 1024;

// Back-off after an accept error such as EMFILE, so a full descriptor table does not spin a core.
constexpr std::chrono::milliseconds k_accept_error_backoff{100};

constexpr std::string_view k_server_name = "roundup";

// Through the project's logger: one logfmt line per event, and a peer's bytes in a value cannot
// forge a line.
void log_line(std::string_view what, std::initializer_list<log::Field> fields = {}) {
  log::warn("http", what, fields);
}

Request to_request(const bhttp::request<bhttp::string_body>& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    auto [it, inserted] = request.headers.try_emplace(ascii_lower(field.name_string()), field.value());
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
  request.body = message.body();
  request.remote = remote;
  return request;
}

using WireResponse = bhttp::response<bhttp::string_body>;

// Fields the server sets itself: a handler's own would contradict them, and the framing ones
// (Content-Length, Transfer-Encoding, Connection) would make the client misread where the
// response ends.
bool is_server_field(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection") || beast::iequals(name, "content-type");
}

WireResponse to_wire(const Response& response, unsigned version, bool keep_alive, bool head_request) {
  WireResponse wire;
  wire.version(version);
  // A handler gives the final response: a 1xx is not one (the client would wait for another).
  const bool valid_status = response.status >= 200 && response.status <= 599;
  const int status = valid_status ? response.status : 500;
  wire.result(static_cast<unsigned>(status));
  wire.set(bhttp::field::server, k_server_name);
  for (const auto& [name, value] : response.headers) {
    if (!is_token(name) || !is_field_value(value) || is_server_field(name)) {
      log_line("dropped a response header field that is not valid field syntax", {{"name", name}});
      continue;
    }
    wire.insert(name, value);
  }
  const auto& content_type = is_field_value(response.content_type) ? response.content_type : std::string();
  if (!content_type.empty()) wire.set(bhttp::field::content_type, content_type);
  wire.keep_alive(keep_alive);
  // 204 and 304 have no body (RFC 9110 section 6.4.1): one sent anyway would be read as the start
  // of the next response. Nor do they carry a Content-Length (section 8.6).
  if (status == 204 || status == 304) return wire;
  wire.body() = valid_status ? response.body : std::string("internal error\n");
  wire.prepare_payload();
  // HEAD: keep the Content-Length the GET would have, but send no body.
  if (head_request) wire.body().clear();
  return wire;
}

// RFC 9112 section 6.3: a request is read safely only when its body length is unambiguous. We
// implement no transfer coding but chunked, so Transfer-Encoding must be exactly "chunked" (in one
// field or several), and never beside Content-Length: an intermediary that reads the framing
// differently would see a different next request (request smuggling).
bool unambiguous_framing(const bhttp::request_parser<bhttp::string_body>::value_type& header) {
  if (header.count(bhttp::field::transfer_encoding) == 0) return true;
  if (header.count(bhttp::field::content_length) != 0) return false;
  std::size_t codings = 0;
  bool only_chunked = true;
  for (const auto& field : header) {
    if (field.name() != bhttp::field::transfer_encoding) continue;
    std::string_view value = field.value();
    while (!value.empty()) {
      const auto comma = value.find(',');
      std::string_view coding = value.substr(0, comma);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
      if (coding.empty()) continue;  // empty list elements are allowed and ignored
      ++codings;
      if (!beast::iequals(coding, "chunked")) only_chunked = false;
    }
  }
  return codings == 1 && only_chunked;
}

Response plain_error(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::string describe(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

// Nothing when the options ask for plain HTTP. The messages never quote the PEM: it holds a key.
std::optional<ssl::context> make_tls_context(const ServerOptions& options) {
  if (options.tls_cert_pem.empty() && options.tls_key_pem.empty()) return std::nullopt;
  if (options.tls_cert_pem.empty() || options.tls_key_pem.empty()) {
    throw std::invalid_argument("http::Server: tls_cert_pem and tls_key_pem must be set together");
  }
  std::optional<ssl::context> context(std::in_place, ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  context->use_certificate_chain(net::buffer(options.tls_cert_pem), ec);
  if (ec)
    throw std::invalid_argument("http::Server: tls_cert_pem is not a usable PEM certificate chain: " + ec.message());
  context->use_private_key(net::buffer(options.tls_key_pem), ssl::context::pem, ec);
  if (ec) throw std::invalid_argument("http::Server: tls_key_pem is not a usable PEM private key: " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw std::invalid_argument("http::Server: tls_key_pem does not match the certificate in tls_cert_pem");
  }
  return context;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;
template <class Stream>
constexpr bool k_is_tls = std::is_same_v<Stream, TlsStream>;

// What a connection waiting for an AsyncHandler's response resumes with.
struct AsyncOutcome {
  enum class Kind { responded, abandoned };  // abandoned: stop() gave up waiting
  Kind kind = Kind::responded;
  Response response;
};

// One asynchronous request's response to come, owned by the copies of its Respond (the
// connection only watches it, for stop()). The first completion wins: respond, the handler
// throwing, the last Respond copy going away uncalled, or stop() giving up; later ones do nothing.
class ResponseSlot {
 public:
  using Resume = net::any_completion_handler<void(AsyncOutcome)>;

  explicit ResponseSlot(net::io_context::executor_type io) : io_(std::move(io)) {}
  ~ResponseSlot() {
    if (complete({AsyncOutcome::Kind::responded, plain_error(500, "internal error\n")})) {
      log_line("an asynchronous handler dropped its respond without calling it; answered 500");
    }
  }
  ResponseSlot(const ResponseSlot&) = delete;
  ResponseSlot& operator=(const ResponseSlot&) = delete;

  void arm(Resume resume) {
    std::lock_guard lock(mutex_);
    resume_.emplace(std::move(resume));
  }

  // Any thread. False when already completed.
  bool complete(AsyncOutcome outcome) {
    std::optional<Resume> resume;
    {
      std::lock_guard lock(mutex_);
      resume.swap(resume_);
    }
    if (!resume) return false;
    // Never resumed inline: the caller may be inside the handler, i.e. inside the coroutine's own
    // initiation. The hop goes through the io_context's executor, a plain pointer that is safe to
    // hold on any thread, into the connection's strand (the coroutine's executor). A strand
    // executor is not kept here because it must not outlive the io_context, and a late respond
    // may hold this slot longer than that.
    net::post(io_, [resume = std::move(*resume), outcome = std::move(outcome)]() mutable {
      const auto strand = net::get_associated_executor(resume);
      net::dispatch(strand, [resume = std::move(resume), outcome = std::move(outcome)]() mutable {
        std::move(resume)(std::move(outcome));
      });
    });
    return true;
  }

 private:
  std::mutex mutex_;
  std::optional<Resume> resume_;  // set while the connection waits
  net::io_context::executor_type io_;
};

}  // namespace

// One open connection. `stream`, `tls` and `reading` are touched only on the connection's strand
// (the stream's executor), which is what makes stop() safe to call from any thread. With TLS,
// `tls` wraps `stream` by reference, so deadlines and close() on `stream` act on both; for that
// a Connection is never moved.
struct Connection {
  Connection(tcp::socket socket, ssl::context* tls_context) : stream(std::move(socket)) {
    if (tls_context != nullptr) tls.emplace(stream, *tls_context);
  }
  beast::tcp_stream stream;
  std::optional<TlsStream> tls;
  bool reading = false;  // in the TLS handshake, or waiting for or receiving a request: safe to close at stop()
  std::weak_ptr<ResponseSlot> pending;  // an AsyncHandler's response this connection waits for
};

struct Server::Impl {
  Impl(ServerOptions options, Handler handler, AsyncHandler async_handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        async_handler_(std::move(async_handler)),
        tls_context_(make_tls_context(options_)) {}

  net::awaitable<void> accept_loop();
  net::awaitable<void> session(std::shared_ptr<Connection> connection);
  // The request loop, over the plain TCP stream or over TLS.
  template <class Stream>
  net::awaitable<void> serve(Connection& connection, Stream& stream, const std::string& remote);
  // Runs the AsyncHandler and waits, without holding the thread, for its response.
  net::awaitable<AsyncOutcome> call_async(Connection& connection, const bhttp::request<bhttp::string_body>& message,
                                          const std::string& remote);
  template <class Stream>
  net::awaitable<bool> write_response(Connection& connection, Stream& stream, WireResponse response);
  // After an error response: stop the peer's sending without making it lose our response.
  template <class Stream>
  net::awaitable<void> discard_and_close(Connection& connection, Stream& stream, beast::flat_buffer& buffer);
  // After a response with "Connection: close".
  template <class Stream>
  net::awaitable<void> close_after_last_response(Connection& connection, Stream& stream);

  // Registers a just-accepted connection unless it would exceed a cap of ServerOptions; says
  // which cap otherwise. Check and registration are one step, so concurrent accepts cannot
  // overshoot.
  std::optional<ConnectionRefusal> register_connection(std::uint64_t id, const std::shared_ptr<Connection>& connection,
                                                       const std::string& peer);
  void unregister_connection(std::uint64_t id);
  // Runs `action` on every open connection's strand.
  void for_each_connection(const std::function<void(Connection&)>& action);
  // Waits until no connection is open or `timeout` passes; true if none is open.
  bool wait_for_no_connections(std::chrono::milliseconds timeout);

  const ServerOptions options_;
  // Exactly one of the two is set.
  const Handler handler_;
  const AsyncHandler async_handler_;
  // Before io_context_: connections still inside it at destruction use it.
  std::optional<ssl::context> tls_context_;

  // Declared before io_context_ so they outlive it: its destructor destroys any coroutine frame
  // still suspended, and a session's clean-up touches these.
  mutable std::mutex connections_mutex_;
  std::condition_variable connections_changed_;
  struct Registered {
    std::weak_ptr<Connection> connection;
    std::string peer;  // address without port: what max_connections_per_peer counts
  };
  std::unordered_map<std::uint64_t, Registered> connections_;
  std::unordered_map<std::string, std::size_t> per_peer_;  // open connections by peer address
  std::atomic<std::size_t> active_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandon_{false};      // stop()'s drain is over: responses still due are given up
  std::uint64_t next_connection_id_ = 0;  // accept strand only

  std::mutex lifecycle_mutex_;  // serialises start() and stop()
  bool started_ = false;
  bool running_ = false;  // I/O threads launched
  bool stopped_ = false;

  net::io_context io_context_;
  tcp::acceptor acceptor_{net::make_strand(io_context_)};
  std::vector<std::thread> threads_;
};

net::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_context_), k_use_tuple);
    if (ec == net::error::operation_aborted || stopping_.load()) co_return;
    if (ec) {
      log_line("accept failed; retrying shortly", {{"error", ec.message()}});
      net::steady_timer backoff(acceptor_.get_executor(), k_accept_error_backoff);
      co_await backoff.async_wait(k_use_tuple);
      continue;
    }
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;  // already reset by the peer: the socket just closes
    auto connection = std::make_shared<Connection>(std::move(socket), tls_context_ ? &*tls_context_ : nullptr);
    const auto id = next_connection_id_++;
    // Registered before the session starts so stop() always sees it.
    if (const auto refusal = register_connection(id, connection, peer.address().to_string())) {
      // Reported first, so that whoever sees the close also sees it counted.
      refused_.fetch_add(1);
      if (options_.on_refused) {
        try {
          options_.on_refused(*refusal);
        } catch (...) {
          // A reporting failure must not end the accept loop, which would end the service.
        }
      }
      // Closed before reading a byte: an idle flood then costs a descriptor for an instant, and
      // health checks and outbound work keep theirs.
      connection->stream.close();
      continue;
    }
    auto executor = connection->stream.get_executor();
    net::co_spawn(executor, session(std::move(connection)), [this, id](const std::exception_ptr& error) {
      if (error) log_line("session ended with an unexpected exception");
      unregister_connection(id);
    });
  }
}

template <class Stream>
net::awaitable<bool> Server::Impl::write_response(Connection& connection, Stream& stream, WireResponse response) {
  connection.stream.expires_after(options_.write_timeout);
  auto [ec, bytes] = co_await bhttp::async_write(stream, response, k_use_tuple);
  (void)bytes;
  co_return !ec;
}

template <class Stream>
net::awaitable<void> Server::Impl::discard_and_close(Connection& connection, Stream& stream,
                                                     beast::flat_buffer& buffer) {
  // Plain TCP: a FIN tells the client we are done. TLS has no half-close that OpenSSL lets us
  // read past (application data after our close_notify is a fatal error), so there the client
  // learns it from "Connection: close" and we send close_notify only after the discarding.
  if constexpr (!k_is_tls<Stream>) {
    beast::error_code shutdown_ec;  // a peer already gone shows in the reads below
    connection.stream.socket().shutdown(tcp::socket::shutdown_send, shutdown_ec);
  }
  beast::error_code ec;
  connection.stream.expires_after(options_.body_timeout);
  std::size_t discarded = buffer.size();
  char scratch[4096];
  while (!ec && discarded < k_max_discard_bytes) {
    auto [read_ec, n] = co_await stream.async_read_some(net::buffer(scratch), k_use_tuple);
    ec = read_ec;
    discarded += n;
  }
  if constexpr (k_is_tls<Stream>) {
    // eof here means the client's close_notify arrived: answering it does not wait.
    if (ec == net::error::eof) {
      connection.stream.expires_after(options_.write_timeout);
      auto [shutdown_ec] = co_await stream.async_shutdown(k_use_tuple);
      (void)shutdown_ec;
    }
  }
  connection.stream.close();
}

template <class Stream>
net::awaitable<void> Server::Impl::close_after_last_response(Connection& connection, Stream& stream) {
  if constexpr (k_is_tls<Stream>) {
    // A bounded wait for the client's close_notify; eof or stream_truncated (the client just
    // closed TCP) are as good.
    connection.stream.expires_after(options_.write_timeout);
    auto [ec] = co_await stream.async_shutdown(k_use_tuple);
    (void)ec;
  } else {
    beast::error_code ec;
    connection.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

net::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> connection) {
  auto& stream = connection->stream;
  beast::error_code ec;
  const auto peer = stream.socket().remote_endpoint(ec);
  const std::string remote = ec ? std::string("unknown") : describe(peer);

  try {
    if (connection->tls) {
      // Like waiting for a request: bounded by header_timeout, and closed at once by stop().
      connection->reading = true;
      stream.expires_after(options_.header_timeout);
      auto [handshake_ec] = co_await connection->tls->async_handshake(ssl::stream_base::server, k_use_tuple);
      connection->reading = false;
      // A failed handshake (scanner, plain HTTP on a TLS port, untrusted client) just closes:
      // there is no channel to answer on, and logging each would let anyone fill the log.
      if (!handshake_ec) co_await serve(*connection, *connection->tls, remote);
    } else {
      co_await serve(*connection, stream, remote);
    }
  } catch (const std::exception& error) {
    log_line("connection failed", {{"remote", remote}, {"error", error.what()}});
  }
  stream.close();
}

template <class Stream>
net::awaitable<void> Server::Impl::serve(Connection& connection, Stream& stream, const std::string& remote) {
  beast::flat_buffer buffer;
  for (;;) {
    if (stopping_.load()) break;

    // A fresh parser per request: body_limit applies per parser, and a parser cannot
    // be reused. Pipelined bytes stay in `buffer`; requests are answered one at a time,
    // so at most one response is ever queued per connection.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options_.body_limit);
    connection.reading = true;
    connection.stream.expires_after(options_.header_timeout);
    auto [read_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, k_use_tuple);
    (void)header_bytes;
    if (!read_ec && !unambiguous_framing(parser.get())) {
      connection.reading = false;
      auto reply = to_wire(plain_error(400, "bad request: ambiguous message framing\n"), 11, false, false);
      if (co_await write_response(connection, stream, std::move(reply))) {
        co_await discard_and_close(connection, stream, buffer);
      }
      break;
    }
    if (!read_ec) {
      connection.stream.expires_after(options_.body_timeout);
      auto [body_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, k_use_tuple);
      (void)body_bytes;
      read_ec = body_ec;
    }
    connection.reading = false;

    if (read_ec) {
      if (read_ec == bhttp::error::body_limit) {
        auto reply = to_wire(plain_error(413, "payload too large\n"), 11, false, false);
        if (co_await write_response(connection, stream, std::move(reply))) {
          co_await discard_and_close(connection, stream, buffer);
        }
      } else if (read_ec == bhttp::error::header_limit) {
        auto reply = to_wire(plain_error(431, "header fields too large\n"), 11, false, false);
        if (co_await write_response(connection, stream, std::move(reply))) {
          co_await discard_and_close(connection, stream, buffer);
        }
      } else if (read_ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                 read_ec != bhttp::error::end_of_stream && read_ec != bhttp::error::partial_message) {
        // Malformed: we cannot find where the next request would start, so answer
        // and close. end_of_stream / partial_message mean the client went away.
        auto reply = to_wire(plain_error(400, "bad request\n"), 11, false, false);
        if (co_await write_response(connection, stream, std::move(reply))) {
          co_await discard_and_close(connection, stream, buffer);
        }
      }
      // Otherwise: clean close, timeout, reset, or cancelled by stop(). Nothing to say.
      break;
    }

    const auto& message = parser.get();
    Response response;
    if (async_handler_) {
      AsyncOutcome outcome = co_await call_async(connection, message, remote);
      // stop() closed the connection: there is no one left to answer.
      if (outcome.kind == AsyncOutcome::Kind::abandoned) break;
      response = std::move(outcome.response);
    } else {
      try {
        response = handler_(to_request(message, remote));
      } catch (const std::exception& error) {
        log_line("handler threw; answered 500", {{"method", std::string(message.method_string())},
                                                 {"target", std::string(message.target())},
                                                 {"error", error.what()}});
        response = plain_error(500, "internal error\n");
      } catch (...) {
        log_line("handler threw a non-std exception; answered 500", {{"target", std::string(message.target())}});
        response = plain_error(500, "internal error\n");
      }
    }

    // During shutdown, finish this request but tell the client not to send another.
    const bool keep_alive = message.keep_alive() && !stopping_.load();
    const bool head = message.method() == bhttp::verb::head;
    if (!co_await write_response(connection, stream, to_wire(response, message.version(), keep_alive, head))) break;
    if (!keep_alive) {
      co_await close_after_last_response(connection, stream);
      break;
    }
  }
}

net::awaitable<AsyncOutcome> Server::Impl::call_async(Connection& connection,
                                                      const bhttp::request<bhttp::string_body>& message,
                                                      const std::string& remote) {
  auto slot = std::make_shared<ResponseSlot>(io_context_.get_executor());
  connection.pending = slot;
  const auto initiate = [&](ResponseSlot::Resume resume) {
    slot->arm(std::move(resume));
    // stop() has given up on waiting connections already (it sets abandon_ before it visits them
    // on their strands, where this runs too), so it would not come back for this one.
    if (abandon_.load()) {
      slot->complete({AsyncOutcome::Kind::abandoned, {}});
      return;
    }
    ResponseSlot& pending = *slot;
    // From here only the copies of `respond` own the slot, so when the last one is destroyed
    // uncalled the slot answers 500 instead of leaving the connection waiting.
    const Respond respond = [slot = std::move(slot)](Response response) {
      slot->complete({AsyncOutcome::Kind::responded, std::move(response)});
    };
    const auto failed = [&](const std::string& what) {
      const std::string request_line = std::string(message.method_string()) + " " + std::string(message.target());
      if (pending.complete({AsyncOutcome::Kind::responded, plain_error(500, "internal error\n")})) {
        log_line("handler threw; answered 500", {{"request", request_line}, {"error", what}});
      } else {
        log_line("handler threw after it responded", {{"request", request_line}, {"error", what}});
      }
    };
    try {
      async_handler_(to_request(message, remote), respond);
    } catch (const std::exception& error) {
      failed(error.what());
    } catch (...) {
      failed("a non-std exception");
    }
  };
  AsyncOutcome outcome =
      co_await net::async_initiate<const net::use_awaitable_t<>&, void(AsyncOutcome)>(initiate, net::use_awaitable);
  connection.pending.reset();
  co_return outcome;
}

std::optional<ConnectionRefusal> Server::Impl::register_connection(std::uint64_t id,
                                                                   const std::shared_ptr<Connection>& connection,
                                                                   const std::string& peer) {
  std::lock_guard lock(connections_mutex_);
  if (options_.max_connections != 0 && connections_.size() >= options_.max_connections) {
    return ConnectionRefusal::server_full;
  }
  auto& from_peer = per_peer_[peer];
  if (options_.max_connections_per_peer != 0 && from_peer >= options_.max_connections_per_peer) {
    return ConnectionRefusal::peer_full;
  }
  ++from_peer;
  connections_.emplace(id, Registered{connection, peer});
  active_.fetch_add(1);
  return std::nullopt;
}

void Server::Impl::unregister_connection(std::uint64_t id) {
  {
    std::lock_guard lock(connections_mutex_);
    const auto it = connections_.find(id);
    if (it != connections_.end()) {
      const auto peer = per_peer_.find(it->second.peer);
      if (peer != per_peer_.end() && --peer->second == 0) per_peer_.erase(peer);
      connections_.erase(it);
      active_.fetch_sub(1);
    }
  }
  connections_changed_.notify_all();
}

void Server::Impl::for_each_connection(const std::function<void(Connection&)>& action) {
  std::lock_guard lock(connections_mutex_);
  for (const auto& [id, registered] : connections_) {
    if (auto connection = registered.connection.lock()) {
      auto executor = connection->stream.get_executor();
      net::post(executor, [connection, action] { action(*connection); });
    }
  }
}

bool Server::Impl::wait_for_no_connections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(connections_mutex_);
  return connections_changed_.wait_for(lock, timeout, [&] { return connections_.empty(); });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), nullptr)) {
  if (!impl_->handler_) throw std::invalid_argument("http::Server needs a handler");
}

Server::Server(ServerOptions options, AsyncHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), nullptr, std::move(handler))) {
  if (!impl_->async_handler_) throw std::invalid_argument("http::Server needs a handler");
}

Server::~Server() {
  stop();
}

unsigned short Server::start() {
  auto& impl = *impl_;
  std::lock_guard lock(impl.lifecycle_mutex_);
  if (impl.started_) throw std::logic_error("http::Server::start called twice");
  impl.started_ = true;

  const tcp::endpoint endpoint(net::ip::make_address(impl.options_.address), impl.options_.port);
  impl.acceptor_.open(endpoint.protocol());
  impl.acceptor_.set_option(net::socket_base::reuse_address(true));
  impl.acceptor_.bind(endpoint);
  impl.acceptor_.listen(net::socket_base::max_listen_connections);
  const auto port = impl.acceptor_.local_endpoint().port();

  net::co_spawn(impl.acceptor_.get_executor(), impl.accept_loop(), [](const std::exception_ptr& error) {
    if (error) log_line("accept loop ended with an unexpected exception");
  });
  impl.running_ = true;
  const int thread_count = std::max(1, impl.options_.threads);
  for (int i = 0; i < thread_count; ++i) {
    impl.threads_.emplace_back([&impl] {
      // Sessions catch their own errors; this guards against a bug taking a thread down
      // silently while the others keep running.
      for (;;) {
        try {
          impl.io_context_.run();
          return;
        } catch (const std::exception& error) {
          log_line("I/O thread caught an exception", {{"error", error.what()}});
        }
      }
    });
  }
  return port;
}

void Server::stop() {
  auto& impl = *impl_;
  std::lock_guard lock(impl.lifecycle_mutex_);
  if (impl.stopped_) return;
  impl.stopped_ = true;
  impl.stopping_.store(true);
  if (!impl.running_) {
    // Never started, or start() threw before any thread ran: nothing else can touch the
    // acceptor, and there is no thread to post to.
    beast::error_code ec;
    impl.acceptor_.close(ec);
    return;
  }

  // 1. Stop accepting. Wait until the acceptor is really closed, so a connect after stop()
  //    returns is refused instead of sitting in the listen backlog.
  std::promise<void> closed;
  net::post(impl.acceptor_.get_executor(), [&impl, &closed] {
    beast::error_code ec;
    impl.acceptor_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();

  // 2. Close connections that are waiting for a request; those handling one see stopping_,
  //    answer with "Connection: close" and end by themselves.
  impl.for_each_connection([](Connection& connection) {
    if (connection.reading) connection.stream.close();
  });

  // 3. Bounded drain, then close whatever is left (e.g. a client not reading its response).
  if (!impl.wait_for_no_connections(impl.options_.drain_timeout)) {
    log_line("drain timed out; closing the connections", {{"connections", std::to_string(impl.active_.load())}});
    impl.abandon_.store(true);
    impl.for_each_connection([](Connection& connection) {
      // A connection waiting for an AsyncHandler's response has no operation to cancel: its
      // wait is ended here, else a response that never comes would hold stop() forever.
      if (auto pending = connection.pending.lock()) pending->complete({AsyncOutcome::Kind::abandoned, {}});
      connection.stream.close();
    });
    // Closing makes every pending operation complete at once, so this only waits for
    // handlers still running (their write then fails on the closed socket). A deadline here
    // would not help: joining the I/O threads has to wait for those handlers anyway.
    std::unique_lock lock_connections(impl.connections_mutex_);
    impl.connections_changed_.wait(lock_connections, [&impl] { return impl.connections_.empty(); });
  }

  impl.io_context_.stop();
  for (auto& thread : impl.threads_) thread.join();
  impl.threads_.clear();
}

std::string serve_connection_bytes(const ServerOptions& options, AsyncHandler handler, std::string_view input) {
  if (!handler) throw std::invalid_argument("serve_connection_bytes needs a handler");
  ServerOptions plain = options;
  plain.tls_cert_pem.clear();
  plain.tls_key_pem.clear();
  Server::Impl impl(std::move(plain), nullptr, std::move(handler));
  auto& io = impl.io_context_;
  // Beast's in-memory stream pair: the server reads `input` from its end, then end of stream;
  // what it writes lands in the peer's end. The Connection's socket is never opened: its timers
  // are set but, with no operation on it, never started.
  beast::test::stream server_end(io);
  beast::test::stream peer_end(io);
  server_end.connect(peer_end);
  server_end.append(input);
  server_end.close_remote();
  Connection connection(tcp::socket(io), nullptr);
  const std::string remote = "memory";  // outlives the coroutine, which holds a reference to it
  std::exception_ptr failure;
  net::co_spawn(io, impl.serve(connection, server_end, remote),
                [&failure](const std::exception_ptr& error) { failure = error; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::string(peer_end.str());
}

const char* to_string(ConnectionRefusal why) {
  return why == ConnectionRefusal::server_full ? "server_full" : "peer_full";
}

std::size_t Server::active_connections() const {
  return impl_->active_.load();
}

std::uint64_t Server::refused_connections() const {
  return impl_->refused_.load();
}

}  // namespace roundup::adapters::http

#include "tests/support/fake_socket_mode.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>

namespace roundup::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr auto k_use_tuple = net::as_tuple(net::use_awaitable);
// Only bounds a stuck test client; the tests never wait for it to pass.
constexpr std::chrono::seconds k_handshake_timeout{10};

struct Session {
  Session(tcp::socket socket, ssl::context& context) : ws(std::move(socket), context), parked(ws.get_executor()) {}
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws;
  std::size_t index = 0;  // 1-based, once the websocket is open
  bool open = false;
  bool writing = false;
  bool stop_reading = false;  // after the next frame: park instead of reading (pings go unanswered)
  net::steady_timer parked;   // never expires; cancelled at shutdown
  std::deque<std::pair<std::string, bool>> outbox;  // text, whether it is the hello
};

std::string hello_text() {
  return nlohmann::json{{"type", "hello"},
                        {"num_connections", 1},
                        {"debug_info", {{"host", "fake-socket-mode"}, {"approximate_connection_time", 18060}}},
                        {"connection_info", {{"app_id", "A0TEST"}}}}
      .dump();
}

}  // namespace

struct FakeSocketMode::Impl {
  explicit Impl(Signal& signal) : signal(signal) {}

  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(std::shared_ptr<Session> session);
  void enqueue(const std::shared_ptr<Session>& session, std::string text, bool hello = false);  // I/O thread
  std::shared_ptr<Session> find(std::size_t index) const;  // an open session, I/O thread
  net::awaitable<void> write_loop(std::shared_ptr<Session> session);

  Signal& signal;
  ssl::context tls_context{ssl::context::tls_server};
  unsigned short port = 0;
  std::atomic<bool> say_hello{true};

  // Under signal's lock.
  std::size_t accepted = 0;
  std::size_t connections = 0;
  std::size_t closed_by_client = 0;
  std::vector<ReceivedFrame> frames;
  std::vector<UpgradeRequest> upgrades;
  std::vector<std::string> history;

  net::io_context io_context{1};
  tcp::acceptor acceptor{io_context};
  // I/O thread only.
  std::vector<std::shared_ptr<Session>> sessions;  // every accepted connection, for shutdown
  std::shared_ptr<Session> newest;                 // the newest open websocket
  std::thread thread;
};

net::awaitable<void> FakeSocketMode::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(k_use_tuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    beast::error_code no_delay_ec;
    socket.set_option(tcp::no_delay(true), no_delay_ec);
    auto session = std::make_shared<Session>(std::move(socket), tls_context);
    sessions.push_back(session);
    signal.update([&] { ++accepted; });
    net::co_spawn(io_context, serve(std::move(session)), net::detached);
  }
}

net::awaitable<void> FakeSocketMode::Impl::serve(std::shared_ptr<Session> session) {
  auto& tcp_stream = beast::get_lowest_layer(session->ws);
  tcp_stream.expires_after(k_handshake_timeout);
  auto [tls_ec] = co_await session->ws.next_layer().async_handshake(ssl::stream_base::server, k_use_tuple);
  if (tls_ec) co_return;  // e.g. the client rejected our certificate

  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> upgrade;
  auto [read_ec, read] = co_await bhttp::async_read(session->ws.next_layer(), buffer, upgrade, k_use_tuple);
  (void)read;
  if (read_ec || !websocket::is_upgrade(upgrade)) co_return;
  tcp_stream.expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = k_handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  session->ws.set_option(timeouts);
  auto [accept_ec] = co_await session->ws.async_accept(upgrade, k_use_tuple);
  if (accept_ec) co_return;
  session->ws.text(true);
  session->open = true;
  newest = session;
  // The hello is queued before the connection is counted, so anything a test sends after
  // seeing the count goes out after it.
  signal.update([&] {
    session->index = ++connections;
    upgrades.push_back({std::string(upgrade.target()), std::string(upgrade[bhttp::field::host])});
    history.push_back("open " + std::to_string(session->index));
  });
  if (say_hello.load()) enqueue(session, hello_text(), true);

  for (;;) {
    beast::flat_buffer frame;
    auto [ec, bytes] = co_await session->ws.async_read(frame, k_use_tuple);
    (void)bytes;
    if (ec == websocket::error::closed) {  // Beast answered the close
      signal.update([&] {
        ++closed_by_client;
        history.push_back("client close " + std::to_string(session->index));
      });
    }
    if (ec) break;  // closed by the client, dropped, or shut down
    std::string text = beast::buffers_to_string(frame.data());
    auto message = nlohmann::json::parse(text, nullptr, false);
    signal.update([&] { frames.push_back({session->index, std::move(text), std::move(message)}); });
    if (session->stop_reading) {
      session->parked.expires_at(net::steady_timer::time_point::max());
      auto [parked_ec] = co_await session->parked.async_wait(k_use_tuple);
      (void)parked_ec;
      break;
    }
  }
  session->open = false;
  if (newest == session) newest.reset();
  signal.notify();
}

void FakeSocketMode::Impl::enqueue(const std::shared_ptr<Session>& session, std::string text, bool hello) {
  session->outbox.emplace_back(std::move(text), hello);
  if (session->writing) return;
  session->writing = true;
  net::co_spawn(io_context, write_loop(session), net::detached);
}

net::awaitable<void> FakeSocketMode::Impl::write_loop(std::shared_ptr<Session> session) {
  // One writer per session: Beast allows only one write in flight.
  while (session->open && !session->outbox.empty()) {
    auto [text, hello] = std::move(session->outbox.front());
    session->outbox.pop_front();
    auto [ec, written] = co_await session->ws.async_write(net::buffer(text), k_use_tuple);
    (void)written;
    if (ec) break;
    if (hello) signal.update([&] { history.push_back("hello " + std::to_string(session->index)); });
  }
  session->writing = false;
}

std::shared_ptr<Session> FakeSocketMode::Impl::find(std::size_t index) const {
  for (const auto& session : sessions) {
    if (session->open && session->index == index) return session;
  }
  return nullptr;
}

FakeSocketMode::FakeSocketMode(TestCertificate certificate) : impl_(std::make_unique<Impl>(signal)) {
  auto& impl = *impl_;
  if (certificate.cert_pem.empty()) certificate = {test_pki().server_cert_pem, test_pki().server_key_pem};
  SSL_CTX_set_min_proto_version(impl.tls_context.native_handle(), TLS1_2_VERSION);
  impl.tls_context.use_certificate_chain(net::buffer(certificate.cert_pem));
  impl.tls_context.use_private_key(net::buffer(certificate.key_pem), ssl::context::pem);

  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl.acceptor.open(endpoint.protocol());
  impl.acceptor.bind(endpoint);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  net::co_spawn(impl.io_context, impl.accept_loop(), net::detached);
  impl.thread = std::thread([&impl] { impl.io_context.run(); });
}

FakeSocketMode::~FakeSocketMode() {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl] {
    beast::error_code ec;
    impl.acceptor.close(ec);
    for (const auto& session : impl.sessions) {
      session->parked.cancel();
      beast::get_lowest_layer(session->ws).close();
    }
    impl.newest.reset();
  });
  // run() returns once every session has seen its socket closed.
  impl.thread.join();
  impl.sessions.clear();
}

std::string FakeSocketMode::url() const {
  return "wss://127.0.0.1:" + std::to_string(impl_->port) + "/link?ticket=test";
}

unsigned short FakeSocketMode::port() const {
  return impl_->port;
}

void FakeSocketMode::send(const nlohmann::json& message) {
  send_text(message.dump());
}

void FakeSocketMode::send_text(std::string text) {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl, text = std::move(text)]() mutable {
    if (impl.newest && impl.newest->open) impl.enqueue(impl.newest, std::move(text));
  });
}

void FakeSocketMode::send_to(std::size_t connection, const nlohmann::json& message) {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl, connection, text = message.dump()]() mutable {
    if (auto session = impl.find(connection)) impl.enqueue(session, std::move(text));
  });
}

void FakeSocketMode::disconnect(const std::string& reason) {
  send({{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "fake-socket-mode"}}}});
}

void FakeSocketMode::drop() {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl] {
    if (!impl.newest) return;
    auto& socket = beast::get_lowest_layer(impl.newest->ws).socket();
    beast::error_code ec;
    socket.set_option(net::socket_base::linger(true, 0), ec);  // close() then sends RST
    socket.close(ec);
  });
}

void FakeSocketMode::stop_reading_after_next_frame() {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl] {
    if (impl.newest) impl.newest->stop_reading = true;
  });
}

void FakeSocketMode::say_hello(bool enabled) {
  impl_->say_hello.store(enabled);
}

void FakeSocketMode::hello(std::size_t connection) {
  auto& impl = *impl_;
  net::post(impl.io_context, [&impl, connection] {
    if (auto session = impl.find(connection)) impl.enqueue(session, hello_text(), true);
  });
}

std::size_t FakeSocketMode::accepted() {
  return signal.read([&] { return impl_->accepted; });
}

std::size_t FakeSocketMode::connections() {
  return signal.read([&] { return impl_->connections; });
}

std::vector<ReceivedFrame> FakeSocketMode::received() {
  return signal.read([&] { return impl_->frames; });
}

std::vector<UpgradeRequest> FakeSocketMode::upgrades() {
  return signal.read([&] { return impl_->upgrades; });
}

std::vector<std::string> FakeSocketMode::history() {
  return signal.read([&] { return impl_->history; });
}

namespace {

const ReceivedFrame* find_ack(const std::vector<ReceivedFrame>& frames, const std::string& envelope_id) {
  for (const auto& frame : frames) {
    if (!frame.message.is_object()) continue;
    const auto found = frame.message.find("envelope_id");
    if (found != frame.message.end() && found->is_string() && found->get<std::string>() == envelope_id) return &frame;
  }
  return nullptr;
}

}  // namespace

std::optional<ReceivedFrame> FakeSocketMode::ack(const std::string& envelope_id) {
  return signal.read([&]() -> std::optional<ReceivedFrame> {
    if (const auto* frame = find_ack(impl_->frames, envelope_id)) return *frame;
    return std::nullopt;
  });
}

bool FakeSocketMode::wait_accepted(std::size_t count) {
  return signal.wait_for([&] { return impl_->accepted >= count; });
}

bool FakeSocketMode::wait_connections(std::size_t count) {
  return signal.wait_for([&] { return impl_->connections >= count; });
}

std::size_t FakeSocketMode::closed_by_client() {
  return signal.read([&] { return impl_->closed_by_client; });
}

bool FakeSocketMode::wait_closed_by_client(std::size_t count) {
  return signal.wait_for([&] { return impl_->closed_by_client >= count; });
}

bool FakeSocketMode::wait_history(const std::string& event) {
  return signal.wait_for([&] {
    const auto& history = impl_->history;
    return std::find(history.begin(), history.end(), event) != history.end();
  });
}

bool FakeSocketMode::wait_ack(const std::string& envelope_id) {
  return signal.wait_for([&] { return find_ack(impl_->frames, envelope_id) != nullptr; });
}

}  // namespace roundup::testing

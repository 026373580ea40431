#include "adapters/http/client.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/server.h"
#include "tests/support/test_tls.h"

namespace http = roundup::adapters::http;
using roundup::testing::test_pki;
using Kind = http::TransportError::Kind;

namespace {

// The peers here never take long; this only turns a bug into a failed test instead of a hang.
constexpr std::chrono::milliseconds k_generous_timeout{20000};
// Short, for the tests that are meant to time out; nothing asserts on how long they took.
constexpr std::chrono::milliseconds k_short_timeout{300};

http::ServerOptions server_options(bool tls = true) {
  http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.header_timeout = std::chrono::milliseconds(10000);
  options.body_timeout = std::chrono::milliseconds(10000);
  options.write_timeout = std::chrono::milliseconds(10000);
  options.drain_timeout = std::chrono::milliseconds(2000);
  options.threads = 2;
  if (tls) {
    options.tls_cert_pem = test_pki().server_cert_pem;
    options.tls_key_pem = test_pki().server_key_pem;
  }
  return options;
}

http::ClientOptions client_options() {
  http::ClientOptions options;
  options.ca_file = test_pki().ca_file.string();
  options.use_system_store = false;  // only the test CA
  return options;
}

http::ClientRequest get(const std::string& url) {
  http::ClientRequest request;
  request.method = "GET";
  request.url = url;
  request.timeout = k_generous_timeout;
  return request;
}

std::string https_url(unsigned short port, const std::string& target = "/") {
  return "https://127.0.0.1:" + std::to_string(port) + target;
}

// The kind of the TransportError `send` throws; fails the test if it does not throw one.
Kind failure_kind(http::HttpsClient& client, const http::ClientRequest& request, std::string* message = nullptr) {
  try {
    client.send(request);
  } catch (const http::TransportError& error) {
    if (message != nullptr) *message = error.what();
    return error.kind();
  }
  FAIL("send() did not throw a TransportError");
  return Kind::io;
}

// Records what the server saw and echoes it back.
struct Recorder {
  std::mutex mutex;
  std::vector<http::Request> seen;

  http::Handler handler() {
    return [this](const http::Request& request) {
      {
        std::lock_guard lock(mutex);
        seen.push_back(request);
      }
      http::Response response;
      response.status = request.target == "/created" ? 201 : 200;
      response.content_type = "application/json";
      response.body = request.method == "POST" ? request.body : "hello " + request.target;
      response.headers.emplace_back("X-Reply", "yes");
      return response;
    };
  }
  std::vector<http::Request> requests() {
    std::lock_guard lock(mutex);
    return seen;
  }
  std::set<std::string> remotes() {
    std::lock_guard lock(mutex);
    std::set<std::string> out;
    for (const auto& request : seen) out.insert(request.remote);
    return out;
  }
};

// A handler that blocks until the test opens the gate; entered() fires when the first request
// arrives. open() is idempotent; GateOpener makes sure it happens before the server's
// destructor waits for the handler, even when a check fails.
struct Gate {
  std::promise<void> entered_promise;
  std::shared_future<void> entered = entered_promise.get_future().share();
  std::promise<void> open_promise;
  std::shared_future<void> opened = open_promise.get_future().share();
  std::atomic<bool> first{true};
  std::atomic<bool> is_open{false};

  void open() {
    if (!is_open.exchange(true)) open_promise.set_value();
  }
  http::Handler handler() {
    return [this](const http::Request&) {
      if (first.exchange(false)) entered_promise.set_value();
      opened.wait();
      return http::Response{};
    };
  }
};
struct GateOpener {
  Gate& gate;
  ~GateOpener() { gate.open(); }
};

// A TCP socket bound to 127.0.0.1 on an ephemeral port.
struct BoundSocket {
  BoundSocket() : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("bind() failed");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~BoundSocket() {
    if (fd >= 0) ::close(fd);
  }
  BoundSocket(const BoundSocket&) = delete;
  BoundSocket& operator=(const BoundSocket&) = delete;
  int fd;
  unsigned short port = 0;
};

// A plain-TCP peer for behaviour the real Server never shows (chunked bodies, repeated fields,
// closing without an answer, non-HTTP bytes). It accepts connections one at a time and calls
// `on_connection` with the socket; the socket is closed when that returns.
class ScriptedPeer {
 public:
  using Script = std::function<void(ScriptedPeer& peer, int fd)>;

  explicit ScriptedPeer(Script on_connection) : on_connection_(std::move(on_connection)) {
    if (::listen(socket_.fd, 16) != 0) throw std::runtime_error("listen() failed");
    thread_ = std::thread([this] {
      for (;;) {
        const int fd = ::accept(socket_.fd, nullptr, nullptr);
        if (fd < 0) return;  // shut down by the destructor
        // Like the client side, a receive timeout only keeps a bug from hanging the test.
        timeval timeout{20, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        connections_.fetch_add(1);
        on_connection_(*this, fd);
        ::close(fd);
      }
    });
  }
  ~ScriptedPeer() {
    ::shutdown(socket_.fd, SHUT_RDWR);  // wakes accept()
    thread_.join();
  }
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;

  unsigned short port() const { return socket_.port; }
  int connections() const { return connections_.load(); }
  std::string url(const std::string& target = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + target;
  }

  // Reads one request (head, and a body of Content-Length bytes); false if the client closed.
  bool read_request(int fd) {
    std::string data;
    std::size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(fd, data)) return false;
    }
    std::size_t length = 0;
    const auto at = data.find("Content-Length: ");
    if (at != std::string::npos && at < head_end) length = std::stoul(data.substr(at + 16));
    while (data.size() < head_end + 4 + length) {
      if (!fill(fd, data)) return false;
    }
    return true;
  }
  static void write_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

 private:
  static bool fill(int fd, std::string& data) {
    char chunk[4096];
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    data.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  BoundSocket socket_;
  Script on_connection_;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("http client: GET and POST over TLS round-trip status - headers and body") {
  Recorder recorder;
  http::Server server(server_options(), recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());

  const auto got = client.send(get(https_url(port, "/hello?x=1")));
  CHECK(got.status == 200);
  CHECK(got.body == "hello /hello?x=1");
  CHECK(got.header("x-reply") == "yes");
  CHECK(got.header("X-Reply") == "yes");  // looked up case-insensitively
  CHECK(got.header("content-type") == "application/json");
  CHECK_FALSE(got.header("x-missing").has_value());
  for (const auto& [name, value] : got.headers) {
    CHECK(std::none_of(name.begin(), name.end(), [](unsigned char c) { return std::isupper(c) != 0; }));
  }

  std::string body;
  for (int i = 0; i < 100000; ++i) body.push_back(static_cast<char>(i % 256));
  http::ClientRequest post;
  post.url = https_url(port, "/created");
  post.headers = {{"Authorization", "Bearer xoxb-test"}, {"Content-Type", "application/octet-stream"}};
  post.body = body;
  post.timeout = k_generous_timeout;
  const auto posted = client.send(post);
  CHECK(posted.status == 201);
  CHECK(posted.body == body);

  const auto requests = recorder.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].target == "/hello?x=1");
  CHECK(requests[0].headers.at("host") == "127.0.0.1:" + std::to_string(port));
  CHECK(requests[0].headers.at("user-agent") == "roundup-bot/0.1");
  CHECK(requests[1].method == "POST");
  CHECK(requests[1].headers.at("authorization") == "Bearer xoxb-test");
  CHECK(requests[1].headers.at("content-type") == "application/octet-stream");
  CHECK(requests[1].headers.at("content-length") == std::to_string(body.size()));
  CHECK(requests[1].body == body);
}

TEST_CASE("http client: a host name (localhost) is resolved and verified against the DNS SAN") {
  Recorder recorder;
  http::Server server(server_options(), recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());
  // localhost may resolve to ::1 first, where nothing listens: the client tries each address.
  const auto response = client.send(get("https://localhost:" + std::to_string(port) + "/named"));
  CHECK(response.status == 200);
  CHECK(response.body == "hello /named");
  CHECK(recorder.requests().at(0).headers.at("host") == "localhost:" + std::to_string(port));
}

TEST_CASE("http client: SNI carries the host name the client was asked to reach") {
  roundup::testing::SniRecorder peer;
  const auto port = std::to_string(peer.port());

  SUBCASE("a DNS name is sent as the server name") {
    http::HttpsClient client(client_options());
    // localhost may resolve to ::1 first, where nothing listens: the client tries each address.
    CHECK(client.send(get("https://localhost:" + port + "/sni")).body == "ok");
    const auto names = peer.server_names();
    REQUIRE(names.size() == 1);  // one handshake: the recorder listens on 127.0.0.1 only
    CHECK(names[0] == "localhost");
  }
  SUBCASE("an IP literal is not (RFC 6066 allows host names only)") {
    http::HttpsClient client(client_options());
    CHECK(client.send(get("https://127.0.0.1:" + port + "/sni")).body == "ok");
    const auto names = peer.server_names();
    REQUIRE(names.size() == 1);
    CHECK(names[0].empty());
  }
}

TEST_CASE("http client: keep-alive reuses one connection for sequential requests") {
  Recorder recorder;
  http::Server server(server_options(), recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());

  for (int i = 0; i < 3; ++i) {
    const auto response = client.send(get(https_url(port, "/n" + std::to_string(i))));
    CHECK(response.status == 200);
  }
  // HEAD has a Content-Length but no body; the connection must stay usable after it.
  auto head = get(https_url(port, "/head"));
  head.method = "HEAD";
  const auto head_response = client.send(head);
  CHECK(head_response.status == 200);
  CHECK(head_response.body.empty());
  CHECK(head_response.header("content-length") == std::to_string(std::string("hello /head").size()));
  CHECK(client.send(get(https_url(port, "/after-head"))).body == "hello /after-head");

  CHECK(recorder.requests().size() == 5);
  CHECK(recorder.remotes().size() == 1);  // one client port: one connection
  CHECK(server.active_connections() == 1);

  client.close_idle();
  CHECK(client.send(get(https_url(port, "/fresh"))).status == 200);
  CHECK(recorder.remotes().size() == 2);
}

TEST_CASE("http client: concurrent senders share the pool without exceeding it") {
  Recorder recorder;
  http::Server server(server_options(), recorder.handler());
  const auto port = server.start();
  auto options = client_options();
  options.max_idle_per_origin = 4;
  http::HttpsClient client(options);

  constexpr int k_threads = 4;
  constexpr int k_requests_each = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(k_threads);
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_requests_each; ++i) {
        const auto target = "/t" + std::to_string(t) + "/" + std::to_string(i);
        const auto response = client.send(get(https_url(port, target)));
        if (response.status == 200 && response.body == "hello " + target) ok.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(ok.load() == k_threads * k_requests_each);
  // At most k_threads exchanges run at once and each returns its connection to the pool.
  CHECK(recorder.remotes().size() <= static_cast<std::size_t>(k_threads));
}

TEST_CASE("http client: plain http:// works - with a chunked body and repeated header fields") {
  ScriptedPeer peer([](ScriptedPeer& self, int fd) {
    while (self.read_request(fd)) {
      ScriptedPeer::write_all(fd,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\n"
                              "Set-Cookie: b=2\r\nX-Mixed-Case: Value\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    }
  });
  http::HttpsClient client(client_options());
  for (int i = 0; i < 2; ++i) {
    const auto response = client.send(get(peer.url("/chunked")));
    CHECK(response.status == 200);
    CHECK(response.body == "hello world");
    CHECK(response.header("x-mixed-case") == "Value");
    std::vector<std::string> cookies;
    for (const auto& [name, value] : response.headers) {
      if (name == "set-cookie") cookies.push_back(value);
    }
    CHECK(cookies == std::vector<std::string>{"a=1", "b=2"});
  }
  CHECK(peer.connections() == 1);  // chunked framing allows keep-alive
}

TEST_CASE("http client: plain http:// against the real server") {
  Recorder recorder;
  http::Server server(server_options(false), recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());
  const auto response = client.send(get("http://127.0.0.1:" + std::to_string(port) + "/plain"));
  CHECK(response.status == 200);
  CHECK(response.body == "hello /plain");
}

TEST_CASE("http client: Connection: close is honoured - the next request opens a new connection") {
  ScriptedPeer peer([](ScriptedPeer& self, int fd) {
    if (self.read_request(fd)) {
      ScriptedPeer::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    }
  });
  http::HttpsClient client(client_options());
  CHECK(client.send(get(peer.url("/a"))).body == "ok");
  CHECK(client.send(get(peer.url("/b"))).body == "ok");
  CHECK(peer.connections() == 2);
}

TEST_CASE("http client: a certificate from an unknown CA is rejected") {
  auto options = server_options();
  options.tls_cert_pem = test_pki().wrong_ca_server.cert_pem;
  options.tls_key_pem = test_pki().wrong_ca_server.key_pem;
  Recorder recorder;
  http::Server server(options, recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());

  std::string message;
  CHECK(failure_kind(client, get(https_url(port, "/bot123:SECRET/getMe?token=SECRET")), &message) == Kind::tls);
  CHECK(message.find("https://127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(message.find("SECRET") == std::string::npos);  // paths and queries carry tokens
  CHECK(recorder.requests().empty());

  SUBCASE("and trusting nothing at all rejects the good certificate too") {
    http::Server good(server_options(), recorder.handler());
    const auto good_port = good.start();
    auto nothing_trusted = client_options();
    nothing_trusted.ca_file.clear();
    http::HttpsClient untrusting(nothing_trusted);
    CHECK(failure_kind(untrusting, get(https_url(good_port))) == Kind::tls);
  }
}

TEST_CASE("http client: a certificate for another host name is rejected") {
  auto options = server_options();
  options.tls_cert_pem = test_pki().other_name_server.cert_pem;
  options.tls_key_pem = test_pki().other_name_server.key_pem;
  Recorder recorder;
  http::Server server(options, recorder.handler());
  const auto port = server.start();
  http::HttpsClient client(client_options());

  SUBCASE("IP literal") {
    CHECK(failure_kind(client, get(https_url(port))) == Kind::tls);
  }
  SUBCASE("DNS name") {
    CHECK(failure_kind(client, get("https://localhost:" + std::to_string(port) + "/")) == Kind::tls);
  }
  CHECK(recorder.requests().empty());
}

TEST_CASE("http client: a server that never answers times out") {
  SUBCASE("during the response") {
    auto gate = std::make_shared<Gate>();
    http::Server server(server_options(), [gate](const http::Request& request) { return gate->handler()(request); });
    const auto port = server.start();
    GateOpener opener{*gate};
    http::HttpsClient client(client_options());
    auto request = get(https_url(port, "/slow"));
    request.timeout = k_short_timeout;
    CHECK(failure_kind(client, request) == Kind::timeout);
  }
  SUBCASE("during the TLS handshake: TCP is accepted by the kernel, nothing else happens") {
    BoundSocket silent;
    REQUIRE(::listen(silent.fd, 16) == 0);
    http::HttpsClient client(client_options());
    auto request = get(https_url(silent.port));
    request.timeout = k_short_timeout;
    CHECK(failure_kind(client, request) == Kind::timeout);
  }
  SUBCASE("connect_timeout bounds the handshake when the request timeout is long") {
    BoundSocket silent;
    REQUIRE(::listen(silent.fd, 16) == 0);
    auto options = client_options();
    options.connect_timeout = k_short_timeout;
    http::HttpsClient client(options);
    CHECK(failure_kind(client, get(https_url(silent.port))) == Kind::timeout);
  }
}

TEST_CASE("http client: connection refused is a connect error") {
  // Bound but never listening, and kept open, so no other process can take the port meanwhile:
  // the kernel answers a connect with a reset.
  BoundSocket unused;
  const unsigned short port = unused.port;
  http::HttpsClient client(client_options());
  CHECK(failure_kind(client, get(https_url(port))) == Kind::connect);
  CHECK(failure_kind(client, get("http://127.0.0.1:" + std::to_string(port) + "/")) == Kind::connect);
}

TEST_CASE("http client: a response over max_response_bytes is a protocol error") {
  http::Server server(server_options(), [](const http::Request&) {
    http::Response response;
    response.body = std::string(4096, 'b');
    return response;
  });
  const auto port = server.start();
  auto options = client_options();
  options.max_response_bytes = 4095;
  http::HttpsClient client(options);
  CHECK(failure_kind(client, get(https_url(port))) == Kind::protocol);

  options.max_response_bytes = 4096;
  http::HttpsClient roomy(options);
  CHECK(roomy.send(get(https_url(port))).body.size() == 4096);
}

TEST_CASE("http client: bytes that are not HTTP are a protocol error") {
  ScriptedPeer peer([](ScriptedPeer& self, int fd) {
    if (self.read_request(fd)) ScriptedPeer::write_all(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  http::HttpsClient client(client_options());
  CHECK(failure_kind(client, get(peer.url())) == Kind::protocol);
}

namespace {

void check_stale_connection_is_replaced(bool tls) {
  Recorder first_recorder;
  auto first = std::make_unique<http::Server>(server_options(tls), first_recorder.handler());
  const auto port = first->start();
  const auto url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/again";
  http::HttpsClient client(client_options());
  CHECK(client.send(get(url)).status == 200);

  // stop() closes the idle keep-alive connection the client holds in its pool; a new server
  // then takes the same port.
  first->stop();
  first.reset();
  auto options = server_options(tls);
  options.port = port;
  Recorder second_recorder;
  http::Server second(options, second_recorder.handler());
  REQUIRE(second.start() == port);

  const auto response = client.send(get(url));
  CHECK(response.status == 200);
  CHECK(response.body == "hello /again");
  CHECK(second_recorder.requests().size() == 1);
}

}  // namespace

TEST_CASE("http client: a pooled connection the server closed is replaced transparently") {
  SUBCASE("https") {
    check_stale_connection_is_replaced(true);
  }
  SUBCASE("http") {
    check_stale_connection_is_replaced(false);
  }
}

TEST_CASE("http client: a fresh connection closed without an answer is not retried") {
  ScriptedPeer peer([](ScriptedPeer& self, int fd) { self.read_request(fd); });
  http::HttpsClient client(client_options());
  CHECK(failure_kind(client, get(peer.url())) == Kind::io);
  // A retry would have connected again before send() returned.
  CHECK(peer.connections() == 1);
}

TEST_CASE("http client: destroying the client ends an in-flight send at once") {
  auto gate = std::make_shared<Gate>();
  http::Server server(server_options(), [gate](const http::Request& request) { return gate->handler()(request); });
  const auto port = server.start();
  GateOpener opener{*gate};
  auto client = std::make_unique<http::HttpsClient>(client_options());

  auto in_flight = std::async(std::launch::async, [&] {
    auto request = get(https_url(port, "/held"));
    request.timeout = std::chrono::minutes(10);
    return failure_kind(*client, request);
  });
  gate->entered.wait();
  client.reset();
  CHECK(in_flight.get() == Kind::io);
}

TEST_CASE("http client: shut_down ends an in-flight send at once - and later sends fail too") {
  auto gate = std::make_shared<Gate>();
  http::Server server(server_options(), [gate](const http::Request& request) { return gate->handler()(request); });
  const auto port = server.start();
  GateOpener opener{*gate};
  http::HttpsClient client(client_options());

  auto in_flight = std::async(std::launch::async, [&] {
    auto request = get(https_url(port, "/held"));
    request.timeout = std::chrono::minutes(10);
    return failure_kind(client, request);
  });
  gate->entered.wait();
  client.shut_down();
  CHECK(in_flight.get() == Kind::io);
  CHECK(failure_kind(client, get(https_url(port, "/later"))) == Kind::io);
}

TEST_CASE("http client: malformed requests and options are rejected up front") {
  http::HttpsClient client(client_options());
  for (const std::string url :
       {"ftp://127.0.0.1/", "127.0.0.1/path", "https:///path", "https://user@host/", "https://host:99999/",
        "https://host:0/", "https://host:x/", "https://host/a b", "https://[::1/", "https://bad_host!/",
        // Found by fuzz/slack_form_fuzz.cpp: an IPv6 zone id carried CR LF into the Host field.
        "https://[::1%\r\nInjected: yes]/", "https://[::1%eth0]:8443/", "https://[::1]\t:443/"}) {
    CAPTURE(url);
    CHECK_THROWS_AS(client.send(get(url)), std::invalid_argument);
  }
  auto bad_header = get("https://127.0.0.1:1/");
  bad_header.headers = {{"X-Token", "a\r\nInjected: yes"}};
  CHECK_THROWS_AS(client.send(bad_header), std::invalid_argument);
  bad_header.headers = {{"X-Token", std::string("a\x01b")}};  // a parser rejects the whole request
  CHECK_THROWS_AS(client.send(bad_header), std::invalid_argument);
  bad_header.headers = {{"Bad Name", "v"}};
  CHECK_THROWS_AS(client.send(bad_header), std::invalid_argument);
  auto bad_method = get("https://127.0.0.1:1/");
  bad_method.method = "GE T";
  CHECK_THROWS_AS(client.send(bad_method), std::invalid_argument);

  auto missing_ca = client_options();
  missing_ca.ca_file = "/nonexistent/roundup-ca.pem";
  CHECK_THROWS_AS(http::HttpsClient{missing_ca}, std::runtime_error);
}

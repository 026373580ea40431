#include "adapters/http/server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/http/client.h"
#include "tests/support/test_tls.h"
#include "tests/support/wait.h"

namespace http = roundup::adapters::http;

namespace {

// A deliberately dumb blocking HTTP/1.1 client over POSIX sockets, so the server is tested
// against bytes on the wire rather than against Beast talking to itself. The receive timeout
// only turns a server bug into a failed test instead of a hung one; no test depends on it.
constexpr int k_client_recv_timeout_seconds = 20;

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class Client {
 public:
  // Connects to 127.0.0.1:port, from `source` (another loopback address is another peer);
  // check connected() (a refused connect is a valid outcome).
  explicit Client(unsigned short port, const char* source = nullptr) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    timeval timeout{k_client_recv_timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (source != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (::inet_pton(AF_INET, source, &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        ::close(fd_);
        throw std::runtime_error("cannot bind the client to its source address");
      }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  // One response with a Content-Length body; nullopt if the server closed first.
  std::optional<ClientResponse> read_response() {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    ClientResponse response;
    const std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    // "HTTP/1.1 200 OK"
    response.status = std::stoi(head.substr(9, 3));
    std::size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      const auto line_end = head.find("\r\n", line_start);
      const auto line = head.substr(line_start, line_end - line_start);
      const auto colon = line.find(':');
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[lower(line.substr(0, colon))] = value;
      line_start = line_end;
    }
    const auto length = std::stoul(response.headers.at("content-length"));
    while (buffer_.size() < length) {
      if (!fill()) throw std::runtime_error("connection closed inside a body");
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // Reads and drops whatever arrives until the server closes; false if the receive timeout
  // ended it instead.
  bool drained_until_closed() {
    buffer_.clear();
    for (;;) {
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }

  // True if the server closed the connection (orderly or reset) with nothing more to read.
  bool closed_by_server() {
    if (!buffer_.empty()) return false;
    char byte;
    const auto n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char chunk[16384];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

std::string get_request(const std::string& target, bool keep_alive = true) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\nX-Test-Header: Yes\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

std::string post_request(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Echoes what it received, so tests can check the Request the handler saw.
struct RecordingHandler {
  std::mutex mutex;
  std::vector<http::Request> seen;

  http::Handler handler() {
    return [this](const http::Request& request) {
      {
        std::lock_guard lock(mutex);
        seen.push_back(request);
      }
      if (request.target == "/throw") throw std::runtime_error("handler failure (expected)");
      http::Response response;
      response.body = request.method == "POST" ? request.body : "hello " + request.target;
      response.headers.emplace_back("X-Reply", "1");
      if (request.target.rfind("/ping", 0) == 0) response.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
      return response;
    };
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return seen.size();
  }
  http::Request last() {
    std::lock_guard lock(mutex);
    return seen.back();
  }
};

http::ServerOptions test_options() {
  http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.body_limit = 1024 * 1024;
  options.header_timeout = std::chrono::milliseconds(5000);
  options.body_timeout = std::chrono::milliseconds(5000);
  options.write_timeout = std::chrono::milliseconds(5000);
  options.drain_timeout = std::chrono::milliseconds(2000);
  options.threads = 2;
  return options;
}

}  // namespace

TEST_CASE("http server: GET reaches the handler and returns its body") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();
  REQUIRE(port != 0);

  Client client(port);
  REQUIRE(client.connected());
  client.send(get_request("/ping?x=1"));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "hello /ping?x=1");
  CHECK(response->headers.at("content-type") == "text/plain; charset=utf-8");
  CHECK(response->headers.at("x-reply") == "1");
  // A header value with CR/LF is dropped, never allowed to split the header block.
  CHECK(response->headers.count("x-evil") == 0);
  CHECK(response->headers.count("injected") == 0);

  const auto request = recorder.last();
  CHECK(request.method == "GET");
  CHECK(request.target == "/ping?x=1");
  CHECK(request.headers.at("x-test-header") == "Yes");
  CHECK(request.headers.at("host") == "test");
  CHECK(request.remote.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("http server: POST body arrives intact - including NUL and CRLF bytes") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();

  std::string body;
  for (int i = 0; i < 200000; ++i) body.push_back(static_cast<char>(i % 256));
  body += "\r\n\r\nend";

  Client client(port);
  REQUIRE(client.connected());
  client.send(post_request("/upload", body));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == body);
  CHECK(recorder.last().body == body);
  CHECK(recorder.last().headers.at("content-type") == "application/octet-stream");
}

TEST_CASE("http server: keep-alive serves several requests on one connection") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();

  Client client(port);
  REQUIRE(client.connected());
  client.send(get_request("/one"));
  const auto first = client.read_response();
  REQUIRE(first);
  CHECK(first->body == "hello /one");
  const auto first_remote = recorder.last().remote;

  client.send(get_request("/two"));
  const auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->body == "hello /two");
  CHECK(recorder.last().remote == first_remote);  // same client port: same connection
  CHECK(server.active_connections() == 1);

  // Two pipelined requests in one write are answered in order.
  client.send(get_request("/three") + get_request("/four", false));
  const auto third = client.read_response();
  const auto fourth = client.read_response();
  REQUIRE(third);
  REQUIRE(fourth);
  CHECK(third->body == "hello /three");
  CHECK(fourth->body == "hello /four");
  CHECK(fourth->headers.at("connection") == "close");
  CHECK(client.closed_by_server());
}

TEST_CASE("http server: a body over the limit gets 413 and never reaches the handler") {
  RecordingHandler recorder;
  auto options = test_options();
  options.body_limit = 1024;
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  SUBCASE("declared by Content-Length") {
    Client client(port);
    REQUIRE(client.connected());
    client.send(post_request("/big", std::string(4096, 'x')));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(!response->body.empty());
    CHECK(client.closed_by_server());
  }
  SUBCASE("sent chunked") {
    Client client(port);
    REQUIRE(client.connected());
    std::string chunked = "POST /big HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    client.send(chunked);
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(client.closed_by_server());
  }
  SUBCASE("exactly at the limit is fine") {
    Client client(port);
    REQUIRE(client.connected());
    client.send(post_request("/fits", std::string(1024, 'z')));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == std::string(1024, 'z'));
  }
  CHECK(recorder.count() <= 1);
}

TEST_CASE("http server: a malformed request gets 400 and the connection closes") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();

  Client client(port);
  REQUIRE(client.connected());
  client.send("NOT A REQUEST\r\n\r\n");
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(client.closed_by_server());
  CHECK(recorder.count() == 0);

  // The server is still fine for everyone else.
  Client next(port);
  REQUIRE(next.connected());
  next.send(get_request("/after"));
  const auto after = next.read_response();
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("http server: a throwing handler yields 500 and the server keeps serving") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();

  Client client(port);
  REQUIRE(client.connected());
  client.send(get_request("/throw"));
  const auto failed = client.read_response();
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body.find("handler failure") == std::string::npos);  // no internals leak

  // Same connection still works...
  client.send(get_request("/again"));
  const auto same = client.read_response();
  REQUIRE(same);
  CHECK(same->status == 200);
  CHECK(same->body == "hello /again");

  // ...and so does a new one.
  Client other(port);
  REQUIRE(other.connected());
  other.send(get_request("/other"));
  const auto fresh = other.read_response();
  REQUIRE(fresh);
  CHECK(fresh->status == 200);
}

TEST_CASE("http server: an invalid status becomes 500") {
  http::Server server(test_options(), [](const http::Request&) {
    http::Response response;
    response.status = 42;
    response.body = "secret";
    return response;
  });
  const auto port = server.start();
  Client client(port);
  REQUIRE(client.connected());
  client.send(get_request("/"));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(response->body != "secret");
}

// Found by fuzz/http_server_fuzz.cpp: a handler's 146 went out with its body, which a client reads
// as the start of the next response. Found fixing it: a 204 or 304 with a body threw in Beast, so
// the connection closed unanswered; a handler's Transfer-Encoding went out beside Content-Length.
TEST_CASE("http server: a handler's 1xx becomes 500 - 204 and 304 carry no body - framing fields are the server's") {
  const auto exchange = [](int status) {
    return http::serve_connection_bytes(
        test_options(),
        [status](const http::Request&, const http::Respond& respond) {
          http::Response response;
          response.status = status;
          response.body = "a\r\nb";
          response.headers = {{"Transfer-Encoding", "gzip"}, {"Content-Length", "1"}, {"X-Kept", "yes"}};
          respond(response);
        },
        get_request("/first") + get_request("/second", false));
  };
  const auto count = [](const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  };
  for (const int status : {100, 101, 146, 199}) {
    CAPTURE(status);
    const std::string out = exchange(status);
    CHECK(count(out, "HTTP/1.1 500 ") == 2);  // both requests answered, each as a 500
    CHECK(out.find("a\r\nb") == std::string::npos);
  }
  for (const int status : {204, 304}) {
    CAPTURE(status);
    const std::string out = exchange(status);
    CHECK(count(out, "HTTP/1.1 " + std::to_string(status) + " ") == 2);
    CHECK(out.find("a\r\nb") == std::string::npos);
    CHECK(out.find("Content-Length") == std::string::npos);
  }
  const std::string ok = exchange(200);
  CHECK(count(ok, "HTTP/1.1 200 ") == 2);
  CHECK(count(ok, "Content-Length: 4\r\n") == 2);
  CHECK(count(ok, "X-Kept: yes\r\n") == 2);
  CHECK(ok.find("Transfer-Encoding") == std::string::npos);
  CHECK(ok.find("Content-Length: 1\r\n") == std::string::npos);
}

// Found by fuzz/http_server_fuzz.cpp in CI: a handler's header value holding a control byte
// (0x01) went out as it was, and a client's parser rejects the whole response ("bad value").
// RFC 9110 section 5.5 allows only visible characters, obs-text, space and tab in a field value.
TEST_CASE("http server: a handler's field with a control character is dropped, the response stays readable") {
  const std::string out = http::serve_connection_bytes(
      test_options(),
      [](const http::Request&, const http::Respond& respond) {
        http::Response response;
        response.body = "ok";
        response.headers = {
            {"X-Ctl", std::string("a\x01b")}, {"X-Del", "a\x7f"}, {"X-Tab", "a\tb"}, {"X-Obs", "caf\xc3\xa9"}};
        respond(response);
      },
      get_request("/first", false));
  CHECK(out.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(out.find("X-Ctl") == std::string::npos);
  CHECK(out.find("X-Del") == std::string::npos);
  CHECK(out.find("X-Tab: a\tb\r\n") != std::string::npos);
  CHECK(out.find("X-Obs: caf\xc3\xa9\r\n") != std::string::npos);
}

TEST_CASE("http server: stop() closes an idle keep-alive connection and refuses new ones") {
  RecordingHandler recorder;
  auto options = test_options();
  // Short enough that a regression which waited for them would keep this test short, long enough
  // that a loaded run does not time the idle connection out before stop() is what closes it.
  options.header_timeout = std::chrono::milliseconds(5000);
  options.drain_timeout = std::chrono::milliseconds(500);
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  Client idle(port);
  REQUIRE(idle.connected());
  idle.send(get_request("/warm"));
  REQUIRE(idle.read_response());  // now an idle keep-alive connection held open by the client
  CHECK(server.active_connections() == 1);

  server.stop();

  CHECK(server.active_connections() == 0);
  CHECK(idle.closed_by_server());
  Client late(port);
  CHECK_FALSE(late.connected());
  server.stop();  // idempotent
}

TEST_CASE("http server: stop() lets an in-flight request finish with Connection: close") {
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> first{true};
  auto options = test_options();
  options.drain_timeout = std::chrono::milliseconds(20000);  // generous: nothing waits on it
  http::Server server(options, [&](const http::Request& request) {
    if (request.target == "/slow" && first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
    http::Response response;
    response.body = "done " + request.target;
    return response;
  });
  const auto port = server.start();

  Client slow(port);
  REQUIRE(slow.connected());
  slow.send(get_request("/slow"));
  entered.get_future().wait();

  auto stopped = std::async(std::launch::async, [&] { server.stop(); });
  // Once a connect is refused the acceptor is closed, i.e. stop() is under way. Connections
  // accepted meanwhile are idle and get closed by stop(); they do not matter here.
  for (;;) {
    Client probe(port);
    if (!probe.connected()) break;
  }
  release.set_value();

  const auto response = slow.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "done /slow");
  CHECK(response->headers.at("connection") == "close");
  CHECK(slow.closed_by_server());
  stopped.get();
  CHECK(server.active_connections() == 0);
}

TEST_CASE("http server: start() reports a bind failure and stop() without start() is harmless") {
  http::Server first(test_options(), [](const http::Request&) { return http::Response{}; });
  const auto port = first.start();
  auto options = test_options();
  options.port = port;
  http::Server second(options, [](const http::Request&) { return http::Response{}; });
  CHECK_THROWS(second.start());

  http::Server never(test_options(), [](const http::Request&) { return http::Response{}; });
  never.stop();
}

TEST_CASE("http server: stop() closes a connection whose client stops reading once drain ends") {
  // A response far larger than loopback socket buffers, to a client that never reads it: the
  // write cannot finish, so only the drain deadline can end this connection. write_timeout is
  // long so that it cannot be what ends it.
  const std::string huge(64 * 1024 * 1024, 'h');
  auto options = test_options();
  options.write_timeout = std::chrono::milliseconds(600000);
  options.drain_timeout = std::chrono::milliseconds(200);
  std::promise<void> handled;
  http::Server server(options, [&](const http::Request&) {
    http::Response response;
    response.body = huge;
    // stop()'s clean-up runs on this connection's strand, i.e. only after this returns and
    // the write has started: the connection is then in flight, not idle.
    handled.set_value();
    return response;
  });
  const auto port = server.start();

  Client stuck(port);
  REQUIRE(stuck.connected());
  stuck.send(get_request("/huge"));
  handled.get_future().wait();

  server.stop();
  CHECK(server.active_connections() == 0);
}

// TLS: the same server behind a handshake. The peer is HttpsClient trusting only the test CA.

namespace {

http::ServerOptions tls_options() {
  auto options = test_options();
  options.tls_cert_pem = roundup::testing::test_pki().server_cert_pem;
  options.tls_key_pem = roundup::testing::test_pki().server_key_pem;
  return options;
}

http::HttpsClient tls_client() {
  http::ClientOptions options;
  options.ca_file = roundup::testing::test_pki().ca_file.string();
  options.use_system_store = false;
  return http::HttpsClient(options);
}

http::ClientRequest tls_request(unsigned short port, const std::string& method, const std::string& target,
                                std::string body = "") {
  http::ClientRequest request;
  request.method = method;
  request.url = "https://127.0.0.1:" + std::to_string(port) + target;
  request.body = std::move(body);
  request.timeout = std::chrono::milliseconds(20000);
  return request;
}

}  // namespace

TEST_CASE("http server tls: requests reach the handler over TLS and keep-alive works") {
  RecordingHandler recorder;
  http::Server server(tls_options(), recorder.handler());
  const auto port = server.start();
  auto client = tls_client();

  const auto first = client.send(tls_request(port, "GET", "/ping?tls=1"));
  CHECK(first.status == 200);
  CHECK(first.body == "hello /ping?tls=1");
  CHECK(first.header("x-reply") == "1");
  CHECK_FALSE(first.header("x-evil").has_value());
  const auto remote = recorder.last().remote;

  const auto second = client.send(tls_request(port, "POST", "/echo", "over tls"));
  CHECK(second.status == 200);
  CHECK(second.body == "over tls");
  CHECK(recorder.last().remote == remote);  // same connection
  CHECK(server.active_connections() == 1);
}

TEST_CASE("http server tls: a body over the limit gets 413 over TLS and the server keeps serving") {
  RecordingHandler recorder;
  auto options = tls_options();
  options.body_limit = 1024;
  http::Server server(options, recorder.handler());
  const auto port = server.start();
  auto client = tls_client();

  const auto rejected = client.send(tls_request(port, "POST", "/big", std::string(200 * 1024, 'x')));
  CHECK(rejected.status == 413);
  CHECK(rejected.header("connection") == "close");
  CHECK(recorder.count() == 0);

  const auto fine = client.send(tls_request(port, "POST", "/small", std::string(1024, 'y')));
  CHECK(fine.status == 200);
  CHECK(fine.body == std::string(1024, 'y'));
}

TEST_CASE("http server tls: plain HTTP on a TLS port is closed without reaching the handler") {
  RecordingHandler recorder;
  http::Server server(tls_options(), recorder.handler());
  const auto port = server.start();

  Client plain(port);
  REQUIRE(plain.connected());
  plain.send(get_request("/sneaky"));
  CHECK(plain.drained_until_closed());
  CHECK(recorder.count() == 0);

  // TLS clients are unaffected.
  auto client = tls_client();
  CHECK(client.send(tls_request(port, "GET", "/after")).status == 200);
}

TEST_CASE("http server tls: stop() closes a connection stuck before its TLS handshake") {
  RecordingHandler recorder;
  auto options = tls_options();
  // Long, so that only stop() closing the handshake (not a deadline) ends this promptly; a
  // regression shows up as a test that takes this long.
  options.header_timeout = std::chrono::milliseconds(30000);
  options.drain_timeout = std::chrono::milliseconds(30000);
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  Client silent(port);  // connects, never sends a ClientHello
  REQUIRE(silent.connected());
  // Accepted: in the handshake.
  REQUIRE(roundup::testing::poll_until([&] { return server.active_connections() != 0; }));

  server.stop();
  CHECK(server.active_connections() == 0);
  CHECK(silent.drained_until_closed());
}

TEST_CASE("http server tls: unusable TLS options are rejected by the constructor") {
  const auto& pki = roundup::testing::test_pki();
  const auto handler = [](const http::Request&) { return http::Response{}; };

  auto only_cert = test_options();
  only_cert.tls_cert_pem = pki.server_cert_pem;
  CHECK_THROWS_AS(http::Server(only_cert, handler), std::invalid_argument);

  auto only_key = test_options();
  only_key.tls_key_pem = pki.server_key_pem;
  CHECK_THROWS_AS(http::Server(only_key, handler), std::invalid_argument);

  auto garbage = tls_options();
  garbage.tls_cert_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  CHECK_THROWS_AS(http::Server(garbage, handler), std::invalid_argument);

  auto bad_key = tls_options();
  bad_key.tls_key_pem = "not a key";
  CHECK_THROWS_AS(http::Server(bad_key, handler), std::invalid_argument);

  auto mismatched = tls_options();
  mismatched.tls_key_pem = pki.other_name_server.key_pem;  // a valid key, for another certificate
  try {
    http::Server server(mismatched, handler);
    FAIL("a key that does not match the certificate was accepted");
  } catch (const std::invalid_argument& error) {
    CHECK(std::string(error.what()).find("tls_key_pem") != std::string::npos);
    CHECK(std::string(error.what()).find("PRIVATE KEY") == std::string::npos);  // no key material
  }
}

// Asynchronous handlers: the response comes through `respond`, possibly later and from another
// thread.

namespace {

// Keeps each request's `respond` for the test to call; the handler itself returns at once.
struct ParkedResponses {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, http::Respond>> parked;  // target, respond

  http::AsyncHandler handler() {
    return [this](const http::Request& request, http::Respond respond) {
      {
        std::lock_guard lock(mutex);
        parked.emplace_back(request.target, std::move(respond));
      }
      changed.notify_all();
    };
  }
  // Waits until `count` requests have been parked; returns the respond of the count-th.
  http::Respond wait_for(std::size_t count) {
    std::unique_lock lock(mutex);
    const bool arrived = changed.wait_for(lock, std::chrono::seconds(30), [&] { return parked.size() >= count; });
    REQUIRE(arrived);
    return parked[count - 1].second;
  }
};

http::Response text(std::string body) {
  http::Response response;
  response.body = std::move(body);
  return response;
}

}  // namespace

TEST_CASE("http server async: a later response from another thread answers the request and keep-alive goes on") {
  ParkedResponses parked;
  http::Server server(test_options(), parked.handler());
  const auto port = server.start();

  Client client(port);
  REQUIRE(client.connected());
  client.send(get_request("/first"));
  auto respond = parked.wait_for(1);
  std::thread([respond] { respond(text("later")); }).join();
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "later");
  CHECK(response->headers.count("connection") == 0);  // HTTP/1.1 keep-alive is the default

  // Same connection: the next request is read only after the first was answered.
  client.send(get_request("/second"));
  respond = parked.wait_for(2);
  CHECK(parked.parked[1].first == "/second");
  respond(text("second"));
  respond(text("ignored"));  // only the first call counts
  response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == "second");
  CHECK(server.active_connections() == 1);
}

TEST_CASE("http server async: respond called inside the handler works like a plain handler") {
  http::Server server(test_options(), [](const http::Request& request, http::Respond respond) {
    auto response = text("inline " + request.target);
    response.status = 201;
    response.headers.emplace_back("X-Reply", "1");
    respond(std::move(response));
  });
  const auto port = server.start();
  Client client(port);
  REQUIRE(client.connected());
  for (int i = 0; i < 3; ++i) {
    client.send(get_request("/n" + std::to_string(i)));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 201);
    CHECK(response->body == "inline /n" + std::to_string(i));
    CHECK(response->headers.at("x-reply") == "1");
  }
}

TEST_CASE("http server async: a throwing handler or a dropped respond yields 500 and a late throw keeps the answer") {
  http::Server server(test_options(), [](const http::Request& request, http::Respond respond) {
    if (request.target == "/throw") throw std::runtime_error("handler failure (expected)");
    if (request.target == "/drop") return;  // `respond` is destroyed uncalled
    if (request.target == "/late-throw") {
      respond(text("answered"));
      throw std::runtime_error("after responding (expected)");
    }
    respond(text("fine"));
  });
  const auto port = server.start();
  Client client(port);
  REQUIRE(client.connected());
  for (const char* target : {"/throw", "/drop"}) {
    client.send(get_request(target));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 500);
    CHECK(response->body.find("handler failure") == std::string::npos);
  }
  client.send(get_request("/late-throw"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "answered");
  client.send(get_request("/ok"));  // the connection still serves
  response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == "fine");
}

TEST_CASE("http server async: stop() lets a response that comes during the drain go out with Connection: close") {
  ParkedResponses parked;
  auto options = test_options();
  options.drain_timeout = std::chrono::milliseconds(20000);  // generous: nothing waits on it
  http::Server server(options, parked.handler());
  const auto port = server.start();
  Client client(port);
  REQUIRE(client.connected());
  client.send(post_request("/events", "{}"));
  const auto respond = parked.wait_for(1);

  auto stopped = std::async(std::launch::async, [&] { server.stop(); });
  // A refused connect means stop() is under way (see the plain handler's test above).
  for (;;) {
    Client probe(port);
    if (!probe.connected()) break;
  }
  respond(text("acked"));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == "acked");
  CHECK(response->headers.at("connection") == "close");
  stopped.get();
  CHECK(server.active_connections() == 0);
}

TEST_CASE("http server async: a response that never comes does not hold stop() past the drain") {
  ParkedResponses parked;
  http::Respond kept;
  {
    auto options = test_options();
    options.drain_timeout = std::chrono::milliseconds(200);
    http::Server server(options, parked.handler());
    const auto port = server.start();
    Client client(port);
    REQUIRE(client.connected());
    client.send(post_request("/events", "{}"));
    kept = parked.wait_for(1);
    server.stop();
    CHECK(server.active_connections() == 0);
    CHECK_FALSE(client.read_response());  // closed without an answer
  }
  // Answering after stop() and after the server is gone is ignored, not a crash.
  kept(text("too late"));
}

namespace {

// Waits (bounded) until the server has registered or closed connections.
void wait_for_active(const http::Server& server, std::size_t count) {
  REQUIRE(roundup::testing::poll_until([&] { return server.active_connections() == count; }));
}

// Counts the connections the server reported closing at accept, by reason.
struct RefusalRecorder {
  std::mutex mutex;
  std::map<http::ConnectionRefusal, int> seen;
  std::function<void(http::ConnectionRefusal)> callback() {
    return [this](http::ConnectionRefusal why) {
      std::lock_guard lock(mutex);
      ++seen[why];
    };
  }
  int count(http::ConnectionRefusal why) {
    std::lock_guard lock(mutex);
    return seen[why];
  }
};

}  // namespace

TEST_CASE(
    "http server: a Transfer-Encoding other than exactly chunked, or beside Content-Length, gets 400 and "
    "closes - the bytes after it are never served") {
  RecordingHandler recorder;
  http::Server server(test_options(), recorder.handler());
  const auto port = server.start();
  for (const std::string framing :
       {"Transfer-Encoding: chunked, identity", "Transfer-Encoding: identity", "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5", "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"}) {
    CAPTURE(framing);
    Client client(port);
    REQUIRE(client.connected());
    // A smuggling attempt: if the first request were read as having an empty body, the second
    // would be served as a request of its own.
    client.send("POST /first HTTP/1.1\r\nHost: test\r\n" + framing + "\r\n\r\n" + get_request("/smuggled"));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(response->headers.at("connection") == "close");
    CHECK(client.drained_until_closed());
  }
  CHECK(recorder.count() == 0);

  // Plain chunked framing, whatever its case, still works.
  Client client(port);
  client.send("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "hello");
}

TEST_CASE("http server: a peer over max_connections_per_peer is closed at accept while other peers are served") {
  RecordingHandler recorder;
  RefusalRecorder refusals;
  auto options = test_options();
  options.max_connections_per_peer = 2;
  options.on_refused = refusals.callback();
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  auto first = std::make_unique<Client>(port);
  Client second(port);
  for (Client* client : {first.get(), &second}) {
    client->send(get_request("/hold"));
    REQUIRE(client->read_response());  // served, and held open (keep-alive)
  }
  Client third(port);  // the kernel completes the handshake; the server closes it unread
  REQUIRE(third.connected());
  CHECK(third.drained_until_closed());
  CHECK(server.refused_connections() == 1);
  CHECK(refusals.count(http::ConnectionRefusal::peer_full) == 1);

  Client other_peer(port, "127.0.0.2");
  REQUIRE(other_peer.connected());
  other_peer.send(get_request("/other"));
  const auto served = other_peer.read_response();
  REQUIRE(served);
  CHECK(served->status == 200);

  // A slot freed by the peer is its again.
  first.reset();
  wait_for_active(server, 2);
  Client again(port);
  again.send(get_request("/again"));
  const auto again_served = again.read_response();
  REQUIRE(again_served);
  CHECK(again_served->status == 200);
  CHECK(server.refused_connections() == 1);
}

TEST_CASE("http server: connections over max_connections are closed at accept until one closes") {
  RecordingHandler recorder;
  RefusalRecorder refusals;
  auto options = test_options();
  options.max_connections = 2;
  options.on_refused = refusals.callback();
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  auto first = std::make_unique<Client>(port, "127.0.0.3");
  Client second(port, "127.0.0.4");
  for (Client* client : {first.get(), &second}) {
    client->send(get_request("/hold"));
    REQUIRE(client->read_response());
  }
  Client third(port, "127.0.0.5");
  REQUIRE(third.connected());
  CHECK(third.drained_until_closed());
  CHECK(refusals.count(http::ConnectionRefusal::server_full) == 1);
  CHECK(refusals.count(http::ConnectionRefusal::peer_full) == 0);

  first.reset();
  wait_for_active(server, 1);
  Client fourth(port, "127.0.0.5");
  fourth.send(get_request("/fourth"));
  const auto served = fourth.read_response();
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(server.refused_connections() == 1);
}

TEST_CASE("http server: the header has a short deadline of its own and the body the longer one") {
  RecordingHandler recorder;
  auto options = test_options();
  options.header_timeout = std::chrono::milliseconds(300);
  options.body_timeout = std::chrono::milliseconds(30000);
  http::Server server(options, recorder.handler());
  const auto port = server.start();

  // The header arrives at once; the body comes late.
  Client slow_body(port);
  slow_body.send("POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n");
  // Connected after that header was sent, and never sending one: the server closing it shows that
  // a whole header_timeout has passed for the other connection too, which is in its body by then.
  Client idle(port);
  REQUIRE(idle.connected());
  CHECK(idle.drained_until_closed());

  slow_body.send("hello");
  const auto response = slow_body.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "hello");
}

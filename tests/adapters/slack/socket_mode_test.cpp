// The Socket Mode client against a fake Socket Mode endpoint on 127.0.0.1 over TLS (test CA).
// Every wait is on a Signal; the deadlines only bound a broken test.

#include "adapters/slack/socket_mode.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adapters/slack/web_api.h"
#include "tests/support/fake_socket_mode.h"
#include "tests/support/test_tls.h"
#include "tests/support/wait.h"

namespace {

using nlohmann::json;
using roundup::adapters::slack::ApiError;
using roundup::adapters::slack::SocketModeClient;
using roundup::adapters::slack::SocketModeOptions;
using roundup::testing::FakeSocketMode;
using roundup::testing::Signal;
using roundup::testing::test_pki;

// Only bounds a broken test (a stop() that hangs); nothing asserts on how long anything took.
constexpr std::chrono::seconds k_generous{30};

json envelope(const std::string& id, const std::string& type, json payload) {
  return {{"envelope_id", id},
          {"type", type},
          {"payload", std::move(payload)},
          {"accepts_response_payload", type == "slash_commands"},
          {"retry_attempt", 0},
          {"retry_reason", ""}};
}

json event_payload(const std::string& text) {
  return {{"type", "event_callback"},
          {"event_id", "Ev" + text},
          {"event", {{"type", "app_mention"}, {"text", text}, {"channel", "C1"}, {"ts", "1.1"}}}};
}

struct HandledEnvelope {
  std::string type;
  json payload;
  bool acked_before_handler = false;  // must stay false: the ack follows the handler
};

// A fake Slack endpoint and a client pointed at it that records what its handler sees. The
// handler throws for a payload with "fail": true and answers slash commands with an ephemeral
// reply.
struct SocketFixture {
  explicit SocketFixture(roundup::testing::TestCertificate certificate = {}) : fake(std::move(certificate)) {}
  ~SocketFixture() { client.reset(); }  // before the fake goes away

  static SocketModeOptions options() {
    SocketModeOptions options;
    options.ca_file = test_pki().ca_file.string();
    options.use_system_store = false;  // only the test CA
    options.min_backoff = std::chrono::milliseconds(50);
    options.max_backoff = std::chrono::milliseconds(200);
    options.handshake_timeout = std::chrono::milliseconds(10000);
    options.ping_interval = std::chrono::milliseconds(30000);
    return options;
  }

  void start(SocketModeOptions client_options = options()) {
    client = std::make_unique<SocketModeClient>(
        std::move(client_options),
        [this] {
          std::function<std::string()> source;
          events.update([&] {
            ++url_calls;
            source = url_source;
          });
          return source ? source() : fake.url();
        },
        [this](const std::string& type, const json& payload) -> std::optional<json> {
          const std::string id = payload.value("id", std::string());
          const bool acked = !id.empty() && fake.ack(id).has_value();
          events.update([&] { handled.push_back({type, payload, acked}); });
          if (payload.value("fail", false)) throw std::runtime_error("inbox unavailable");
          if (type == "slash_commands") return json{{"response_type", "ephemeral"}, {"text", "Searching…"}};
          return std::nullopt;
        });
    client->start();
  }

  std::size_t handled_count() {
    std::size_t count = 0;
    events.update([&] { count = handled.size(); });
    return count;
  }
  std::vector<HandledEnvelope> handled_copy() {
    std::vector<HandledEnvelope> out;
    events.update([&] { out = handled; });
    return out;
  }
  std::size_t url_call_count() {
    std::size_t count = 0;
    events.update([&] { count = url_calls; });
    return count;
  }

  // Sends an events_api envelope and waits for its ack.
  bool round_trip(const std::string& id) {
    fake.send(envelope(id, "events_api", {{"id", id}, {"event", {{"type", "app_mention"}}}}));
    return fake.wait_ack(id);
  }

  FakeSocketMode fake;
  Signal events;  // guards the fields below
  std::vector<HandledEnvelope> handled;
  std::size_t url_calls = 0;
  std::function<std::string()> url_source;  // replaces fake.url() when set
  std::unique_ptr<SocketModeClient> client;
};

}  // namespace

TEST_CASE("socket mode: hello makes the client connected - the upgrade carries Host and path+query") {
  SocketFixture fixture;
  const auto before = std::chrono::steady_clock::now();
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  // The hello went out before this envelope, and the client handles frames in order, so once
  // the ack is back the hello has been seen.
  REQUIRE(fixture.round_trip("e1"));
  CHECK(fixture.client->connected());
  CHECK(fixture.client->connections() == 1);
  CHECK(fixture.client->last_activity() >= before);
  CHECK(fixture.url_call_count() == 1);

  const auto upgrades = fixture.fake.upgrades();
  REQUIRE(upgrades.size() == 1);
  CHECK(upgrades[0].target == "/link?ticket=test");
  CHECK(upgrades[0].host == "127.0.0.1:" + std::to_string(fixture.fake.port()));
}

TEST_CASE("socket mode: an events_api envelope reaches the handler - then is acked with its envelope_id") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  auto payload = event_payload("hello bot");
  payload["id"] = "ev-1";
  fixture.fake.send(envelope("ev-1", "events_api", payload));
  REQUIRE(fixture.fake.wait_ack("ev-1"));

  const auto handled = fixture.handled_copy();
  REQUIRE(handled.size() == 1);
  CHECK(handled[0].type == "events_api");
  CHECK(handled[0].payload == payload);
  CHECK_FALSE(handled[0].acked_before_handler);
  const auto ack = fixture.fake.ack("ev-1");
  REQUIRE(ack);
  CHECK(ack->message == json{{"envelope_id", "ev-1"}});  // no "payload" when the handler returns none
}

TEST_CASE("socket mode: a slash_commands ack carries the handler's payload") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  const json payload = {{"id", "cmd-1"},      {"command", "/roundup"},
                        {"text", "faiss"},    {"user_id", "U1"},
                        {"channel_id", "C1"}, {"response_url", "https://hooks.slack.com/commands/T1/1/x"}};
  fixture.fake.send(envelope("cmd-1", "slash_commands", payload));
  REQUIRE(fixture.fake.wait_ack("cmd-1"));

  const auto handled = fixture.handled_copy();
  REQUIRE(handled.size() == 1);
  CHECK(handled[0].type == "slash_commands");
  CHECK(handled[0].payload == payload);
  const auto ack = fixture.fake.ack("cmd-1");
  REQUIRE(ack);
  CHECK(ack->message["envelope_id"] == "cmd-1");
  CHECK(ack->message["payload"] == json{{"response_type", "ephemeral"}, {"text", "Searching…"}});
}

TEST_CASE("socket mode: malformed frames are ignored and the connection stays") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  fixture.fake.send_text("this is {not json");
  fixture.fake.send_text("[1, 2, 3]");
  fixture.fake.send_text(R"({"type": "events_api", "payload": {}})");  // no envelope_id: nothing to ack
  fixture.fake.send_text("");
  REQUIRE(fixture.round_trip("after-junk"));

  CHECK(fixture.handled_count() == 1);
  CHECK(fixture.fake.connections() == 1);
  CHECK(fixture.client->connections() == 1);
  CHECK(fixture.client->connected());
  // Only the one ack came back.
  CHECK(fixture.fake.received().size() == 1);
}

TEST_CASE("socket mode: a throwing handler leaves its envelope unacked - the next one is handled") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  fixture.fake.send(envelope("bad", "events_api", {{"id", "bad"}, {"fail", true}}));
  REQUIRE(fixture.round_trip("good"));

  // Acks go out in order on one connection, so "bad" would have been acked before "good".
  CHECK_FALSE(fixture.fake.ack("bad"));
  const auto handled = fixture.handled_copy();
  REQUIRE(handled.size() == 2);
  CHECK(handled[0].payload["id"] == "bad");
  CHECK(handled[1].payload["id"] == "good");
  CHECK(fixture.fake.connections() == 1);
}

TEST_CASE("socket mode: an envelope of an unknown type is acked without calling the handler") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  fixture.fake.send(envelope("odd", "something_new", {{"id", "odd"}}));
  REQUIRE(fixture.round_trip("next"));
  CHECK(fixture.fake.ack("odd"));
  CHECK(fixture.handled_count() == 1);
}

TEST_CASE(
    "socket mode: disconnect refresh_requested or warning opens a new connection with a fresh URL - then the next "
    "event is handled and acked on it") {
  for (const std::string reason : {"refresh_requested", "warning"}) {
    CAPTURE(reason);
    SocketFixture fixture;
    fixture.start();
    REQUIRE(fixture.fake.wait_connections(1));
    REQUIRE(fixture.round_trip("first"));
    CHECK(fixture.url_call_count() == 1);

    fixture.fake.disconnect(reason);
    REQUIRE(fixture.fake.wait_connections(2));
    CHECK(fixture.fake.wait_closed_by_client(1));
    CHECK(fixture.url_call_count() == 2);
    REQUIRE(fixture.round_trip("second"));
    const auto ack = fixture.fake.ack("second");
    REQUIRE(ack);
    CHECK(ack->connection == 2);
    const auto handled = fixture.handled_copy();
    REQUIRE(handled.size() == 2);
    CHECK(handled[1].payload["id"] == "second");
    CHECK(fixture.client->connections() == 2);
    CHECK(fixture.client->connected());
  }
}

namespace {

// Where `event` first appears in the fake's history, or -1.
std::ptrdiff_t position(const std::vector<std::string>& history, const std::string& event) {
  const auto found = std::find(history.begin(), history.end(), event);
  return found == history.end() ? -1 : found - history.begin();
}

}  // namespace

TEST_CASE(
    "socket mode: on a refresh the new connection says hello before the old one is closed - "
    "and the old one is served until then") {
  for (const std::string reason : {"refresh_requested", "warning"}) {
    CAPTURE(reason);
    SocketFixture fixture;
    fixture.start();
    REQUIRE(fixture.fake.wait_connections(1));
    REQUIRE(fixture.round_trip("before"));

    // The new connection opens but gets no hello until the test says so: the switch is held.
    fixture.fake.say_hello(false);
    fixture.fake.disconnect(reason);
    REQUIRE(fixture.fake.wait_connections(2));

    // Slack may still deliver on the old connection: handled, and acked where it arrived.
    fixture.fake.send_to(1, envelope("late", "events_api", {{"id", "late"}}));
    REQUIRE(fixture.fake.wait_ack("late"));
    CHECK(fixture.fake.ack("late")->connection == 1);
    CHECK(fixture.client->connected());  // still served by the old connection
    CHECK(fixture.fake.closed_by_client() == 0);

    fixture.fake.hello(2);
    REQUIRE(fixture.fake.wait_closed_by_client(1));
    const auto history = fixture.fake.history();
    INFO("history: " << json(history).dump());
    const auto open_2 = position(history, "open 2");
    const auto hello_2 = position(history, "hello 2");
    const auto close_1 = position(history, "client close 1");
    REQUIRE(open_2 >= 0);
    REQUIRE(hello_2 >= 0);
    REQUIRE(close_1 >= 0);
    CHECK(open_2 < hello_2);
    CHECK(hello_2 < close_1);
    CHECK(position(history, "client close 2") == -1);

    REQUIRE(fixture.round_trip("after"));
    CHECK(fixture.fake.ack("after")->connection == 2);
    const auto handled = fixture.handled_copy();
    REQUIRE(handled.size() == 3);
    CHECK(handled[1].payload["id"] == "late");
    CHECK(fixture.client->connections() == 2);
    CHECK(fixture.url_call_count() == 2);
  }
}

TEST_CASE("socket mode: when the new connection cannot be opened the old one serves until Slack drops it") {
  SocketFixture fixture;
  bool url_source_down = false;  // under fixture.events' lock
  fixture.url_source = [&fixture, &url_source_down]() -> std::string {
    bool down = false;
    fixture.events.update([&] { down = url_source_down; });
    if (down) throw ApiError("internal_error", true);
    return fixture.fake.url();
  };
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  REQUIRE(fixture.round_trip("before"));

  fixture.events.update([&] { url_source_down = true; });
  fixture.fake.disconnect("refresh_requested");
  // Two failed attempts at a new connection (url calls 2 and 3); the old one is still served.
  REQUIRE(fixture.events.wait_for([&] { return fixture.url_calls >= 3; }));
  REQUIRE(fixture.round_trip("still-on-the-old-one"));
  CHECK(fixture.fake.ack("still-on-the-old-one")->connection == 1);
  CHECK(fixture.client->connected());
  CHECK(fixture.fake.closed_by_client() == 0);

  // Slack drops the old connection; once the URL source recovers, a new connection follows.
  fixture.fake.drop();
  fixture.events.update([&] { url_source_down = false; });
  REQUIRE(fixture.fake.wait_connections(2));
  REQUIRE(fixture.round_trip("after"));
  CHECK(fixture.fake.ack("after")->connection == 2);
  CHECK(fixture.client->connections() == 2);
  CHECK(fixture.fake.closed_by_client() == 0);  // the old one was dropped, never closed by us
}

TEST_CASE("socket mode: stop() during a switch returns and closes the old connection politely") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  REQUIRE(fixture.round_trip("before"));
  fixture.fake.say_hello(false);  // holds the switch: the old connection stays in service
  fixture.fake.disconnect("refresh_requested");
  REQUIRE(fixture.fake.wait_connections(2));

  // The new connection may still be in its websocket handshake on the client's side (then it is
  // just closed); the old one is open and gets a close frame.
  auto stopped = std::async(std::launch::async, [&fixture] { fixture.client->stop(); });
  CHECK(stopped.wait_for(k_generous) == std::future_status::ready);
  CHECK(fixture.fake.wait_history("client close 1"));
  CHECK_FALSE(fixture.client->connected());
}

TEST_CASE("socket mode: disconnect link_disabled is retried with backoff") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  fixture.fake.disconnect("link_disabled");
  REQUIRE(fixture.fake.wait_connections(2));
  REQUIRE(fixture.round_trip("after-link-disabled"));
  CHECK(fixture.fake.ack("after-link-disabled")->connection == 2);
}

TEST_CASE("socket mode: an abrupt drop is followed by a reconnect with backoff - and events flow again") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  REQUIRE(fixture.round_trip("before-drop"));

  fixture.fake.drop();
  REQUIRE(fixture.fake.wait_connections(2));
  REQUIRE(fixture.round_trip("after-drop"));
  CHECK(fixture.fake.ack("after-drop")->connection == 2);
  CHECK(fixture.client->connections() == 2);
  CHECK(fixture.url_call_count() == 2);
  CHECK(fixture.fake.closed_by_client() == 0);  // the first connection was dropped, not closed
}

TEST_CASE("socket mode: a connection whose pings go unanswered is dropped and replaced") {
  SocketFixture fixture;
  auto options = SocketFixture::options();
  // Long enough that a healthy connection is not given up on when a loaded (sanitizer) run stalls
  // a thread for a moment: the client gives up after two intervals of silence.
  options.ping_interval = std::chrono::milliseconds(1000);
  fixture.start(options);
  REQUIRE(fixture.fake.wait_connections(1));
  fixture.fake.stop_reading_after_next_frame();
  REQUIRE(fixture.round_trip("last-heard"));
  // From now on the first connection answers nothing, not even pings; the client gives up on it
  // after two intervals and reconnects.
  REQUIRE(fixture.fake.wait_connections(2));
  REQUIRE(fixture.round_trip("on-the-new-connection"));
  CHECK(fixture.fake.ack("on-the-new-connection")->connection == 2);
  CHECK(fixture.client->connections() == 2);
}

TEST_CASE("socket mode: a connection on which no hello arrives is replaced and never counts as connected") {
  SocketFixture fixture;
  fixture.fake.say_hello(false);
  auto options = SocketFixture::options();
  options.handshake_timeout = std::chrono::milliseconds(300);
  fixture.start(options);
  REQUIRE(fixture.fake.wait_connections(3));
  CHECK_FALSE(fixture.client->connected());
  CHECK(fixture.client->connections() == 0);
  CHECK(fixture.url_call_count() >= 3);
}

TEST_CASE("socket mode: a permanent URL-source error is logged and retried - not fatal") {
  SocketFixture fixture;
  fixture.url_source = [&fixture]() -> std::string {
    // Called with the fixture's lock released.
    if (fixture.url_call_count() < 3) throw ApiError("invalid_auth", false);
    return fixture.fake.url();
  };
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  REQUIRE(fixture.round_trip("after-invalid-auth"));
  CHECK(fixture.url_call_count() == 3);
  CHECK(fixture.client->connections() == 1);
}

TEST_CASE("socket mode: stop() closes the connection politely and is idempotent") {
  SocketFixture fixture;
  fixture.start();
  REQUIRE(fixture.fake.wait_connections(1));
  REQUIRE(fixture.round_trip("e1"));
  fixture.client->stop();
  CHECK(fixture.fake.wait_closed_by_client(1));
  CHECK_FALSE(fixture.client->connected());
  fixture.client->stop();
  CHECK(fixture.fake.connections() == 1);
}

TEST_CASE("socket mode: a server certificate from another CA is never trusted - and stop() still returns") {
  SocketFixture fixture(test_pki().wrong_ca_server);
  fixture.start();
  // Several attempts, each rejected in the TLS handshake, each after a fresh URL.
  REQUIRE(fixture.fake.wait_accepted(3));
  CHECK(fixture.url_call_count() >= 3);
  CHECK(fixture.fake.connections() == 0);
  CHECK_FALSE(fixture.client->connected());
  CHECK(fixture.client->connections() == 0);
  CHECK(fixture.handled_count() == 0);

  // stop() interrupts the backoff wait or the handshake in progress.
  auto stopped = std::async(std::launch::async, [&fixture] { fixture.client->stop(); });
  CHECK(stopped.wait_for(k_generous) == std::future_status::ready);
}

TEST_CASE("socket mode: construction rejects missing callbacks and an unreadable CA file") {
  const auto handler = [](const std::string&, const json&) -> std::optional<json> { return std::nullopt; };
  CHECK_THROWS_AS(SocketModeClient(SocketFixture::options(), {}, handler), std::invalid_argument);
  CHECK_THROWS_AS(SocketModeClient(SocketFixture::options(), [] { return std::string(); }, {}), std::invalid_argument);
  auto options = SocketFixture::options();
  options.ca_file = "/nonexistent/roundup-ca.pem";
  CHECK_THROWS_AS(SocketModeClient(
                      options, [] { return std::string(); }, handler),
                  std::runtime_error);
}

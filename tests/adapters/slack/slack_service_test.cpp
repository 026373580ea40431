// The real service (HTTP routes, inbox, outbox, Slack adapter) against a fake Slack Web API on
// 127.0.0.1 over TLS with a test-generated CA.

#include <doctest/doctest.h>

#include <algorithm>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/model/answering.h"
#include "adapters/service/service.h"
#include "adapters/slack/signature.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/fake_model.h"
#include "tests/support/fake_socket_mode.h"
#include "tests/support/log_watch.h"
#include "tests/support/metrics_text.h"
#include "tests/support/platform_config.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/support/webhook_rig.h"

namespace {

using nlohmann::json;
using roundup::adapters::http::ClientRequest;
using roundup::adapters::http::ClientResponse;
using roundup::adapters::http::HttpsClient;
using roundup::testing::FakeApi;
using roundup::testing::slack_of;

constexpr const char* k_secret = roundup::testing::k_rig_slack_secret;
constexpr std::int64_t k_now = roundup::testing::k_rig_now;

// A running service with Slack in events mode, talking to a fake Slack.
struct SlackFixture {
  roundup::testing::TempDir data;
  FakeApi slack;
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;
  HttpsClient client{{}};
  int delivery_attempts = 0;  // under slack.signal

  SlackFixture() { roundup::testing::serve_platform_api(slack, "slack"); }

  void start(const std::function<void(roundup::config::Config&)>& adjust = {},
             roundup::adapters::service::ServiceHooks extra = {},
             std::shared_ptr<roundup::bot::Knowledge> knowledge = roundup::testing::bundled_knowledge()) {
    auto config = roundup::testing::webhook_config(data.path(), "slack", slack);
    if (adjust) adjust(config);
    roundup::adapters::service::ServiceHooks hooks = std::move(extra);
    hooks.unix_seconds = [] { return k_now; };
    hooks.tls_ca_only = true;
    hooks.on_delivery_attempt = [this] { slack.signal.update([this] { ++delivery_attempts; }); };
    service = std::make_unique<roundup::adapters::service::Service>(config, std::move(knowledge), hooks);
    port = service->start();
  }

  ClientResponse post(const std::string& path, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers,
                      const std::string& content_type = "application/json") {
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    request.body = body;
    request.headers = std::move(headers);
    request.headers.emplace_back("Content-Type", content_type);
    return client.send(request);
  }

  ClientResponse post_signed(const std::string& path, const std::string& body, std::int64_t timestamp = k_now,
                             std::vector<std::pair<std::string, std::string>> extra = {},
                             const std::string& content_type = "application/json") {
    const std::string ts = std::to_string(timestamp);
    extra.emplace_back("X-Slack-Request-Timestamp", ts);
    extra.emplace_back("X-Slack-Signature", roundup::adapters::slack::compute_signature(k_secret, ts, body));
    return post(path, body, std::move(extra), content_type);
  }

  // A signed `/roundup <text>` from `user`, answered on the fake's /commands/respond.
  ClientResponse command(const std::string& text, const std::string& user, const std::string& trigger_id) {
    return post_signed("/slack/commands", roundup::testing::slash_command_form(slack.base(), text, user, trigger_id),
                       k_now, {}, "application/x-www-form-urlencoded");
  }

  ClientResponse get(const std::string& path, unsigned short on_port = 0) {
    ClientRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(on_port != 0 ? on_port : port) + path;
    return client.send(request);
  }

  // Waits until the service has seen the outcome of `count` delivery attempts in all: its metrics
  // and readiness reflect them then (the hook runs after both). settled() alone can return between
  // a delivery's commit and that bookkeeping.
  bool attempts_seen(int count) {
    return slack.signal.wait_for([&] { return delivery_attempts >= count; });
  }

  // Waits until everything accepted has been answered and delivered (or given up).
  bool settled() {
    return slack.signal.wait_for(
        [&] { return service->store().pending_inbound(1).empty() && service->store().outbox_backlog() == 0; });
  }
};

using roundup::testing::mention_event;

std::string thread_message(const std::string& event_id, const std::string& ts, const std::string& thread_ts,
                           const std::string& text) {
  return json{{"type", "event_callback"},
              {"event_id", event_id},
              {"event",
               {{"type", "message"},
                {"channel_type", "channel"},
                {"user", "U1"},
                {"channel", "C1"},
                {"ts", ts},
                {"thread_ts", thread_ts},
                {"text", text}}}}
      .dump();
}

// A DM from U1 in D1: at the top of the DM without `thread_ts`, else in that thread.
std::string dm_message(const std::string& event_id, const std::string& ts, const std::string& thread_ts,
                       const std::string& text) {
  json event = {{"type", "message"}, {"channel_type", "im"}, {"user", "U1"}, {"channel", "D1"},
                {"ts", ts},          {"text", text}};
  if (!thread_ts.empty()) event["thread_ts"] = thread_ts;
  return json{{"type", "event_callback"}, {"event_id", event_id}, {"event", std::move(event)}}.dump();
}

std::string callback(const std::string& event_id, json event) {
  return json{{"type", "event_callback"}, {"event_id", event_id}, {"event", std::move(event)}}.dump();
}

// The legacy pane's assistant_thread_started (or `type`) for U1's thread `thread_ts` in D1.
json assistant_thread_event(const std::string& thread_ts, const std::string& type = "assistant_thread_started") {
  return {{"type", type},
          {"assistant_thread",
           {{"user_id", "U1"}, {"context", {{"channel_id", "C1"}}}, {"channel_id", "D1"}, {"thread_ts", thread_ts}}},
          {"event_ts", "1700000009.000900"}};
}

constexpr const char* k_prompts = "/api/assistant.threads.setSuggestedPrompts";
constexpr const char* k_status = "/api/assistant.threads.setStatus";
constexpr const char* k_title = "/api/assistant.threads.setTitle";
constexpr const char* k_post = "/api/chat.postMessage";

// Four prompts, each a title and a message.
void check_prompts(const json& body) {
  REQUIRE(body["prompts"].is_array());
  CHECK(body["prompts"].size() == 4);
  for (const auto& prompt : body["prompts"]) {
    CHECK_FALSE(prompt.value("title", std::string()).empty());
    CHECK_FALSE(prompt.value("message", std::string()).empty());
  }
}

// Knowledge whose answers wait until the test opens the gate: what the service does before the
// answer exists (acks, decisions about follow-ups) happens while it is closed.
struct GatedKnowledge {
  roundup::testing::Signal signal;
  bool open = false;
  int waiting = 0;  // answers blocked at the gate
  std::shared_ptr<roundup::bot::Knowledge> knowledge;

  explicit GatedKnowledge(const std::function<roundup::bot::Answer(std::string_view)>& answer) {
    knowledge = std::make_shared<roundup::testing::ScriptedKnowledge>([this, answer](std::string_view input) {
      signal.update([&] { ++waiting; });
      signal.wait_for([&] { return open; }, std::chrono::seconds(60));
      return answer(input);
    });
  }
  void release() {
    signal.update([&] { open = true; });
  }
};

roundup::bot::Answer text_answer(std::string_view input) {
  roundup::bot::Answer answer;
  answer.kind = roundup::bot::Answer::Kind::notice;
  answer.lines = {"answer to: " + std::string(input)};
  return answer;
}

}  // namespace

TEST_CASE(
    "slack service: a signed app_mention gets one threaded reply citing the right paper - however often it is "
    "delivered" *
    doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  REQUIRE(f.slack.requests("/api/auth.test").size() == 1);
  CHECK(f.slack.requests("/api/auth.test")[0].request.headers.at("authorization") == "Bearer xoxb-test-token");

  const std::string body =
      mention_event("Ev1", "<@UBOT> which paper showed smaller models trained on more tokens beat bigger ones?");
  const auto first = f.post_signed("/slack/events", body);
  CHECK(first.status == 200);
  // Slack's retries of the same event (same event_id).
  for (int retry = 1; retry <= 3; ++retry) {
    CHECK(f.post_signed("/slack/events", body, k_now,
                        {{"X-Slack-Retry-Num", std::to_string(retry)}, {"X-Slack-Retry-Reason", "http_timeout"}})
              .status == 200);
  }
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests("/api/chat.postMessage");
  REQUIRE(posts.size() == 1);
  const json message = json::parse(posts[0].request.body);
  CHECK(posts[0].request.headers.at("authorization") == "Bearer xoxb-test-token");
  CHECK(message["channel"] == "C1");
  CHECK(message["thread_ts"] == "1700000000.000100");
  CHECK(message["unfurl_links"] == false);
  CHECK(message["text"].get<std::string>().find("Training Compute-Optimal Large Language Models") != std::string::npos);
  CHECK(message["blocks"].dump().find("arxiv.org/abs/2203.15556") != std::string::npos);

  // A follow-up in the same thread needs no mention.
  const std::string follow_up = json{{"type", "event_callback"},
                                     {"event_id", "Ev2"},
                                     {"event",
                                      {{"type", "message"},
                                       {"channel_type", "channel"},
                                       {"user", "U1"},
                                       {"channel", "C1"},
                                       {"ts", "1700000001.000200"},
                                       {"thread_ts", "1700000000.000100"},
                                       {"text", "what was in the February 2023 roundup?"}}}}
                                    .dump();
  CHECK(f.post_signed("/slack/events", follow_up).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  CHECK(json::parse(f.slack.requests("/api/chat.postMessage")[1].request.body)["thread_ts"] == "1700000000.000100");

  // The thread remembers the list it was shown: "the first one" is its first paper.
  json ordinal = json::parse(follow_up);
  ordinal["event_id"] = "Ev3";
  ordinal["event"]["ts"] = "1700000002.000300";
  ordinal["event"]["text"] = "who wrote the first one?";
  CHECK(f.post_signed("/slack/events", ordinal.dump()).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 3));
  const std::string listed = json::parse(f.slack.requests("/api/chat.postMessage")[1].request.body).dump();
  const std::string reply = json::parse(f.slack.requests("/api/chat.postMessage")[2].request.body)["text"];
  CHECK(reply.find("Authors:") != std::string::npos);
  CHECK(listed.find("MusicLM") < listed.find("Watermark"));  // MusicLM listed first
  CHECK(reply.find("MusicLM") != std::string::npos);
}

TEST_CASE("slack service: with a language model a channel question wears a reaction while its answer is written" *
          doctest::timeout(120)) {
  FakeApi model_server;
  model_server.on("/v1/chat/completions", [](const roundup::adapters::http::Request&) {
    return FakeApi::json_reply(roundup::testing::chat_completion("<!channel> Chinchilla [1]."));
  });
  SlackFixture f;
  roundup::telemetry::Registry registry;
  roundup::config::LlmConfig llm{model_server.base(), "test-model", {}, 5000, 256, 0.2};
  auto model_config = roundup::testing::bundled_config(f.data.path());
  model_config.tls.ca_file = roundup::testing::test_pki().ca_file;
  model_config.llm = llm;
  f.start([&](roundup::config::Config& config) { config.llm = llm; }, {},
          roundup::adapters::model::with_language_model(roundup::testing::bundled_knowledge(), model_config, registry));

  CHECK(f.post_signed("/slack/events",
                      mention_event("Ev1",
                                    "<@UBOT> which paper showed smaller models trained on more tokens beat "
                                    "bigger ones?"))
            .status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.slack.wait_for("/api/reactions.remove", 1));
  const auto added = f.slack.requests("/api/reactions.add");
  REQUIRE(added.size() == 1);
  const json reaction = json::parse(added[0].request.body);
  CHECK(reaction["channel"] == "C1");
  CHECK(reaction["timestamp"] == "1700000000.000100");
  CHECK(reaction["name"] == "eyes");
  // Added before it is taken off (side calls run in order).
  const auto paths = f.slack.paths();
  CHECK(std::find(paths.begin(), paths.end(), "/api/reactions.add") <
        std::find(paths.begin(), paths.end(), "/api/reactions.remove"));
  // The model's text is escaped: no channel-wide ping; its marker links the paper.
  const std::string blocks = json::parse(f.slack.requests("/api/chat.postMessage")[0].request.body)["blocks"].dump();
  CHECK(blocks.find("<!channel>") == std::string::npos);
  CHECK(blocks.find("<https://arxiv.org/abs/2203.15556") != std::string::npos);
}

TEST_CASE("slack service: url_verification answers the challenge") {
  SlackFixture f;
  f.start();
  const auto response = f.post_signed(
      "/slack/events",
      R"({"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})");
  CHECK(response.status == 200);
  CHECK(response.body == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

TEST_CASE("slack service: unauthenticated - malformed and oversized requests are rejected and nothing is sent" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const std::string body = mention_event("EvBad", "<@UBOT> what is Chinchilla?");
  // Wrong signature.
  auto response = f.post("/slack/events", body,
                         {{"X-Slack-Request-Timestamp", std::to_string(k_now)},
                          {"X-Slack-Signature",
                           roundup::adapters::slack::compute_signature("wrong-secret", std::to_string(k_now), body)}});
  CHECK(response.status == 401);
  CHECK(response.body.empty());
  // Stale timestamp (signed correctly, 6 minutes old).
  CHECK(f.post_signed("/slack/events", body, k_now - 360).status == 401);
  // Missing headers.
  CHECK(f.post("/slack/events", body, {}).status == 401);
  // Signed, but not JSON.
  CHECK(f.post_signed("/slack/events", "{not json").status == 400);
  // Over the 1 MiB body limit.
  CHECK(f.post_signed("/slack/events", std::string(1 << 21, 'x')).status == 413);
  // Signed body of a different request (replayed signature on another body).
  response = f.post(
      "/slack/events", mention_event("EvOther", "hi"),
      {{"X-Slack-Request-Timestamp", std::to_string(k_now)},
       {"X-Slack-Signature", roundup::adapters::slack::compute_signature(k_secret, std::to_string(k_now), body)}});
  CHECK(response.status == 401);

  // Still healthy, and a good event after all that is answered once.
  ClientRequest health;
  health.method = "GET";
  health.url = "http://127.0.0.1:" + std::to_string(f.port) + "/healthz";
  CHECK(f.client.send(health).status == 200);
  // The webhook routes take only POST.
  CHECK(f.get("/slack/commands").status == 405);
  CHECK(f.get("/slack/events").status == 405);
  CHECK(f.post_signed("/slack/events", mention_event("EvGood", "<@UBOT> what is Chinchilla?")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  CHECK(f.slack.requests("/api/chat.postMessage").size() == 1);
}

TEST_CASE("slack service: a 429 with Retry-After is obeyed and the reply arrives once - after the wait" *
          doctest::timeout(120)) {
  SlackFixture f;
  auto limited = FakeApi::json_reply(R"({"ok":false,"error":"ratelimited"})", 429);
  limited.headers.emplace_back("Retry-After", "1");
  f.slack.script("/api/chat.postMessage", limited);
  f.start();
  CHECK(f.post_signed("/slack/events", mention_event("Ev429", "<@UBOT> what is Chinchilla?")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests("/api/chat.postMessage");
  REQUIRE(posts.size() == 2);  // the limited attempt and the delivered one
  CHECK(posts[1].at - posts[0].at >= std::chrono::milliseconds(1000));
  CHECK(posts[0].request.body == posts[1].request.body);
}

TEST_CASE("slack service: a 500 then success delivers the reply once" * doctest::timeout(120)) {
  SlackFixture f;
  f.slack.script("/api/chat.postMessage", FakeApi::json_reply("upstream broke", 500));
  f.start();
  CHECK(f.post_signed("/slack/events", mention_event("Ev500", "<@UBOT> what is Chinchilla?")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  REQUIRE(f.settled());
  CHECK(f.slack.requests("/api/chat.postMessage").size() == 2);
  CHECK(f.service->store().outbox_state("slack:event:Ev500#0") == "delivered");
}

TEST_CASE("slack service: a permanent Slack error is not retried") {
  SlackFixture f;
  f.slack.script("/api/chat.postMessage", FakeApi::json_reply(R"({"ok":false,"error":"channel_not_found"})"));
  f.start();
  CHECK(f.post_signed("/slack/events", mention_event("EvGone", "<@UBOT> what is Chinchilla?")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  CHECK(f.slack.requests("/api/chat.postMessage").size() == 1);
  CHECK(f.service->store().outbox_state("slack:event:EvGone#0") == "failed");
}

TEST_CASE("slack service: a slash command is acked at once and answered on response_url - in the channel" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const auto ack = f.command("search+Chinchilla", "U1", "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
  CHECK(ack.status == 200);
  const json ack_body = json::parse(ack.body);
  CHECK(ack_body["response_type"] == "ephemeral");
  REQUIRE(f.slack.wait_for("/commands/respond", 1));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests("/commands/respond");
  REQUIRE(posts.size() == 1);
  const json answer = json::parse(posts[0].request.body);
  CHECK(answer["response_type"] == "in_channel");
  CHECK(answer["text"].get<std::string>().find("Compute-Optimal") != std::string::npos);
  CHECK(f.slack.requests("/api/chat.postMessage").empty());

  // A response_url on a host that is not Slack's is refused, nothing is posted there.
  const std::string evil =
      "token=x&channel_id=C9&user_id=U1&command=%2Froundup&text=help&trigger_id=t2&"
      "response_url=https%3A%2F%2Fevil.example%2Fx";
  const auto refused = f.post_signed("/slack/commands", evil, k_now, {}, "application/x-www-form-urlencoded");
  CHECK(refused.status == 200);
  CHECK(json::parse(refused.body)["text"].get<std::string>().find("could not") != std::string::npos);

  // A signed body that is no form (a bad escape) gets a 400: its fields are never guessed at.
  const auto malformed = f.post_signed("/slack/commands", "command=%2Froundup&text=help&trigger_id=t3&response_url=%zz",
                                       k_now, {}, "application/x-www-form-urlencoded");
  CHECK(malformed.status == 400);
  CHECK(f.slack.requests("/commands/respond").size() == 1);
}

TEST_CASE("slack service: a configuration that cannot run is refused before start") {
  auto config = roundup::config::default_config(roundup::testing::platform_sections());
  slack_of(config).enabled = true;
  CHECK_THROWS_AS(roundup::adapters::service::Service(config, roundup::testing::bundled_knowledge()),
                  roundup::config::ConfigError);
}

TEST_CASE(
    "slack service - Socket Mode: hello - event - ack - reply - forced disconnect - reconnect - next event answered" *
    doctest::timeout(120)) {
  roundup::testing::FakeSocketMode socket;
  SlackFixture f;
  f.slack.on("/api/apps.connections.open", [&socket](const auto& request) {
    // The app-level token, not the bot token, opens connections.
    if (request.headers.at("authorization") != "Bearer xapp-test-token") {
      return FakeApi::json_reply(R"({"ok":false,"error":"invalid_auth"})");
    }
    return FakeApi::json_reply(json{{"ok", true}, {"url", socket.url()}}.dump());
  });
  auto config = roundup::testing::bundled_config(f.data.path());
  config.listen = "127.0.0.1:0";
  config.tls.ca_file = roundup::testing::test_pki().ca_file;
  slack_of(config).enabled = true;
  slack_of(config).mode = "socket";
  slack_of(config).app_token.value = "xapp-test-token";
  slack_of(config).bot_token.value = "xoxb-test-token";
  slack_of(config).api_base = f.slack.base() + "/api";
  roundup::adapters::service::ServiceHooks hooks;
  hooks.tls_ca_only = true;
  hooks.socket_min_backoff = std::chrono::milliseconds(20);
  hooks.on_delivery_attempt = [&f] { f.slack.signal.notify(); };
  f.service =
      std::make_unique<roundup::adapters::service::Service>(config, roundup::testing::bundled_knowledge(), hooks);
  f.port = f.service->start();
  REQUIRE(socket.wait_connections(1));
  // In Socket Mode nothing comes over the HTTP webhook routes: they do not exist.
  CHECK(f.get("/slack/events").status == 404);
  CHECK(f.post_signed("/slack/commands", "command=%2Froundup&text=help").status == 404);

  const auto envelope = [](const std::string& id, const std::string& event_id, const std::string& text) {
    return json{{"envelope_id", id},
                {"type", "events_api"},
                {"accepts_response_payload", false},
                {"payload", json::parse(mention_event(event_id, text))}};
  };
  socket.send(
      envelope("env-1", "EvS1", "<@UBOT> which paper showed smaller models trained on more tokens beat bigger ones?"));
  REQUIRE(socket.wait_ack("env-1"));
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  CHECK(json::parse(f.slack.requests("/api/chat.postMessage")[0].request.body)["text"].get<std::string>().find(
            "Training Compute-Optimal") != std::string::npos);

  // Slack redelivers the same event on the same socket: acked again, answered once.
  socket.send(
      envelope("env-1b", "EvS1", "<@UBOT> which paper showed smaller models trained on more tokens beat bigger ones?"));
  REQUIRE(socket.wait_ack("env-1b"));

  socket.disconnect("refresh_requested");
  REQUIRE(socket.wait_connections(2));
  CHECK(f.slack.requests("/api/apps.connections.open").size() >= 2);  // a fresh URL per connection
  socket.send(envelope("env-2", "EvS2", "<@UBOT> what is PaLM?"));
  REQUIRE(socket.wait_ack("env-2"));
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));

  // An abrupt drop: reconnected with backoff, the next event is answered.
  socket.drop();
  REQUIRE(socket.wait_connections(3));
  socket.send(envelope("env-3", "EvS3", "<@UBOT> what was in the February 2023 roundup?"));
  REQUIRE(socket.wait_ack("env-3"));
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 3));
  REQUIRE(f.settled());
  CHECK(f.slack.requests("/api/chat.postMessage").size() == 3);
}

TEST_CASE("slack service: admin commands over /roundup - anyone else is refused and audited" * doctest::timeout(120)) {
  SlackFixture f;
  f.start([](roundup::config::Config& config) { config.admins = {"slack:UADMIN"}; });

  CHECK(f.command("reindex", "UOTHER", "t-refused").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 1));
  REQUIRE(f.settled());
  const json refusal = json::parse(f.slack.requests("/commands/respond")[0].request.body);
  CHECK(refusal.dump().find("for the bot's admins") != std::string::npos);
  const auto audit = f.service->store().audit_log(10);
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].user == "UOTHER");
  CHECK(audit[0].command == "/reindex");
  CHECK_FALSE(audit[0].allowed);

  CHECK(f.command("stats", "UADMIN", "t-stats").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 2));
  REQUIRE(f.settled());
  const std::string stats = json::parse(f.slack.requests("/commands/respond")[1].request.body).dump();
  CHECK(stats.find("Roundups: 5") != std::string::npos);
  CHECK(stats.find("Outbox backlog") != std::string::npos);
  CHECK(f.service->store().audit_log(10).front().allowed);

  // /roundup subscribe is for everyone: the channel joins the digest.
  CHECK(f.command("subscribe", "UOTHER", "t-sub").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 3));
  REQUIRE(f.settled());
  CHECK(f.service->store().subscriptions() == std::vector<std::string>{"slack:C9"});
}

TEST_CASE("slack service: the daily digest goes to its channel once - at the configured local time" *
          doctest::timeout(120)) {
  SlackFixture f;
  // 09:00 in Shanghai is 01:00 UTC; the clock starts a minute before.
  auto now = std::make_shared<std::atomic<std::int64_t>>(1'763'773'140);  // 2025-11-22T00:59:00Z
  roundup::adapters::service::ServiceHooks hooks;
  hooks.wall_clock = [now] { return std::chrono::system_clock::time_point(std::chrono::seconds(now->load())); };
  f.start(
      [](roundup::config::Config& config) {
        config.digest.time = "09:00";
        config.digest.timezone = "Asia/Shanghai";
        config.digest.channels = {"slack:CDIGEST"};
        config.digest.papers_per_post = 2;
      },
      hooks);
  CHECK(f.service->run_due_digests() == 0);
  CHECK_FALSE(f.service->store().last_digest_date("slack:CDIGEST"));

  *now += 60;                    // 09:00 local
  f.service->run_due_digests();  // the scheduler's own thread may have got there first
  f.service->run_due_digests();
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  CHECK(f.service->store().last_digest_date("slack:CDIGEST") == "2025-11-22");
  const auto posts = f.slack.requests("/api/chat.postMessage");
  REQUIRE(posts.size() == 1);
  const json digest = json::parse(posts[0].request.body);
  CHECK(digest["channel"] == "CDIGEST");
  CHECK_FALSE(digest.contains("thread_ts"));
  CHECK(digest["text"].get<std::string>().find("Daily digest") != std::string::npos);
  CHECK(f.service->store().digested_papers("slack:CDIGEST").size() == 2);
}

TEST_CASE("slack service: /metrics parses as Prometheus text and its counters move with traffic" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start([](roundup::config::Config& config) { config.metrics_listen = "127.0.0.1:0"; });
  const auto series_value = roundup::testing::sample_number;
  const std::string events_ok = R"(roundup_http_requests_total{route="/slack/events",status="200"})";
  const std::string sent = R"(roundup_messages_sent_total{platform="slack"})";
  REQUIRE(f.service->metrics_port() != 0);
  const unsigned short internal = f.service->metrics_port();
  const auto before = f.get("/metrics", internal);
  REQUIRE(before.status == 200);
  const double events_before = series_value(before.body, events_ok);
  const double sent_before = series_value(before.body, sent);

  CHECK(f.post_signed("/slack/events", mention_event("EvM1", "<@UBOT> Chinchilla")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  REQUIRE(f.attempts_seen(1));
  const auto after = f.get("/metrics", internal);
  REQUIRE(after.status == 200);
  CHECK(series_value(after.body, events_ok) == events_before + 1);
  CHECK(series_value(after.body, sent) == sent_before + 1);
  CHECK(after.body.find("roundup_answer_seconds_count") != std::string::npos);
  CHECK(after.body.find("roundup_outbox_backlog 0") != std::string::npos);

  // A real Prometheus text-format parser (npm) reads the live endpoint.
  const std::string url = "http://127.0.0.1:" + std::to_string(internal) + "/metrics";
  const auto check =
      roundup::testing::run_process({"node", std::string(ROUNDUP_SOURCE_DIR) + "/scripts/check-metrics.mjs", "--expect",
                                     "roundup_http_requests_total", "--expect", "roundup_retrieval_seconds", url},
                                    ROUNDUP_SOURCE_DIR);
  INFO(check.err);
  CHECK(check.exit_code == 0);

  const auto ready = f.get("/readyz", internal);
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");

  // The webhook listener keeps only /healthz once metrics_listen is set; the internal one serves
  // nothing but the operational routes.
  CHECK(f.get("/healthz").status == 200);
  CHECK(f.get("/metrics").status == 404);
  CHECK(f.get("/readyz").status == 404);
  ClientRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(internal) + "/slack/events";
  CHECK(f.client.send(request).status == 404);
}

TEST_CASE("slack service: a revoked bot token makes /readyz not ready until a delivery succeeds again" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  f.slack.script("/api/chat.postMessage", FakeApi::json_reply(R"({"ok":false,"error":"invalid_auth"})"));
  CHECK(f.post_signed("/slack/events", mention_event("EvAuth1", "<@UBOT> Chinchilla")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  REQUIRE(f.settled());
  REQUIRE(f.attempts_seen(1));
  const auto problems = f.service->readiness_problems();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "slack_auth");
  const auto not_ready = f.get("/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body == "not ready: slack_auth\n");

  // The token works again (fixed, or the app reinstalled): the next delivery clears it.
  CHECK(f.post_signed("/slack/events", mention_event("EvAuth2", "<@UBOT> Chinchilla")).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  REQUIRE(f.settled());
  REQUIRE(f.attempts_seen(2));
  CHECK(f.service->readiness_problems().empty());
  CHECK(f.get("/readyz").status == 200);
}

TEST_CASE("slack service: a slash command is acked before its answer exists - with the user's text escaped" *
          doctest::timeout(120)) {
  GatedKnowledge gate(text_answer);
  SlackFixture f;
  f.start({}, {}, gate.knowledge);
  // "who <!channel> & co?", form-encoded as Slack sends it.
  const auto ack = f.command("who+%3C%21channel%3E+%26+co%3F", "U1", "t-gate");
  REQUIRE(ack.status == 200);
  const json ack_body = json::parse(ack.body);
  CHECK(ack_body["response_type"] == "ephemeral");
  CHECK(ack_body["text"] == "Searching the roundups for: who &lt;!channel&gt; &amp; co?");
  // The ack came back while the answer is still held at the gate.
  CHECK(gate.signal.wait_for([&] { return gate.waiting == 1; }));
  CHECK(f.slack.requests("/commands/respond").empty());

  gate.release();
  REQUIRE(f.slack.wait_for("/commands/respond", 1));
  REQUIRE(f.settled());
  const json answer = json::parse(f.slack.requests("/commands/respond")[0].request.body);
  CHECK(answer["response_type"] == "in_channel");
  CHECK(answer["text"].get<std::string>().find("answer to: who &lt;!channel&gt; &amp; co?") != std::string::npos);
}

TEST_CASE("slack service: /roundup help - papers for a month and a plain question are answered on response_url" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  REQUIRE(f.command("help", "U1", "t-help").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 1));
  REQUIRE(f.command("papers+2022-04", "U1", "t-papers").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 2));
  REQUIRE(
      f.command("which+paper+showed+smaller+models+trained+on+more+tokens+beat+bigger+ones%3F", "U1", "t-ask").status ==
      200);
  REQUIRE(f.slack.wait_for("/commands/respond", 3));
  REQUIRE(f.settled());

  const auto posts = f.slack.requests("/commands/respond");
  REQUIRE(posts.size() == 3);
  const json help = json::parse(posts[0].request.body);
  CHECK(help["response_type"] == "ephemeral");  // help is for the asker only
  const std::string help_text = help["text"];
  CHECK(help_text.find("Roundup Bot") != std::string::npos);
  // Slack has one slash command; its subcommands are words after it.
  CHECK(help_text.find("/roundup papers [month]") != std::string::npos);
  CHECK(help_text.find("/roundup search") != std::string::npos);
  CHECK(help_text.find(" /papers") == std::string::npos);
  const json papers = json::parse(posts[1].request.body);
  CHECK(papers["response_type"] == "in_channel");
  CHECK(papers["text"].get<std::string>().find("2022-04") != std::string::npos);
  CHECK(papers["blocks"].dump().find("arxiv.org/abs/2203.15556") != std::string::npos);
  const json asked = json::parse(posts[2].request.body);
  CHECK(asked["response_type"] == "in_channel");
  CHECK(asked["text"].get<std::string>().find("Training Compute-Optimal Large Language Models") != std::string::npos);
  CHECK(f.slack.requests("/api/chat.postMessage").empty());
}

TEST_CASE("slack service: replies to one slash command stop at five posts on its response_url" *
          doctest::timeout(120)) {
  const auto long_listing = [](std::string_view) {
    roundup::bot::Answer answer;
    answer.kind = roundup::bot::Answer::Kind::listing;
    answer.heading = "Every paper";
    for (int i = 0; i < 300; ++i) {
      roundup::bot::PaperCitation paper;
      paper.paper_id = "p" + std::to_string(i);
      paper.kind = "paper";
      paper.title = "Paper number " + std::to_string(i);
      paper.url = "https://arxiv.org/abs/2301." + std::to_string(10000 + i);
      paper.summary = std::string(400, 's');
      paper.roundups = {{"r1", "AI trends, February 2023", "2023-02"}};
      answer.citations.push_back(std::move(paper));
    }
    return answer;
  };
  SlackFixture f;
  f.start({}, {}, std::make_shared<roundup::testing::ScriptedKnowledge>(long_listing));
  REQUIRE(f.command("everything", "U1", "t-long").status == 200);
  REQUIRE(f.slack.wait_for("/commands/respond", 5));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests("/commands/respond");
  REQUIRE(posts.size() == 5);
  CHECK(json::parse(posts[0].request.body)["text"].get<std::string>().find("Paper number 0") != std::string::npos);
  const json last = json::parse(posts[4].request.body);
  CHECK(last["response_type"] == "in_channel");
  CHECK(last["text"].get<std::string>().find("did not fit") != std::string::npos);
}

TEST_CASE("slack service: a follow-up in the thread is answered while the first answer is still being computed" *
          doctest::timeout(120)) {
  GatedKnowledge gate(text_answer);
  SlackFixture f;
  f.start({}, {}, gate.knowledge);
  REQUIRE(f.post_signed("/slack/events", mention_event("Ev1", "<@UBOT> first question")).status == 200);
  REQUIRE(
      f.post_signed("/slack/events", thread_message("Ev2", "1700000001.000200", "1700000000.000100", "and a follow-up"))
          .status == 200);
  // Chatter in a thread the bot has nothing to do with stays ignored.
  REQUIRE(f.post_signed("/slack/events", thread_message("Ev3", "1700000002.000300", "1600000000.000100", "lunch?"))
              .status == 200);
  // Both questions were accepted before either answer existed.
  CHECK(f.service->store().pending_inbound(10).size() == 2);

  gate.release();
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests("/api/chat.postMessage");
  REQUIRE(posts.size() == 2);
  for (const auto& post : posts) CHECK(json::parse(post.request.body)["thread_ts"] == "1700000000.000100");
}

TEST_CASE("slack service: a DM is answered in a thread under the question" * doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const std::string dm = json{
      {"type", "event_callback"},
      {"event_id", "EvDM"},
      {"event",
       {{"type", "message"},
        {"channel_type", "im"},
        {"user", "U1"},
        {"channel", "D1"},
        {"ts", "1700000005.000500"},
        {"text",
         "what is PaLM?"}}}}.dump();
  REQUIRE(f.post_signed("/slack/events", dm).status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 1));
  const json reply = json::parse(f.slack.requests("/api/chat.postMessage")[0].request.body);
  CHECK(reply["channel"] == "D1");
  CHECK(reply["thread_ts"] == "1700000005.000500");
}

TEST_CASE("slack service: tokens - the signing secret and response_url never reach the log" * doctest::timeout(120)) {
  SlackFixture f;
  roundup::testing::LogWatch log(f.slack.signal);
  struct DebugLevel {
    DebugLevel() { roundup::log::set_level(roundup::log::Level::debug); }
    ~DebugLevel() { roundup::log::set_level(roundup::log::Level::info); }
  } most_verbose;
  // The first attempt fails, so the retry path logs too.
  f.slack.script("/api/chat.postMessage", FakeApi::json_reply(R"({"ok":false,"error":"internal_error"})", 500));
  f.start();
  CHECK(f.post("/slack/events", mention_event("EvBad", "<@UBOT> hi"),
               {{"X-Slack-Request-Timestamp", std::to_string(k_now)}, {"X-Slack-Signature", "v0=00"}})
            .status == 401);
  REQUIRE(f.post_signed("/slack/events", mention_event("EvLog", "<@UBOT> what is PaLM?")).status == 200);
  REQUIRE(f.command("search+PaLM", "U1", "t-log").status == 200);
  REQUIRE(f.slack.wait_for("/api/chat.postMessage", 2));
  REQUIRE(f.slack.wait_for("/commands/respond", 1));
  REQUIRE(f.settled());
  f.service.reset();  // stopped: everything it will log is in the buffer

  const std::string text = log.text();
  CHECK(text.find("question accepted") != std::string::npos);  // the log was captured
  CHECK(text.find("command accepted") != std::string::npos);
  CHECK(text.find("rejected an unauthenticated request") != std::string::npos);
  CHECK(text.find("xoxb-test-token") == std::string::npos);
  CHECK(text.find(k_secret) == std::string::npos);
  CHECK(text.find("/commands/respond") == std::string::npos);  // a response_url is a bearer capability
}

TEST_CASE("slack service - agent messages tab: opening it sets suggested prompts for the DM without a thread_ts" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const auto opened = [](const std::string& channel, const std::string& tab) {
    return json{{"type", "app_home_opened"}, {"user", "U1"}, {"channel", channel}, {"tab", tab}};
  };
  REQUIRE(f.post_signed("/slack/events", callback("EvOpen1", opened("D1", "messages"))).status == 200);
  REQUIRE(f.slack.wait_for(k_prompts, 1));
  const auto first = f.slack.requests(k_prompts);
  REQUIRE(first.size() == 1);
  CHECK(first[0].request.headers.at("authorization") == "Bearer xoxb-test-token");
  const json body = json::parse(first[0].request.body);
  CHECK(body["channel_id"] == "D1");
  CHECK_FALSE(body.contains("thread_ts"));  // set for an agent app, Slack drops the call
  CHECK_FALSE(body.value("title", std::string()).empty());
  check_prompts(body);

  // The Home tab is not the conversation: nothing. The next opening is the second call, so the
  // Home tab made none (the calls are made in the order the events came).
  REQUIRE(f.post_signed("/slack/events", callback("EvOpen2", opened("D1", "home"))).status == 200);
  REQUIRE(f.post_signed("/slack/events", callback("EvOpen3", opened("D2", "messages"))).status == 200);
  REQUIRE(f.slack.wait_for(k_prompts, 2));
  const auto both = f.slack.requests(k_prompts);
  REQUIRE(both.size() == 2);
  CHECK(json::parse(both[1].request.body)["channel_id"] == "D2");
  REQUIRE(f.settled());
  CHECK(f.slack.requests(k_post).empty());  // prompts only, no message
}

TEST_CASE("slack service - legacy assistant pane: a new thread gets prompts in it and one greeting" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const std::string thread = "1700000010.001000";
  const std::string started = callback("EvStart", assistant_thread_event(thread));
  REQUIRE(f.post_signed("/slack/events", started).status == 200);
  REQUIRE(f.post_signed("/slack/events", started, k_now, {{"X-Slack-Retry-Num", "1"}}).status == 200);  // a retry
  REQUIRE(f.slack.wait_for(k_prompts, 1));
  const json prompts = json::parse(f.slack.requests(k_prompts)[0].request.body);
  CHECK(prompts["channel_id"] == "D1");
  CHECK(prompts["thread_ts"] == thread);
  check_prompts(prompts);

  // A context change is acked and changes nothing; Slack's edit of the thread root is noise.
  REQUIRE(f.post_signed("/slack/events",
                        callback("EvCtx", assistant_thread_event(thread, "assistant_thread_context_changed")))
              .status == 200);
  const json retitled = {{"type", "message"},
                         {"subtype", "message_changed"},
                         {"channel", "D1"},
                         {"channel_type", "im"},
                         {"message", {{"subtype", "assistant_app_thread"}, {"ts", thread}}}};
  REQUIRE(f.post_signed("/slack/events", callback("EvEdit", retitled)).status == 200);

  REQUIRE(f.slack.wait_for(k_post, 1));
  REQUIRE(f.settled());
  const auto posts = f.slack.requests(k_post);
  REQUIRE(posts.size() == 1);  // one greeting, though the event came twice
  const json greeting = json::parse(posts[0].request.body);
  CHECK(greeting["channel"] == "D1");
  CHECK(greeting["thread_ts"] == thread);
  CHECK(greeting["text"].get<std::string>().find("roundups") != std::string::npos);
  CHECK(f.slack.requests(k_status).empty());
  CHECK(f.slack.requests(k_title).empty());

  // The user's first question in the thread: status, the thread's title, then the answer there.
  REQUIRE(f.post_signed("/slack/events", dm_message("EvQ", "1700000011.001100", thread, "what is PaLM?")).status ==
          200);
  REQUIRE(f.slack.wait_for(k_post, 2));
  REQUIRE(f.settled());
  const auto titles = f.slack.requests(k_title);
  REQUIRE(titles.size() == 1);
  CHECK(json::parse(titles[0].request.body)["thread_ts"] == thread);
  CHECK(json::parse(f.slack.requests(k_post)[1].request.body)["thread_ts"] == thread);
}

TEST_CASE("slack service - AI surface: malformed pane events are acked and dropped - the service keeps answering" *
          doctest::timeout(120)) {
  SlackFixture f;
  roundup::testing::LogWatch log(f.slack.signal);
  f.start();
  json no_thread_ts = assistant_thread_event("1700000010.001000");
  no_thread_ts["assistant_thread"].erase("thread_ts");
  json thread_not_object = assistant_thread_event("1700000010.001000");
  thread_not_object["assistant_thread"] = "D1";
  json no_thread = assistant_thread_event("1700000010.001000");
  no_thread.erase("assistant_thread");
  json bad_channel = assistant_thread_event("1700000010.001000");
  bad_channel["assistant_thread"]["channel_id"] = std::string(5000, 'x');
  const std::vector<json> broken = {no_thread_ts,
                                    thread_not_object,
                                    no_thread,
                                    bad_channel,
                                    {{"type", "app_home_opened"}, {"tab", "messages"}, {"channel", "D1"}},
                                    {{"type", "app_home_opened"}, {"tab", "messages"}, {"user", "U1"}},
                                    {{"type", "assistant_thread_context_changed"}}};
  int n = 0;
  for (const json& event : broken) {
    INFO(event.dump());
    CHECK(f.post_signed("/slack/events", callback("EvBroken" + std::to_string(++n), event)).status == 200);
  }
  // Still answering; and the broken events made no call and recorded nothing.
  REQUIRE(f.post_signed("/slack/events", dm_message("EvAfter", "1700000012.001200", "", "what is PaLM?")).status ==
          200);
  REQUIRE(f.slack.wait_for(k_post, 1));
  REQUIRE(f.settled());
  CHECK(f.slack.requests(k_prompts).empty());
  CHECK(f.slack.requests(k_post).size() == 1);
  CHECK(f.service->store().outbox_state("slack:event:EvAfter#0") == "delivered");
  f.service.reset();  // stopped: everything it will log is in the buffer
  CHECK(log.text().find("malformed event dropped") != std::string::npos);
}

TEST_CASE(
    "slack service - agent messages tab: a DM question shows a status and titles its new thread before the answer - "
    "a follow-up there uses the conversation" *
    doctest::timeout(120)) {
  SlackFixture f;
  f.start();
  const std::string ts = "1700000020.002000";
  REQUIRE(f.post_signed("/slack/events",
                        dm_message("EvDM1", ts, "",
                                   "which paper showed smaller models trained on more tokens beat bigger ones?"))
              .status == 200);
  REQUIRE(f.slack.wait_for(k_post, 1));
  REQUIRE(f.settled());

  const auto statuses = f.slack.requests(k_status);
  REQUIRE(statuses.size() == 1);
  const json status = json::parse(statuses[0].request.body);
  CHECK(status["channel_id"] == "D1");
  CHECK(status["thread_ts"] == ts);
  CHECK_FALSE(status.value("status", std::string()).empty());
  const auto titles = f.slack.requests(k_title);
  REQUIRE(titles.size() == 1);
  const json title = json::parse(titles[0].request.body);
  CHECK(title["channel_id"] == "D1");
  CHECK(title["thread_ts"] == ts);
  CHECK(title["title"] == "which paper showed smaller models trained on more tokens beat bigger ones?");
  const json answer = json::parse(f.slack.requests(k_post)[0].request.body);
  CHECK(answer["channel"] == "D1");
  CHECK(answer["thread_ts"] == ts);
  CHECK(answer["text"].get<std::string>().find("Training Compute-Optimal") != std::string::npos);
  // The status and the title came before the reply that clears the status.
  const std::vector<std::string> order = {k_status, k_title, k_post};
  std::vector<std::string> seen;
  for (const auto& path : f.slack.paths()) {
    if (path != "/api/auth.test") seen.push_back(path);
  }
  CHECK(seen == order);

  // The follow-up in the thread the answer opened: the same conversation, so "it" is Chinchilla.
  REQUIRE(f.post_signed("/slack/events", dm_message("EvDM2", "1700000021.002100", ts, "who wrote it?")).status == 200);
  REQUIRE(f.slack.wait_for(k_post, 2));
  REQUIRE(f.settled());
  const json follow_up = json::parse(f.slack.requests(k_post)[1].request.body);
  CHECK(follow_up["thread_ts"] == ts);
  const std::string reply = follow_up["text"];
  CHECK(reply.find("Authors:") != std::string::npos);
  CHECK(reply.find("Hoffmann") != std::string::npos);
  CHECK(f.slack.requests(k_status).size() == 2);  // a status for each question
  CHECK(f.slack.requests(k_title).size() == 1);   // the thread was titled once
  const auto last = f.slack.paths();
  REQUIRE(last.size() >= 2);
  CHECK(last[last.size() - 2] == k_status);
  CHECK(last.back() == k_post);
}

TEST_CASE("slack service - AI surface: status and title calls that fail lose no reply" * doctest::timeout(120)) {
  SlackFixture f;
  f.slack.script(k_status, FakeApi::json_reply("upstream broke", 500));
  f.slack.script(k_title, FakeApi::json_reply(R"({"ok":false,"error":"missing_scope"})"));
  auto limited = FakeApi::json_reply(R"({"ok":false,"error":"ratelimited"})", 429);
  limited.headers.emplace_back("Retry-After", "30");
  f.slack.script(k_status, limited);
  f.slack.script(k_title, limited);
  f.start();
  REQUIRE(f.post_signed("/slack/events", dm_message("EvF1", "1700000030.003000", "", "what is PaLM?")).status == 200);
  REQUIRE(f.slack.wait_for(k_post, 1));
  REQUIRE(f.post_signed("/slack/events", dm_message("EvF2", "1700000031.003100", "", "what is Chinchilla?")).status ==
          200);
  REQUIRE(f.slack.wait_for(k_post, 2));
  REQUIRE(f.settled());
  // Each side call was tried once and not again (a 429's Retry-After is not waited for)...
  CHECK(f.slack.requests(k_status).size() == 2);
  CHECK(f.slack.requests(k_title).size() == 2);
  // ...and both replies went through the outbox, once each.
  CHECK(f.slack.requests(k_post).size() == 2);
  CHECK(f.service->store().outbox_state("slack:event:EvF1#0") == "delivered");
  CHECK(f.service->store().outbox_state("slack:event:EvF2#0") == "delivered");
  CHECK(json::parse(f.slack.requests(k_post)[0].request.body)["thread_ts"] == "1700000030.003000");
  CHECK(json::parse(f.slack.requests(k_post)[1].request.body)["thread_ts"] == "1700000031.003100");
}

TEST_CASE("slack service - AI surface: a status call that hangs holds the reply back no longer than its grace" *
          doctest::timeout(120)) {
  SlackFixture f;
  f.slack.hold(k_status);
  f.start();
  REQUIRE(f.post_signed("/slack/events", dm_message("EvHang", "1700000040.004000", "", "what is PaLM?")).status == 200);
  // The reply arrives while Slack still has not answered the status call.
  REQUIRE(f.slack.wait_for(k_post, 1));
  CHECK(f.slack.requests(k_status).size() == 1);
  CHECK(json::parse(f.slack.requests(k_post)[0].request.body)["thread_ts"] == "1700000040.004000");
  f.slack.release(k_status);
  REQUIRE(f.settled());
  CHECK(f.service->store().outbox_state("slack:event:EvHang#0") == "delivered");
}

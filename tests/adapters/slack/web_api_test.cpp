// The Slack Web API client against a fake Slack on 127.0.0.1: replies of the wrong shape are a
// typed ApiError (or a Delivery), never an exception from the JSON library, and Retry-After is
// read without overflow whatever the header says.

#include "adapters/slack/web_api.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "adapters/http/client.h"
#include "tests/support/fake_api.h"
#include "tests/support/test_tls.h"

namespace {

using roundup::adapters::slack::ApiError;
using roundup::adapters::slack::parse_retry_after;
using roundup::adapters::slack::WebApi;
using roundup::testing::FakeApi;
using std::chrono::milliseconds;

roundup::adapters::http::ClientOptions test_client_options() {
  roundup::adapters::http::ClientOptions options;
  options.ca_file = roundup::testing::test_pki().ca_file;
  options.use_system_store = false;
  return options;
}

constexpr milliseconds k_fallback{1234};
constexpr milliseconds k_cap{std::chrono::minutes(15)};

}  // namespace

TEST_CASE("slack Retry-After: delay-seconds only, capped, never overflowing") {
  CHECK(parse_retry_after(std::nullopt, k_fallback) == k_fallback);
  CHECK(parse_retry_after("3", k_fallback) == milliseconds(3000));
  CHECK(parse_retry_after(" 30 ", k_fallback) == milliseconds(30000));
  CHECK(parse_retry_after("0", k_fallback) == milliseconds(0));
  CHECK(parse_retry_after("900", k_fallback) == k_cap);
  CHECK(parse_retry_after("901", k_fallback) == k_cap);
  CHECK(parse_retry_after("0000000000000000000000000000000000007", k_fallback) == milliseconds(7000));
  // Past the cap, however long: 9223372036854775807 * 1000 used to overflow.
  for (const char* huge :
       {"9223372036854775807", "9223372036854775", "18446744073709551616", "99999999999999999999999999999999999999"}) {
    CAPTURE(huge);
    CHECK(parse_retry_after(std::string(huge), k_fallback) == k_cap);
  }
  // Not delay-seconds: the fallback.
  for (const char* bad : {"", " ", "-1", "+5", "1e30", "1.5", "abc", "3abc", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT"}) {
    CAPTURE(bad);
    CHECK(parse_retry_after(std::string(bad), k_fallback) == k_fallback);
  }
}

TEST_CASE("slack web api: a 429's Retry-After reaches the ApiError capped") {
  FakeApi slack;
  roundup::adapters::http::HttpsClient client(test_client_options());
  WebApi api(client, slack.base() + "/api", "xoxb-test");
  auto limited = FakeApi::json_reply(R"({"ok":false,"error":"ratelimited"})", 429);
  limited.headers = {{"Retry-After", "9223372036854775807"}};
  slack.script("/api/auth.test", limited);
  try {
    (void)api.auth_test();
    FAIL("expected ApiError");
  } catch (const ApiError& error) {
    CHECK(error.retryable());
    CHECK(error.retry_after() == k_cap);
  }
}

TEST_CASE("slack web api: replies of the wrong shape are an ApiError, not a JSON exception") {
  FakeApi slack;
  roundup::adapters::http::HttpsClient client(test_client_options());
  WebApi api(client, slack.base() + "/api", "xoxb-test", "xapp-test");
  for (const char* body : {R"({"ok":"yes"})", R"({"ok":1})", R"({"ok":null})", "{}", "[]", "null", "\"ok\"",
                           R"({"ok":false,"error":5})", R"({"ok":false,"error":{"code":"x"}})"}) {
    CAPTURE(body);
    slack.script("/api/auth.test", FakeApi::json_reply(body));
    CHECK_THROWS_AS((void)api.auth_test(), ApiError);
    slack.script("/api/apps.connections.open", FakeApi::json_reply(body));
    CHECK_THROWS_AS((void)api.open_socket_connection(), ApiError);
    slack.script("/api/chat.postMessage", FakeApi::json_reply(body));
    const auto delivery = api.post_message({{"channel", "C1"}, {"text", "hi"}});
    CHECK(delivery.outcome != roundup::bot::Delivery::Outcome::delivered);
  }
  // Success with members of the wrong type: no identity, no URL.
  for (const char* body : {R"({"ok":true,"user_id":5,"url":5})", R"({"ok":true,"user_id":["U1"],"url":{}})",
                           R"({"ok":true,"user_id":"U1","team":7,"bot_id":null,"url":null})"}) {
    CAPTURE(body);
    slack.script("/api/apps.connections.open", FakeApi::json_reply(body));
    CHECK_THROWS_AS((void)api.open_socket_connection(), ApiError);
  }
  for (const char* body : {R"({"ok":true,"user_id":5})", R"({"ok":true,"user_id":["U1"]})"}) {
    CAPTURE(body);
    slack.script("/api/auth.test", FakeApi::json_reply(body));
    CHECK_THROWS_AS((void)api.auth_test(), ApiError);
  }
  slack.script("/api/auth.test", FakeApi::json_reply(R"({"ok":true,"user_id":"U1","team":7,"bot_id":null})"));
  CHECK(api.auth_test().user_id == "U1");
  // A well-formed error code still comes through as itself.
  slack.script("/api/auth.test", FakeApi::json_reply(R"({"ok":false,"error":"invalid_auth"})"));
  try {
    (void)api.auth_test();
    FAIL("expected ApiError");
  } catch (const ApiError& error) {
    CHECK(error.error() == "invalid_auth");
    CHECK_FALSE(error.retryable());
  }
}

TEST_CASE("slack web api: the assistant.threads calls send what Slack documents - and throw when refused") {
  FakeApi slack;
  roundup::adapters::http::HttpsClient client(test_client_options());
  WebApi api(client, slack.base() + "/api", "xoxb-test");
  for (const char* method : {"/api/assistant.threads.setSuggestedPrompts", "/api/assistant.threads.setStatus",
                             "/api/assistant.threads.setTitle"}) {
    slack.on(method, [](const auto&) { return FakeApi::json_reply(R"({"ok":true})"); });
  }
  const nlohmann::json prompts = nlohmann::json::array({{{"title", "A"}, {"message", "a?"}}});
  api.set_suggested_prompts("D1", "", "Try:", prompts);  // agent messaging experience: no thread_ts
  api.set_suggested_prompts("D1", "17.5", "Try:", prompts);
  api.set_status("D1", "17.5", "is searching…");
  api.set_title("D1", "17.5", "what is PaLM?");

  const auto set_prompts = slack.requests("/api/assistant.threads.setSuggestedPrompts");
  REQUIRE(set_prompts.size() == 2);
  CHECK(set_prompts[0].request.headers.at("authorization") == "Bearer xoxb-test");
  CHECK(nlohmann::json::parse(set_prompts[0].request.body) ==
        nlohmann::json{{"channel_id", "D1"}, {"title", "Try:"}, {"prompts", prompts}});
  CHECK(nlohmann::json::parse(set_prompts[1].request.body) ==
        nlohmann::json{{"channel_id", "D1"}, {"thread_ts", "17.5"}, {"title", "Try:"}, {"prompts", prompts}});
  CHECK(nlohmann::json::parse(slack.requests("/api/assistant.threads.setStatus").at(0).request.body) ==
        nlohmann::json{{"channel_id", "D1"}, {"thread_ts", "17.5"}, {"status", "is searching…"}});
  CHECK(nlohmann::json::parse(slack.requests("/api/assistant.threads.setTitle").at(0).request.body) ==
        nlohmann::json{{"channel_id", "D1"}, {"thread_ts", "17.5"}, {"title", "what is PaLM?"}});

  slack.script("/api/assistant.threads.setTitle", FakeApi::json_reply(R"({"ok":false,"error":"missing_scope"})"));
  CHECK_THROWS_AS(api.set_title("D1", "17.5", "x"), ApiError);
  slack.script("/api/assistant.threads.setStatus", FakeApi::json_reply("broken", 500));
  CHECK_THROWS_AS(api.set_status("D1", "17.5", "x"), ApiError);
}

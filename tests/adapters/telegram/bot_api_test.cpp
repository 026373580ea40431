// The Telegram Bot API client and the polling loop against a fake Bot API on 127.0.0.1: replies
// of the wrong shape are a retryable BotApiError, never an exception that escapes a thread, and
// parameters.retry_after is read without overflow whatever its type and size.

#include "adapters/telegram/bot_api.h"

#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/service/service.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/platform_config.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_tls.h"
#include "tests/support/webhook_rig.h"

namespace {

using nlohmann::json;
using roundup::adapters::telegram::BotApi;
using roundup::adapters::telegram::BotApiError;
using roundup::testing::FakeApi;
using roundup::testing::k_rig_tg_bot;
using roundup::testing::k_rig_tg_token;
using roundup::testing::telegram_of;
using std::chrono::milliseconds;
using std::chrono::seconds;

roundup::adapters::http::ClientOptions test_client_options() {
  roundup::adapters::http::ClientOptions options;
  options.ca_file = roundup::testing::test_pki().ca_file;
  options.use_system_store = false;
  return options;
}

// Bodies a proxy, a captive portal or a broken server might answer with.
constexpr const char* k_malformed[] = {R"({"ok":"yes"})", R"({"ok":1})",   R"({"ok":null})", "{}", "[]", "null",
                                       "not json",        R"({"ok":true})"};

}  // namespace

TEST_CASE("telegram bot api: replies of the wrong shape are a retryable BotApiError") {
  FakeApi telegram;
  roundup::adapters::http::HttpsClient client(test_client_options());
  BotApi api(client, telegram.base(), k_rig_tg_token);
  for (const char* body : k_malformed) {
    CAPTURE(body);
    telegram.script(k_rig_tg_bot + "/getUpdates", FakeApi::json_reply(body));
    try {
      (void)api.get_updates(0, 0);
      FAIL("expected BotApiError");
    } catch (const BotApiError& error) {
      CHECK(error.retryable());
    }
  }
  for (const char* body : {R"({"ok":true,"result":{"id":"999","username":"RoundupBot"}})",
                           R"({"ok":true,"result":{"id":999,"username":5}})", R"({"ok":true,"result":[999]})",
                           R"({"ok":true,"result":null})"}) {
    CAPTURE(body);
    telegram.script(k_rig_tg_bot + "/getMe", FakeApi::json_reply(body));
    CHECK_THROWS_AS((void)api.get_me(), BotApiError);
  }
  telegram.script(k_rig_tg_bot + "/getMe",
                  FakeApi::json_reply(R"({"ok":true,"result":{"id":999,"username":"RoundupBot"}})"));
  CHECK(api.get_me().username == "RoundupBot");
}

TEST_CASE("telegram bot api: parameters.retry_after is capped, rounded up, or ignored - never wrapped") {
  FakeApi telegram;
  roundup::adapters::http::HttpsClient client(test_client_options());
  BotApi api(client, telegram.base(), k_rig_tg_token);
  const std::pair<const char*, milliseconds> cases[] = {
      {"3", seconds(3)},
      {"2.5", seconds(3)},
      {"9223372036854775807", seconds(3600)},
      {"18446744073709551615", seconds(3600)},
      {"1e30", seconds(3600)},
      {"0", seconds(1)},
      {"-1", milliseconds(0)},
      {"-9223372036854775808", milliseconds(0)},
      {"\"abc\"", milliseconds(0)},
      {"\"5\"", milliseconds(0)},
      {"null", milliseconds(0)},
  };
  for (const auto& [value, expected] : cases) {
    CAPTURE(value);
    telegram.script(k_rig_tg_bot + "/sendMessage",
                    FakeApi::json_reply(std::string(R"({"ok":false,"error_code":429,"description":"Too Many Requests",)"
                                                    R"("parameters":{"retry_after":)") +
                                            value + "}}",
                                        429));
    const auto delivery = api.send_message({{"chat_id", 1}, {"text", "hi"}}, "hi");
    CHECK(delivery.outcome == roundup::bot::Delivery::Outcome::retry);
    CHECK(delivery.retry_after == expected);
  }
}

TEST_CASE("telegram polling: malformed getUpdates replies are retried and the next question is answered" *
          doctest::timeout(120)) {
  roundup::testing::TempDir data;
  FakeApi telegram;
  roundup::testing::serve_platform_api(telegram, "telegram");
  for (const char* body : k_malformed) telegram.script(k_rig_tg_bot + "/getUpdates", FakeApi::json_reply(body));
  // ok, but results no update can be read from: wrong types, and ids that cannot be advanced past.
  telegram.script(k_rig_tg_bot + "/getUpdates", FakeApi::json_reply(R"({"ok":true,"result":"none"})"));
  telegram.script(k_rig_tg_bot + "/getUpdates",
                  FakeApi::json_reply(R"({"ok":true,"result":[1,"x",null,{"update_id":"7"},{"update_id":1.5},)"
                                      R"({"update_id":9223372036854775807},{"update_id":18446744073709551615}]})"));
  const json question = {{"update_id", 100},
                         {"message",
                          {{"message_id", 10},
                           {"from", {{"id", 42}, {"is_bot", false}, {"first_name", "Ada"}}},
                           {"chat", {{"id", 42}, {"type", "private"}}},
                           {"date", 1700000000},
                           {"text", "what is Chinchilla?"}}}};
  telegram.on(k_rig_tg_bot + "/getUpdates", [question](const roundup::adapters::http::Request& request) {
    const json params = json::parse(request.body, nullptr, false);
    const bool pending = params.is_object() && params.value("offset", std::int64_t{0}) <= 100;
    return FakeApi::json_reply(
        json{{"ok", true}, {"result", pending ? json::array({question}) : json::array()}}.dump());
  });

  auto config = roundup::testing::webhook_config(data.path(), "telegram", telegram);
  telegram_of(config).mode = "polling";
  roundup::adapters::service::ServiceHooks hooks;
  hooks.tls_ca_only = true;
  hooks.telegram_poll_timeout_seconds = 1;
  hooks.telegram_min_backoff = milliseconds(10);
  roundup::adapters::service::Service service(config, roundup::testing::bundled_knowledge(), hooks);
  service.start();
  REQUIRE(telegram.wait_for(k_rig_tg_bot + "/sendMessage", 1));
  const auto sent = json::parse(telegram.requests(k_rig_tg_bot + "/sendMessage").front().request.body);
  CHECK(sent["chat_id"] == 42);
  // The loop read past every malformed reply to the real update.
  CHECK(telegram.requests(k_rig_tg_bot + "/getUpdates").size() >= std::size(k_malformed) + 3);
  service.stop();
}

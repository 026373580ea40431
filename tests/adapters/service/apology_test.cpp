// The apologies the service registers for quarantined items: addressed as the item's answer
// would be (Slack thread or response_url, Telegram reply in the same chat and topic), built from
// the recorded payload alone.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/slack/slack_service.h"
#include "adapters/telegram/telegram_service.h"
#include "bot/inbox.h"
#include "bot/outbox.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/platform_config.h"
#include "tests/support/temp_dir.h"

namespace {

using nlohmann::json;
using roundup::bot::InboundItem;
using roundup::testing::TempDir;

// Answering must not be what an apology runs: it is what failed.
roundup::bot::Answer refuse_to_answer(const roundup::bot::Speaker&, std::string_view) {
  FAIL("an apology must not answer the question");
  return {};
}

}  // namespace

TEST_CASE("apology: Slack apologizes in the question's thread - or through its response_url - without answering") {
  TempDir dir;
  roundup::storage::SqliteStateStore store(dir / "bot.sqlite");
  roundup::bot::Outbox outbox(store, {});
  roundup::bot::Inbox inbox(store, outbox, {});
  roundup::adapters::http::HttpsClient client;
  roundup::adapters::slack::SlackConfig config;
  roundup::adapters::slack::SlackService slack(config, client, store, inbox, refuse_to_answer);

  const InboundItem in_thread{1, "slack:event:Ev1", "slack",
                              json{{"input", "papers by x"}, {"channel", "C1"}, {"thread_ts", "1700.1"}}.dump(), 3};
  const auto thread_replies = slack.apologize(in_thread);
  REQUIRE(thread_replies.size() == 1);
  CHECK(thread_replies[0].idempotency_key == "slack:event:Ev1#0");
  CHECK(thread_replies[0].target == "slack:C1");
  const json posted = json::parse(thread_replies[0].payload);
  CHECK(posted["via"] == "chat");
  CHECK(posted["body"]["channel"] == "C1");
  CHECK(posted["body"]["thread_ts"] == "1700.1");
  CHECK(posted.dump().find("Sorry") != std::string::npos);
  CHECK(posted.dump().find("papers by x") == std::string::npos);

  const InboundItem command{
      2, "slack:command:1", "slack",
      json{{"input", "papers"}, {"channel", "C2"}, {"response_url", "https://hooks.slack.com/x"}}.dump(), 3};
  const auto command_replies = slack.apologize(command);
  REQUIRE(command_replies.size() == 1);
  const json responded = json::parse(command_replies[0].payload);
  CHECK(responded["via"] == "response_url");
  CHECK(responded["url"] == "https://hooks.slack.com/x");

  CHECK(slack.apologize({3, "slack:event:Ev3", "slack", "not json", 3}).empty());
}

TEST_CASE("apology: Telegram replies to the question in its chat and topic") {
  const InboundItem item{
      1, "telegram:update:9", "telegram",
      json{{"input", "hi"}, {"chat_id", -1001}, {"message_id", 55}, {"message_thread_id", 7}, {"user", 42}}.dump(), 3};
  const auto replies = roundup::adapters::telegram::TelegramService::apologize(item);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].idempotency_key == "telegram:update:9#0");
  CHECK(replies[0].target == "telegram:-1001");
  const json params = json::parse(replies[0].payload)["params"];
  CHECK(params["chat_id"] == -1001);
  CHECK(params["reply_parameters"]["message_id"] == 55);
  CHECK(params["message_thread_id"] == 7);
  CHECK(params["text"].get<std::string>().find("Sorry") != std::string::npos);

  CHECK(
      roundup::adapters::telegram::TelegramService::apologize({2, "telegram:update:10", "telegram", "[]", 3}).empty());
  CHECK(
      roundup::adapters::telegram::TelegramService::apologize({3, "telegram:update:11", "telegram", "{}", 3}).empty());
}

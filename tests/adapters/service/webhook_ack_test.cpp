// The webhook routes' acks through the inbox's group commit, end to end: the real service on
// 127.0.0.1 against fake platform APIs. A question is acked 200 only once it is recorded, and
// 503 when the state database refuses it, so the platform retries; the retry is then acked and
// answered once. A slash command the database refuses gets an apology the user can read instead
// (Slack shows a 5xx only as a generic failure), and the user's second try is answered once.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/service/service.h"
#include "adapters/slack/signature.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/second_connection.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_rig.h"

namespace {

using nlohmann::json;
using roundup::adapters::http::ClientRequest;
using roundup::adapters::http::HttpsClient;
using roundup::testing::FakeApi;

constexpr const char* k_slack_secret = roundup::testing::k_rig_slack_secret;
constexpr std::int64_t k_now = roundup::testing::k_rig_now;
constexpr const char* k_tg_secret = roundup::testing::k_rig_tg_secret;
const std::string& k_tg_bot = roundup::testing::k_rig_tg_bot;

using roundup::testing::exec_on;

constexpr const char* k_refuse_inbound =
    "CREATE TRIGGER refuse BEFORE INSERT ON inbound BEGIN SELECT RAISE(ABORT, 'injected failure'); END";

struct Rig {
  roundup::testing::TempDir data;
  FakeApi api;
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;
  HttpsClient client{{}};

  explicit Rig(const std::string& platform) {
    roundup::testing::serve_platform_api(api, platform);
    const auto config = roundup::testing::webhook_config(data.path(), platform, api);
    roundup::adapters::service::ServiceHooks hooks;
    hooks.unix_seconds = [] { return k_now; };
    hooks.tls_ca_only = true;
    hooks.on_delivery_attempt = [this] { api.signal.notify(); };
    service =
        std::make_unique<roundup::adapters::service::Service>(config, roundup::testing::bundled_knowledge(), hooks);
    port = service->start();
  }

  std::filesystem::path database() const { return data.path() / "state" / "bot.sqlite"; }

  roundup::adapters::http::ClientResponse post(const std::string& path, const std::string& body,
                                               std::vector<std::pair<std::string, std::string>> headers,
                                               const std::string& content_type = "application/json") {
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    request.body = body;
    request.headers = std::move(headers);
    request.headers.emplace_back("Content-Type", content_type);
    return client.send(request);
  }
  roundup::adapters::http::ClientResponse post_signed_slack(const std::string& path, const std::string& body,
                                                            const std::string& content_type) {
    const std::string ts = std::to_string(k_now);
    return post(path, body,
                {{"X-Slack-Request-Timestamp", ts},
                 {"X-Slack-Signature", roundup::adapters::slack::compute_signature(k_slack_secret, ts, body)}},
                content_type);
  }
  int post_slack(const std::string& body) {
    return post_signed_slack("/slack/events", body, "application/json").status;
  }
  roundup::adapters::http::ClientResponse post_command(const std::string& text, const std::string& trigger_id) {
    return post_signed_slack("/slack/commands",
                             roundup::testing::slash_command_form(api.base(), text, "U1", trigger_id),
                             "application/x-www-form-urlencoded");
  }
  int post_telegram(const std::string& body) {
    return post("/telegram/webhook", body, {{"X-Telegram-Bot-Api-Secret-Token", k_tg_secret}}).status;
  }
  bool settled() {
    return api.signal.wait_for(
        [&] { return service->store().pending_inbound(1).empty() && service->store().outbox_backlog() == 0; });
  }
};

}  // namespace

TEST_CASE(
    "webhook acks (slack): an event the database cannot record gets 503 and the retry is acked and answered once" *
    doctest::timeout(120)) {
  Rig rig("slack");
  const std::string event = roundup::testing::mention_event("EvRetry", "<@UBOT> what is Chinchilla?");
  exec_on(rig.database(), k_refuse_inbound);
  CHECK(rig.post_slack(event) == 503);
  CHECK(rig.service->store().pending_inbound(10).empty());
  exec_on(rig.database(), "DROP TRIGGER refuse");
  CHECK(rig.post_slack(event) == 200);
  CHECK(rig.post_slack(event) == 200);  // and a duplicate after it
  REQUIRE(rig.api.wait_for("/api/chat.postMessage", 1));
  REQUIRE(rig.settled());
  CHECK(rig.api.requests("/api/chat.postMessage").size() == 1);
}

TEST_CASE(
    "webhook acks (slack): a slash command the database cannot record gets an apology and the next try is answered "
    "once" *
    doctest::timeout(120)) {
  Rig rig("slack");
  exec_on(rig.database(), k_refuse_inbound);
  const auto refused = rig.post_command("search+Chinchilla", "trigger-1");
  CHECK(refused.status == 200);
  const json apology = json::parse(refused.body, nullptr, false);
  CHECK(apology.value("response_type", "") == "ephemeral");
  CHECK(apology.value("text", "").find("cannot take questions right now") != std::string::npos);
  CHECK(rig.service->store().pending_inbound(10).empty());

  exec_on(rig.database(), "DROP TRIGGER refuse");
  const auto accepted = rig.post_command("search+Chinchilla", "trigger-2");
  CHECK(accepted.status == 200);
  CHECK(json::parse(accepted.body, nullptr, false).value("text", "").find("Chinchilla") != std::string::npos);
  // Slack retries a command whose ack it did not see: acked again, answered once.
  CHECK(rig.post_command("search+Chinchilla", "trigger-2").status == 200);
  REQUIRE(rig.api.wait_for("/commands/respond", 1));
  REQUIRE(rig.settled());
  const auto posts = rig.api.requests("/commands/respond");
  REQUIRE(posts.size() == 1);
  CHECK(json::parse(posts[0].request.body, nullptr, false).value("text", "").find("Compute-Optimal") !=
        std::string::npos);
}

TEST_CASE(
    "webhook acks (telegram): an update the database cannot record gets 503 and the retry is acked and answered "
    "once" *
    doctest::timeout(120)) {
  Rig rig("telegram");
  const std::string update = json{{"update_id", 77},
                                  {"message",
                                   {{"message_id", 10},
                                    {"from", {{"id", 42}, {"is_bot", false}, {"first_name", "Ada"}}},
                                    {"chat", {{"id", 42}, {"type", "private"}}},
                                    {"date", 1700000000},
                                    {"text", "what is Chinchilla?"}}}}
                                 .dump();
  exec_on(rig.database(), k_refuse_inbound);
  CHECK(rig.post_telegram(update) == 503);
  exec_on(rig.database(), "DROP TRIGGER refuse");
  CHECK(rig.post_telegram(update) == 200);
  CHECK(rig.post_telegram(update) == 200);
  REQUIRE(rig.api.wait_for(k_tg_bot + "/sendMessage", 1));
  REQUIRE(rig.settled());
  CHECK(rig.api.requests(k_tg_bot + "/sendMessage").size() == 1);
}

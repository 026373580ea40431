// The real service (HTTP routes, inbox, outbox, Telegram adapter) against a fake Bot API server
// on 127.0.0.1 over TLS with a test-generated CA, in webhook and polling mode.

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/model/answering.h"
#include "adapters/service/service.h"
#include "adapters/telegram/telegram_service.h"
#include "adapters/telegram/utf16.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/fake_model.h"
#include "tests/support/log_watch.h"
#include "tests/support/platform_config.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace {

using nlohmann::json;
using roundup::adapters::http::ClientRequest;
using roundup::adapters::http::ClientResponse;
using roundup::adapters::http::HttpsClient;
using roundup::testing::FakeApi;
using roundup::testing::LogWatch;
using roundup::testing::telegram_of;

constexpr const char* k_token = "123:TEST";
constexpr const char* k_secret = "webhook-secret_1";
const std::string k_bot = std::string("/bot") + k_token;

json private_message(std::int64_t update_id, const std::string& text, std::int64_t message_id = 10) {
  return {{"update_id", update_id},
          {"message",
           {{"message_id", message_id},
            {"from", {{"id", 42}, {"is_bot", false}, {"first_name", "Ada"}}},
            {"chat", {{"id", 42}, {"type", "private"}}},
            {"date", 1700000000},
            {"text", text}}}};
}

json group_message(std::int64_t update_id, const std::string& text, json entities = json::array()) {
  json update = private_message(update_id, text, 20);
  update["message"]["chat"] = {{"id", -1001}, {"type", "supergroup"}, {"title", "ML"}};
  if (!entities.empty()) update["message"]["entities"] = std::move(entities);
  return update;
}

// A group message from member `user`, replying to message `replied` of `replied_author` when set.
json group_message_from(std::int64_t update_id, std::int64_t message_id, std::int64_t user, const std::string& text,
                        std::int64_t replied = 0, std::int64_t replied_author = 999) {
  json update = group_message(update_id, text);
  update["message"]["message_id"] = message_id;
  update["message"]["from"] = {{"id", user}, {"is_bot", false}, {"first_name", "Member"}};
  if (replied != 0)
    update["message"]["reply_to_message"] = {{"message_id", replied},
                                             {"from", {{"id", replied_author}, {"is_bot", replied_author == 999}}},
                                             {"chat", update["message"]["chat"]},
                                             {"date", 1700000000},
                                             {"text", "an earlier message"}};
  return update;
}

// Telegram-like getUpdates: returns the queued updates with update_id >= offset.
struct FakeTelegram {
  FakeApi api;
  json updates = json::array();  // guarded by api.signal's lock via update()
  std::vector<std::int64_t> offsets;
  std::int64_t last_sent_id = 500;  // under api.signal's lock, like updates

  FakeTelegram() {
    api.on(k_bot + "/getMe", [](const auto&) {
      return FakeApi::json_reply(
          R"({"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Roundup","username":"RoundupBot"}})");
    });
    for (const char* method : {"/setMyCommands", "/setWebhook", "/deleteWebhook"}) {
      api.on(k_bot + method, [](const auto&) { return FakeApi::json_reply(R"({"ok":true,"result":true})"); });
    }
    // Each sent message gets the next id from 501 on, as Telegram numbers a chat's messages.
    api.on(k_bot + "/sendMessage", [this](const auto&) {
      return FakeApi::json_reply(json{{"ok", true}, {"result", {{"message_id", ++last_sent_id}}}}.dump());
    });
    // Runs under api.signal's lock (FakeApi calls responders inside update()).
    api.on(k_bot + "/getUpdates", [this](const roundup::adapters::http::Request& request) {
      const json body = json::parse(request.body);
      const auto offset = body.value("offset", std::int64_t{0});
      offsets.push_back(offset);
      json result = json::array();
      for (const auto& u : updates) {
        if (u["update_id"].get<std::int64_t>() >= offset) result.push_back(u);
      }
      return FakeApi::json_reply(json{{"ok", true}, {"result", result}}.dump());
    });
  }

  void push(json update) {
    api.signal.update([&] { updates.push_back(std::move(update)); });
  }
  std::vector<json> sent() {
    std::vector<json> out;
    for (const auto& r : api.requests(k_bot + "/sendMessage")) out.push_back(json::parse(r.request.body));
    return out;
  }
};

struct TelegramFixture {
  roundup::testing::TempDir data;
  FakeTelegram telegram;
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;
  HttpsClient client{{}};
  std::shared_ptr<roundup::bot::Knowledge> knowledge = roundup::testing::bundled_knowledge();
  std::chrono::milliseconds poll_stale_after{0};
  std::vector<std::string> admins;
  std::optional<roundup::config::LlmConfig> llm;  // a model writes answers

  void start(const std::string& mode) {
    auto config = roundup::testing::bundled_config(data.path());
    config.listen = "127.0.0.1:0";
    config.tls.ca_file = roundup::testing::test_pki().ca_file;
    telegram_of(config).enabled = true;
    telegram_of(config).mode = mode;
    telegram_of(config).bot_token.value = k_token;
    telegram_of(config).secret_token.value = k_secret;
    telegram_of(config).public_url = "https://bot.example.com/telegram/webhook";
    telegram_of(config).api_base = telegram.api.base();
    config.admins = admins;
    config.llm = llm;
    roundup::adapters::service::ServiceHooks hooks;
    hooks.poll_stale_after = poll_stale_after;
    hooks.tls_ca_only = true;
    hooks.telegram_poll_timeout_seconds = 1;
    hooks.telegram_min_backoff = std::chrono::milliseconds(50);
    hooks.lease_check = std::chrono::milliseconds(50);
    hooks.on_delivery_attempt = [this] { telegram.api.signal.notify(); };
    service = std::make_unique<roundup::adapters::service::Service>(config, knowledge, hooks);
    port = service->start();
  }

  void restart(const std::string& mode) {
    service->stop();
    service.reset();
    start(mode);
  }

  ClientResponse post_update(const json& update, const std::string& secret = k_secret) {
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port) + "/telegram/webhook";
    request.body = update.dump();
    request.headers = {{"Content-Type", "application/json"}};
    if (!secret.empty()) request.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", secret);
    return client.send(request);
  }

  bool settled() {
    return telegram.api.signal.wait_for(
        [&] { return service->store().pending_inbound(1).empty() && service->store().outbox_backlog() == 0; });
  }
};

// Every tag opened is closed, in order (b, i, a, code, pre).
bool balanced_html(const std::string& html) {
  std::vector<std::string> stack;
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    const auto close = html.find('>', i);
    if (close == std::string::npos) return false;
    std::string tag = html.substr(i + 1, close - i - 1);
    if (tag.empty()) return false;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return false;
      stack.pop_back();
    } else {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
  }
  return stack.empty();
}

}  // namespace

TEST_CASE("telegram webhook: a private question gets one reply citing the right paper - threaded to it" *
          doctest::timeout(120)) {
  TelegramFixture f;
  f.start("webhook");
  const auto registered = f.telegram.api.requests(k_bot + "/setWebhook");
  REQUIRE(registered.size() == 1);
  const json webhook = json::parse(registered[0].request.body);
  CHECK(webhook["secret_token"] == k_secret);
  CHECK(webhook["url"] == "https://bot.example.com/telegram/webhook");
  CHECK(f.telegram.api.requests(k_bot + "/setMyCommands").size() == 1);

  const json update =
      private_message(1001, "which paper showed smaller models trained on more tokens beat bigger ones?", 77);
  CHECK(f.post_update(update).status == 200);
  CHECK(f.post_update(update).status == 200);  // delivered twice: answered once
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  REQUIRE(f.settled());
  const auto sent = f.telegram.sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["chat_id"] == 42);
  CHECK(sent[0]["parse_mode"] == "HTML");
  CHECK(sent[0]["reply_parameters"]["message_id"] == 77);
  CHECK(sent[0]["link_preview_options"]["is_disabled"] == true);
  const std::string text = sent[0]["text"];
  CHECK(text.find("Training Compute-Optimal Large Language Models") != std::string::npos);
  CHECK(text.find("<a href=\"https://arxiv.org/abs/2203.15556") != std::string::npos);
  CHECK(balanced_html(text));
}

TEST_CASE("telegram webhook: a private chat is one conversation - 'who wrote it?' reads the answer before" *
          doctest::timeout(120)) {
  TelegramFixture f;
  f.start("webhook");
  CHECK(f.post_update(private_message(2001, "which paper is about watermarking LLM output?", 81)).status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  CHECK(f.post_update(private_message(2002, "who wrote it?", 82)).status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 2));
  const auto sent = f.telegram.sent();
  REQUIRE(sent.size() == 2);
  const std::string follow_up = sent[1]["text"];
  CHECK(follow_up.find("A Watermark for Large Language Models") != std::string::npos);
  CHECK(follow_up.find("Kirchenbauer") != std::string::npos);
  // The same words in a group, from the same person, start with nothing in focus.
  json group = group_message(2003, "@RoundupBot who wrote it?",
                             json::array({{{"type", "mention"}, {"offset", 0}, {"length", 11}}}));
  CHECK(f.post_update(group).status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 3));
  const std::string asked_back = f.telegram.sent()[2]["text"];
  CHECK(asked_back.find("Which paper do you mean?") != std::string::npos);
}

TEST_CASE("telegram webhook: in a group a reply chain is one conversation, whoever replies" * doctest::timeout(120)) {
  TelegramFixture f;
  f.start("webhook");
  const auto last_text = [&f](std::size_t count) {
    REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", count));
    const auto sent = f.telegram.sent();
    REQUIRE(sent.size() == count);
    return sent.back()["text"].get<std::string>();
  };
  // The chain is extended once the answer's delivery returns its message id; a reply sent before
  // that (no person is that quick) would start afresh.
  const auto chain_saved = [&f](std::int64_t bot_message) {
    return roundup::testing::poll_until([&] {
      return f.service->store()
          .dialogue(roundup::adapters::telegram::reply_chain_conversation(-1001, bot_message),
                    roundup::bot::system_now_ms())
          .has_value();
    });
  };
  // Ada asks; the answer is the bot's message 501.
  json question = group_message_from(3001, 31, 42, "@RoundupBot which paper is about watermarking LLM output?");
  question["message"]["entities"] = json::array({{{"type", "mention"}, {"offset", 0}, {"length", 11}}});
  CHECK(f.post_update(question).status == 200);
  CHECK(last_text(1).find("A Watermark for Large Language Models") != std::string::npos);
  REQUIRE(chain_saved(501));
  // Bob replies to that answer: the chain's paper is in focus (answer 502).
  CHECK(f.post_update(group_message_from(3002, 32, 43, "who wrote it?", 501)).status == 200);
  CHECK(last_text(2).find("Kirchenbauer") != std::string::npos);
  REQUIRE(chain_saved(502));
  // A reply to the reply continues the same chain.
  CHECK(f.post_update(group_message_from(3003, 33, 42, "link?", 502)).status == 200);
  CHECK(last_text(3).find("2301.10226") != std::string::npos);
  // Outside the chain nothing is in focus: a new mention, a reply to a message the bot never
  // answered in a chain, and a reply to someone else's message (not addressed, ignored).
  json fresh = group_message_from(3004, 34, 42, "@RoundupBot who wrote it?");
  fresh["message"]["entities"] = json::array({{{"type", "mention"}, {"offset", 0}, {"length", 11}}});
  CHECK(f.post_update(fresh).status == 200);
  CHECK(last_text(4).find("Which paper do you mean?") != std::string::npos);
  CHECK(f.post_update(group_message_from(3005, 35, 43, "who wrote it?", 7)).status == 200);
  CHECK(last_text(5).find("Which paper do you mean?") != std::string::npos);
  CHECK(f.post_update(group_message_from(3006, 36, 43, "who wrote it?", 501, 42)).status == 200);
  REQUIRE(f.settled());
  CHECK(f.telegram.sent().size() == 5);
}

TEST_CASE("telegram: with a language model the chat shows typing - then the model's answer links its source" *
          doctest::timeout(120)) {
  FakeApi model_server;
  model_server.on("/v1/chat/completions", [](const roundup::adapters::http::Request&) {
    return FakeApi::json_reply(roundup::testing::chat_completion("Chinchilla <b>won</b> [1]."));
  });
  TelegramFixture f;
  f.llm = roundup::config::LlmConfig{model_server.base(), "test-model", {}, 5000, 256, 0.2};
  auto config = roundup::testing::bundled_config(f.data.path());
  config.tls.ca_file = roundup::testing::test_pki().ca_file;
  config.llm = f.llm;
  roundup::telemetry::Registry registry;
  f.knowledge = roundup::adapters::model::with_language_model(roundup::testing::bundled_knowledge(), config, registry);
  f.start("webhook");

  CHECK(f.post_update(
             private_message(3001, "which paper showed smaller models trained on more tokens beat bigger ones?", 91))
            .status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendChatAction", 1));
  const json action = json::parse(f.telegram.api.requests(k_bot + "/sendChatAction")[0].request.body);
  CHECK(action["chat_id"] == 42);
  CHECK(action["action"] == "typing");
  const std::string text = f.telegram.sent()[0]["text"];
  // The model's text is escaped like any other; its marker is a link to the cited paper.
  CHECK(text.find("Chinchilla &lt;b&gt;won&lt;/b&gt; <a href=\"https://arxiv.org/abs/2203.15556") != std::string::npos);
  CHECK(balanced_html(text));
}

TEST_CASE("telegram webhook: wrong or missing secret is 401 and nothing is processed") {
  TelegramFixture f;
  f.start("webhook");
  CHECK(f.post_update(private_message(1, "what is Chinchilla?"), "wrong-secret").status == 401);
  CHECK(f.post_update(private_message(2, "what is Chinchilla?"), "").status == 401);
  CHECK(f.post_update(private_message(3, "what is Chinchilla?"), std::string(k_secret) + "x").status == 401);
  CHECK(f.service->store().pending_inbound(10).empty());
  CHECK(f.telegram.api.requests(k_bot + "/sendMessage").empty());
  // Authenticated but malformed.
  ClientRequest bad;
  bad.url = "http://127.0.0.1:" + std::to_string(f.port) + "/telegram/webhook";
  bad.body = "{nope";
  bad.headers = {{"X-Telegram-Bot-Api-Secret-Token", k_secret}};
  CHECK(f.client.send(bad).status == 400);
}

TEST_CASE("telegram webhook: groups are answered only when addressed - mentions after emoji are stripped right" *
          doctest::timeout(120)) {
  TelegramFixture f;
  f.start("webhook");
  // Not addressed: plain group chatter, and a command for another bot.
  CHECK(f.post_update(group_message(1, "anyone read the chinchilla paper?")).status == 200);
  CHECK(f.post_update(group_message(2, "/ask@OtherBot what is Chinchilla?",
                                    json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", 13}}})))
            .status == 200);
  // Addressed with a mention that follows an emoji and CJK (UTF-16 offsets: 😀 is 2 units).
  const std::string text =
      "😀 问 @RoundupBot which paper showed smaller models trained on more tokens beat bigger ones?";
  const std::string prefix = "😀 问 ";
  const auto offset = roundup::adapters::telegram::utf16_length(prefix);
  CHECK(offset == 5);
  CHECK(f.post_update(group_message(3, text, json::array({{{"type", "mention"}, {"offset", offset}, {"length", 11}}})))
            .status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  REQUIRE(f.settled());
  const auto sent = f.telegram.sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["chat_id"] == -1001);
  CHECK(sent[0]["text"].get<std::string>().find("Training Compute-Optimal") != std::string::npos);
}

TEST_CASE("telegram: a 9 -000-character answer goes out as several valid chunks with nothing lost" *
          doctest::timeout(120)) {
  TelegramFixture f;
  std::vector<std::string> lines;
  lines.reserve(90);
  for (int i = 0; i < 90; ++i) {
    lines.push_back("Line " + std::to_string(i) + " <&> " + std::string(80, static_cast<char>('a' + i % 26)) + " 模型");
  }
  f.knowledge = std::make_shared<roundup::testing::ScriptedKnowledge>([lines](std::string_view) {
    roundup::bot::Answer answer;
    answer.kind = roundup::bot::Answer::Kind::answer;
    answer.heading = "A long answer";
    answer.lines = lines;
    return answer;
  });
  f.start("webhook");
  CHECK(f.post_update(private_message(5, "tell me everything")).status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 3));
  REQUIRE(f.settled());
  const auto sent = f.telegram.sent();
  REQUIRE(sent.size() >= 3);
  std::string all;
  for (const auto& message : sent) {
    const std::string chunk = message["text"];
    CHECK(roundup::adapters::telegram::utf16_length(chunk) <= 4096);
    CHECK(balanced_html(chunk));
    all += chunk;
  }
  for (int i = 0; i < 90; ++i) CHECK(all.find("Line " + std::to_string(i) + " &lt;&amp;&gt; ") != std::string::npos);
}

TEST_CASE("telegram: 429 retry_after is obeyed - can't-parse-entities falls back to plain text" *
          doctest::timeout(120)) {
  TelegramFixture f;
  f.telegram.api.script(
      k_bot + "/sendMessage",
      FakeApi::json_reply(
          R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}})",
          429));
  f.telegram.api.script(
      k_bot + "/sendMessage",
      FakeApi::json_reply(
          R"({"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: unexpected end tag"})",
          400));
  f.start("webhook");
  CHECK(f.post_update(private_message(7, "what is Chinchilla?")).status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 3));
  REQUIRE(f.settled());
  const auto requests = f.telegram.api.requests(k_bot + "/sendMessage");
  REQUIRE(requests.size() == 3);
  CHECK(requests[1].at - requests[0].at >= std::chrono::milliseconds(1000));
  const json html = json::parse(requests[1].request.body);
  const json plain = json::parse(requests[2].request.body);
  CHECK(html["parse_mode"] == "HTML");
  CHECK_FALSE(plain.contains("parse_mode"));
  CHECK(plain["text"].get<std::string>().find("<b>") == std::string::npos);
  CHECK(plain["text"].get<std::string>().find("Chinchilla") != std::string::npos);
  CHECK(f.service->store().outbox_state("telegram:update:7#0") == "delivered");
}

TEST_CASE("telegram polling: updates are answered once across a restart - the offset is persisted" *
          doctest::timeout(120)) {
  TelegramFixture f;
  f.telegram.push(private_message(1, "what is Chinchilla?", 11));
  f.telegram.push(private_message(2, "which paper has 540B parameters?", 12));
  f.start("polling");
  CHECK(f.telegram.api.requests(k_bot + "/deleteWebhook").size() == 1);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 2));
  REQUIRE(f.settled());
  f.service->stop();
  CHECK(f.service->store().value("telegram.offset") == "3");

  // While the bot is down, two more updates arrive; one of them (3) was already recorded by a
  // previous run that crashed before saving the offset.
  f.telegram.push(private_message(3, "what was in the February 2023 roundup?", 13));
  f.telegram.push(private_message(4, "what is PaLM?", 14));
  f.service->store().accept_inbound(
      "telegram:update:3", "telegram",
      R"({"input":"what was in the February 2023 roundup?","chat_id":42,"message_id":13})", 0, {});
  f.restart("polling");
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 4));
  REQUIRE(f.settled());
  const auto sent = f.telegram.sent();
  std::map<std::int64_t, int> replies_per_question;
  for (const auto& message : sent)
    ++replies_per_question[message["reply_parameters"]["message_id"].get<std::int64_t>()];
  CHECK(replies_per_question == std::map<std::int64_t, int>{{11, 1}, {12, 1}, {13, 1}, {14, 1}});
  // The restarted poller asked from the persisted offset, never from 0. Its poll after the last
  // update was recorded may still be on its way: wait for it rather than assume it.
  REQUIRE(f.telegram.api.signal.wait_for([&] { return f.telegram.offsets.back() == 5; }));
  std::vector<std::int64_t> offsets;
  f.telegram.api.signal.update([&] { offsets = f.telegram.offsets; });
  CHECK(std::find(offsets.begin(), offsets.end(), 0) != offsets.end());  // the very first poll
  CHECK(offsets.back() == 5);
}

TEST_CASE("telegram polling: a 409 conflict is reported in one clear log line and backed off" * doctest::timeout(120)) {
  TelegramFixture f;
  LogWatch log(f.telegram.api.signal);
  f.telegram.api.on(k_bot + "/getUpdates", [](const auto&) {
    return FakeApi::json_reply(
        R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})",
        409);
  });
  f.start("polling");
  const bool logged = log.wait_for("getUpdates conflict (409)");
  f.service->stop();
  CHECK(logged);
  // Backed off for the maximum (a minute), not the 50 ms this fixture's ordinary failures wait: no
  // hot loop of conflicts. The wait the loop took is the one it logged.
  const std::string text = log.text();
  const auto line = text.find("getUpdates conflict (409)");
  REQUIRE(line != std::string::npos);
  CHECK(text.substr(line, text.find('\n', line) - line).find("retry_in_ms=60000") != std::string::npos);
  CHECK(f.telegram.api.requests(k_bot + "/getUpdates").size() == 1);
}

TEST_CASE("telegram polling: only the replica holding the poller lease polls - it takes over once released" *
          doctest::timeout(120)) {
  TelegramFixture f;
  LogWatch log(f.telegram.api.signal);
  // Another replica on the same state polls already.
  roundup::storage::SqliteStateStore other(f.data.path() / "state" / "bot.sqlite");
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  REQUIRE(other.hold_lease("telegram:poller:123", "replica-x", now_ms(), 600'000));
  f.start("polling");
  REQUIRE(log.wait_for("another replica holds the lease; standing by"));
  // Nothing was fetched meanwhile.
  CHECK(f.telegram.api.requests(k_bot + "/getUpdates").empty());

  // That replica stops cleanly: this one polls and answers.
  other.release_lease("telegram:poller:123", "replica-x");
  f.telegram.push(private_message(7001, "which paper showed smaller models trained on more tokens beat bigger ones?"));
  REQUIRE(log.wait_for("this replica holds the lease and does the job"));
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  // It renews the lease while it polls: the other replica cannot take it back.
  CHECK_FALSE(other.hold_lease("telegram:poller:123", "replica-x", now_ms(), 600'000));
  f.service->stop();
  // A clean stop hands the lease over at once.
  CHECK(other.hold_lease("telegram:poller:123", "replica-x", now_ms(), 600'000));
}

TEST_CASE("telegram: outbox pacing is about 1/s in private chats and 20/min in groups") {
  using roundup::adapters::telegram::TelegramService;
  const auto [private_rate, private_burst] = TelegramService::pace("telegram:42");
  const auto [group_rate, group_burst] = TelegramService::pace("telegram:-1001234");
  CHECK(private_rate == doctest::Approx(1.0));
  CHECK(group_rate * 60.0 == doctest::Approx(20.0));
  CHECK(private_burst >= 1.0);
  CHECK(group_burst >= 1.0);
}

TEST_CASE("telegram: /readyz turns not ready while getUpdates fails and ready again after" * doctest::timeout(120)) {
  TelegramFixture f;
  f.poll_stale_after = std::chrono::milliseconds(300);
  LogWatch log(f.telegram.api.signal);
  f.start("polling");
  const auto ready = [&] { return f.service->readiness_problems().empty(); };
  // Every getUpdates request wakes the waits below, so each re-reads the readiness.
  REQUIRE(f.telegram.api.signal.wait_for([&] { return !f.telegram.offsets.empty() && ready(); }));

  f.telegram.api.on(k_bot + "/getUpdates", [](const auto&) {
    return FakeApi::json_reply(R"({"ok":false,"error_code":502,"description":"Bad Gateway"})", 502);
  });
  REQUIRE(f.telegram.api.signal.wait_for([&] { return !ready(); }));
  const auto problems = f.service->readiness_problems();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "telegram_poll");

  f.telegram.api.on(k_bot + "/getUpdates",
                    [](const auto&) { return FakeApi::json_reply(R"({"ok":true,"result":[]})"); });
  CHECK(f.telegram.api.signal.wait_for(ready));
  f.service->stop();
  // Failing fast is not a stall: the loop kept retrying on its own and the watchdog left it.
  CHECK(log.text().find("polling stalled") == std::string::npos);
}

TEST_CASE("telegram: the watchdog restarts a poll loop stuck inside a round and nothing is lost" *
          doctest::timeout(120)) {
  TelegramFixture f;
  // Well above the loop's 200 ms pause between empty polls, so a healthy loop is never stale;
  // a stall is then noticed after 2 s, well inside SQLite's 10 s busy timeout below.
  f.poll_stale_after = std::chrono::milliseconds(1000);
  LogWatch log(f.telegram.api.signal);
  f.start("polling");
  REQUIRE(f.telegram.api.signal.wait_for([&] { return !f.telegram.offsets.empty(); }));

  // Another connection holds the database's write lock, so recording the next update blocks the
  // poll loop inside its round (SQLite waits up to its busy timeout): a stall, not a failure.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((f.data.path() / "state" / "bot.sqlite").c_str(), &other) == SQLITE_OK);
  sqlite3_busy_timeout(other, 10000);  // the service may be writing (the first poll's offset)
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  f.telegram.push(private_message(1, "what is Chinchilla?", 11));
  const bool restarted = log.wait_for("telegram polling stalled; restarting it");
  // Let the stuck round finish: the update is recorded, then the old loop ends and a new one polls.
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  REQUIRE(restarted);
  REQUIRE(log.wait_for("polling restarted by the watchdog"));
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  REQUIRE(f.settled());
  CHECK(f.service->readiness_problems().empty());
  f.service->stop();
  CHECK(f.telegram.sent().size() == 1);  // answered once, by whichever loop recorded it
}

TEST_CASE("telegram: a group subscribes to the digest - /reindex from a non-admin is refused" * doctest::timeout(120)) {
  TelegramFixture f;
  f.admins = {"telegram:7"};
  f.start("webhook");
  CHECK(f.post_update(group_message(1, "/subscribe@RoundupBot",
                                    json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", 21}}})))
            .status == 200);
  // Two updates acked at once are handled by two workers in either order; the checks below read
  // replies and audit rows by position, so the second is sent once the first is answered.
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 1));
  CHECK(f.post_update(
             group_message(2, "/reindex", json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", 8}}})))
            .status == 200);
  REQUIRE(f.telegram.api.wait_for(k_bot + "/sendMessage", 2));
  REQUIRE(f.settled());
  CHECK(f.service->store().subscriptions() == std::vector<std::string>{"telegram:-1001"});
  const auto sent = f.telegram.sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0]["text"].get<std::string>().find("Subscribed") != std::string::npos);
  CHECK(sent[1]["text"].get<std::string>().find("for the bot") != std::string::npos);
  const auto audit = f.service->store().audit_log(10);
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].command == "/reindex");
  CHECK(audit[0].user == "42");
  CHECK_FALSE(audit[0].allowed);
}

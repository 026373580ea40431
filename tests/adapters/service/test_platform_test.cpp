// The chat-platform port (bot/chat_platform.h) proved from outside: "testchat", a platform that
// exists only in this test binary, is added to the service's registry here and nowhere else. Its
// configuration section, environment variable, checks and id grammar are its own, read by the
// same configuration reader as Slack's; and it answers questions, keeps out unauthenticated
// requests, takes a subscription and receives the daily digest end to end, with its routes in
// /metrics and its readiness in /readyz.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/cli/library.h"
#include "adapters/http/client.h"
#include "adapters/service/service.h"
#include "bot/render_text.h"
#include "config/platform_section.h"
#include "storage/postgres_state_store.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace {

using nlohmann::json;
using roundup::adapters::http::ClientRequest;
using roundup::adapters::http::HttpsClient;
namespace bot = roundup::bot;

constexpr const char* k_token = "testchat-secret";

// Its configuration: a "testchat" section with the token webhooks must carry.
struct TestChatSettings {
  bool enabled = false;
  roundup::config::Secret token;
  bool operator==(const TestChatSettings&) const = default;
};

bool valid_room(std::string_view id) {
  return !id.empty() && id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos;
}

roundup::config::PlatformSection testchat_section() {
  using namespace roundup::config::schema;
  static const SectionSpec<TestChatSettings> spec{{secret_field("token", &TestChatSettings::token)}, {}};
  return roundup::config::make_platform_section<TestChatSettings>({
      .name = "testchat",
      .spec = []() -> const SectionSpec<TestChatSettings>& { return spec; },
      .apply_environment =
          [](TestChatSettings& settings, roundup::config::EnvironmentLookup getenv_fn) {
            return roundup::config::take_secret(getenv_fn, "ROUNDUP_TESTCHAT_TOKEN", settings.token);
          },
      .check_runnable =
          [](const TestChatSettings& settings, Problems& problems) {
            if (settings.token.empty()) problems.add("testchat.token", "required (or set ROUNDUP_TESTCHAT_TOKEN)");
          },
      .valid_channel_id = &valid_room,
      .valid_user_id = &valid_room,
      .channel_example = "testchat:room1",
      .user_example = "testchat:ann",
      .summary = [](const TestChatSettings&) { return std::string("on"); },
  });
}

// What the platform delivered, for the test to wait on.
struct Delivered {
  roundup::testing::Signal signal;
  std::vector<std::pair<std::string, std::string>> messages;  // {target, text}, under signal
  std::atomic<bool> down{false};                              // readiness: "testchat_down"
};

std::string text_payload(const bot::Answer& answer) {
  return json{{"text", bot::render_text(answer)}}.dump();
}

// A chat platform in a few dozen lines: JSON webhooks {id, chat, user, text} with a shared token
// header, plain-text replies, chats named by lower-case words.
class TestChatPlatform final : public bot::ChatPlatform {
 public:
  TestChatPlatform(const roundup::adapters::service::PlatformDeps& deps, Delivered& delivered)
      : token_(deps.config.platforms.get<TestChatSettings>("testchat")->token.value),
        inbox_(deps.inbox),
        answerer_(deps.answerer),
        delivered_(delivered) {}

  std::string_view name() const override { return "testchat"; }
  bool valid_channel_id(std::string_view id) const override { return valid_room(id); }
  std::vector<std::string> webhook_paths() const override { return {"/testchat/messages"}; }
  bool receives_webhooks() const override { return true; }
  void on_webhook(const bot::WebRequest& request, bot::WebRespond respond) override {
    const auto token = request.headers.find("x-testchat-token");
    if (token == request.headers.end() || token->second != token_) return respond({401, "text/plain", "", {}});
    const json message = json::parse(request.body, nullptr, false);
    if (!message.is_object() || !message.value("id", json()).is_string() ||
        !valid_channel_id(message.value("chat", std::string()))) {
      return respond({400, "text/plain", "", {}});
    }
    inbox_.submit_async("testchat:msg:" + message["id"].get<std::string>(), "testchat", request.body,
                        [respond](const bot::Inbox::SubmitResult& result) {
                          respond({result.error ? 503 : 200, "text/plain", "", {}});
                        });
  }

  std::vector<bot::OutgoingMessage> answer(const bot::InboundItem& item) override {
    const json message = json::parse(item.payload);
    bot::Speaker speaker{"testchat", message.value("user", ""), message["chat"], item.key, {}};
    const bot::Answer reply = answerer_(speaker, message.value("text", ""));
    return {{item.key + "#0", "testchat", "testchat:" + message["chat"].get<std::string>(), text_payload(reply)}};
  }
  std::vector<bot::OutgoingMessage> apologize(const bot::InboundItem&) const override { return {}; }
  bot::Delivery deliver(const bot::OutboxItem& item) override {
    const std::string text = json::parse(item.message.payload).at("text");
    delivered_.signal.update([&] { delivered_.messages.emplace_back(item.message.target, text); });
    return bot::Delivery::ok();
  }
  std::vector<bot::OutgoingMessage> render_post(const std::string& channel_id, const bot::Answer& answer,
                                                const std::string& key) const override {
    return {{key + "#0", "testchat", "testchat:" + channel_id, text_payload(answer)}};
  }
  std::pair<double, double> pace(const std::string&) const override { return {100.0, 100.0}; }
  void connect() override {}
  void start() override {}
  void stop() override {}
  std::vector<std::string> readiness_problems() const override {
    if (delivered_.down) return {"testchat_down"};
    return {};
  }

 private:
  std::string token_;
  bot::Inbox& inbox_;
  bot::ChatAnswerer answerer_;
  Delivered& delivered_;
};

struct TestChatRig {
  roundup::testing::TempDir data;
  Delivered delivered;
  std::shared_ptr<std::atomic<std::int64_t>> now = std::make_shared<std::atomic<std::int64_t>>(1'763'773'140);
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;
  HttpsClient client{{}};

  // `state_url`: keep the state in that PostgreSQL database instead of SQLite under data_dir.
  // `sink`: where its sender delivers, when not its own `delivered` (replicas sharing one chat).
  // `knowledge`: what it answers from, when not the bundled corpus shared by the tests.
  explicit TestChatRig(const std::string& state_url = "", Delivered* sink = nullptr,
                       std::shared_ptr<bot::Knowledge> knowledge = nullptr) {
    auto platforms = roundup::adapters::service::builtin_platforms();
    Delivered& to = sink ? *sink : delivered;
    platforms.push_back(
        {testchat_section(),
         [&to](const roundup::adapters::service::PlatformDeps& deps) -> std::unique_ptr<bot::ChatPlatform> {
           if (!deps.config.platforms.enabled("testchat")) return nullptr;
           return std::make_unique<TestChatPlatform>(deps, to);
         }});
    // Read as `serve` reads its file, with the registry's sections.
    auto config = roundup::config::parse_config(json{{"testchat", {{"token", k_token}}}},
                                                roundup::adapters::service::platform_sections(platforms));
    const auto bundled = roundup::testing::bundled_config(data.path());
    config.corpus_dir = bundled.corpus_dir;
    config.retrieval.lexicon_dir = bundled.retrieval.lexicon_dir;
    config.data_dir = bundled.data_dir;
    config.listen = "127.0.0.1:0";
    if (!state_url.empty()) {
      config.state.backend = "postgresql";
      config.state.url.value = state_url;
    }
    config.admins = {"testchat:ann"};
    config.digest.time = "09:00";
    config.digest.timezone = "Asia/Shanghai";  // 01:00 UTC; the clock starts at 00:59
    roundup::adapters::service::ServiceHooks hooks;
    hooks.wall_clock = [now = now] { return std::chrono::system_clock::time_point(std::chrono::seconds(now->load())); };
    if (!knowledge) knowledge = roundup::testing::bundled_knowledge();
    service = std::make_unique<roundup::adapters::service::Service>(config, std::move(knowledge), hooks,
                                                                    std::move(platforms));
    port = service->start();
  }

  int send(const std::string& method, const std::string& path, const std::string& body, const std::string& token) {
    ClientRequest request;
    request.method = method;
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    request.body = body;
    if (!token.empty()) request.headers = {{"X-Testchat-Token", token}};
    return client.send(request).status;
  }
  int say(const std::string& id, const std::string& chat, const std::string& text) {
    return send("POST", "/testchat/messages", json{{"id", id}, {"chat", chat}, {"user", "ann"}, {"text", text}}.dump(),
                k_token);
  }
  std::string get(const std::string& path) {
    ClientRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    return client.send(request).body;
  }
  // The n-th delivered message (0-based), waiting for it.
  std::pair<std::string, std::string> delivered_message(std::size_t n) {
    REQUIRE(delivered.signal.wait_for([&] { return delivered.messages.size() > n; }));
    return delivered.signal.read([&] { return delivered.messages[n]; });
  }
};

}  // namespace

TEST_CASE("chat platform port: a platform registered only in the test binary answers and gets digests end to end" *
          doctest::timeout(120)) {
  TestChatRig rig;

  // A question through its webhook is recorded, acked, answered by the conversation and
  // delivered through its sender, to the chat it came from.
  CHECK(rig.say("m1", "room1", "which paper showed smaller models trained on more tokens beat bigger ones?") == 200);
  const auto [target, text] = rig.delivered_message(0);
  CHECK(target == "testchat:room1");
  CHECK(text.find("Chinchilla") != std::string::npos);

  // Authentication is the platform's: no token, no record.
  CHECK(rig.send("POST", "/testchat/messages", json{{"id", "m2"}, {"chat", "room1"}, {"text", "hi"}}.dump(), "") ==
        401);
  CHECK(rig.send("POST", "/testchat/messages", "not json", k_token) == 400);
  // Its path is known to the service: another method is 405, not 404.
  CHECK(rig.send("GET", "/testchat/messages", "", "") == 405);
  CHECK(rig.send("GET", "/slack/events", "", "") == 404);  // Slack is not enabled here

  // /subscribe in room2, then the digest falls due and goes to room2 through render_post.
  CHECK(rig.say("m3", "room2", "/subscribe") == 200);
  const auto subscribed = rig.delivered_message(1);
  CHECK(subscribed.first == "testchat:room2");
  CHECK(subscribed.second.find("Subscribed") != std::string::npos);
  CHECK(rig.service->store().subscriptions() == std::vector<std::string>{"testchat:room2"});
  *rig.now += 60;  // 09:00 in Shanghai
  rig.service->run_due_digests();
  const auto digest = rig.delivered_message(2);
  CHECK(digest.first == "testchat:room2");
  CHECK(digest.second.find("Daily digest") != std::string::npos);
  CHECK(rig.service->store().last_digest_date("testchat:room2") == "2025-11-22");
  CHECK(rig.delivered.signal.read([&] { return rig.delivered.messages.size(); }) == 3);

  // Its webhook path is a route label of its own, and its readiness is part of /readyz.
  CHECK(rig.get("/metrics").find(R"(roundup_http_requests_total{route="/testchat/messages",status="401"} 1)") !=
        std::string::npos);
  CHECK(rig.get("/readyz") == "ready\n");
  rig.delivered.down = true;
  CHECK(rig.get("/readyz") == "not ready: testchat_down\n");
}

TEST_CASE("state on PostgreSQL: the service answers, subscribes and posts a digest once with its state there" *
          doctest::timeout(120)) {
  const std::string url = roundup::testing::shared_postgres().fresh_database("service");
  {
    TestChatRig rig(url);
    CHECK(rig.say("m1", "room1", "which paper showed smaller models trained on more tokens beat bigger ones?") == 200);
    CHECK(rig.delivered_message(0).second.find("Chinchilla") != std::string::npos);
    CHECK(rig.say("m1", "room1", "which paper showed smaller models trained on more tokens beat bigger ones?") == 200);
    CHECK(rig.say("m2", "room2", "/subscribe") == 200);
    CHECK(rig.delivered_message(1).second.find("Subscribed") != std::string::npos);
    *rig.now += 60;
    rig.service->run_due_digests();
    CHECK(rig.delivered_message(2).first == "testchat:room2");
    rig.service->run_due_digests();  // due once a day: nothing more
    // The sender hands the digest over before the outbox records it as sent: wait for the record.
    CHECK(roundup::testing::poll_until([&] { return rig.service->store().outbox_backlog() == 0; }));
    CHECK(rig.delivered.signal.read([&] { return rig.delivered.messages.size(); }) == 3);
    // Nothing went to SQLite.
    CHECK_FALSE(std::filesystem::exists(rig.data.path() / "state" / "bot.sqlite"));
  }
  // What a replica (or a restart) sees in the database: the work done, the subscription, the digest.
  const auto replica = roundup::storage::open_postgres_state_store(url);
  const roundup::bot::StateStore& store = *replica;
  CHECK(store.inbound_state("testchat:msg:m1") == "done");
  CHECK(store.subscriptions() == std::vector<std::string>{"testchat:room2"});
  CHECK(store.last_digest_date("testchat:room2") == "2025-11-22");
  CHECK(store.counter("digests_posted") == 1);
}

TEST_CASE("state on PostgreSQL: two replicas share one database - each question answered once, one digest" *
          doctest::timeout(120)) {
  const std::string url = roundup::testing::shared_postgres().fresh_database("replicas");
  Delivered chat;  // what both replicas' senders delivered
  TestChatRig a(url, &chat);
  TestChatRig b(url, &chat);  // its own data_dir: another replica id
  // Questions to both replicas, in the same room and in another; m1 also reaches the other replica
  // (a platform's retry that a load balancer sent elsewhere).
  const std::string question = "which paper showed smaller models trained on more tokens beat bigger ones?";
  CHECK(a.say("m1", "room1", question) == 200);
  CHECK(b.say("m2", "room1", question) == 200);
  CHECK(b.say("m1", "room1", question) == 200);
  CHECK(a.say("m3", "room2", question) == 200);
  CHECK(b.say("m4", "room2", "/subscribe") == 200);
  REQUIRE(chat.signal.wait_for([&] { return chat.messages.size() >= 4; }));
  // Both find the digest due; the database lets one of them post it.
  *a.now += 60;
  *b.now += 60;
  a.service->run_due_digests();
  b.service->run_due_digests();
  REQUIRE(chat.signal.wait_for([&] { return chat.messages.size() >= 5; }));
  // Both outboxes are empty (so nothing more is coming), and nothing came twice.
  CHECK(roundup::testing::poll_until([&] { return a.service->store().outbox_backlog() == 0; }));
  const auto messages = chat.signal.read([&] { return chat.messages; });
  CHECK(messages.size() == 5);
  const auto in = [&](const std::string& room) {
    return std::count_if(messages.begin(), messages.end(),
                         [&](const auto& m) { return m.first == "testchat:" + room; });
  };
  CHECK(in("room1") == 2);  // m1 and m2
  CHECK(in("room2") == 3);  // m3, the subscription and the digest
  CHECK(a.service->store().counter("digests_posted") == 1);
  CHECK(b.service->store().inbound_state("testchat:msg:m1") == "done");
}

TEST_CASE("state on PostgreSQL: an admin's reindex on one replica brings the other to the same index generation" *
          doctest::timeout(300)) {
  namespace fs = std::filesystem;
  const std::string url = roundup::testing::shared_postgres().fresh_database("generations");
  // One corpus directory both replicas read (a shared volume), missing its newest roundup for now.
  roundup::testing::TempDir corpus;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(std::string(ROUNDUP_SOURCE_DIR) + "/data/roundups")) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 2);
  for (std::size_t i = 0; i + 1 < files.size(); ++i) fs::copy_file(files[i], corpus.path() / files[i].filename());
  const auto library = [&](const fs::path& data_dir) {
    auto config = roundup::testing::bundled_config(data_dir);
    config.corpus_dir = corpus.path();
    auto opened = std::make_shared<roundup::adapters::cli::Library>(config);
    std::ostringstream log;
    opened->open(log);
    return opened;
  };
  roundup::testing::TempDir index_a;
  roundup::testing::TempDir index_b;
  auto knowledge_a = library(index_a.path());
  auto knowledge_b = library(index_b.path());
  const std::string before = knowledge_a->index_generation();
  REQUIRE(before.size() == 16);
  CHECK(knowledge_b->index_generation() == before);

  Delivered chat;
  TestChatRig a(url, &chat, knowledge_a);
  TestChatRig b(url, &chat, knowledge_b);
  fs::copy_file(files.back(), corpus.path() / files.back().filename());  // the new roundup arrives
  CHECK(a.say("r1", "ops", "/reindex") == 200);
  REQUIRE(chat.signal.wait_for([&] { return chat.messages.size() >= 1; }));
  const std::string after = knowledge_a->index_generation();
  CHECK(after != before);
  CHECK(knowledge_b->index_generation() == before);
  // Before b has looked, /stats says the replicas disagree.
  CHECK(b.say("s1", "ops", "/stats") == 200);
  REQUIRE(chat.signal.wait_for([&] { return chat.messages.size() >= 2; }));
  const std::string split = chat.signal.read([&] { return chat.messages[1].second; });
  CHECK(split.find("Replicas serve different indexes") != std::string::npos);
  CHECK(split.find(": index " + after) != std::string::npos);
  CHECK(split.find(": index " + before + " (this one)") != std::string::npos);

  b.service->follow_index();  // its next look (every 5 s on its own)
  CHECK(knowledge_b->index_generation() == after);
  CHECK(a.say("s2", "ops", "/stats") == 200);
  REQUIRE(chat.signal.wait_for([&] { return chat.messages.size() >= 3; }));
  const std::string joined = chat.signal.read([&] { return chat.messages[2].second; });
  CHECK(joined.find("different") == std::string::npos);
  CHECK(joined.find(": index " + after + " (this one)") != std::string::npos);
  CHECK(joined.find(": index " + before) == std::string::npos);
  // One announcement: b's rebuild was not announced back (replicas would rebuild in a loop).
  const auto announced = nlohmann::json::parse(a.service->store().value("index.reindex").value_or("{}"));
  CHECK(announced.value("seq", 0) == 1);
}

TEST_CASE("chat platform port: the test platform's configuration section is read - checked and reported by key path") {
  auto sections = roundup::adapters::service::builtin_platform_sections();
  sections.push_back(testchat_section());
  using roundup::config::ConfigError;
  using roundup::config::ConfigProblem;

  // A mistyped key is reported under its section, with the suggestion the core's tables get.
  try {
    (void)roundup::config::parse_config(json{{"testchat", {{"tokn", "x"}}}}, sections);
    FAIL("expected ConfigError");
  } catch (const ConfigError& error) {
    REQUIRE(error.problems().size() == 1);
    CHECK(error.problems()[0].path == "testchat.tokn");
    CHECK(error.problems()[0].message.find("did you mean 'token'") != std::string::npos);
  }

  // Its id grammar decides digest channels and admins; its examples are in the message.
  try {
    (void)roundup::config::parse_config(
        json{{"digest", {{"channels", {"testchat:room9", "testchat:Room 9"}}}}, {"admins", {"testchat:ann"}}},
        sections);
    FAIL("expected ConfigError");
  } catch (const ConfigError& error) {
    REQUIRE(error.problems().size() == 1);
    CHECK(error.problems()[0].path == "digest.channels[1]");
    CHECK(error.problems()[0].message.find("\"testchat:room1\"") != std::string::npos);
  }

  // Enabled by its section or by its environment variable; its own check names what is missing.
  auto config = roundup::config::parse_config(
      json{{"testchat", json::object()}, {"digest", {{"channels", {"testchat:room9"}}}}}, sections);
  CHECK(config.platforms.enabled("testchat"));
  const auto problems = roundup::config::check_runnable(config);
  CHECK(std::any_of(problems.begin(), problems.end(),
                    [](const ConfigProblem& problem) { return problem.path == "testchat.token"; }));
  auto from_env = roundup::config::default_config(sections);
  CHECK_FALSE(from_env.platforms.enabled("testchat"));
  roundup::config::apply_environment(from_env, [](const char* name) -> const char* {
    return std::string_view(name) == "ROUNDUP_TESTCHAT_TOKEN" ? "from-env" : nullptr;
  });
  CHECK(from_env.platforms.enabled("testchat"));
  CHECK(from_env.platforms.get<TestChatSettings>("testchat")->token.value == "from-env");
  // A digest channel on a platform that is not enabled is reported, whichever platform it is.
  auto disabled = roundup::config::parse_config(json{{"digest", {{"channels", {"testchat:room9"}}}}}, sections);
  const auto disabled_problems = roundup::config::check_runnable(disabled);
  CHECK(std::any_of(disabled_problems.begin(), disabled_problems.end(),
                    [](const ConfigProblem& problem) { return problem.path == "digest.channels[0]"; }));
}

// The service's operational surface: /metrics reads gauges a background refresher computes (a
// scrape never queries the state database), /readyz answers with reason codes and keeps error
// text for the log, and refused requests cannot flood the log.

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/service/service.h"
#include "tests/support/fake_api.h"
#include "tests/support/log_watch.h"
#include "tests/support/metrics_text.h"
#include "tests/support/second_connection.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_rig.h"

namespace {

using roundup::adapters::http::ClientRequest;
using roundup::adapters::http::ClientResponse;
using roundup::adapters::http::HttpsClient;
using roundup::testing::FakeApi;

struct ServiceRig {
  roundup::testing::TempDir data;
  FakeApi api;
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;
  HttpsClient client{{}};
  int refreshes = 0;  // under api.signal

  explicit ServiceRig(const std::string& platform,
                      std::shared_ptr<roundup::bot::Knowledge> knowledge = roundup::testing::bundled_knowledge(),
                      std::vector<std::string> admins = {},
                      const std::function<void(roundup::config::Config&)>& adjust = {}) {
    roundup::testing::serve_platform_api(api, platform);
    auto config = roundup::testing::webhook_config(data.path(), platform, api);
    config.admins = std::move(admins);
    if (adjust) adjust(config);
    roundup::adapters::service::ServiceHooks hooks;
    hooks.tls_ca_only = true;
    hooks.unix_seconds = [] { return roundup::testing::k_rig_now; };
    // Never during a test: each refresh here is one the test asks for.
    hooks.gauge_refresh_period = std::chrono::hours(1);
    hooks.on_gauges_refreshed = [this] { api.signal.update([&] { ++refreshes; }); };
    service = std::make_unique<roundup::adapters::service::Service>(config, std::move(knowledge), hooks);
    port = service->start();
  }

  std::filesystem::path database() const { return data.path() / "state" / "bot.sqlite"; }

  ClientResponse get(const std::string& path) {
    ClientRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    return client.send(request);
  }
  // A private-chat question from Telegram user 42, through the webhook; the ack's status.
  int ask_on_telegram(int update_id, const std::string& text) {
    const nlohmann::json update = {{"update_id", update_id},
                                   {"message",
                                    {{"message_id", 10 + update_id},
                                     {"from", {{"id", 42}, {"is_bot", false}, {"first_name", "Ada"}}},
                                     {"chat", {{"id", 42}, {"type", "private"}}},
                                     {"date", 1700000000},
                                     {"text", text}}}};
    return post("/telegram/webhook", update.dump(),
                {{"X-Telegram-Bot-Api-Secret-Token", roundup::testing::k_rig_tg_secret},
                 {"Content-Type", "application/json"}})
        .status;
  }
  // /reindex from Telegram user 42 in a private chat, through the webhook; the ack's status.
  int reindex_on_telegram() {
    const nlohmann::json update = {
        {"update_id", 1},
        {"message",
         {{"message_id", 10},
          {"from", {{"id", 42}, {"is_bot", false}, {"first_name", "Ada"}}},
          {"chat", {{"id", 42}, {"type", "private"}}},
          {"date", 1700000000},
          {"text", "/reindex"},
          {"entities", nlohmann::json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", 8}}})}}}};
    return post("/telegram/webhook", update.dump(),
                {{"X-Telegram-Bot-Api-Secret-Token", roundup::testing::k_rig_tg_secret},
                 {"Content-Type", "application/json"}})
        .status;
  }
  ClientResponse post(const std::string& target, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers) {
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port) + target;
    request.body = body;
    request.headers = std::move(headers);
    return client.send(request);
  }
};

// The bundled knowledge base answering, under a test's own reindex().
class BundledWithReindex : public roundup::bot::Knowledge {
 public:
  roundup::bot::Answer answer(std::string_view input, const roundup::bot::CommandSpelling& commands) const override {
    return inner_->answer(input, commands);
  }
  roundup::bot::Answer follow_up(const roundup::bot::FollowUpQuestion& question,
                                 const roundup::bot::CommandSpelling& commands) const override {
    return inner_->follow_up(question, commands);
  }
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine() const override { return inner_->engine(); }
  std::vector<std::string> stats_lines() const override { return inner_->stats_lines(); }
  std::uintmax_t index_bytes() const override { return 1000; }

 private:
  std::shared_ptr<roundup::bot::Knowledge> inner_ = roundup::testing::bundled_knowledge();
};

// Its index "grows" by 1000 bytes at each reindex.
class GrowingKnowledge final : public BundledWithReindex {
 public:
  ReindexOutcome reindex() override {
    bytes_ += 1000;
    return {true, "reindexed", false};
  }
  std::uintmax_t index_bytes() const override { return bytes_.load(); }

 private:
  std::atomic<std::uintmax_t> bytes_{1000};
};

// Its reindex leaves behind what a real one does: the new index allocated while the old one is
// alive, then the old one freed, in pieces between the new one's that the allocator keeps as
// holes. 48 MiB churned, 3 MiB kept.
class FragmentingKnowledge final : public BundledWithReindex {
 public:
  ReindexOutcome reindex() override {
    constexpr std::size_t k_block = 4096;
    std::vector<std::unique_ptr<char[]>> blocks(12288);
    for (auto& block : blocks) {
      block = std::make_unique<char[]>(k_block);
      std::memset(block.get(), 1, k_block);
    }
    kept_.clear();
    for (std::size_t i = 0; i < blocks.size(); i += 16) kept_.push_back(std::move(blocks[i]));
    return {true, "reindexed", false};
  }

 private:
  std::vector<std::unique_ptr<char[]>> kept_;
};

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Lines of `text` containing `part`.
std::size_t count_lines(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("service metrics: a scrape reads the refresher's cached gauges, not the state database" *
          doctest::timeout(120)) {
  ServiceRig rig("slack");
  const auto before = rig.get("/metrics");
  REQUIRE(before.status == 200);
  CHECK(roundup::testing::sample_value(before.body, "roundup_digests_posted") == "0");

  // Another process changes the database and then holds its write lock. A scrape still answers at
  // once with the value the refresher last saw: it does not look at the database.
  roundup::testing::exec_on(rig.database(),
                            "INSERT INTO counters(name, value) VALUES ('digests_posted', 5) "
                            "ON CONFLICT(name) DO UPDATE SET value = 5");
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(rig.database().c_str(), &other) == SQLITE_OK);
  sqlite3_busy_timeout(other, 10000);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto stale = rig.get("/metrics");
  const auto ready = rig.get("/readyz");
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(stale.status == 200);
  CHECK(roundup::testing::sample_value(stale.body, "roundup_digests_posted") == "0");
  CHECK(roundup::testing::sample_value(stale.body, "roundup_outbox_backlog") == "0");
  CHECK(roundup::testing::sample_number(stale.body, "roundup_index_size_bytes") > 0);
  CHECK(ready.status == 200);

  // The next refresh picks the change up.
  rig.service->refresh_gauges();
  CHECK(roundup::testing::sample_value(rig.get("/metrics").body, "roundup_digests_posted") == "5");
}

TEST_CASE("service metrics: an admin's reindex refreshes the cached gauges" * doctest::timeout(120)) {
  ServiceRig rig("telegram", std::make_shared<GrowingKnowledge>(), {"telegram:42"});
  CHECK(roundup::testing::sample_value(rig.get("/metrics").body, "roundup_index_size_bytes") == "1000");
  const int refreshes_before = rig.api.signal.read([&] { return rig.refreshes; });
  REQUIRE(rig.reindex_on_telegram() == 200);
  // The refresher runs after the reindex, not on its hour-long period.
  REQUIRE(rig.api.signal.wait_for([&] { return rig.refreshes > refreshes_before; }));
  CHECK(roundup::testing::sample_value(rig.get("/metrics").body, "roundup_index_size_bytes") == "2000");
}

// Found by the soak test (scripts/soak.sh): with an admin /reindex every few seconds the process's
// RSS kept growing while the memory in use did not (glibc kept the old indexes' pages in its arenas).
TEST_CASE("service: an admin's reindex gives the memory the old index freed back to the system" *
          doctest::timeout(120)) {
  ServiceRig rig("telegram", std::make_shared<FragmentingKnowledge>(), {"telegram:42"});
  const long before = rss_kib();
  const int refreshes_before = rig.api.signal.read([&] { return rig.refreshes; });
  REQUIRE(rig.reindex_on_telegram() == 200);
  // The refresher runs right after the reindex (not on its hour-long period here).
  REQUIRE(rig.api.signal.wait_for([&] { return rig.refreshes > refreshes_before; }));
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator quarantines freed memory: RSS says nothing about glibc there.
  (void)before;
#else
  CHECK(rss_kib() - before < 24 * 1024);
#endif
}

TEST_CASE("service readiness: reason codes only - the database's error goes to the log, once" * doctest::timeout(120)) {
  ServiceRig rig("slack");
  roundup::testing::LogWatch log(rig.api.signal);
  CHECK(rig.get("/readyz").body == "ready\n");

  // The refresher's query fails (as it would on a damaged or vanished database).
  roundup::testing::exec_on(rig.database(), "ALTER TABLE counters RENAME TO counters_moved");
  rig.service->refresh_gauges();
  rig.service->refresh_gauges();
  const auto not_ready = rig.get("/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body == "not ready: state_db\n");
  CHECK(rig.service->readiness_problems() == std::vector<std::string>{"state_db"});
  CHECK(roundup::testing::sample_value(rig.get("/metrics").body, "roundup_ready") == "0");

  roundup::testing::exec_on(rig.database(), "ALTER TABLE counters_moved RENAME TO counters");
  rig.service->refresh_gauges();
  CHECK(rig.get("/readyz").body == "ready\n");
  rig.service->stop();
  const std::string text = log.text();
  // The operator sees what failed, once per outage, and when it recovered.
  CHECK(count_lines(text, "the state database does not answer") == 1);
  CHECK(text.find("no such table: counters") != std::string::npos);
  CHECK(count_lines(text, "the state database answers again") == 1);
}

// Answers wait until the test releases them: a handler that runs past inbox.handler_timeout_ms.
class HeldKnowledge final : public roundup::bot::Knowledge {
 public:
  roundup::bot::Answer answer(std::string_view input, const roundup::bot::CommandSpelling& commands) const override {
    std::unique_lock lock(mutex_);
    released_changed_.wait(lock, [&] { return released_; });
    return inner_->answer(input, commands);
  }
  roundup::bot::Answer follow_up(const roundup::bot::FollowUpQuestion& question,
                                 const roundup::bot::CommandSpelling& commands) const override {
    return answer(question.text, commands);
  }
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine() const override { return inner_->engine(); }
  ReindexOutcome reindex() override { return inner_->reindex(); }
  std::vector<std::string> stats_lines() const override { return inner_->stats_lines(); }
  std::uintmax_t index_bytes() const override { return inner_->index_bytes(); }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    released_changed_.notify_all();
  }

 private:
  std::shared_ptr<roundup::bot::Knowledge> inner_ = roundup::testing::bundled_knowledge();
  mutable std::mutex mutex_;
  mutable std::condition_variable released_changed_;
  bool released_ = false;
};

TEST_CASE("service readiness: workers_stuck while every worker's question is past inbox.handler_timeout_ms" *
          doctest::timeout(120)) {
  auto knowledge = std::make_shared<HeldKnowledge>();
  ServiceRig rig("telegram", knowledge, {}, [](roundup::config::Config& config) {
    config.workers = 1;
    config.inbox.handler_timeout_ms = 100;
  });
  // Released however the test ends, so stop() never waits on a held answer.
  struct Release {
    HeldKnowledge& knowledge;
    ~Release() { knowledge.release(); }
  } release{*knowledge};
  roundup::testing::LogWatch log(rig.api.signal);
  CHECK(rig.get("/readyz").body == "ready\n");
  REQUIRE(rig.ask_on_telegram(1, "which paper is about chinchilla?") == 200);
  REQUIRE(log.wait_for("handler still running after the handler timeout"));
  const auto held = rig.get("/readyz");
  CHECK(held.status == 503);
  CHECK(held.body == "not ready: workers_stuck\n");

  knowledge->release();
  REQUIRE(rig.api.wait_for(roundup::testing::k_rig_tg_bot + "/sendMessage", 1));
  // The worker lets go of the item just after recording it done, which can be just after the
  // reply went out: ask again until it has (each GET is a round trip; bounded).
  bool ready = false;
  for (int i = 0; i < 10000 && !ready; ++i) ready = rig.get("/readyz").body == "ready\n";
  CHECK(ready);
}

TEST_CASE("service: refused webhook requests are logged once per reason per interval, with the target cut" *
          doctest::timeout(120)) {
  const std::string long_query = "?" + std::string(4000, 'q');
  SUBCASE("slack bad signatures") {
    ServiceRig rig("slack");
    roundup::testing::LogWatch log(rig.api.signal);
    for (int i = 0; i < 40; ++i) {
      const auto response = rig.post("/slack/events" + long_query, roundup::testing::mention_event("Ev1", "hi"),
                                     {{"X-Slack-Request-Timestamp", std::to_string(roundup::testing::k_rig_now)},
                                      {"X-Slack-Signature", "v0=00"},
                                      {"Content-Type", "application/json"}});
      CHECK(response.status == 401);
    }
    rig.service->stop();
    const std::string text = log.text();
    // At most one line per 10 s: 40 local requests take far less (2 allows for a slow machine
    // crossing one boundary).
    const auto lines = count_lines(text, "rejected an unauthenticated request");
    CHECK(lines >= 1);
    CHECK(lines <= 2);
    CHECK(text.find(std::string(200, 'q')) == std::string::npos);
  }
  SUBCASE("telegram wrong secret token") {
    ServiceRig rig("telegram");
    roundup::testing::LogWatch log(rig.api.signal);
    for (int i = 0; i < 40; ++i) {
      const auto response =
          rig.post("/telegram/webhook" + long_query, R"({"update_id":1})",
                   {{"X-Telegram-Bot-Api-Secret-Token", "wrong"}, {"Content-Type", "application/json"}});
      CHECK(response.status == 401);
    }
    rig.service->stop();
    const std::string text = log.text();
    const auto lines = count_lines(text, "missing or wrong secret token");
    CHECK(lines >= 1);
    CHECK(lines <= 2);
    CHECK(text.find(std::string(200, 'q')) == std::string::npos);
  }
}

namespace {

// A TCP connection from a chosen loopback address that sends nothing: one unit of an idle flood.
class IdleSocket {
 public:
  IdleSocket(const char* source, unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    timeval timeout{20, 0};  // turns a server bug into a failed test, never a hung one
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot connect from the flood's address");
    }
  }
  ~IdleSocket() { ::close(fd_); }
  IdleSocket(const IdleSocket&) = delete;
  IdleSocket& operator=(const IdleSocket&) = delete;

  // One request and the whole reply (the request asks the server to close after it).
  std::string exchange(const std::string& request) const {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return {};
    std::string reply;
    char chunk[4096];
    for (ssize_t n; (n = ::recv(fd_, chunk, sizeof chunk, 0)) > 0;) reply.append(chunk, static_cast<std::size_t>(n));
    return reply;
  }

 private:
  int fd_;
};

double refused_connections(ServiceRig& rig, const std::string& reason, unsigned short port) {
  ClientRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  const auto text = rig.client.send(request).body;
  if (text.find("roundup_http_connections_refused_total{reason=\"" + reason + "\"}") == std::string::npos) return 0;
  return roundup::testing::sample_number(text, "roundup_http_connections_refused_total{reason=\"" + reason + "\"}");
}

constexpr int k_flood = 300;

}  // namespace

TEST_CASE("service: under an idle-connection flood, health checks and deliveries keep working" *
          doctest::timeout(120)) {
  SUBCASE("one peer holds its share and no more") {
    ServiceRig rig("telegram", roundup::testing::bundled_knowledge(), {},
                   [](roundup::config::Config& config) { config.http.max_connections_per_peer = 16; });
    std::vector<std::unique_ptr<IdleSocket>> flood;
    for (int i = 0; i < k_flood; ++i) flood.push_back(std::make_unique<IdleSocket>("127.0.0.10", rig.port));
    // All but the first 16 are closed at accept; wait until the server has seen most of them.
    double refused = 0;
    for (int i = 0; i < 10000 && refused < k_flood / 2; ++i) refused = refused_connections(rig, "peer_full", rig.port);
    CHECK(refused >= k_flood / 2);
    CHECK(refused <= k_flood - 16);

    // Another peer: health checks and readiness are answered.
    CHECK(rig.get("/healthz").status == 200);
    CHECK(rig.get("/readyz").body == "ready\n");
    // And a question is answered: the webhook's ack, then the outbound delivery.
    CHECK(rig.ask_on_telegram(7, "which paper is about chinchilla?") == 200);
    CHECK(rig.api.wait_for(roundup::testing::k_rig_tg_bot + "/sendMessage", 1));
  }
  SUBCASE("many peers fill the server: metrics_listen keeps health checks apart") {
    ServiceRig rig("telegram", roundup::testing::bundled_knowledge(), {}, [](roundup::config::Config& config) {
      config.http.max_connections = 16;
      config.metrics_listen = "127.0.0.1:0";
    });
    const auto metrics_port = rig.service->metrics_port();
    std::vector<std::unique_ptr<IdleSocket>> flood;
    for (int i = 0; i < k_flood; ++i) {
      const std::string source = "127.0.1." + std::to_string(1 + i % 200);
      flood.push_back(std::make_unique<IdleSocket>(source.c_str(), rig.port));
    }
    double refused = 0;
    for (int i = 0; i < 10000 && refused < k_flood / 2; ++i) {
      refused = refused_connections(rig, "server_full", metrics_port);
    }
    CHECK(refused >= k_flood / 2);
    // The webhook listener is full; the internal one answers.
    IdleSocket probe("127.0.0.2", metrics_port);
    const auto reply = probe.exchange("GET /readyz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n");
    CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(reply.find("\r\n\r\nready\n") != std::string::npos);
  }
}

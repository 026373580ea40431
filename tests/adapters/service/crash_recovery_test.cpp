// `roundup-bot serve` as a real process, killed with SIGKILL after it acknowledged a question but
// before the answer was delivered: the restarted process delivers that answer exactly once.

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "adapters/slack/signature.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_api.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_tls.h"
#include "tests/support/webhook_rig.h"

namespace {

using nlohmann::json;
using roundup::testing::ChildProcess;
using roundup::testing::FakeApi;
using roundup::testing::TempDir;

constexpr const char* k_secret = roundup::testing::k_rig_slack_secret;

std::string write_config(const TempDir& tmp, const FakeApi& slack) {
  const std::string root = ROUNDUP_SOURCE_DIR;
  const auto file = tmp / "config.json";
  std::ofstream(file)
      << json{{"corpus_dir", root + "/data/roundups"},
              {"data_dir", (tmp / "var").string()},
              {"listen", "127.0.0.1:0"},
              {"retrieval", {{"lexicon_dir", root + "/data/lexicon"}}},
              {"tls", {{"ca_file", roundup::testing::test_pki().ca_file}}},
              {"slack",
               {{"signing_secret", k_secret}, {"bot_token", "xoxb-test-token"}, {"api_base", slack.base() + "/api"}}}}
             .dump();
  return file.string();
}

// Starts `serve` and returns its HTTP port once it listens.
std::string start(ChildProcess& serve) {
  const auto listening = serve.read_until("msg=listening");
  REQUIRE_MESSAGE(listening, serve.seen());
  const auto port_at = listening->find("port=");
  REQUIRE(port_at != std::string::npos);
  return listening->substr(port_at + 5, listening->find_first_of(" \n", port_at) - port_at - 5);
}

int post_signed_event(const std::string& port, const std::string& body) {
  const std::string ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  roundup::adapters::http::HttpsClient client;
  roundup::adapters::http::ClientRequest request;
  request.url = "http://127.0.0.1:" + port + "/slack/events";
  request.body = body;
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Slack-Request-Timestamp", ts},
                     {"X-Slack-Signature", roundup::adapters::slack::compute_signature(k_secret, ts, body)}};
  return client.send(request).status;
}

}  // namespace

TEST_CASE("crash recovery: SIGKILL between accepting a question and delivering its answer" * doctest::timeout(240)) {
  TempDir tmp;
  FakeApi slack;
  slack.on("/api/auth.test", [](const auto&) {
    return FakeApi::json_reply(R"({"ok":true,"user_id":"UBOT","bot_id":"BBOT","team":"Test"})");
  });
  // The first attempt is refused with a rate limit, so the answer sits undelivered in the outbox
  // when the process is killed; every later attempt succeeds. The kill must land within the
  // Retry-After, or the first process delivers the answer itself: 3 s leaves room on a loaded
  // machine, and the restarted process waits out what is left of it.
  roundup::adapters::http::Response limited = FakeApi::json_reply(R"({"ok":false,"error":"ratelimited"})", 429);
  limited.headers.emplace_back("Retry-After", "3");
  slack.script("/api/chat.postMessage", limited);
  slack.on("/api/chat.postMessage", [](const auto&) { return FakeApi::json_reply(R"({"ok":true,"ts":"1.1"})"); });
  const std::string config = write_config(tmp, slack);

  const std::string event = roundup::testing::mention_event(
      "EvCRASH1", "<@UBOT> which paper showed smaller models trained on more tokens beat bigger ones?");
  {
    ChildProcess first({ROUNDUP_BINARY, "--config", config, "serve"}, tmp.path());
    const std::string port = start(first);
    REQUIRE(post_signed_event(port, event) == 200);  // acknowledged: Slack will not send it again
    REQUIRE(slack.wait_for("/api/chat.postMessage", 1));
    first.signal(SIGKILL);
    first.wait();
  }
  CHECK(slack.requests("/api/chat.postMessage").size() == 1);  // refused, so nothing was posted yet

  ChildProcess second({ROUNDUP_BINARY, "--config", config, "serve"}, tmp.path());
  const std::string port = start(second);
  REQUIRE(slack.wait_for("/api/chat.postMessage", 2));
  // Slack retries an event whose ack it never saw; the restarted bot recognises it.
  REQUIRE(post_signed_event(port, event) == 200);
  second.signal(SIGTERM);
  REQUIRE(second.read_until("msg=stopped"));
  CHECK(second.wait() == 0);
  // Nothing is left to answer or send: the redelivered event did not queue a second answer.
  roundup::storage::SqliteStateStore store(tmp / "var" / "state" / "bot.sqlite");
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.outbox_backlog() == 0);

  const auto posts = slack.requests("/api/chat.postMessage");
  REQUIRE(posts.size() == 2);  // the refused attempt, then exactly one delivery
  const json delivered = json::parse(posts[1].request.body);
  CHECK(delivered["channel"] == "C1");
  CHECK(delivered["thread_ts"] == "1700000000.000100");
  CHECK(delivered.dump().find("Training Compute-Optimal Large Language Models") != std::string::npos);
}

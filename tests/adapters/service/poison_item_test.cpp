// The crash loop of issue 12: one item whose handling takes the process down must not take it
// down at every start. A helper process (tests/adapters/service/poison_child.cpp) runs the inbox with a
// handler that aborts on the poison item; it is restarted after each crash, as systemd or
// Kubernetes would, until it exits on its own.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

namespace {

using StateStore = roundup::storage::SqliteStateStore;
using roundup::testing::TempDir;

constexpr int k_sigabrt_exit = 128 + 6;

}  // namespace

TEST_CASE("poison item: a handler that aborts the process is quarantined after restarts and the rest answered" *
          doctest::timeout(240)) {
  TempDir tmp;
  const auto file = tmp / "bot.sqlite";
  const std::vector<std::string> innocent = {"k1", "k2", "k3", "k4", "k5"};
  {
    StateStore store(file);
    // Oldest first: the poison item is the first a start picks up, with the others right behind.
    REQUIRE(store.accept_inbound("poison", "fake", "poison: a user's private question", 10, {}));
    for (const auto& key : innocent) REQUIRE(store.accept_inbound(key, "fake", "fine", 10, {}));
  }

  std::vector<int> exits;
  std::string last_log;
  std::string all_logs;
  // Three runs crash (max_attempts = 3); the fourth quarantines and finishes. Two more allowed, so
  // a regression shows as a wrong sequence rather than a hang.
  for (int run = 0; run < 6; ++run) {
    const auto result = roundup::testing::run_process({ROUNDUP_POISON_CHILD, file.string()}, tmp.path());
    exits.push_back(result.exit_code);
    all_logs += result.err;
    last_log = result.err;
    if (result.exit_code != k_sigabrt_exit) break;
  }
  CHECK(exits == std::vector<int>{k_sigabrt_exit, k_sigabrt_exit, k_sigabrt_exit, 0});

  StateStore store(file);
  CHECK(store.pending_inbound(10).empty());
  CHECK(store.inbound_state("poison") == "quarantined");
  const auto apology = store.outbox_head("fake:poison");
  REQUIRE(apology);
  CHECK(apology->item.message.payload == "sorry:poison");
  for (const auto& key : innocent) {
    CAPTURE(key);
    CHECK(store.inbound_state(key) == "done");
    const auto answer = store.outbox_head("fake:" + key);
    REQUIRE(answer);
    CHECK(answer->item.message.payload == "answer:" + key);
  }
  // One line says so, with the key, the platform and the attempts, and never the user's text.
  const auto line_at = last_log.find("item quarantined");
  REQUIRE_MESSAGE(line_at != std::string::npos, last_log);
  const std::string line = last_log.substr(line_at, last_log.find('\n', line_at) - line_at);
  CHECK(line.find("key=poison") != std::string::npos);
  CHECK(line.find("platform=fake") != std::string::npos);
  CHECK(line.find("attempts=3") != std::string::npos);
  CHECK(all_logs.find("private question") == std::string::npos);

  // A restart after that does not crash: nothing is left to handle.
  const auto again = roundup::testing::run_process({ROUNDUP_POISON_CHILD, file.string()}, tmp.path());
  CHECK(again.exit_code == 0);
}

// The service forgets finished work older than a week as it starts (and hourly after that), so the
// state database does not grow without bound; newer work, and with it dedupe, stays.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "adapters/service/service.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/fake_api.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_rig.h"

namespace {

std::int64_t days_ago_ms(int days) {
  const auto at = std::chrono::system_clock::now() - std::chrono::hours(24 * days);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// A finished question from `days` ago, with its delivered reply.
void finished_question(roundup::bot::StateStore& store, const std::string& key, int days) {
  const auto id = store.accept_inbound(key, "slack", "{}", days_ago_ms(days), {});
  REQUIRE(id);
  store.complete_inbound(*id, {{key + "#0", "slack", "slack:C1", "{}"}}, days_ago_ms(days));
  const auto head = store.outbox_head("slack:C1");
  REQUIRE(head);
  store.mark_delivered(head->item.id, days_ago_ms(days));
}

}  // namespace

TEST_CASE("service: finished work older than a week is pruned at start - newer work stays") {
  roundup::testing::TempDir data;
  const auto database = data.path() / "state" / "bot.sqlite";
  {
    roundup::storage::SqliteStateStore store(database);
    finished_question(store, "slack:event:EvOld", 8);
    finished_question(store, "slack:event:EvRecent", 6);
    CHECK(store.outbox_state("slack:event:EvOld#0") == "delivered");
  }

  {
    roundup::testing::FakeApi api;
    roundup::testing::serve_platform_api(api, "slack");
    roundup::adapters::service::ServiceHooks hooks;
    hooks.tls_ca_only = true;
    roundup::adapters::service::Service service(roundup::testing::webhook_config(data.path(), "slack", api),
                                                roundup::testing::bundled_knowledge(), hooks);
    service.start();
    service.stop();
  }

  roundup::storage::SqliteStateStore store(database);
  // The old question is forgotten: the same key would be taken as new work now.
  CHECK_FALSE(store.outbox_state("slack:event:EvOld#0"));
  CHECK(store.accept_inbound("slack:event:EvOld", "slack", "{}", days_ago_ms(0), {}));
  // The recent one is still known, so a late retry of it is still a duplicate.
  CHECK(store.outbox_state("slack:event:EvRecent#0") == "delivered");
  CHECK_FALSE(store.accept_inbound("slack:event:EvRecent", "slack", "{}", days_ago_ms(0), {}));
}

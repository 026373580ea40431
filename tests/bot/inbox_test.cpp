#include "bot/inbox.h"

#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace {

using roundup::bot::Delivery;
using roundup::bot::InboundItem;
using roundup::bot::Inbox;
using roundup::bot::InboxOptions;
using roundup::bot::OutboxItem;
using roundup::bot::OutgoingMessage;
using roundup::bot::StateStore;
using roundup::testing::Signal;
using roundup::testing::TempDir;

std::vector<OutgoingMessage> echo(const InboundItem& item) {
  return {{item.key + "#0", "fake", "fake:" + item.payload, item.payload}};
}

struct Delivered {
  Signal signal;
  std::vector<std::string> payloads;
  Delivery operator()(const OutboxItem& item) {
    signal.update([&] { payloads.push_back(item.message.payload); });
    return Delivery::ok();
  }
};

}  // namespace

TEST_CASE("inbox: each key is handled and answered exactly once") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  Inbox inbox(store, outbox, {});
  inbox.add_handler("fake", echo);
  outbox.start();
  inbox.start();
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::accepted);
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::duplicate);
  CHECK(inbox.submit("k2", "fake", "b") == Inbox::Submitted::accepted);
  CHECK(inbox.submit("k2", "fake", "b") == Inbox::Submitted::duplicate);
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 2; }));
  inbox.stop();
  outbox.stop();
  CHECK(std::multiset<std::string>(delivered.payloads.begin(), delivered.payloads.end()) ==
        std::multiset<std::string>{"a", "b"});
}

TEST_CASE("inbox: work left pending by a previous run is handled at start") {
  TempDir dir;
  const auto file = dir / "bot.sqlite";
  {
    StateStore store(file);
    roundup::bot::Outbox outbox(store, {});
    Inbox inbox(store, outbox, {});  // never started: as if the process died after the ack
    CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::accepted);
  }
  StateStore store(file);
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  Inbox inbox(store, outbox, {});
  inbox.add_handler("fake", echo);
  CHECK(inbox.submit("k1", "fake", "a") == Inbox::Submitted::duplicate);
  outbox.start();
  inbox.start();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  inbox.stop();
  outbox.stop();
  CHECK(store.pending_inbound(10).empty());
}

TEST_CASE("inbox: a full queue keeps the overflow in the database, nothing is lost") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  InboxOptions options;
  options.workers = 1;
  options.queue_limit = 2;
  Inbox inbox(store, outbox, options);
  inbox.add_handler("fake", echo);
  for (int i = 0; i < 20; ++i) {
    CHECK(inbox.submit("k" + std::to_string(i), "fake", std::to_string(i)) == Inbox::Submitted::accepted);
  }
  outbox.start();
  inbox.start();
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 20; }));
  inbox.stop();
  outbox.stop();
  CHECK(std::set<std::string>(delivered.payloads.begin(), delivered.payloads.end()).size() == 20);
}

TEST_CASE("inbox: a throwing handler does not stop the workers") {
  TempDir dir;
  StateStore store(dir / "bot.sqlite");
  roundup::bot::Outbox outbox(store, {});
  Delivered delivered;
  outbox.add_sender("fake", [&](const OutboxItem& item) { return delivered(item); });
  Inbox inbox(store, outbox, {});
  inbox.add_handler("fake", [](const InboundItem& item) -> std::vector<OutgoingMessage> {
    if (item.payload == "boom") throw std::runtime_error("handler bug");
    return echo(item);
  });
  outbox.start();
  inbox.start();
  inbox.submit("k1", "fake", "boom");
  inbox.submit("k2", "fake", "fine");
  REQUIRE(delivered.signal.wait_for([&] { return delivered.payloads.size() == 1; }));
  inbox.stop();
  outbox.stop();
  CHECK(delivered.payloads == std::vector<std::string>{"fine"});
  CHECK(store.pending_inbound(10).empty());
}

// A process that runs an inbox over a state database until it has nothing left to do, with a
// handler that aborts the process on any item whose payload contains "poison": the poison-item
// test restarts it as systemd or Kubernetes would. Exit 0 when everything was handled, 3 when the
// inbox did not become idle in time; an abort ends it with SIGABRT.
//
// Usage: roundup_poison_child <state database>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bot/inbox.h"
#include "bot/outbox.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "telemetry/metrics.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: roundup_poison_child <state database>\n";
    return 2;
  }
  // The aborts are expected: no core files.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  using roundup::bot::InboundItem;
  using roundup::bot::OutgoingMessage;
  roundup::storage::SqliteStateStore store(argv[1]);
  // Never started: the replies stay in the outbox, where the test reads them.
  roundup::bot::Outbox outbox(store, {});
  roundup::telemetry::Registry registry;
  roundup::bot::InboxOptions options;
  options.workers = 4;
  options.max_attempts = 3;
  options.registry = &registry;
  roundup::bot::Inbox inbox(store, outbox, options);
  inbox.add_handler(
      "fake",
      [](const InboundItem& item) {
        if (item.payload.find("poison") != std::string::npos) std::abort();
        return std::vector<OutgoingMessage>{{item.key + "#0", "fake", "fake:" + item.key, "answer:" + item.key}};
      },
      [](const InboundItem& item) {
        return std::vector<OutgoingMessage>{{item.key + "#0", "fake", "fake:" + item.key, "sorry:" + item.key}};
      });
  inbox.start();
  const bool idle = inbox.wait_until_idle(std::chrono::seconds(60));
  inbox.stop();
  return idle ? 0 : 3;
}

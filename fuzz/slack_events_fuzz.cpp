// libFuzzer target for Slack Events API bodies (adapters/slack/events.h): what POST /slack/events
// does with a body once its signature is verified. Slack signs what it sends, but the body's
// shape is still Slack's to change and ours to survive, and the event text is a user's. Seeds:
// fuzz/corpus/slack_events_fuzz (the envelopes of tests/adapters/slack/events_test.cpp).
//
// Properties (fuzz/slack_checks.h): a decision is consistent with its action; an answered event
// has a user other than the bot, a channel, a thread, the dedupe key of its event_id and trimmed
// UTF-8 text. plain_text() is also run on the raw bytes, as any message text.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "adapters/slack/events.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/slack_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = roundup::fuzz::as_text(data, size);
  (void)roundup::adapters::slack::plain_text(body, roundup::fuzz::k_bot_user);
  // The route answers 400 to anything but a JSON object, before interpreting it.
  const nlohmann::json envelope = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object()) return 0;
  roundup::fuzz::check_event_decision(envelope);
  return 0;
}

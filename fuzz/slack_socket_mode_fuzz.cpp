// libFuzzer target for Socket Mode frames (adapters/slack/socket_mode.h decode_socket_message and
// socket_ack): each websocket message Slack sends, and what the service makes of an envelope's
// payload (an Events API envelope, or a slash command's fields; adapters/slack/events.h). Seeds:
// fuzz/corpus/slack_socket_mode_fuzz (hello, disconnect and envelopes as in platforms.md and
// tests/adapters/slack/socket_mode_test.cpp).
//
// Properties: an envelope has an envelope_id and its ack is JSON naming that id (with the reply
// as payload); only events_api, slash_commands and interactive envelopes are dispatched; the
// decisions on their payloads are consistent (fuzz/slack_checks.h).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "adapters/slack/events.h"
#include "adapters/slack/mrkdwn.h"
#include "adapters/slack/socket_mode.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/slack_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nlohmann::json;
  using roundup::adapters::slack::SocketMessage;
  const SocketMessage message = roundup::adapters::slack::decode_socket_message(roundup::fuzz::as_text(data, size));
  if (message.kind != SocketMessage::Kind::envelope) {
    FUZZ_REQUIRE(!message.dispatch);
    return 0;
  }
  FUZZ_REQUIRE(!message.envelope_id.empty());
  FUZZ_REQUIRE(message.dispatch ==
               (message.type == "events_api" || message.type == "slash_commands" || message.type == "interactive"));

  // The service's handler: events are decided on, slash commands read as the HTTP form's fields
  // and acked with an ephemeral reply that quotes their text.
  std::optional<json> reply;
  if (message.type == "events_api") {
    if (message.payload.is_object()) roundup::fuzz::check_event_decision(message.payload);
  } else if (message.type == "slash_commands") {
    const auto fields = roundup::adapters::slack::command_fields(message.payload);
    roundup::fuzz::check_command_decision(fields);
    const auto text = fields.find("text");
    reply = json{{"response_type", "ephemeral"},
                 {"text", roundup::adapters::slack::escape_mrkdwn(text == fields.end() ? "" : text->second)}};
  }

  const json ack = json::parse(roundup::adapters::slack::socket_ack(message.envelope_id, reply), nullptr, false);
  FUZZ_REQUIRE(ack.is_object() && ack.value("envelope_id", std::string()) == message.envelope_id);
  FUZZ_REQUIRE(ack.contains("payload") == reply.has_value());
  if (reply) FUZZ_REQUIRE(ack["payload"] == *reply);
  return 0;
}

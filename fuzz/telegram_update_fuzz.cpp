// libFuzzer target for Telegram updates (adapters/telegram/update.h interpret_update) and the
// UTF-16 arithmetic its entities need (adapters/telegram/utf16.h). The input is a webhook body or
// a getUpdates result: one Update object, or an array of them. Seeds: fuzz/corpus/
// telegram_update_fuzz (updates of tests/adapters/telegram/update_test.cpp: commands, mentions,
// emoji before entities, replies, topics).
//
// Properties: interpret_update never reaches its "malformed update" fallback (every shape is
// checked); an ignored update says why, a command has a lower-case name without '/' or '@', a
// question or command comes from a private chat or a group and has trimmed UTF-8 text. For every
// entity's (offset, length) on the message text, and on the raw input bytes (invalid UTF-8
// included): the byte range is inside the text, starts and ends on code point boundaries, and
// covers the UTF-16 range, widened by at most the half of one surrogate pair at each end.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/telegram/update.h"
#include "adapters/telegram/utf16.h"
#include "fuzz/fuzz_support.h"
#include "text/unicode.h"

namespace {

using nlohmann::json;
namespace telegram = roundup::adapters::telegram;

bool is_boundary(std::string_view text, std::size_t pos) {
  if (pos == 0 || pos == text.size()) return true;
  // The position is where a step of utf16_length's walk would start.
  std::size_t at = 0;
  while (at < pos) {
    const std::size_t length = roundup::text::utf8_sequence_length(text, at);
    at += length == 0 ? 1 : length;
  }
  return at == pos;
}

void check_range(std::string_view text, std::int64_t offset, std::int64_t length) {
  const auto range = telegram::utf16_to_byte_range(text, offset, length);
  const std::size_t total = telegram::utf16_length(text);
  FUZZ_REQUIRE(range.has_value() ==
               (offset >= 0 && length >= 0 && static_cast<std::uint64_t>(offset) <= static_cast<std::uint64_t>(total)));
  if (!range) return;
  const std::size_t end = range->offset + range->length;
  FUZZ_REQUIRE(range->offset <= text.size() && end <= text.size());
  FUZZ_REQUIRE(is_boundary(text, range->offset) && is_boundary(text, end));
  const auto first = static_cast<std::uint64_t>(offset);
  const std::uint64_t last = std::min<std::uint64_t>(first + static_cast<std::uint64_t>(length), total);
  const std::uint64_t begin_units = telegram::utf16_length(text.substr(0, range->offset));
  const std::uint64_t end_units = telegram::utf16_length(text.substr(0, end));
  FUZZ_REQUIRE(begin_units <= first && first - begin_units <= 1);
  FUZZ_REQUIRE(end_units >= std::max(last, begin_units) && end_units - std::max(last, begin_units) <= 1);

  const std::size_t prefix = telegram::utf16_prefix_bytes(text, static_cast<std::size_t>(first));
  FUZZ_REQUIRE(is_boundary(text, prefix) && telegram::utf16_length(text.substr(0, prefix)) <= first);
}

std::optional<std::int64_t> integer_member(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_integer() || found->is_number_unsigned()) return std::nullopt;
  return found->get<std::int64_t>();
}

void check_entities(const json& update, std::string_view raw) {
  const json* message = update.contains("message") ? &update["message"] : nullptr;
  if (message == nullptr || !message->is_object()) return;
  const auto text = message->find("text");
  const auto entities = message->find("entities");
  if (entities == message->end() || !entities->is_array()) return;
  for (const json& entity : *entities) {
    if (!entity.is_object()) continue;
    const auto offset = integer_member(entity, "offset");
    const auto length = integer_member(entity, "length");
    if (!offset || !length) continue;
    if (text != message->end() && text->is_string()) check_range(text->get_ref<const std::string&>(), *offset, *length);
    check_range(raw, *offset, *length);
  }
}

void check_update(const json& update, std::string_view raw) {
  const telegram::BotIdentity me{7001, "RoundupBot"};
  const telegram::Incoming in = telegram::interpret_update(update, me);
  FUZZ_REQUIRE(in.ignore_reason.rfind("malformed update", 0) != 0);
  if (update.is_object()) check_entities(update, raw);
  if (in.kind == telegram::Incoming::Kind::ignore) {
    FUZZ_REQUIRE(!in.ignore_reason.empty());
    return;
  }
  FUZZ_REQUIRE(in.chat_type == "private" || in.chat_type == "group" || in.chat_type == "supergroup");
  FUZZ_REQUIRE((in.kind == telegram::Incoming::Kind::command) == !in.command.empty());
  for (const char c : in.command) FUZZ_REQUIRE(c != '/' && c != '@' && !(c >= 'A' && c <= 'Z'));
  FUZZ_REQUIRE(roundup::fuzz::valid_utf8(in.text));
  FUZZ_REQUIRE(in.text.empty() ||
               (!roundup::fuzz::is_split_space(in.text.front()) && !roundup::fuzz::is_split_space(in.text.back())));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw = roundup::fuzz::as_text(data, size);
  const json body = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;  // the webhook answers 400
  if (body.is_array()) {
    for (const json& update : body) check_update(update, raw);
  } else {
    check_update(body, raw);
  }
  return 0;
}

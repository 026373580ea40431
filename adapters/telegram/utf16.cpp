#include "adapters/telegram/utf16.h"

#include "text/unicode.h"

namespace roundup::adapters::telegram {

namespace {

// One step through the text: the bytes and UTF-16 units of the code point (or malformed byte) at
// `pos`.
struct Step {
  std::size_t bytes;
  std::size_t units;
};

Step step_at(std::string_view text, std::size_t pos) {
  const std::size_t length = utf8_sequence_length(text, pos);
  if (length == 0) return {1, 1};  // counted as U+FFFD
  return {length, length == 4 ? std::size_t{2} : std::size_t{1}};
}

}  // namespace

std::size_t utf16_length(std::string_view text) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const Step step = step_at(text, pos);
    pos += step.bytes;
    units += step.units;
  }
  return units;
}

std::optional<ByteRange> utf16_to_byte_range(std::string_view text, std::int64_t utf16_offset,
                                             std::int64_t utf16_length) {
  if (utf16_offset < 0 || utf16_length < 0) return std::nullopt;
  const auto first = static_cast<std::uint64_t>(utf16_offset);
  // No overflow: both are below 2^63.
  const std::uint64_t last = first + static_cast<std::uint64_t>(utf16_length);

  std::uint64_t units = 0;
  std::size_t pos = 0;
  // Start: the code point containing unit `first` (moving back over a split surrogate pair).
  while (pos < text.size()) {
    const Step step = step_at(text, pos);
    if (units + step.units > first) break;
    units += step.units;
    pos += step.bytes;
  }
  if (pos == text.size() && units < first) return std::nullopt;  // offset beyond the end
  const std::size_t begin = pos;
  // End: the first code point boundary at or after unit `last`.
  while (pos < text.size() && units < last) {
    const Step step = step_at(text, pos);
    units += step.units;
    pos += step.bytes;
  }
  return ByteRange{begin, pos - begin};
}

std::size_t utf16_prefix_bytes(std::string_view text, std::size_t max_units) {
  std::size_t units = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Step step = step_at(text, pos);
    if (units + step.units > max_units) break;
    units += step.units;
    pos += step.bytes;
  }
  return pos;
}

std::string truncate_utf16(std::string_view text, std::size_t max_units) {
  return std::string(text.substr(0, utf16_prefix_bytes(text, max_units)));
}

}  // namespace roundup::adapters::telegram

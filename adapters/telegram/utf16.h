#pragma once
// UTF-16 arithmetic on UTF-8 text. Telegram measures message lengths and entity offsets/lengths
// in UTF-16 code units (a character outside the Basic Multilingual Plane, such as most emoji, is
// a surrogate pair: 2 units, 4 UTF-8 bytes); our strings are UTF-8.
//
// Malformed UTF-8 is tolerated everywhere: each byte that does not start a well-formed sequence
// counts as one unit, as the U+FFFD a decoder would put in its place.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roundup::adapters::telegram {

// UTF-16 code units needed for `text`.
std::size_t utf16_length(std::string_view text);

// A half-open byte range [offset, offset + length) in a UTF-8 string.
struct ByteRange {
  std::size_t offset = 0;
  std::size_t length = 0;
  bool operator==(const ByteRange&) const = default;
};

// The bytes of `text` that the UTF-16 range (utf16_offset, utf16_length) names, as in a Telegram
// MessageEntity. std::nullopt when the range is invalid: a negative offset or length, or an
// offset beyond the end of the text. A range running past the end is clamped to the end. A bound
// that falls inside a surrogate pair is widened to the whole code point (the start moves back, the
// end forward), so the result never splits a code point.
std::optional<ByteRange> utf16_to_byte_range(std::string_view text, std::int64_t utf16_offset,
                                             std::int64_t utf16_length);

// Bytes in the longest prefix of `text` that is at most `max_units` UTF-16 units and ends on a
// code point boundary (so never between the halves of a surrogate pair).
std::size_t utf16_prefix_bytes(std::string_view text, std::size_t max_units);

// The longest prefix of `text` within `max_units` UTF-16 units (see utf16_prefix_bytes); no
// ellipsis is added.
std::string truncate_utf16(std::string_view text, std::size_t max_units);

}  // namespace roundup::adapters::telegram

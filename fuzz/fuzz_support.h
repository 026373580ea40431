#pragma once
// Helpers shared by the fuzz targets: a property check that libFuzzer reports as a crash, and the
// text predicates the properties are stated with. The UTF-8 rules here are written out again on
// purpose rather than taken from the code under test, so a bug there cannot hide itself.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

// A broken property is a crash libFuzzer keeps as a reproducer; the message says which one.
#define FUZZ_REQUIRE(condition)                                                                \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "property violated: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      __builtin_trap();                                                                        \
    }                                                                                          \
  } while (false)

namespace roundup::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Bytes of the well-formed UTF-8 sequence at `pos` (Unicode table 3-7), or 0.
inline std::size_t well_formed_length(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const auto in = [](unsigned char b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  const std::size_t left = text.size() - pos;
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (in(lead, 0xC2, 0xDF)) return left >= 2 && in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(lead, 0xE0, 0xEF)) {
    const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = lead == 0xED ? 0x9F : 0xBF;
    return left >= 3 && in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(lead, 0xF0, 0xF4)) {
    const unsigned lo = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = lead == 0xF4 ? 0x8F : 0xBF;
    return left >= 4 && in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

inline bool valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = well_formed_length(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

// What the renderers promise to make of invalid UTF-8: each byte that starts no well-formed
// sequence becomes U+FFFD.
inline std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = well_formed_length(text, pos);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

// UTF-16 code units of valid UTF-8 text (a 4-byte sequence is a surrogate pair).
inline std::size_t utf16_units(std::string_view text) {
  std::size_t units = 0;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) units += b >= 0xF0 ? 2 : 1;
  }
  return units;
}

// The renderers' idea of space: what a split may drop.
inline bool is_split_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

inline std::string without_spaces(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (!is_split_space(c)) out += c;
  return out;
}

// `text` decoded from the entities our escapers write (&amp; &lt; &gt; &quot;); anything else is
// kept as it is.
inline std::string decode_entities(std::string_view text) {
  static constexpr std::pair<std::string_view, char> k_entities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool decoded = false;
    for (const auto& [entity, c] : k_entities) {
      if (text.substr(i, entity.size()) == entity) {
        out += c;
        i += entity.size();
        decoded = true;
        break;
      }
    }
    if (!decoded) out += text[i++];
  }
  return out;
}

// Finds `needle` as a subsequence of `haystack` from `*from` on, advancing `*from` past it: how
// "nothing was lost, in order" is checked when a renderer adds decorations between the parts.
inline bool consume_subsequence(std::string_view haystack, std::size_t* from, std::string_view needle) {
  std::size_t at = *from;
  for (const char c : needle) {
    while (at < haystack.size() && haystack[at] != c) ++at;
    if (at == haystack.size()) return false;
    ++at;
  }
  *from = at;
  return true;
}

}  // namespace roundup::fuzz

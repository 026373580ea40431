#pragma once
// Text primitives for every layer (utf8proc underneath): UTF-8 validity and decoding, NFKC and
// case folding, trimming, and lower-casing of protocol tokens. One implementation of each.
//
// An inline namespace: the primitives are the project's vocabulary, visible unqualified from
// every roundup:: namespace (retrieval::, adapters::slack::, ...) and as text:: where a name needs
// qualifying.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace roundup {
inline namespace text {

bool is_valid_utf8(std::string_view text);

// NFKC normalisation (full-width punctuation and digits become ASCII). Input must be valid UTF-8;
// invalid input is returned unchanged.
std::string nfkc(std::string_view text);

// NFKC + case folding, for matching.
std::string fold(std::string_view text);

// Length of the well-formed UTF-8 sequence starting at byte `pos` (< text.size()), or 0 when it
// is malformed there (a continuation byte, truncated, overlong, a surrogate, beyond U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);

// Decodes valid UTF-8 into code points (invalid bytes become U+FFFD).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);

// Han ideographs (CJK Unified Ideographs and extensions, compatibility ideographs).
bool is_han(char32_t cp);

// Han characters and ASCII letters, counted to tell Chinese text from English (a roundup's
// summaries, a question's language).
struct ScriptCounts {
  std::size_t han = 0;
  std::size_t latin = 0;
  // A Han character carries about as much as a short English word.
  bool mostly_han() const { return han * 3 >= latin; }
};
// Adds `text`'s Han characters and ASCII letters to `counts`.
void count_scripts(std::string_view text, ScriptCounts& counts);
// Letters or digits in any script (utf8proc category L* or N*).
bool is_alnum(char32_t cp);

// Without leading and trailing white space, Unicode's included (U+3000, U+00A0, U+FEFF, U+200B).
std::string trim(std::string_view text);
// ASCII letters lower-cased, every other byte kept: header names, schemes, hosts, config words.
std::string ascii_lower(std::string_view text);
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
// Without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r), as a view: for
// data files and markup, where the unit is the byte and no decoding is wanted.
std::string_view trim_ascii(std::string_view text);
// Collapses runs of white space into one space and trims.
std::string squash_spaces(std::string_view text);

// Number of UTF-8 code points.
std::size_t utf8_length(std::string_view text);
// The longest prefix of at most max_cp code points, cut at a code point boundary.
std::string utf8_prefix(std::string_view text, std::size_t max_cp);

}  // namespace text
}  // namespace roundup

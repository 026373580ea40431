#pragma once
// Unicode text primitives shared by the parser and the analyzer (utf8proc underneath).

#include <string>
#include <string_view>
#include <vector>

namespace roundup::retrieval {

bool is_valid_utf8(std::string_view text);

// NFKC normalisation (full-width punctuation and digits become ASCII). Input must be valid UTF-8;
// invalid input is returned unchanged.
std::string nfkc(std::string_view text);

// NFKC + case folding, for matching.
std::string fold(std::string_view text);

// Decodes valid UTF-8 into code points (invalid bytes become U+FFFD).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);

// Han ideographs (CJK Unified Ideographs and extensions, compatibility ideographs).
bool is_han(char32_t cp);
// Letters or digits in any script (utf8proc category L* or N*).
bool is_alnum(char32_t cp);

std::string trim(std::string_view text);
// Collapses runs of white space into one space and trims.
std::string squash_spaces(std::string_view text);

// Number of UTF-8 code points.
std::size_t utf8_length(std::string_view text);
// The longest prefix of at most max_cp code points, cut at a code point boundary.
std::string utf8_prefix(std::string_view text, std::size_t max_cp);

}  // namespace roundup::retrieval

#include "adapters/telegram/utf16.h"

#include "text/unicode.h"

#include <doctest/doctest.h>

#include <string>

using namespace roundup::adapters::telegram;

namespace {

// U+1F600 (4 UTF-8 bytes, a surrogate pair in UTF-16), U+4E2D (3 bytes, 1 unit), U+00E9 (2 bytes).
const std::string k_grin = "\xF0\x9F\x98\x80";
const std::string k_zhong = "\xE4\xB8\xAD";
const std::string k_e_acute = "\xC3\xA9";

}  // namespace

TEST_CASE("utf16_length: units per code point") {
  CHECK(utf16_length("") == 0);
  CHECK(utf16_length("abc") == 3);
  CHECK(utf16_length(k_e_acute) == 1);
  CHECK(utf16_length(k_zhong) == 1);
  CHECK(utf16_length(k_grin) == 2);
  CHECK(utf16_length(k_grin + "a" + k_zhong + k_e_acute) == 5);
  CHECK(utf16_length("\xFF") == 1);          // malformed byte: one U+FFFD
  CHECK(utf16_length("\xF0\x9F\x98") == 3);  // truncated sequence: three malformed bytes
  CHECK(utf16_length("\xED\xA0\x80"
                     "a") == 4);  // encoded surrogate: malformed
}

TEST_CASE("text: utf8_sequence_length - ascii_lower") {
  using roundup::text::utf8_sequence_length;
  CHECK(utf8_sequence_length("a", 0) == 1);
  CHECK(utf8_sequence_length(std::string(1, '\0'), 0) == 1);
  CHECK(utf8_sequence_length(k_e_acute, 0) == 2);
  CHECK(utf8_sequence_length(k_zhong, 0) == 3);
  CHECK(utf8_sequence_length(k_grin, 0) == 4);
  CHECK(utf8_sequence_length(k_grin, 1) == 0);              // continuation byte
  CHECK(utf8_sequence_length("\xC0\xAF", 0) == 0);          // overlong
  CHECK(utf8_sequence_length("\xE0\x80\xAF", 0) == 0);      // overlong, 3 bytes
  CHECK(utf8_sequence_length("\xED\xA0\x80", 0) == 0);      // a surrogate
  CHECK(utf8_sequence_length("\xF4\x90\x80\x80", 0) == 0);  // beyond U+10FFFF
  CHECK(utf8_sequence_length("\xE4\xB8", 0) == 0);          // truncated
  CHECK(utf8_sequence_length("x\xE4\xB8\xAD", 1) == 3);

  CHECK(roundup::text::ascii_lower("Content-TYPE: \xC3\x89"
                                   "A") ==
        "content-type: \xC3\x89"
        "a");
}

TEST_CASE("utf16_to_byte_range: entity offsets after emoji and CJK") {
  // "😀中 @bot hi": the mention starts at UTF-16 unit 4 (2 + 1 + 1) but at byte 8.
  const std::string text = k_grin + k_zhong + " @bot hi";
  const auto range = utf16_to_byte_range(text, 4, 4);
  REQUIRE(range);
  CHECK(*range == ByteRange{8, 4});
  CHECK(text.substr(range->offset, range->length) == "@bot");

  CHECK(*utf16_to_byte_range(text, 0, 2) == ByteRange{0, 4});  // the whole emoji
  CHECK(*utf16_to_byte_range(text, 2, 1) == ByteRange{4, 3});  // the CJK character
  CHECK(*utf16_to_byte_range(text, 0, 0) == ByteRange{0, 0});
}

TEST_CASE("utf16_to_byte_range: clamping and invalid ranges") {
  const std::string text = "ab" + k_grin + "c";                  // 5 units, 7 bytes
  CHECK(*utf16_to_byte_range(text, 3, 100) == ByteRange{2, 5});  // inside the pair: widened, end clamped
  CHECK(*utf16_to_byte_range(text, 2, 1) == ByteRange{2, 4});    // half a pair: widened to the whole
  CHECK(*utf16_to_byte_range(text, 1, 2) == ByteRange{1, 5});
  CHECK(*utf16_to_byte_range(text, 5, 0) == ByteRange{7, 0});  // empty range at the end
  CHECK(*utf16_to_byte_range(text, 5, 3) == ByteRange{7, 0});
  CHECK_FALSE(utf16_to_byte_range(text, 6, 1));
  CHECK_FALSE(utf16_to_byte_range(text, -1, 2));
  CHECK_FALSE(utf16_to_byte_range(text, 0, -1));
  CHECK_FALSE(utf16_to_byte_range("", 1, 0));
  CHECK(*utf16_to_byte_range("", 0, 5) == ByteRange{0, 0});
  CHECK(*utf16_to_byte_range(text, 0, INT64_MAX) == ByteRange{0, 7});
}

TEST_CASE("truncate_utf16: never splits a code point or surrogate pair") {
  const std::string text = "a" + k_grin + k_zhong + "b";  // units: 1, 2, 1, 1
  CHECK(truncate_utf16(text, 0) == "");
  CHECK(truncate_utf16(text, 1) == "a");
  CHECK(truncate_utf16(text, 2) == "a");  // the pair does not fit
  CHECK(truncate_utf16(text, 3) == "a" + k_grin);
  CHECK(truncate_utf16(text, 4) == "a" + k_grin + k_zhong);
  CHECK(truncate_utf16(text, 5) == text);
  CHECK(truncate_utf16(text, 500) == text);
  CHECK(utf16_prefix_bytes(text, 3) == 5);

  std::string emoji;
  for (int i = 0; i < 100; ++i) emoji += k_grin;
  for (std::size_t max = 0; max < 210; ++max) {
    const std::string cut = truncate_utf16(emoji, max);
    CHECK(cut.size() % 4 == 0);
    CHECK(utf16_length(cut) == std::min<std::size_t>(max - max % 2, 200));
  }
}

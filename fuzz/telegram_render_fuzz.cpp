// libFuzzer target for the Telegram renderers (adapters/telegram/html.h): an Answer whose strings
// are any bytes (fuzz/answer_input.h) rendered as HTML chunks, as plain chunks, and each HTML
// chunk turned back into plain text for the resend after "can't parse entities".
//
// Properties, per chunk: valid UTF-8, not blank, at most 4,096 UTF-16 units (platforms.md,
// sendMessage); the HTML is well-formed with only the tags Telegram allows (b, i, u, s, a href,
// code, pre, blockquote, tg-spoiler), every tag closed in the chunk that opens it, no '<' '>' or
// bare '&' in the text, and links only to http(s) URLs. Across the chunks nothing is lost: the
// non-space characters of the heading, the lines, each paper's title, authors and (in listings)
// summary, the related papers' and the suggestions appear in that order once the entities are
// decoded (invalid UTF-8 shows as U+FFFD); only whitespace may go at a split.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/telegram/html.h"
#include "fuzz/answer_input.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace telegram = roundup::adapters::telegram;
using roundup::bot::Answer;
using roundup::bot::PaperCitation;

constexpr std::array<std::string_view, 9> k_allowed_tags = {"b",    "i",   "u",          "s",         "a",
                                                            "code", "pre", "blockquote", "tg-spoiler"};
constexpr std::array<std::string_view, 4> k_entities = {"&amp;", "&lt;", "&gt;", "&quot;"};

bool starts_with_entity(std::string_view text) {
  for (const std::string_view entity : k_entities)
    if (text.substr(0, entity.size()) == entity) return true;
  return false;
}

bool web_url(std::string_view url) {
  std::string scheme(url.substr(0, url.find("://") + 3));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (scheme == "http://" || scheme == "https://") && url.size() > scheme.size();
}

// Checks one chunk is well-formed Telegram HTML; returns the text it shows, entities decoded.
std::string checked_text_of(std::string_view html) {
  std::vector<std::string_view> open;
  std::string shown;
  for (std::size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      const auto close = html.find('>', i);
      FUZZ_REQUIRE(close != std::string_view::npos);
      const std::string_view tag = html.substr(i + 1, close - i - 1);
      if (!tag.empty() && tag.front() == '/') {
        FUZZ_REQUIRE(!open.empty() && open.back() == tag.substr(1));
        open.pop_back();
      } else {
        const std::string_view name = tag.substr(0, tag.find(' '));
        FUZZ_REQUIRE(std::find(k_allowed_tags.begin(), k_allowed_tags.end(), name) != k_allowed_tags.end());
        if (name == "a") {
          constexpr std::string_view k_href = "a href=\"";
          FUZZ_REQUIRE(tag.size() > k_href.size() && tag.substr(0, k_href.size()) == k_href && tag.back() == '"');
          const std::string_view value = tag.substr(k_href.size(), tag.size() - k_href.size() - 1);
          FUZZ_REQUIRE(value.find_first_of("\"<") == std::string_view::npos);
          for (std::size_t at = value.find('&'); at != std::string_view::npos; at = value.find('&', at + 1))
            FUZZ_REQUIRE(starts_with_entity(value.substr(at)));
          FUZZ_REQUIRE(web_url(roundup::fuzz::decode_entities(value)));
        } else {
          FUZZ_REQUIRE(tag == name);
        }
        open.push_back(name);
      }
      i = close + 1;
      continue;
    }
    FUZZ_REQUIRE(c != '>');
    if (c == '&') FUZZ_REQUIRE(starts_with_entity(html.substr(i)));
    shown += c;
    ++i;
  }
  FUZZ_REQUIRE(open.empty());
  return roundup::fuzz::decode_entities(shown);
}

bool blank(std::string_view text) {
  return roundup::fuzz::without_spaces(text).empty();
}

// What must be shown, in order (see the header comment): each entry's non-space characters.
std::vector<std::string> expected_parts(const Answer& answer) {
  std::vector<std::string> parts;
  const auto add = [&parts](const std::string& text) {
    if (!blank(text)) parts.push_back(roundup::fuzz::without_spaces(roundup::fuzz::replace_invalid_utf8(text)));
  };
  // html.h shows the paper id, or "Untitled", for a blank title; only a title is checked here.
  const auto add_paper = [&add](const PaperCitation& paper, bool with_summary) {
    add(paper.title);
    add(paper.authors);
    if (with_summary) add(paper.summary);
  };
  add(answer.heading);
  for (const std::string& line : answer.lines) add(line);
  for (const PaperCitation& paper : answer.citations) add_paper(paper, answer.kind == Answer::Kind::listing);
  for (const PaperCitation& paper : answer.related) add_paper(paper, false);
  for (const std::string& line : answer.suggestions) add(line);
  return parts;
}

void check_chunk_size(const std::string& chunk) {
  FUZZ_REQUIRE(roundup::fuzz::valid_utf8(chunk));
  FUZZ_REQUIRE(roundup::fuzz::utf16_units(chunk) <= telegram::k_max_message_utf16);
}

void check_nothing_lost(const std::string& shown, const Answer& answer) {
  const std::string haystack = roundup::fuzz::without_spaces(shown);
  std::size_t from = 0;
  for (const std::string& part : expected_parts(answer))
    FUZZ_REQUIRE(roundup::fuzz::consume_subsequence(haystack, &from, part));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const Answer answer = roundup::fuzz::fuzzed_answer(input);

  const std::vector<std::string> html = telegram::render_messages(answer);
  FUZZ_REQUIRE(!html.empty());
  std::string shown;
  for (const std::string& chunk : html) {
    check_chunk_size(chunk);
    const std::string text = checked_text_of(chunk);
    FUZZ_REQUIRE(!blank(text));
    shown += text;
    const std::string plain = telegram::html_to_plain(chunk);
    check_chunk_size(plain);
  }
  check_nothing_lost(shown, answer);

  const std::vector<std::string> plain = telegram::render_plain(answer);
  FUZZ_REQUIRE(!plain.empty());
  shown.clear();
  for (const std::string& chunk : plain) {
    check_chunk_size(chunk);
    FUZZ_REQUIRE(!blank(chunk));
    shown += chunk;
  }
  check_nothing_lost(shown, answer);
  return 0;
}

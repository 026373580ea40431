// libFuzzer target for the Slack renderers: Block Kit messages (adapters/slack/block_kit.h) of an
// Answer whose strings are any bytes (fuzz/answer_input.h), their cut to a response_url's five
// posts, and the mrkdwn primitives (adapters/slack/mrkdwn.h) on one more string.
//
// Properties, per message (platforms.md and block_kit.h): 1..50 blocks, each section or context
// text at most 3,000 bytes, at most 12,000 bytes of block text, a fallback `text` of at most 3,000
// bytes, every string valid UTF-8 (so the JSON serialises), and no Slack control sequence made of
// corpus or user text: the only '<' starts a link to an http(s) URL, so no <!channel>, <!here>,
// <!everyone>, <@user> or <#channel>. Nothing of the answer lines and suggestions is lost: their
// non-space characters appear in order across the messages once the entities are decoded (fields
// block_kit.h caps on purpose, titles, authors and summaries, are not checked). At most five
// response_url posts. escape_mrkdwn_split: pieces within the bound, never cutting an entity or a
// code point, nothing but spaces lost; link(): one well-formed link whose label cannot end it.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/slack/block_kit.h"
#include "adapters/slack/mrkdwn.h"
#include "fuzz/answer_input.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace slack = roundup::adapters::slack;
using nlohmann::json;
using roundup::bot::Answer;

constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";

bool web_link_start(std::string_view text) {
  return text.rfind("<http://", 0) == 0 || text.rfind("<https://", 0) == 0;
}

// mrkdwn as Slack reads it: every '&' an entity we write, every '<' the start of a web link
// <url|label> or <url> whose URL has no space and whose label holds no further '<' or '|'.
void check_mrkdwn(std::string_view text) {
  FUZZ_REQUIRE(roundup::fuzz::valid_utf8(text));
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      const std::string_view rest = text.substr(i);
      FUZZ_REQUIRE(rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0);
    } else if (text[i] == '>') {
      FUZZ_REQUIRE(false);  // a '>' outside a link
    } else if (text[i] == '<') {
      FUZZ_REQUIRE(web_link_start(text.substr(i)));
      const auto close = text.find('>', i);
      FUZZ_REQUIRE(close != std::string_view::npos);
      const std::string_view inner = text.substr(i + 1, close - i - 1);
      const std::string_view url = inner.substr(0, inner.find('|'));
      FUZZ_REQUIRE(url.find_first_of(" \n\t<") == std::string_view::npos);
      if (url.size() < inner.size())
        FUZZ_REQUIRE(inner.substr(url.size() + 1).find_first_of("<|") == std::string_view::npos);
      i = close;
    }
  }
}

// Checks one message and appends its block text to `shown`.
void check_message(const json& message, std::string& shown) {
  FUZZ_REQUIRE(message.is_object() && message.at("text").is_string() && message.at("blocks").is_array());
  const std::string& fallback = message.at("text").get_ref<const std::string&>();
  FUZZ_REQUIRE(fallback.size() <= slack::k_max_fallback_bytes);
  check_mrkdwn(fallback);
  const json& blocks = message.at("blocks");
  FUZZ_REQUIRE(!blocks.empty() && blocks.size() <= slack::k_max_blocks_per_message);
  std::size_t bytes = 0;
  for (const json& block : blocks) {
    const std::string& type = block.at("type").get_ref<const std::string&>();
    const json& text = type == "section" ? block.at("text") : block.at("elements").at(0);
    FUZZ_REQUIRE((type == "section" || (type == "context" && block.at("elements").size() == 1)) &&
                 text.at("type") == "mrkdwn");
    const std::string& mrkdwn = text.at("text").get_ref<const std::string&>();
    FUZZ_REQUIRE(!mrkdwn.empty() && mrkdwn.size() <= slack::k_max_section_bytes);
    check_mrkdwn(mrkdwn);
    bytes += mrkdwn.size();
    shown += roundup::fuzz::decode_entities(mrkdwn);
    shown += '\n';
  }
  FUZZ_REQUIRE(bytes <= slack::k_max_message_block_bytes);
  (void)message.dump();  // throws on invalid UTF-8, which libFuzzer reports
}

void check_answer(const Answer& answer) {
  const std::vector<json> messages = slack::render_messages(answer);
  FUZZ_REQUIRE(!messages.empty());
  std::string shown;
  for (const json& message : messages) check_message(message, shown);

  const std::string haystack = roundup::fuzz::without_spaces(shown);
  std::size_t from = 0;
  const auto lines_kept = [&](const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      const std::string wanted = roundup::fuzz::without_spaces(roundup::fuzz::replace_invalid_utf8(line));
      FUZZ_REQUIRE(roundup::fuzz::consume_subsequence(haystack, &from, wanted));
    }
  };
  lines_kept(answer.lines);
  lines_kept(answer.suggestions);

  // The posts are the first messages, the last one replaced by a notice when they do not fit.
  const std::vector<json> posts = slack::fit_response_url(messages);
  if (messages.size() <= slack::k_max_response_url_posts) {
    FUZZ_REQUIRE(posts == messages);
  } else {
    FUZZ_REQUIRE(posts.size() == slack::k_max_response_url_posts);
    FUZZ_REQUIRE(std::equal(posts.begin(), posts.end() - 1, messages.begin()));
    std::string notice;
    check_message(posts.back(), notice);
  }
}

void check_split(std::string_view raw, std::size_t max_bytes) {
  const std::vector<std::string> pieces = slack::escape_mrkdwn_split(raw, max_bytes);
  FUZZ_REQUIRE(pieces.empty() == raw.empty());
  std::string joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::string& piece = pieces[i];
    FUZZ_REQUIRE(!piece.empty() && piece.size() <= std::max<std::size_t>(max_bytes, 16));
    check_mrkdwn(piece);
    std::string_view body = piece;
    if (i + 1 < pieces.size()) {
      FUZZ_REQUIRE(body.size() >= k_ellipsis.size() && body.substr(body.size() - k_ellipsis.size()) == k_ellipsis);
      body.remove_suffix(k_ellipsis.size());
    }
    joined += roundup::fuzz::decode_entities(body);
  }
  FUZZ_REQUIRE(roundup::fuzz::without_spaces(joined) ==
               roundup::fuzz::without_spaces(roundup::fuzz::replace_invalid_utf8(raw)));
}

void check_link(const std::string& url, const std::string& label) {
  const std::string linked = slack::link(url, label);
  check_mrkdwn(linked);
  if (linked.empty() || linked.front() != '<') return;  // shown unlinked
  FUZZ_REQUIRE(linked.back() == '>' && linked.find('>') == linked.size() - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string raw = roundup::fuzz::fuzzed_text(input);
  check_split(raw, input.ConsumeIntegralInRange<std::size_t>(0, 4000));
  const std::string url = roundup::fuzz::fuzzed_url(input);
  check_link(url, raw);
  check_answer(roundup::fuzz::fuzzed_answer(input));
  return 0;
}

#include "adapters/slack/block_kit.h"

#include <doctest/doctest.h>

#include <string>

using nlohmann::json;
using roundup::adapters::slack::k_max_blocks_per_message;
using roundup::adapters::slack::k_max_fallback_bytes;
using roundup::adapters::slack::k_max_section_bytes;
using roundup::adapters::slack::render_messages;
using roundup::bot::Answer;
using roundup::bot::PaperCitation;
using roundup::bot::RoundupCitation;

namespace {

PaperCitation paper(const std::string& title, const std::string& url = "https://arxiv.org/abs/2401.00001") {
  PaperCitation p;
  p.paper_id = "p-" + title;
  p.kind = "paper";
  p.title = title;
  p.authors = "Ada Lovelace, Alan Turing et al.";
  p.url = url;
  p.roundups.push_back(RoundupCitation{"r1", "Weekly Roundup #12", "2024-03"});
  p.summary = "A summary of " + title + ".";
  return p;
}

// Every mrkdwn text in a message's blocks (section text and context elements).
std::vector<std::string> block_texts(const json& message) {
  std::vector<std::string> out;
  for (const json& block : message.at("blocks")) {
    if (block.at("type") == "section") out.push_back(block.at("text").at("text").get<std::string>());
    if (block.at("type") == "context")
      for (const json& element : block.at("elements")) out.push_back(element.at("text").get<std::string>());
  }
  return out;
}

std::string all_block_text(const std::vector<json>& messages) {
  std::string out;
  for (const json& message : messages)
    for (const std::string& text : block_texts(message)) out += text + "\n";
  return out;
}

// Limits every message must respect, whatever the answer.
void check_limits(const std::vector<json>& messages) {
  REQUIRE(!messages.empty());
  for (const json& message : messages) {
    CHECK(message.at("blocks").is_array());
    CHECK(!message.at("blocks").empty());
    CHECK(message.at("blocks").size() <= k_max_blocks_per_message);
    CHECK(message.at("text").is_string());
    CHECK(!message.at("text").get<std::string>().empty());
    CHECK(message.at("text").get<std::string>().size() <= k_max_fallback_bytes);
    for (const std::string& text : block_texts(message)) {
      CHECK(!text.empty());
      CHECK(text.size() <= k_max_section_bytes);
    }
    CHECK_NOTHROW((void)message.dump());  // valid UTF-8 throughout
  }
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("block kit: JSON shape of a simple answer") {
  Answer answer;
  answer.kind = Answer::Kind::answer;
  answer.heading = "What is attention?";
  answer.lines = {"Attention weighs tokens.", "It is all you need."};
  answer.citations = {paper("Attention Is All You Need")};
  answer.related = {paper("BERT", "https://arxiv.org/abs/1810.04805")};
  answer.suggestions = {"Try: /roundup latest"};

  const std::vector<json> messages = render_messages(answer);
  REQUIRE(messages.size() == 1);
  const json& m = messages[0];
  check_limits(messages);
  CHECK(m.size() == 4);  // text, blocks, unfurl_links, unfurl_media; no channel/thread_ts
  CHECK(m.at("unfurl_links") == false);
  CHECK(m.at("unfurl_media") == false);
  CHECK(!m.contains("channel"));
  CHECK(!m.contains("thread_ts"));

  const json& blocks = m.at("blocks");
  REQUIRE(blocks.size() == 6);
  CHECK(blocks[0] == json::parse(R"j({"type":"section","text":{"type":"mrkdwn","text":"*What is attention?*"}})j"));
  CHECK(blocks[1].at("text").at("text") == "Attention weighs tokens.\nIt is all you need.");
  CHECK(blocks[2].at("text").at("text") ==
        "*<https://arxiv.org/abs/2401.00001|Attention Is All You Need>*\nAda Lovelace, Alan Turing et al.");
  CHECK(blocks[3] ==
        json::parse(
            R"j({"type":"context","elements":[{"type":"mrkdwn","text":"Roundup: Weekly Roundup #12 (2024-03)"}]})j"));
  CHECK(blocks[4].at("text").at("text") ==
        "*Related*\n• <https://arxiv.org/abs/1810.04805|BERT> — Ada Lovelace, Alan Turing et al.");
  CHECK(blocks[5].at("text").at("text") == "Try: /roundup latest");

  const std::string text = m.at("text").get<std::string>();
  CHECK(text.starts_with("What is attention?\nAttention weighs tokens."));
}

TEST_CASE("block kit: corpus strings are escaped everywhere") {
  Answer answer;
  answer.heading = "Q & <A>";
  answer.lines = {"<script>alert(1)</script> & more"};
  PaperCitation p = paper("<script>x</script> & Co | Sons");
  p.authors = "<b>Eve</b> & Mallory";
  p.roundups = {RoundupCitation{"r", "Roundup <1> & 2", "2024-01"}};
  answer.citations = {p};
  answer.related = {paper("Rel <i>&")};
  answer.suggestions = {"Ask about <topic> & more"};

  const std::vector<json> messages = render_messages(answer);
  check_limits(messages);
  const std::string blocks = all_block_text(messages);
  CHECK(blocks.find("<script>") == std::string::npos);
  CHECK(blocks.find("<b>") == std::string::npos);
  CHECK(blocks.find("<1>") == std::string::npos);
  CHECK(blocks.find("<topic>") == std::string::npos);
  CHECK(blocks.find("&lt;script&gt;x&lt;/script&gt; &amp; Co \xE2\x9D\x98 Sons") != std::string::npos);
  CHECK(blocks.find("&lt;b&gt;Eve&lt;/b&gt; &amp; Mallory") != std::string::npos);
  CHECK(blocks.find("Roundup: Roundup &lt;1&gt; &amp; 2 (2024-01)") != std::string::npos);
  CHECK(blocks.find("Rel &lt;i&gt;&amp;") != std::string::npos);
  CHECK(blocks.find("*Q &amp; &lt;A&gt;*") != std::string::npos);
  // Every '<' left in block text opens a link to our URL.
  for (std::size_t pos = blocks.find('<'); pos != std::string::npos; pos = blocks.find('<', pos + 1))
    CHECK(blocks.compare(pos, 9, "<https://") == 0);

  const std::string fallback = messages[0].at("text").get<std::string>();
  CHECK(fallback.find('<') == std::string::npos);
  CHECK(fallback.find("Q &amp; &lt;A&gt;") != std::string::npos);
}

TEST_CASE("block kit: a 60-paper listing is split across messages and keeps every title") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.heading = "Papers in Weekly Roundup #12";
  for (int i = 1; i <= 60; ++i) answer.citations.push_back(paper("Paper number " + std::to_string(i) + " <x>"));

  const std::vector<json> messages = render_messages(answer);
  check_limits(messages);
  CHECK(messages.size() >= 2);
  const std::string blocks = all_block_text(messages);
  for (int i = 1; i <= 60; ++i) {
    CAPTURE(i);
    CHECK(occurrences(blocks, "|Paper number " + std::to_string(i) + " &lt;x&gt;>") == 1);
    CHECK(occurrences(blocks, "A summary of Paper number " + std::to_string(i) + " &lt;x&gt;.") == 1);
  }
  // In order, numbered, and each paper's roundup line follows it in the same message.
  for (const json& message : messages) {
    const json& b = message.at("blocks");
    for (std::size_t i = 0; i < b.size(); ++i)
      if (b[i].at("type") == "context") CHECK((i > 0 && b[i - 1].at("type") == "section"));
    CHECK(b.back().at("type") == "context");
  }
  CHECK(blocks.find("1. *<") < blocks.find("60. *<"));
  // Continuations say so in their notification text.
  CHECK(messages[1].at("text").get<std::string>().starts_with("Papers in Weekly Roundup #12 (continued)"));
}

TEST_CASE("block kit: a 10 -000-character line is cut at most 3 -000 per section - nothing lost") {
  Answer answer;
  answer.heading = "Long";
  std::string line;
  while (line.size() < 10000) line += "lorem é & ipsum ";
  answer.lines = {line};

  const std::vector<json> messages = render_messages(answer);
  check_limits(messages);
  std::size_t sections = 0;
  std::size_t ampersands = 0;
  for (const json& message : messages)
    for (const std::string& text : block_texts(message)) {
      ++sections;
      ampersands += occurrences(text, "&amp;");
    }
  CHECK(sections >= 1 + 4);  // heading + at least 4 pieces of a >12,000-byte escaped line
  CHECK(ampersands == occurrences(line, "&"));
  CHECK(all_block_text(messages).find("\xE2\x80\xA6") != std::string::npos);  // cuts are marked
}

// Found by fuzz/slack_render_fuzz.cpp (see mrkdwn_test.cpp, "only web URLs are linked").
TEST_CASE("block kit: a paper URL that is Slack markup pings nobody") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.citations = {paper("Chinchilla", "!channel"), paper("PaLM", "@U0123")};
  answer.related = {paper("Gopher", "!here")};
  for (const json& message : render_messages(answer)) {
    for (const std::string& text : block_texts(message)) {
      CHECK(text.find("<!") == std::string::npos);
      CHECK(text.find("<@") == std::string::npos);
    }
  }
}

TEST_CASE("block kit: huge fields stay within limits") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.heading = std::string(5000, '&');
  PaperCitation p = paper(std::string(5000, '&'), "https://x.org/" + std::string(500, '|'));
  p.authors = std::string(5000, '<');
  p.summary = std::string(20000, '>');
  p.roundups = {RoundupCitation{"r", std::string(5000, '&'), "2024-01"}};
  answer.citations = {p, p};
  answer.related = {p, p, p};
  answer.suggestions = {std::string(7000, 'x')};
  check_limits(render_messages(answer));
}

TEST_CASE("block kit: invalid UTF-8 and empty answers still produce valid messages") {
  Answer broken;
  broken.heading = "bad \xFF byte";
  broken.lines = {"\xC3"};
  const std::vector<json> messages = render_messages(broken);
  check_limits(messages);

  const std::vector<json> empty = render_messages(Answer{});
  check_limits(empty);
  CHECK(empty.size() == 1);
}

TEST_CASE("block kit: many lines are packed - not one block each") {
  Answer answer;
  answer.kind = Answer::Kind::help;
  for (int i = 0; i < 200; ++i) answer.lines.push_back("/command" + std::to_string(i) + " — does a thing");
  const std::vector<json> messages = render_messages(answer);
  check_limits(messages);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].at("blocks").size() <= 3);
  for (int i = 0; i < 200; ++i)
    CHECK(all_block_text(messages).find("/command" + std::to_string(i) + " ") != std::string::npos);
}

TEST_CASE("slack block kit: replies for a response_url stop at five - the fifth says how much did not fit") {
  std::vector<json> seven;
  seven.reserve(7);
  for (int i = 0; i < 7; ++i) seven.push_back(json{{"text", "part " + std::to_string(i)}, {"blocks", json::array()}});
  const auto fitted = roundup::adapters::slack::fit_response_url(seven);
  REQUIRE(fitted.size() == roundup::adapters::slack::k_max_response_url_posts);
  for (std::size_t i = 0; i + 1 < fitted.size(); ++i) CHECK(fitted[i] == seven[i]);
  const std::string last = fitted.back()["text"];
  CHECK(last.find("3 more messages") != std::string::npos);
  CHECK(last.find("did not fit") != std::string::npos);
  CHECK(fitted.back()["unfurl_links"] == false);

  const std::vector<json> five(seven.begin(), seven.begin() + 5);
  CHECK(roundup::adapters::slack::fit_response_url(five) == five);
}

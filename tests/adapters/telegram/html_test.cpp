#include "adapters/telegram/html.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "adapters/telegram/utf16.h"

using roundup::adapters::telegram::escape_html;
using roundup::adapters::telegram::k_max_message_utf16;
using roundup::adapters::telegram::render_messages;
using roundup::adapters::telegram::render_plain;
using roundup::adapters::telegram::utf16_length;
using roundup::bot::Answer;
using roundup::bot::PaperCitation;
using roundup::bot::RoundupCitation;

namespace {

const std::string k_grin = "\xF0\x9F\x98\x80";  // U+1F600: a surrogate pair in UTF-16

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

// The tags Telegram's HTML mode allows, as we use them.
bool allowed_tag(const std::string& name) {
  return name == "b" || name == "i" || name == "u" || name == "s" || name == "a" || name == "code" || name == "pre" ||
         name == "blockquote" || name == "tg-spoiler";
}

// Empty when `html` is well-formed Telegram HTML on its own: every tag allowed, opened tags
// closed in order, every '&' starts one of the entities we emit, no stray '>' or '"' in text.
// Otherwise a description of the first problem.
std::string html_problem(const std::string& html) {
  std::vector<std::string> open;
  for (std::size_t i = 0; i < html.size(); ++i) {
    const char c = html[i];
    if (c == '<') {
      const std::size_t end = html.find('>', i);
      if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
      const std::string tag = html.substr(i + 1, end - i - 1);
      if (!tag.empty() && tag[0] == '/') {
        if (open.empty() || open.back() != tag.substr(1)) return "unbalanced </" + tag.substr(1) + ">";
        open.pop_back();
      } else {
        const std::string name = tag.substr(0, tag.find(' '));
        if (!allowed_tag(name)) return "tag not allowed: " + name;
        if (name == "a") {
          if (tag.rfind("a href=\"", 0) != 0 || tag.back() != '"') return "bad link tag: " + tag;
          const std::string value = tag.substr(8, tag.size() - 9);
          if (value.find('"') != std::string::npos || value.find('<') != std::string::npos) return "bad href: " + value;
        }
        open.push_back(name);
      }
      i = end;
    } else if (c == '&') {
      bool known = false;
      for (const char* entity : {"&amp;", "&lt;", "&gt;", "&quot;"})
        if (html.compare(i, std::string(entity).size(), entity) == 0) known = true;
      if (!known) return "bad entity at " + std::to_string(i);
    } else if (c == '>' || c == '"') {
      return std::string("raw ") + c + " in text at " + std::to_string(i);
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

// The text a reader sees: tags removed, entities decoded.
std::string visible_text(const std::string& html) {
  std::string out;
  for (std::size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '<') {
      i = html.find('>', i);
      continue;
    }
    if (html[i] == '&') {
      const std::size_t end = html.find(';', i);
      const std::string entity = html.substr(i, end - i + 1);
      out += entity == "&amp;" ? "&" : entity == "&lt;" ? "<" : entity == "&gt;" ? ">" : "\"";
      i = end;
      continue;
    }
    out += html[i];
  }
  return out;
}

std::string without_whitespace(const std::string& text) {
  std::string out;
  for (const char c : text)
    if (c != ' ' && c != '\n' && c != '\t') out += c;
  return out;
}

bool whole_code_points(const std::string& s) {
  std::size_t expect = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (expect > 0) {
      if ((c & 0xC0) != 0x80) return false;
      --expect;
    } else if (c >= 0xF0) {
      expect = 3;
    } else if (c >= 0xE0) {
      expect = 2;
    } else if (c >= 0xC0) {
      expect = 1;
    } else if (c >= 0x80) {
      return false;
    }
  }
  return expect == 0;
}

void check_html_chunks(const std::vector<std::string>& chunks) {
  REQUIRE(!chunks.empty());
  for (const std::string& chunk : chunks) {
    CHECK(!chunk.empty());
    CHECK(utf16_length(chunk) <= k_max_message_utf16);
    CHECK(whole_code_points(chunk));
    CHECK(html_problem(chunk) == "");
    CHECK(without_whitespace(visible_text(chunk)) != "");
  }
}

void check_plain_chunks(const std::vector<std::string>& chunks) {
  REQUIRE(!chunks.empty());
  for (const std::string& chunk : chunks) {
    CHECK(without_whitespace(chunk) != "");
    CHECK(utf16_length(chunk) <= k_max_message_utf16);
    CHECK(whole_code_points(chunk));
  }
}

std::string joined(const std::vector<std::string>& chunks, bool html) {
  std::string out;
  for (const std::string& chunk : chunks) out += html ? visible_text(chunk) : chunk;
  return out;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// "w0000 w0001 ...": `count` distinct words, so a lost or repeated piece shows.
std::string numbered_words(std::size_t first, std::size_t count) {
  std::string out;
  for (std::size_t i = first; i < first + count; ++i) {
    if (!out.empty()) out += ' ';
    std::string n = std::to_string(i);
    out += "w" + std::string(5 - n.size(), '0') + n;
  }
  return out;
}

}  // namespace

TEST_CASE("escape_html: & < > and \" are escaped - invalid UTF-8 replaced") {
  CHECK(escape_html("a & b < c > d \"q\" 'x'") == "a &amp; b &lt; c &gt; d &quot;q&quot; 'x'");
  CHECK(escape_html("<script>&\"") == "&lt;script&gt;&amp;&quot;");
  CHECK(escape_html("&amp;") == "&amp;amp;");
  CHECK(escape_html("") == "");
  CHECK(escape_html("Schrödinger — 中文 " + k_grin) == "Schrödinger — 中文 " + k_grin);
  CHECK(escape_html("a\xFF"
                    "b") ==
        "a\xEF\xBF\xBD"
        "b");
}

TEST_CASE("render_messages: a simple answer") {
  Answer answer;
  answer.kind = Answer::Kind::answer;
  answer.heading = "Attention Is All You Need";
  answer.lines = {"Attention weighs tokens.", "It is all you need."};
  answer.citations = {paper("Attention Is All You Need")};
  answer.related = {paper("BERT", "https://arxiv.org/abs/1810.04805")};
  answer.suggestions = {"Try /papers 2024-03"};

  const auto chunks = render_messages(answer);
  REQUIRE(chunks.size() == 1);
  check_html_chunks(chunks);
  const std::string& html = chunks[0];
  CHECK(html.rfind("<b>Attention Is All You Need</b>\n\nAttention weighs tokens.\nIt is all you need.\n\n", 0) == 0);
  CHECK(html.find("<b><a href=\"https://arxiv.org/abs/2401.00001\">Attention Is All You Need</a></b>") !=
        std::string::npos);
  CHECK(html.find("<i>Ada Lovelace, Alan Turing et al.</i>") != std::string::npos);
  CHECK(html.find("Roundup: Weekly Roundup #12 (2024-03)") != std::string::npos);
  CHECK(html.find("<b>Related</b>\n• <a href=\"https://arxiv.org/abs/1810.04805\">BERT</a> — Ada Lovelace") !=
        std::string::npos);
  CHECK(html.find("Try /papers 2024-03") != std::string::npos);
  CHECK(html.find("A summary of") == std::string::npos);  // summaries only in listings
}

TEST_CASE("render_messages: every kind renders something") {
  for (const Answer::Kind kind : {Answer::Kind::answer, Answer::Kind::listing, Answer::Kind::roundups,
                                  Answer::Kind::no_match, Answer::Kind::help, Answer::Kind::notice}) {
    Answer answer;
    answer.kind = kind;
    answer.heading = "Heading";
    answer.lines = {"Line one", "Line two"};
    if (kind == Answer::Kind::listing || kind == Answer::Kind::answer || kind == Answer::Kind::roundups)
      answer.citations = {paper("First"), paper("Second")};
    if (kind == Answer::Kind::no_match) answer.suggestions = {"2024-03 — Weekly Roundup #12 (9 papers)"};
    const auto chunks = render_messages(answer);
    check_html_chunks(chunks);
    check_plain_chunks(render_plain(answer));
    CHECK(chunks[0].find("<b>Heading</b>") == 0);
    CHECK(chunks[0].find("Line two") != std::string::npos);
  }

  Answer empty;
  CHECK(render_messages(empty) == std::vector<std::string>{"<i>Nothing to show.</i>"});
  CHECK(render_plain(empty) == std::vector<std::string>{"Nothing to show."});
  Answer blank;
  blank.heading = "  ";
  blank.lines = {"", " \n "};
  CHECK(render_messages(blank).size() == 1);
}

TEST_CASE("render_messages: listings are numbered with summaries and months") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.heading = "Papers in the 2024-03 roundup";
  answer.citations = {paper("Alpha"), paper("Beta")};
  answer.citations[1].roundups.push_back(RoundupCitation{"r2", "Spring Roundup", ""});
  const std::string html = render_messages(answer).at(0);
  CHECK(html.find("1. <b><a href=\"https://arxiv.org/abs/2401.00001\">Alpha</a></b>") != std::string::npos);
  CHECK(html.find("2. <b><a href=\"https://arxiv.org/abs/2401.00001\">Beta</a></b>") != std::string::npos);
  CHECK(html.find("A summary of Alpha.") != std::string::npos);
  CHECK(html.find("Roundups: Weekly Roundup #12 (2024-03); Spring Roundup") != std::string::npos);
  CHECK(html.find("Source") == std::string::npos);
}

TEST_CASE("render_messages: corpus strings are escaped - unsafe URLs are not links") {
  Answer answer;
  answer.kind = Answer::Kind::answer;
  answer.heading = "<script>&\"";
  answer.lines = {"1 < 2 && 3 > 2"};
  answer.citations = {paper("<script>&\"", "https://example.com/a\"onmouseover=\"alert(1)&b=<c>")};
  answer.citations[0].authors = "<b>Mallory</b>";
  answer.related = {paper("Evil", "javascript:alert(1)"), paper("Data", "data:text/html,<b>x</b>"),
                    paper("Shouting", "HTTPS://EXAMPLE.COM/x y")};

  const auto chunks = render_messages(answer);
  check_html_chunks(chunks);
  const std::string html = chunks.at(0);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<b>&lt;script&gt;&amp;&quot;</b>") == 0);
  CHECK(html.find("1 &lt; 2 &amp;&amp; 3 &gt; 2") != std::string::npos);
  CHECK(
      html.find(
          "<a href=\"https://example.com/a%22onmouseover=%22alert(1)&amp;b=%3Cc%3E\">&lt;script&gt;&amp;&quot;</a>") !=
      std::string::npos);
  CHECK(html.find("<i>&lt;b&gt;Mallory&lt;/b&gt;</i>") != std::string::npos);
  CHECK(html.find("javascript") == std::string::npos);
  CHECK(html.find("data:") == std::string::npos);
  CHECK(html.find("• Evil — ") != std::string::npos);  // shown, unlinked
  CHECK(html.find("• Data — ") != std::string::npos);
  CHECK(html.find("<a href=\"HTTPS://EXAMPLE.COM/x%20y\">Shouting</a>") != std::string::npos);

  const auto plain = render_plain(answer);
  check_plain_chunks(plain);
  CHECK(plain.at(0).find("<script>&\"") == 0);  // plain text is not escaped
  CHECK(plain.at(0).find("javascript") == std::string::npos);
  CHECK(plain.at(0).find("https://example.com/a\"onmouseover") != std::string::npos);  // URL shown as text
}

TEST_CASE("render_messages: a 9 -000-character answer is split into balanced chunks - nothing lost") {
  Answer answer;
  answer.kind = Answer::Kind::answer;
  answer.heading = "A long answer";
  // 30 lines of 50 words (6 bytes each) = 9,000 characters, plus a 3,000-character paragraph with
  // escapes in it.
  for (std::size_t line = 0; line < 30; ++line) answer.lines.push_back(numbered_words(line * 50, 50));
  std::string escapes;
  for (int i = 0; i < 600; ++i) escapes += "a&<b ";
  answer.lines.push_back(escapes);
  answer.citations = {paper("The <cited> paper")};
  answer.related = {paper("Related & one"), paper("Related two")};

  const auto chunks = render_messages(answer);
  CHECK(chunks.size() >= 3);
  check_html_chunks(chunks);

  std::string expected = answer.heading;
  for (const std::string& line : answer.lines) expected += line;
  const std::string seen = without_whitespace(joined(chunks, true));
  CHECK(seen.find(without_whitespace(expected)) == 0);
  for (std::size_t i = 0; i < 1500; ++i) CHECK(occurrences(seen, numbered_words(i, 1)) == 1);
  CHECK(occurrences(seen, "a&<b") == 600);
  CHECK(occurrences(seen, "The<cited>paper") == 1);
  CHECK(seen.find("Relatedtwo") != std::string::npos);

  const auto plain = render_plain(answer);
  CHECK(plain.size() >= 3);
  check_plain_chunks(plain);
  CHECK(without_whitespace(joined(plain, false)).find(without_whitespace(expected)) == 0);
}

TEST_CASE("render_messages: a single line longer than a message is cut and re-wrapped") {
  Answer answer;
  answer.kind = Answer::Kind::notice;
  // A 12,000-character heading: one bold span, cut into pieces each wrapped in <b></b>.
  answer.heading = numbered_words(0, 2000);
  const auto chunks = render_messages(answer);
  REQUIRE(chunks.size() >= 3);
  check_html_chunks(chunks);
  for (const std::string& chunk : chunks) {
    CHECK(chunk.rfind("<b>", 0) == 0);
    CHECK(chunk.substr(chunk.size() - 4) == "</b>");
  }
  CHECK(without_whitespace(joined(chunks, true)) == without_whitespace(answer.heading));
  // Cuts prefer spaces, so no word is split: every chunk but the last ends with one.
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) CHECK(visible_text(chunks[i]).back() == ' ');
}

TEST_CASE("render_messages: long runs of entities and emoji are never split inside") {
  // For several alignments, a line of 5,000 '&' (5 units each once escaped), and a line of
  // 5,000 emoji (2 units each) with a varying ASCII prefix.
  for (std::size_t prefix = 0; prefix < 4; ++prefix) {
    Answer answer;
    answer.kind = Answer::Kind::notice;
    answer.lines = {std::string(prefix, 'x') + std::string(5000, '&')};
    auto chunks = render_messages(answer);
    check_html_chunks(chunks);
    CHECK(occurrences(joined(chunks, true), "&") == 5000);

    std::string emoji = std::string(prefix, 'x');
    for (int i = 0; i < 5000; ++i) emoji += k_grin;
    answer.lines = {emoji};
    chunks = render_messages(answer);
    CHECK(chunks.size() >= 3);
    check_html_chunks(chunks);
    CHECK(occurrences(joined(chunks, true), k_grin) == 5000);
    for (std::size_t i = 0; i + 1 < chunks.size(); ++i)
      CHECK(utf16_length(chunks[i]) >= k_max_message_utf16 - 8);  // packed full
    const auto plain = render_plain(answer);
    check_plain_chunks(plain);
    CHECK(occurrences(joined(plain, false), k_grin) == 5000);
  }
}

TEST_CASE("render_messages: papers are not split from their details when a paragraph fits") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.heading = "Papers";
  for (int i = 0; i < 60; ++i) {
    PaperCitation p = paper("Paper " + std::to_string(i));
    p.summary = numbered_words(static_cast<std::size_t>(i) * 20, 20);
    answer.citations.push_back(p);
  }
  const auto chunks = render_messages(answer);
  CHECK(chunks.size() >= 2);
  check_html_chunks(chunks);
  for (const std::string& chunk : chunks) {
    // Every chunk starts with a numbered paper (or the heading) and ends with a summary.
    CHECK((chunk.rfind("<b>Papers</b>", 0) == 0 || (chunk[0] >= '1' && chunk[0] <= '9')));
    CHECK(chunk.substr(chunk.size() - 6, 1) == "w");
  }
  for (int i = 0; i < 60; ++i) CHECK(occurrences(joined(chunks, true), "Paper " + std::to_string(i) + "\n") == 1);
}

TEST_CASE("render_plain: same content - no markup - URLs as text") {
  Answer answer;
  answer.kind = Answer::Kind::listing;
  answer.heading = "Results for \"x & y\"";
  answer.citations = {paper("Alpha <1>")};
  answer.related = {paper("Beta")};
  const auto plain = render_plain(answer);
  REQUIRE(plain.size() == 1);
  CHECK(plain[0] ==
        "Results for \"x & y\"\n\n"
        "1. Alpha <1>\n"
        "Ada Lovelace, Alan Turing et al.\n"
        "Roundup: Weekly Roundup #12 (2024-03)\n"
        "https://arxiv.org/abs/2401.00001\n"
        "A summary of Alpha <1>.\n\n"
        "Related\n"
        "• Beta — Ada Lovelace, Alan Turing et al.\n"
        "  https://arxiv.org/abs/2401.00001");
}

TEST_CASE("render_messages: random texts keep every limit and lose nothing") {
  // Deterministic pseudo-random answers mixing spaces, newlines, entities, CJK and emoji, with
  // lines from a few characters to well over one message.
  const std::vector<std::string> alphabet = {"a", "b", " ", "\n", "&", "<", "\"", "\xE4\xB8\xAD", "\xC3\xA9", k_grin};
  std::uint32_t state = 12345;
  auto next = [&state](std::uint32_t bound) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % bound;
  };
  auto random_text = [&](std::uint32_t max_atoms) {
    std::string out;
    const std::uint32_t atoms = next(max_atoms) + 1;
    for (std::uint32_t i = 0; i < atoms; ++i) {
      // Mostly letters, so texts look like words; long runs without spaces happen too.
      const std::uint32_t pick = next(4) == 0 ? next(static_cast<std::uint32_t>(alphabet.size())) : next(2);
      out += alphabet[pick];
    }
    return out;
  };
  for (int round = 0; round < 60; ++round) {
    Answer answer;
    answer.kind = Answer::Kind::notice;
    answer.heading = random_text(round % 10 == 0 ? 6000 : 100);
    const std::uint32_t lines = next(12);
    for (std::uint32_t i = 0; i < lines; ++i) answer.lines.push_back(random_text(i % 5 == 0 ? 6000 : 400));
    answer.suggestions.push_back(random_text(50));

    std::string expected = answer.heading;
    for (const std::string& line : answer.lines) expected += line;
    expected += answer.suggestions[0];

    const auto chunks = render_messages(answer);
    check_html_chunks(chunks);
    CHECK(without_whitespace(joined(chunks, true)) == without_whitespace(expected));
    const auto plain = render_plain(answer);
    check_plain_chunks(plain);
    CHECK(without_whitespace(joined(plain, false)) == without_whitespace(expected));
  }
}

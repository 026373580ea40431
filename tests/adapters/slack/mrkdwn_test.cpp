#include "adapters/slack/mrkdwn.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace roundup::adapters::slack;

namespace {

// True when every byte sequence in `s` is well-formed UTF-8 (checked independently of mrkdwn.cpp
// by letting nlohmann-free logic count lead/continuation bytes).
bool looks_like_whole_code_points(const std::string& s) {
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

}  // namespace

TEST_CASE("escape_mrkdwn: only & < > are escaped") {
  CHECK(escape_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d");
  CHECK(escape_mrkdwn("<script>alert('x')</script>") == "&lt;script&gt;alert('x')&lt;/script&gt;");
  CHECK(escape_mrkdwn("*bold* _it_ `code` | \"q\"") == "*bold* _it_ `code` | \"q\"");
  CHECK(escape_mrkdwn("&amp;") == "&amp;amp;");
  CHECK(escape_mrkdwn("") == "");
  CHECK(escape_mrkdwn("Schrödinger — ∑ 🚀") == "Schrödinger — ∑ 🚀");
}

TEST_CASE("escape_mrkdwn: invalid UTF-8 becomes U+FFFD") {
  CHECK(escape_mrkdwn("a\xFF"
                      "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(escape_mrkdwn("\xC3") == "\xEF\xBF\xBD");                  // truncated sequence
  CHECK(escape_mrkdwn("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(escape_mrkdwn("\xED\xA0\x80").find("\xEF\xBF\xBD") == 0);  // surrogate
}

TEST_CASE("link: <url|label> with an escaped label") {
  CHECK(link("https://arxiv.org/abs/2401.00001", "Attention") == "<https://arxiv.org/abs/2401.00001|Attention>");
  CHECK(link("https://x.org/", "A & B <i>") == "<https://x.org/|A &amp; B &lt;i&gt;>");
}

TEST_CASE("link: neither a | nor a > in the label can break the link") {
  const std::string out = link("https://x.org/", "left | right > end");
  CHECK(out == "<https://x.org/|left \xE2\x9D\x98 right &gt; end>");
  // Exactly one '|' (the separator) and one '>' (the terminator).
  CHECK(std::count(out.begin(), out.end(), '|') == 1);
  CHECK(std::count(out.begin(), out.end(), '>') == 1);
  CHECK(link("https://x.org/", "two\nlines") == "<https://x.org/|two lines>");
}

TEST_CASE("link: the url cannot break out either") {
  CHECK(link("https://x.org/a|b>c<d e", "t") == "<https://x.org/a%7Cb%3Ec%3Cd%20e|t>");
  CHECK(link("https://x.org/?a=1&b=2", "t") == "<https://x.org/?a=1&amp;b=2|t>");
  CHECK(link("https://x.org/é", "t") == "<https://x.org/%C3%A9|t>");
}

TEST_CASE("link: empty url or label") {
  CHECK(link("", "Just <text>") == "Just &lt;text&gt;");
  CHECK(link("https://x.org/", "") == "<https://x.org/>");
}

// Found by fuzz/slack_render_fuzz.cpp: a roundup's link "[Title](!channel)" became
// "<!channel|Title>", which Slack reads as @channel.
TEST_CASE("link: only web URLs are linked - Slack markup in a URL is not") {
  CHECK(link("!channel", "Title") == "Title");
  CHECK(link("!here", "") == "");
  CHECK(link("@U0123", "a <b>") == "a &lt;b&gt;");
  CHECK(link("#C0123|general", "t") == "t");
  CHECK(link("javascript:alert(1)", "t") == "t");
  CHECK(link("https://", "t") == "t");
  CHECK(link("HTTPS://X.ORG/", "t") == "<HTTPS://X.ORG/|t>");
  CHECK(link("http://x.org/", "t") == "<http://x.org/|t>");
}

TEST_CASE("escape_mrkdwn_split: bounded chunks - nothing lost - no split entity or code point") {
  std::string raw;
  for (int i = 0; i < 400; ++i) raw += "word&<é🚀 ";
  const std::vector<std::string> chunks = escape_mrkdwn_split(raw, 100);
  REQUIRE(chunks.size() > 1);
  std::string joined;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    CAPTURE(i);
    CHECK(chunks[i].size() <= 100);
    CHECK(looks_like_whole_code_points(chunks[i]));
    std::string body = chunks[i];
    if (i + 1 < chunks.size()) {
      REQUIRE(body.ends_with("\xE2\x80\xA6"));
      body.resize(body.size() - 3);
    }
    // No entity is cut: every '&' starts a complete entity.
    for (std::size_t p = body.find('&'); p != std::string::npos; p = body.find('&', p + 1)) {
      const std::string_view rest = std::string_view(body).substr(p);
      CHECK((rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;")));
    }
    joined += body;
    if (i + 1 < chunks.size() && !joined.ends_with(' ')) joined += ' ';  // the dropped break space
  }
  // Every word survives: count them.
  std::size_t words = 0;
  for (std::size_t p = joined.find("word"); p != std::string::npos; p = joined.find("word", p + 1)) ++words;
  CHECK(words == 400);
}

TEST_CASE("escape_mrkdwn_split: short or empty text") {
  CHECK(escape_mrkdwn_split("", 100).empty());
  CHECK(escape_mrkdwn_split("a<b", 100) == std::vector<std::string>{"a&lt;b"});
  const std::string exact(100, 'x');
  CHECK(escape_mrkdwn_split(exact, 100) == std::vector<std::string>{exact});
}

TEST_CASE("escape_mrkdwn_fit and truncate_utf8") {
  const std::string raw(5000, '&');
  const std::string fitted = escape_mrkdwn_fit(raw, 3000);
  CHECK(fitted.size() <= 3000);
  CHECK(fitted.ends_with("\xE2\x80\xA6"));
  CHECK(escape_mrkdwn_fit("short", 3000) == "short");

  CHECK(truncate_utf8("hello", 10) == "hello");
  const std::string cut = truncate_utf8("ééééééé", 8);  // 14 bytes
  CHECK(cut.size() <= 8);
  CHECK(looks_like_whole_code_points(cut));
  CHECK(cut == "éé\xE2\x80\xA6");
}

// A model-written answer on every surface: its [n] markers link to the n-th source, and the rest
// of its text is escaped like any other text, so a hostile reply cannot ping a channel, add a
// link or close a tag (bot/grounded_answer.h, adapters/slack/block_kit.cpp,
// adapters/telegram/html.cpp, bot/render_text.cpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "adapters/slack/block_kit.h"
#include "adapters/telegram/html.h"
#include "bot/render_text.h"

using roundup::bot::Answer;
using roundup::bot::PaperCitation;

namespace {

PaperCitation paper(std::string title, std::string url) {
  PaperCitation p;
  p.paper_id = title;
  p.kind = "paper";
  p.title = std::move(title);
  p.url = std::move(url);
  p.roundups = {{"r1", "ML roundup", "2023-01"}};
  p.summary = "A summary.";
  return p;
}

const std::string k_hostile =
    "<!channel> <@U123> *x* <https://evil.example|click> & [1] </a><script>alert(1)</script> [2]";

Answer model_answer() {
  Answer a;
  a.kind = Answer::Kind::answer;
  a.heading = "Watermarks";
  a.lines = {k_hostile};
  a.citations = {paper("First paper", "https://arxiv.org/abs/2301.10226"),
                 paper("Second paper", "https://example.org/b")};
  a.written_by_model = true;
  return a;
}

std::string slack_text(const Answer& answer) {
  std::string out;
  for (const auto& message : roundup::adapters::slack::render_messages(answer))
    for (const auto& block : message.at("blocks"))
      if (block.at("type") == "section") out += block.at("text").at("text").get<std::string>() + "\n";
  return out;
}

std::string telegram_text(const Answer& answer) {
  std::string out;
  for (const std::string& chunk : roundup::adapters::telegram::render_messages(answer)) out += chunk;
  return out;
}

}  // namespace

TEST_CASE("model answer in Slack: markers become links, everything else is escaped mrkdwn") {
  const std::string text = slack_text(model_answer());
  CHECK(text.find("&lt;!channel&gt; &lt;@U123&gt; *x* &lt;https://evil.example|click&gt; &amp; "
                  "<https://arxiv.org/abs/2301.10226|[1]> &lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt; "
                  "<https://example.org/b|[2]>") != std::string::npos);
  CHECK(text.find("<!channel>") == std::string::npos);
  CHECK(text.find("<https://evil") == std::string::npos);
  // The sources are numbered, so that [n] is the n-th.
  CHECK(text.find("1. *<https://arxiv.org/abs/2301.10226|First paper>*") != std::string::npos);
  CHECK(text.find("2. *<https://example.org/b|Second paper>*") != std::string::npos);

  // The same text from retrieval is only escaped: its brackets are not the model's markers.
  Answer extractive = model_answer();
  extractive.written_by_model = false;
  CHECK(slack_text(extractive).find("|[1]>") == std::string::npos);
}

TEST_CASE("model answer in Slack: a marker with no web source stays text, and long replies still fit") {
  Answer a = model_answer();
  a.citations[1].url = "javascript:alert(1)";
  a.lines = {"Claim [2]."};
  CHECK(slack_text(a).find("Claim [2].") != std::string::npos);

  a.lines = {""};
  for (int i = 0; i < 400; ++i) a.lines[0] += "Claim & more [1]. ";
  for (const auto& message : roundup::adapters::slack::render_messages(a))
    for (const auto& block : message.at("blocks"))
      if (block.at("type") == "section")
        CHECK(block.at("text").at("text").get<std::string>().size() <= roundup::adapters::slack::k_max_section_bytes);
}

TEST_CASE("model answer in Telegram: markers become links, everything else is escaped HTML") {
  const std::string html = telegram_text(model_answer());
  CHECK(html.find("&lt;!channel&gt; &lt;@U123&gt; *x* &lt;https://evil.example|click&gt; &amp; "
                  "<a href=\"https://arxiv.org/abs/2301.10226\">[1]</a> "
                  "&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt; <a href=\"https://example.org/b\">[2]</a>") !=
        std::string::npos);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("1. <b><a href=\"https://arxiv.org/abs/2301.10226\">First paper</a></b>") != std::string::npos);
  CHECK(html.find("2. <b><a href=\"https://example.org/b\">Second paper</a></b>") != std::string::npos);

  // Plain text (Telegram refused the HTML): markers stay as typed, the URLs are listed.
  std::string plain;
  for (const std::string& chunk : roundup::adapters::telegram::render_plain(model_answer())) plain += chunk;
  CHECK(plain.find(k_hostile) != std::string::npos);
  CHECK(plain.find("https://arxiv.org/abs/2301.10226") != std::string::npos);

  // A quote in a source's URL cannot leave the attribute.
  Answer a = model_answer();
  a.citations[0].url = "https://example.org/\"><script>";
  const std::string quoted = telegram_text(a);
  CHECK(quoted.find("<script>") == std::string::npos);
  CHECK(quoted.find("\"><") == std::string::npos);
}

TEST_CASE("model answer in the terminal: markers as typed, sources numbered in marker order") {
  const std::string text = roundup::bot::render_text(model_answer());
  CHECK(text.find(k_hostile) != std::string::npos);
  CHECK(text.find("Sources:\n1. First paper\n") != std::string::npos);
  CHECK(text.find("2. Second paper\n") != std::string::npos);
  CHECK(text.find("https://arxiv.org/abs/2301.10226") < text.find("https://example.org/b"));
}

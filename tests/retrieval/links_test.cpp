#include "retrieval/links.h"

#include <doctest/doctest.h>

using namespace roundup::retrieval;

TEST_CASE("links: arXiv ids from abs - pdf - versioned and prefixed forms") {
  CHECK(arxiv_id_from_text("https://arxiv.org/abs/2203.15556") == "2203.15556");
  CHECK(arxiv_id_from_text("https://arxiv.org/pdf/2203.15556.pdf") == "2203.15556");
  CHECK(arxiv_id_from_text("https://arxiv.org/abs/2203.15556v3") == "2203.15556");
  CHECK(arxiv_id_from_text("arXiv:2301.10226v1") == "2301.10226");
  CHECK(arxiv_id_from_text("https://arxiv.org/abs/cs/0112017") == "cs/0112017");
  CHECK_FALSE(arxiv_id_from_text("https://example.com/2203.15556").has_value());
}

TEST_CASE("links: fallback title search link is deterministic and encoded") {
  const std::string url = arxiv_title_search_url("A ConvNet for the 2020s");
  CHECK(url == "https://arxiv.org/search/?searchtype=title&query=A+ConvNet+for+the+2020s");
  CHECK(arxiv_title_search_url("StyTr^2: 风格") == arxiv_title_search_url("StyTr^2: 风格"));
  CHECK(arxiv_title_search_url("a&b").find("a%26b") != std::string::npos);
}

TEST_CASE("links: month of an arXiv id") {
  CHECK(month_of_arxiv_id("2203.15556") == "2022-03");
  CHECK(month_of_arxiv_id("0704.0001") == "2007-04");
  CHECK(month_of_arxiv_id("2213.00001").empty());
  CHECK(month_of_arxiv_id("cs/0112017").empty());
}

TEST_CASE("links: one key for every spelling of a link") {
  CHECK(link_key("https://arxiv.org/pdf/2203.15556v2.pdf") == "arxiv:2203.15556");
  CHECK(link_key("HTTP://WWW.Science.org/doi/10.1126/science.abk1781/") ==
        "url:science.org/doi/10.1126/science.abk1781");
  CHECK(link_key("https://make-a-video3d.github.io/#demo") == "url:make-a-video3d.github.io");
  CHECK(link_key("https://youtube.com/watch?v=abc") == "url:youtube.com/watch?v=abc");
  CHECK(link_key("ftp://example.org/x").empty());
  CHECK(link_key("not a link").empty());
  CHECK(link_key("https://").empty());
}

TEST_CASE("links: the link a question holds, as typed and as a key") {
  std::string shown;
  CHECK(question_link("2301.10226", &shown) == "arxiv:2301.10226");
  CHECK(shown == "arXiv:2301.10226");
  CHECK(question_link("what about 2203.15556v2?") == "arxiv:2203.15556");
  CHECK(question_link("这篇讲什么 https://arxiv.org/abs/2301.10226。", &shown) == "arxiv:2301.10226");
  CHECK(question_link("<https://github.com/google/scenic|scenic> any good?", &shown) == "url:github.com/google/scenic");
  CHECK(shown == "https://github.com/google/scenic");
  CHECK(question_link("see https://example.org/paper.pdf, please") == "url:example.org/paper.pdf");
  CHECK(question_link("（https://example.org/a）") == "url:example.org/a");
  // Numbers that are not ids: a month that does not exist, too few digits, a decimal.
  CHECK_FALSE(question_link("trained on 1.4T tokens in 2022").has_value());
  CHECK_FALSE(question_link("2213.00001").has_value());
  CHECK_FALSE(question_link("2203.155").has_value());
  CHECK_FALSE(question_link("12203.15556").has_value());
  CHECK_FALSE(question_link("").has_value());
  CHECK_FALSE(question_link("https:// nothing").has_value());
}

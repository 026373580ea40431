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

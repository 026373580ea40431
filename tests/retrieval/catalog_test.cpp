#include "retrieval/catalog.h"

#include <doctest/doctest.h>

using namespace roundup::retrieval;

namespace {
Item make_item(ItemKind kind, std::string title, std::optional<std::string> arxiv, std::string url = "") {
  Item it;
  it.kind = kind;
  it.title = std::move(title);
  it.arxiv_id = std::move(arxiv);
  it.url = std::move(url);
  it.summary = "summary of " + it.title;
  return it;
}
}  // namespace

TEST_CASE("catalog: the same paper in two roundups is one paper listing both") {
  Roundup a{"a", "Roundup A", "2022-04", MonthSource::text, "", "", "", {}};
  a.items.push_back(
      make_item(ItemKind::paper, "训练计算优化的大型语言模型", "2203.15556", "https://arxiv.org/abs/2203.15556"));
  a.items.push_back(make_item(ItemKind::paper, "Same Title, Different Case", std::nullopt));
  Roundup b{"b", "Roundup B", "2022-05", MonthSource::text, "", "", "", {}};
  b.items.push_back(make_item(ItemKind::paper, "Training Compute-Optimal Large Language Models", "2203.15556"));
  b.items.push_back(make_item(ItemKind::listed_paper, "same title different case", std::nullopt));
  b.items.push_back(make_item(ItemKind::news, "Same Title, Different Case", std::nullopt));
  Catalog c({a, b});
  const Paper* chinchilla = c.find("arxiv:2203.15556");
  REQUIRE(chinchilla != nullptr);
  CHECK(chinchilla->roundups.size() == 2);
  CHECK(chinchilla->title == "Training Compute-Optimal Large Language Models");  // the original English title
  CHECK(chinchilla->url == "https://arxiv.org/abs/2203.15556");
  std::size_t titled = 0;
  for (const Paper& p : c.papers()) {
    if (normalized_title(p.title) == "sametitledifferentcase") {
      ++titled;
      if (p.kind == ItemKind::paper) {
        CHECK(p.roundups.size() == 2);
      } else {
        CHECK(p.kind == ItemKind::news);  // news never merges with papers
      }
    }
  }
  CHECK(titled == 2);
}

TEST_CASE("catalog: every paper gets a link") {
  Roundup a{"a", "A", "", MonthSource::unknown, "https://example.com/a", "", "", {}};
  a.items.push_back(make_item(ItemKind::paper, "No Link Paper", std::nullopt));
  a.items.push_back(make_item(ItemKind::paper, "Own Link", std::nullopt, "https://example.com/own"));
  Catalog c({a});
  CHECK(c.papers()[0].url == "https://arxiv.org/search/?searchtype=title&query=No+Link+Paper");
  CHECK(c.papers()[1].url == "https://example.com/own");
}

#include "retrieval/passages.h"

#include <doctest/doctest.h>

#include "text/unicode.h"

using namespace roundup::retrieval;

TEST_CASE("passages: sentences split on Chinese and English terminators - not inside numbers") {
  const auto s = split_sentences("第一句。第二句！Version 3.5 is out. Next one? 末尾");
  REQUIRE(s.size() == 5);
  CHECK(s[0] == "第一句。");
  CHECK(s[2] == "Version 3.5 is out.");
  CHECK(s[4] == "末尾");
}

TEST_CASE("passages: chunks respect the size and keep every sentence") {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "这是第" + std::to_string(i) + "个句子,用来测试分块。";
  text += "\n\nShort paragraph.";
  const auto chunks = chunk_text(text, 100);
  CHECK(chunks.size() > 3);
  std::string joined;
  for (const auto& c : chunks) {
    CHECK(roundup::text::utf8_length(c) <= 100);
    joined += c;
  }
  CHECK(joined.find("第39个句子") != std::string::npos);
  CHECK(joined.find("Short paragraph.") != std::string::npos);
}

TEST_CASE("passages: ids are stable and depend on the text") {
  Roundup r;
  r.id = "r1";
  Item item;
  item.title = "T";
  item.summary = "Alpha.\n\nBeta.";
  item.ordinal = 1;
  r.items.push_back(item);
  Catalog a({r});
  const auto p1 = passages_of(a, 0, 700);
  const auto p2 = passages_of(a, 0, 700);
  REQUIRE(p1.size() == 1);
  CHECK(p1[0].id == p2[0].id);
  CHECK(p1[0].id >= 0);
  r.items[0].summary = "Alpha changed.\n\nBeta.";
  Catalog b({r});
  CHECK(passages_of(b, 0, 700)[0].id != p1[0].id);
}

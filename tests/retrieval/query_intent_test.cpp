#include "retrieval/query_intent.h"

#include <doctest/doctest.h>

using namespace roundup::retrieval;

namespace {
Catalog sample_catalog() {
  Roundup a{"004_feb", "2023年2月的十篇深度学习论文推荐", "2023-02", MonthSource::text, "", "", {}};
  Item it;
  it.title = "Extracting Training Data from Diffusion Models";
  it.authors = {"Nicholas Carlini", "Jamie Hayes"};
  it.summary = "扩散模型";
  a.items.push_back(it);
  Roundup b{"001_apr", "人工智能趋势—2022 年 4 月", "2022-04", MonthSource::text, "", "", {}};
  Item chin;
  chin.title = "Training Compute-Optimal Large Language Models";
  chin.authors = {"Jordan Hoffmann"};
  b.items.push_back(chin);
  return Catalog({a, b});
}
}  // namespace

TEST_CASE("query intent: months in English and Chinese") {
  CHECK(find_month("what was in the February 2023 roundup?") == "2023-02");
  CHECK(find_month("Feb 2023 papers") == "2023-02");
  CHECK(find_month("2023年2月的论文") == "2023-02");
  CHECK(find_month("2022 年 4 月") == "2022-04");
  CHECK(find_month("roundup 2021-11") == "2021-11");
  CHECK_FALSE(find_month("A ConvNet for the 2020s").has_value());
  CHECK_FALSE(find_month("GPT-3 with 175B parameters").has_value());
}

TEST_CASE("query intent: listing a roundup") {
  const Catalog c = sample_catalog();
  auto i = understand_query("What was in the February 2023 roundup?", c);
  CHECK(i.kind == QueryIntent::Kind::list_roundups);
  CHECK(i.month == "2023-02");
  i = understand_query("2023年2月的论文有哪些", c);
  CHECK(i.kind == QueryIntent::Kind::list_roundups);
  i = understand_query("diffusion papers in February 2023", c);
  CHECK(i.kind == QueryIntent::Kind::topic);
  CHECK(i.month == "2023-02");
  CHECK(i.topic.find("diffusion") != std::string::npos);
}

TEST_CASE("query intent: authors must exist in the catalog") {
  const Catalog c = sample_catalog();
  auto i = understand_query("papers by Carlini", c);
  CHECK(i.kind == QueryIntent::Kind::by_author);
  CHECK(i.author == "Nicholas Carlini");
  CHECK(i.topic.empty());
  i = understand_query("papers by Hoffmann about scaling", c);
  CHECK(i.kind == QueryIntent::Kind::by_author);
  CHECK(i.topic.find("scaling") != std::string::npos);
  i = understand_query("papers by Nobody Known", c);
  CHECK(i.kind == QueryIntent::Kind::topic);
  CHECK_FALSE(i.author.has_value());
}

TEST_CASE("query intent: which roundups covered a topic") {
  const Catalog c = sample_catalog();
  auto i = understand_query("Which roundups covered Chinchilla?", c);
  CHECK(i.kind == QueryIntent::Kind::which_roundups);
  CHECK(i.topic == "chinchilla?");
  i = understand_query("哪几期提到了扩散模型", c);
  CHECK(i.kind == QueryIntent::Kind::which_roundups);
  CHECK(i.topic.find("扩散模型") != std::string::npos);
}

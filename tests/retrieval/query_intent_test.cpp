#include "retrieval/query_intent.h"

#include <doctest/doctest.h>

#include "text/unicode.h"

using namespace roundup::retrieval;

namespace {
Catalog sample_catalog() {
  Roundup a{"004_feb", "2023年2月的十篇深度学习论文推荐", "2023-02", MonthSource::text, "", "", "", {}};
  Item it;
  it.title = "Extracting Training Data from Diffusion Models";
  it.authors = {"Nicholas Carlini", "Jamie Hayes"};
  it.summary = "扩散模型";
  a.items.push_back(it);
  Roundup b{"001_apr", "人工智能趋势—2022 年 4 月", "2022-04", MonthSource::text, "", "", "", {}};
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

namespace {
std::string repeated(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}
const std::string k_fdfa = "\uFDFA";  // NFKC: 18 characters ("صلى الله عليه وسلم")
const std::string k_ffi = "\uFB03";   // NFKC: "ffi"
}  // namespace

TEST_CASE("query intent: questions are bounded after NFKC - and before it") {
  CHECK(k_max_question_chars == 2000);
  CHECK(question_within_limits(repeated("a", k_max_question_chars)));
  CHECK_FALSE(question_within_limits(repeated("a", k_max_question_chars + 1)));
  // 112 typed characters, 2,016 after NFKC.
  CHECK(question_within_limits(repeated(k_fdfa, 111)));
  CHECK_FALSE(question_within_limits(repeated(k_fdfa, 112)));
  CHECK_FALSE(question_within_limits(repeated(k_fdfa, 4000)));
  CHECK_FALSE(question_within_limits(repeated("a", 40000)));
  // Composition can shrink a question (e + U+0301 -> é): counted after NFKC, it fits.
  CHECK(question_within_limits(repeated("e\u0301", 1500)));

  const std::string bounded = bounded_question("papers by " + repeated(k_fdfa, 4000));
  CHECK(roundup::text::utf8_length(bounded) == k_max_question_chars);
  CHECK(bounded.rfind("papers by \u0635\u0644\u0649", 0) == 0);
  const std::string mended = bounded_question("papers by \xff\xfe" + repeated("\xc3", 40000));
  CHECK(roundup::text::is_valid_utf8(mended));
  CHECK(mended.rfind("papers by \uFFFD\uFFFD\uFFFD", 0) == 0);
  CHECK(roundup::text::utf8_length(mended) == k_max_question_chars);
}

TEST_CASE("query intent: pathological questions are understood - in bounded time and memory") {
  const Catalog c = sample_catalog();
  SUBCASE("40,000 characters after 'papers by' (issue 12: SIGSEGV in std::regex)") {
    const auto i = understand_query("papers by " + repeated("abc ", 10000), c);
    CHECK(i.kind == QueryIntent::Kind::topic);
    CHECK_FALSE(i.author.has_value());
    CHECK(i.topic.rfind("papers by abc abc", 0) == 0);
    CHECK(roundup::text::utf8_length(i.topic) <= k_max_question_chars);
  }
  SUBCASE("a long run of one letter") {
    auto i = understand_query("papers by " + repeated("a", 40000), c);
    CHECK(i.kind == QueryIntent::Kind::topic);
    CHECK_FALSE(i.author.has_value());
    i = understand_query(repeated("a", 40000) + " which roundups covered chinchilla", c);
    CHECK(i.kind == QueryIntent::Kind::topic);  // past the cap, so not read
    i = understand_query("papers by Carlini about " + repeated("a", 1900), c);
    CHECK(i.kind == QueryIntent::Kind::by_author);
    CHECK(i.author == "Nicholas Carlini");
    CHECK(i.topic.find(repeated("a", 1900)) != std::string::npos);
  }
  SUBCASE("U+FDFA, 18 characters each after NFKC (issue 12: SIGSEGV)") {
    const auto i = understand_query("papers by " + repeated(k_fdfa, 4000), c);
    CHECK(i.kind == QueryIntent::Kind::topic);
    CHECK_FALSE(i.author.has_value());
    CHECK(roundup::text::utf8_length(i.topic) <= k_max_question_chars);
    CHECK(i.topic.find("\u0635\u0644\u0649 \u0627\u0644\u0644\u0647") != std::string::npos);
  }
  SUBCASE("U+FB03 after a Chinese author marker (issue 12: 12 s of quadratic matching)") {
    auto i = understand_query("的论文" + repeated(k_ffi, 4090), c);
    CHECK(i.kind == QueryIntent::Kind::topic);
    CHECK_FALSE(i.author.has_value());
    CHECK(roundup::text::utf8_length(i.topic) <= k_max_question_chars);
    i = understand_query("Carlini的论文" + repeated(k_ffi, 600), c);
    CHECK(i.kind == QueryIntent::Kind::by_author);
    CHECK(i.author == "Nicholas Carlini");
    CHECK(i.topic.find(repeated("ffi", 600)) != std::string::npos);
  }
  SUBCASE("invalid UTF-8") {
    auto i = understand_query("papers by " + repeated("\xff", 40000), c);
    CHECK(i.kind == QueryIntent::Kind::topic);
    CHECK(roundup::text::is_valid_utf8(i.topic));
    i = understand_query("\xff\xfe papers by Carlini", c);
    CHECK(i.kind == QueryIntent::Kind::by_author);
    CHECK(i.author == "Nicholas Carlini");
    CHECK(i.topic.empty());  // U+FFFD is no topic word
    CHECK(find_month("\xc3 2023-02 \xff") == "2023-02");
  }
  SUBCASE("frame words repeated, and a month") {
    const auto i = understand_query("February 2023 " + repeated("论文", 10000), c);
    CHECK(i.kind == QueryIntent::Kind::list_roundups);
    CHECK(i.month == "2023-02");
  }
  SUBCASE("which roundups, repeated") {
    const auto i = understand_query(repeated("which roundups ", 5000) + "chinchilla", c);
    CHECK(i.kind == QueryIntent::Kind::which_roundups);
    CHECK(i.topic.find("chinchilla") == std::string::npos);  // past the cap
  }
}

TEST_CASE("query intent: a topic that lists several things is searched part by part") {
  using V = std::vector<std::string>;
  CHECK(topic_parts("speech, audio or music") == V{"speech", "audio", "music"});
  CHECK(topic_parts("robotics and embodied agents") == V{"robotics", "embodied agents"});
  CHECK(topic_parts("语音、音频和音乐") == V{"语音", "音频", "音乐"});
  CHECK(topic_parts("超参数调优 or AutoML?") == V{"超参数调优", "AutoML?"});
  // One thing, hyphenated or with a clause after a comma, stays whole.
  CHECK(topic_parts("vision-language models") == V{"vision-language models"});
  CHECK(topic_parts("aligning long videos, what was it called") == V{"aligning long videos, what was it called"});
  // Frame words are no part of their own.
  CHECK(topic_parts("diffusion and the") == V{"diffusion and the"});
  // Bounded: the rest of a long list stays with the last part.
  std::string many = "a1";
  for (int i = 2; i <= 500; ++i) many += " or a" + std::to_string(i);
  const V parts = topic_parts(many);
  REQUIRE(parts.size() == k_max_topic_parts);
  CHECK(parts.front() == "a1");
  CHECK(parts.back().find("a500") != std::string::npos);
}

TEST_CASE("query intent: topical questions in English and Chinese keep only their topic") {
  const Catalog catalog = sample_catalog();
  for (const auto& [question, topic] : std::vector<std::pair<std::string, std::string>>{
           {"有哪些关于扩散模型的论文?", "扩散模型"},
           {"关于强化学习的论文有哪些", "强化学习"},
           {"what did the roundups say about diffusion models?", "diffusion models"},
           {"papers on speech, audio or music", "speech, audio or music"}}) {
    CAPTURE(question);
    const QueryIntent intent = understand_query(question, catalog);
    CHECK(intent.kind == QueryIntent::Kind::topical);
    std::string got = intent.topic;
    while (!got.empty() && (got.back() == '?' || got.back() == ' ')) got.pop_back();
    CHECK(got == topic);
  }
}

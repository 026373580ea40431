#include "retrieval/analyzer.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace {
using roundup::retrieval::Analyzer;
using roundup::retrieval::Lexicon;

bool has(const std::vector<std::string>& v, const std::string& t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

std::shared_ptr<Lexicon> small_lexicon() {
  auto lex = std::make_shared<Lexicon>();
  lex->add("水印", "watermark", Lexicon::Source::glossary);
  lex->add("语言模型", "language model", Lexicon::Source::glossary);
  lex->add("语言", "language|tongue", Lexicon::Source::cedict);
  lex->add("学", "learn|study|science", Lexicon::Source::cedict);
  return lex;
}
}  // namespace

TEST_CASE("analyzer: English words are folded - stop-worded and stemmed") {
  Analyzer a(nullptr);
  const auto terms = a.analyze("Training LARGER Models with the Transformers").native;
  CHECK(has(terms, "train"));
  CHECK(has(terms, "larger"));
  CHECK(has(terms, "model"));
  CHECK(has(terms, "transform"));
  CHECK_FALSE(has(terms, "the"));
  CHECK_FALSE(has(terms, "with"));
}

TEST_CASE("analyzer: Han text becomes bigrams - full-width punctuation is normalised") {
  Analyzer a(nullptr);
  const auto terms = a.analyze("音乐生成，ＡＢＣ").native;
  CHECK(terms == std::vector<std::string>{"音乐", "乐生", "生成", "abc"});
  CHECK(a.analyze("猫").native == std::vector<std::string>{"猫"});
}

TEST_CASE("analyzer: Chinese words contribute the stems of their English glosses") {
  Analyzer a(small_lexicon());
  const auto analysis = a.analyze("大型语言模型的水印");
  CHECK(has(analysis.gloss, "watermark"));
  CHECK(has(analysis.gloss, "languag"));
  CHECK(has(analysis.gloss, "model"));
  // Longest match: 语言模型 wins over 语言, so the CC-CEDICT sense "tongue" is not added.
  CHECK_FALSE(has(analysis.gloss, "tongu"));
}

TEST_CASE("analyzer: single CC-CEDICT characters are not glossed (too ambiguous)") {
  Analyzer a(small_lexicon());
  CHECK(a.analyze("学").gloss.empty());
}

TEST_CASE("analyzer: quantities in English and Chinese meet in one term") {
  Analyzer a(nullptr);
  const auto en = a.analyze("a 540B parameter model").native;
  const auto en_words = a.analyze("540 billion parameters").native;
  const auto zh = a.analyze("5400 亿参数").native;
  const auto zh_tight = a.analyze("5400亿参数").native;
  CHECK(has(en, "q540e9"));
  CHECK(has(en_words, "q540e9"));
  CHECK(has(zh, "q540e9"));
  CHECK(has(zh_tight, "q540e9"));
  CHECK(has(a.analyze("1.4 万亿个 token").native, "q1p4e12"));
  CHECK(has(a.analyze("trained on 1.4T tokens").native, "q1p4e12"));
  CHECK(has(a.analyze("6,144 chips").native, "6144"));
}

TEST_CASE("analyzer: arXiv-like numbers stay one term") {
  Analyzer a(nullptr);
  CHECK(has(a.analyze("see 2203.15556 for details").native, "2203p15556"));
}

TEST_CASE("analyzer: numbers out of a double's range are terms - not exceptions") {
  // std::stod threw std::out_of_range for these, out of every question that contained one.
  Analyzer a(nullptr);
  const std::string huge(400, '9');
  const std::string tiny = "0." + std::string(400, '0') + "1";
  for (const std::string& text :
       {huge + " billion parameters", huge + "b", huge + "亿", tiny + " million", tiny + "m"}) {
    roundup::retrieval::Analysis analysis;
    CHECK_NOTHROW(analysis = a.analyze(text));
    REQUIRE_FALSE(analysis.native.empty());
    CHECK(analysis.native.front().size() >= 400);  // the number itself is still a term
  }
  // Within range, the quantity term stays.
  CHECK(has(a.analyze("540 billion").native, "q540e9"));
}

TEST_CASE("analyzer: Greek letters in Latin words are written as their names") {
  Analyzer a(nullptr);
  CHECK(a.analyze("μTransfer").native == a.analyze("muTransfer").native);
  CHECK(a.analyze("µTransfer").native == a.analyze("mutransfer").native);  // the micro sign too
  CHECK(a.analyze("β-VAE").native == a.analyze("beta-VAE").native);
}

TEST_CASE("analyzer: a question's concepts group each word's forms") {
  Analyzer a(small_lexicon());
  const auto concepts = a.analyze_question("哪个语言模型有水印 watermarking 540B").concepts;
  // 语言模型, 水印, watermarking, 540B; 哪个 and 有 are in no lexicon word: grammar, no concept.
  REQUIRE(concepts.size() == 4);
  CHECK(concepts[0].native == std::vector<std::string>{"语言", "言模", "模型"});
  CHECK(has(concepts[0].gloss, "languag"));
  CHECK(has(concepts[0].gloss, "model"));
  CHECK(concepts[0].domain);
  CHECK(concepts[1].native == std::vector<std::string>{"水印"});
  CHECK(concepts[1].gloss == std::vector<std::string>{"watermark"});
  CHECK(concepts[2].native == std::vector<std::string>{"watermark"});
  CHECK(concepts[3].native.size() == 2);              // the number and its quantity
  CHECK(a.analyze("哪个语言模型").concepts.empty());  // only questions carry concepts
  // Without a lexicon, a Han run is one concept.
  CHECK(Analyzer(nullptr).analyze_question("水印").concepts.size() == 1);
}

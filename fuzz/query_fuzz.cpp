// libFuzzer target for what reads a question before it is searched: the limits
// (question_within_limits, bounded_question), query understanding (understand_query, find_month;
// retrieval/query_intent.h) against the catalog of the bundled roundups, and the analyzer with
// the real lexicon (retrieval/analyzer.h analyze_question, analyze). A question is any bytes a
// chat user sends, invalid UTF-8 included. Seeds: fuzz/corpus/query_fuzz (questions from
// tests/data and the README, in English and Chinese).
//
// Properties: the bounded question is valid UTF-8 of at most k_max_question_chars code points; a
// recognised month is "YYYY-MM" with a month 01..12; a recognised roundup is one the catalog has;
// an author question names its author; every text that comes out (topic, author, the rest after a
// month, each analyzer term) is valid UTF-8, and no term is empty.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "retrieval/analyzer.h"
#include "retrieval/catalog.h"
#include "retrieval/corpus.h"
#include "retrieval/lexicon.h"
#include "retrieval/query_intent.h"

namespace {

namespace retrieval = roundup::retrieval;

// Built once: loading the corpus and CC-CEDICT per input would dwarf the code under test.
const retrieval::Catalog& catalog() {
  static const retrieval::Catalog catalog(
      retrieval::load_corpus(ROUNDUP_SOURCE_DIR "/data/roundups", 4 * 1024 * 1024).roundups);
  return catalog;
}

const retrieval::Analyzer& analyzer() {
  static const retrieval::Analyzer analyzer = [] {
    std::vector<std::string> warnings;
    return retrieval::Analyzer(std::make_shared<const retrieval::Lexicon>(
        retrieval::Lexicon::load(ROUNDUP_SOURCE_DIR "/data/lexicon", warnings)));
  }();
  return analyzer;
}

std::size_t code_points(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

bool month_shaped(const std::string& month) {
  const auto digit = [&](std::size_t i) { return month[i] >= '0' && month[i] <= '9'; };
  if (month.size() != 7 || month[4] != '-') return false;
  for (const std::size_t i : {0, 1, 2, 3, 5, 6})
    if (!digit(i)) return false;
  const int number = (month[5] - '0') * 10 + (month[6] - '0');
  return number >= 1 && number <= 12;
}

void check_terms(const std::vector<std::string>& terms) {
  for (const std::string& term : terms) FUZZ_REQUIRE(!term.empty() && roundup::fuzz::valid_utf8(term));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto question = roundup::fuzz::as_text(data, size);
  (void)retrieval::question_within_limits(question);
  const std::string bounded = retrieval::bounded_question(question);
  FUZZ_REQUIRE(roundup::fuzz::valid_utf8(bounded));
  FUZZ_REQUIRE(code_points(bounded) <= retrieval::k_max_question_chars);

  const retrieval::QueryIntent intent = retrieval::understand_query(question, catalog());
  FUZZ_REQUIRE(roundup::fuzz::valid_utf8(intent.topic));
  if (intent.month) FUZZ_REQUIRE(month_shaped(*intent.month));
  if (intent.roundup_id) {
    bool known = false;
    for (const auto& roundup : catalog().roundups()) known = known || roundup.id == *intent.roundup_id;
    FUZZ_REQUIRE(known);
  }
  if (intent.kind == retrieval::QueryIntent::Kind::by_author) FUZZ_REQUIRE(intent.author.has_value());
  if (intent.author) FUZZ_REQUIRE(roundup::fuzz::valid_utf8(*intent.author));

  std::string rest;
  if (const auto month = retrieval::find_month(question, &rest)) {
    FUZZ_REQUIRE(month_shaped(*month));
    FUZZ_REQUIRE(roundup::fuzz::valid_utf8(rest));
  }

  const retrieval::Analysis analysis = analyzer().analyze_question(question);
  check_terms(analysis.native);
  check_terms(analysis.gloss);
  for (const retrieval::Concept& concept_ : analysis.concepts) {
    check_terms(concept_.native);
    check_terms(concept_.gloss);
  }
  check_terms(analyzer().analyze(question).native);
  return 0;
}

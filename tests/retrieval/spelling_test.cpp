#include "retrieval/spelling.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using roundup::retrieval::SpellingIndex;

namespace {
SpellingIndex small_index() {
  return SpellingIndex({{"chinchilla", 2},
                        {"watermark", 3},
                        {"kubric", 2},
                        {"socrat", 1},
                        {"musiclm", 1},
                        {"transform", 27},
                        {"transfer", 5},
                        {"sort", 9},
                        {"palm", 12}});
}
}  // namespace

TEST_CASE("spelling: edit distance counts a transposition as one edit") {
  CHECK(SpellingIndex::distance("kubirc", "kubric") == 1);
  CHECK(SpellingIndex::distance("watermakr", "watermark") == 1);
  CHECK(SpellingIndex::distance("chinchila", "chinchilla") == 1);
  CHECK(SpellingIndex::distance("abc", "abc") == 0);
  CHECK(SpellingIndex::distance("", "abc") == 3);
  CHECK(SpellingIndex::distance("kitten", "sitting") == 3);
}

TEST_CASE("spelling: misspelt words are read as the indexed word nearest to them") {
  const SpellingIndex index = small_index();
  CHECK(index.correct("chinchila") == "chinchilla");
  CHECK(index.correct("chinchiilla") == "chinchilla");
  CHECK(index.correct("watermakr") == "watermark");
  CHECK(index.correct("kubirc") == "kubric");
  CHECK(index.correct("socract") == "socrat");
  CHECK(index.correct("musiklm") == "musiclm");
  CHECK(index.correct("transfomr") == "transform");
  CHECK(index.correct("paml") == "palm");  // four letters: two swapped
}

TEST_CASE("spelling: a four-letter word is read only as a swap of two letters after the first") {
  const SpellingIndex index({{"palm", 12}, {"moe", 3}, {"sort", 9}, {"soar", 1}, {"lamp", 4}});
  CHECK(index.correct("plam") == "palm");
  CHECK(index.correct("soar") == std::nullopt);    // indexed as typed
  CHECK(index.correct("sora") == "soar");          // a swap of the last two
  CHECK_FALSE(index.correct("sorx").has_value());  // one letter changed, not swapped: "sort" is not offered
  CHECK_FALSE(index.correct("apml").has_value());  // the first letter never moves
  CHECK_FALSE(index.correct("meo").has_value());   // three letters are never corrected
  CHECK_FALSE(index.correct("alpm").has_value());
}

TEST_CASE("spelling: indexed, short, distant or numeric words are left alone") {
  const SpellingIndex index = small_index();
  CHECK_FALSE(index.correct("chinchilla").has_value());  // indexed as typed
  CHECK_FALSE(index.correct("sora").has_value());        // four letters, and no swap of it is indexed
  CHECK_FALSE(index.correct("sourdough").has_value());   // nothing near
  CHECK_FALSE(index.correct("kubricccc").has_value());   // 3 edits
  CHECK_FALSE(index.correct("hubric").has_value());      // the first letter differs
  CHECK_FALSE(index.correct("12345").has_value());
  CHECK_FALSE(index.correct("水印水印水印").has_value());
}

TEST_CASE("spelling: ties go to the more frequent word, and the vocabulary is bounded") {
  const SpellingIndex tie({{"models", 1}, {"modely", 7}});
  CHECK(tie.correct("modelx") == "modely");
  std::vector<SpellingIndex::Word> many;
  many.reserve(500);
  for (int i = 0; i < 500; ++i)
    many.push_back(
        {"word" + std::string(1, static_cast<char>('a' + i % 26)) + std::string(1, static_cast<char>('a' + i / 26)),
         double(i)});
  const SpellingIndex bounded(many, 100);
  CHECK(bounded.size() == 100);
  CHECK(bounded.correct("wordzsx") == "wordzs");        // frequency 493: kept
  CHECK_FALSE(bounded.correct("wordaax").has_value());  // "wordaa" and "wordax" were dropped
}

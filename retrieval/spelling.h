#pragma once
// Spelling correction over the index's own vocabulary, SymSpell-style (symmetric deletes): every
// indexed word and every question word is reduced to its variants with up to two letters
// deleted, and words sharing a variant are compared by edit distance. "chinchila", "watermakr",
// "Kubirc", "MusikLM" find "chinchilla", "watermark", "kubric", "musiclm"; no correction list.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roundup::retrieval {

class SpellingIndex {
 public:
  struct Word {
    std::string term;  // an analyzer term (a stemmed, folded Latin word)
    double frequency = 0;
  };
  // Words outside the correctable shape (see correctable) are ignored; when there are more than
  // max_words, the most frequent are kept, so memory stays bounded on any corpus.
  explicit SpellingIndex(std::vector<Word> vocabulary, std::size_t max_words = k_default_max_words);

  // The indexed word nearest to word, within max_distance; ties go to the more frequent word.
  // None when word itself is indexed, is not correctable, or nothing is near enough.
  std::optional<std::string> correct(std::string_view word) const;

  // Lowercase ASCII letters, 5 to 24 of them: shorter words have too many neighbours to correct
  // safely ("sora" is one letter from "sort"), and numbers and Han text are not misspelt. A
  // four-letter word is read only as a swap of two letters after the first ("paml" for "palm"),
  // which is the commonest slip and leaves few neighbours.
  static bool correctable(std::string_view word);
  // One edit for words up to 7 letters, two for longer ones.
  static int max_distance(std::size_t length);
  // Restricted Damerau-Levenshtein (optimal string alignment): a transposition is one edit.
  static int distance(std::string_view a, std::string_view b);

  std::size_t size() const { return words_.size(); }

  static constexpr std::size_t k_default_max_words = 60000;

 private:
  std::vector<Word> words_;
  // (hash of a deletion variant, index into words_), sorted: compact, and searched by range.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> variants_;
  std::unordered_map<std::string, double> short_words_;  // four-letter words -> frequency
};

}  // namespace roundup::retrieval

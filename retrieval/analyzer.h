#pragma once
// Text analysis shared by indexing and querying: NFKC + case folding, Snowball stems for
// English, Han bigrams, quantities ("540B", "5400 亿" -> one term), and cross-lingual gloss
// terms: Chinese words looked up in the Lexicon contribute the stems of their English glosses,
// so an English question can meet a Chinese summary and the other way round.

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "retrieval/lexicon.h"

namespace roundup::retrieval {

struct Analysis {
  std::vector<std::string> native;  // terms of the text itself, in order
  std::vector<std::string> gloss;   // English stems from the glosses of its Chinese words
  // The subset of gloss from the ML glossary: domain words, stronger evidence than a general
  // dictionary sense.
  std::vector<std::string> domain_gloss;
};

class Analyzer {
 public:
  explicit Analyzer(std::shared_ptr<const Lexicon> lexicon);

  Analysis analyze(std::string_view text) const;
  // Snowball English stem of one folded word.
  static std::string stem(std::string_view folded_word);
  static bool is_stopword(std::string_view folded_word);

  const Lexicon& lexicon() const { return *lexicon_; }

 private:
  void analyze_han_run(std::u32string_view run, Analysis& out, bool with_gloss) const;
  void add_gloss_terms(const Lexicon::Entry& entry, std::vector<std::string>& out) const;
  std::vector<std::string> compute_gloss_terms(const Lexicon::Entry& entry) const;

  std::shared_ptr<const Lexicon> lexicon_;
  // Stems of each entry's glosses, computed on first use: stemming them all at load would slow
  // every start, and the same few thousand words recur in every text.
  mutable std::shared_mutex gloss_cache_mutex_;
  mutable std::unordered_map<const Lexicon::Entry*, std::vector<std::string>> gloss_cache_;
};

}  // namespace roundup::retrieval

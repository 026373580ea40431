#pragma once
// Text analysis shared by indexing and querying: NFKC + case folding, Snowball stems for
// English, Han bigrams, quantities ("540B", "5400 亿" -> one term), and cross-lingual gloss
// terms: Chinese words looked up in the Lexicon contribute the stems of their English glosses,
// so an English question can meet a Chinese summary and the other way round.

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "retrieval/lexicon.h"

namespace roundup::retrieval {

// One unit of meaning in a question: an English word, a number, or a Chinese word, with every
// term that expresses it (a Chinese word's Han bigrams and the stems of its English glosses).
// A question is answered by how many of its concepts a paper holds, whichever form they take
// there, so a Chinese question over an English summary is not penalised for its Han bigrams.
struct Concept {
  std::vector<std::string> native;  // the concept's own terms (stem, number, Han bigrams)
  std::vector<std::string> gloss;   // English stems of its glosses (Chinese words only)
  bool domain = false;              // the gloss is from the ML glossary
  // native.back() is the search engine's spelling correction of a word no passage holds.
  bool corrected = false;
};

struct Analysis {
  std::vector<std::string> native;  // terms of the text itself, in order
  std::vector<std::string> gloss;   // English stems from the glosses of its Chinese words
  // The subset of gloss from the ML glossary: domain words, stronger evidence than a general
  // dictionary sense.
  std::vector<std::string> domain_gloss;
  std::vector<Concept> concepts;  // filled by analyze_question only
};

class Analyzer {
 public:
  explicit Analyzer(std::shared_ptr<const Lexicon> lexicon);

  Analysis analyze(std::string_view text) const;
  // analyze() plus the question's concepts.
  Analysis analyze_question(std::string_view text) const;
  // Snowball English stem of one folded word.
  static std::string stem(std::string_view folded_word);
  static bool is_stopword(std::string_view folded_word);

  const Lexicon& lexicon() const { return *lexicon_; }

  // How general an English word is, 0..1, from how many CC-CEDICT entries use it in their
  // glosses: a background corpus of everyday English. "world", "paper", "weather" are general
  // (about 0.3); "watermark", "transformer", "chinchilla" specific (about 0.9); a word no entry
  // uses ("sora", "kubric") 0. Takes an analyzer term (a stem). 0 without a lexicon.
  double generality(const std::string& term) const;

 private:
  Analysis analyze(std::string_view text, bool with_concepts) const;
  void analyze_han_run(std::u32string_view run, Analysis& out, bool with_gloss, bool with_concepts) const;
  void add_gloss_terms(const Lexicon::Entry& entry, std::vector<std::string>& out) const;
  std::vector<std::string> compute_gloss_terms(const Lexicon::Entry& entry) const;

  std::shared_ptr<const Lexicon> lexicon_;
  // Stems of each entry's glosses, computed on first use: stemming them all at load would slow
  // every start, and the same few thousand words recur in every text.
  // Stem -> number of CC-CEDICT entries whose glosses use it; built on first use.
  mutable std::once_flag general_use_once_;
  mutable std::unordered_map<std::string, std::uint32_t> general_use_;
  mutable double general_entries_ = 0;
  mutable std::shared_mutex gloss_cache_mutex_;
  mutable std::unordered_map<const Lexicon::Entry*, std::vector<std::string>> gloss_cache_;
};

}  // namespace roundup::retrieval

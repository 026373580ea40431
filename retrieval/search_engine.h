#pragma once
// Hybrid search: BM25 (SQLite FTS5 over the analyzer's terms) fused with dense vectors (FAISS),
// aggregated from passages to papers, with structured questions answered from metadata.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "retrieval/analyzer.h"
#include "retrieval/embedder.h"
#include "retrieval/fusion.h"
#include "retrieval/knowledge_base.h"
#include "retrieval/query_intent.h"

namespace roundup::retrieval {

struct SearchFilter {
  std::optional<std::string> month;
  std::optional<std::string> roundup_id;
  std::optional<std::string> author;
  bool any() const { return month || roundup_id || author; }
};

struct SearchHit {
  std::size_t paper = 0;    // index into the catalog's papers
  double score = 0;         // fused, 0..1
  double coverage = 0;      // share of the question's weight found in the paper, 0..1
  std::size_t passage = 0;  // the passage that matched best
  std::string snippet;      // the sentences that best answer the question
};

struct SearchResponse {
  QueryIntent intent;
  std::vector<SearchHit> hits;
};

class SearchEngine {
 public:
  SearchEngine(std::shared_ptr<const KnowledgeBase> kb, std::shared_ptr<const Analyzer> analyzer,
               std::shared_ptr<const Embedder> embedder, FusionSettings fusion);

  // Understands the question (month, roundup, author, "which roundups") and answers it. Reads
  // bounded_question(question): a longer question is answered from its first 2,000 characters.
  SearchResponse search(std::string_view question, std::size_t top_k) const;
  // Ranks papers for a free-text topic within the filter; reads bounded_question(topic).
  std::vector<SearchHit> rank(std::string_view topic, const SearchFilter& filter, std::size_t top_k) const;
  // Up to max_sentences sentences of the paper's summary that best match the question, in text
  // order (the first sentence when none matches). Reads bounded_question(question).
  std::vector<std::string> best_sentences(std::size_t paper_index, std::string_view question,
                                          std::size_t max_sentences) const;

  const KnowledgeBase& knowledge_base() const { return *kb_; }
  const Catalog& catalog() const { return kb_->catalog(); }

 private:
  struct QueryTerms {
    std::vector<std::string> terms;  // native and gloss terms, deduplicated
    std::vector<double> weights;     // idf of each
  };
  static constexpr std::size_t k_paper_text_cache_size = 4096;
  static constexpr std::size_t k_max_lexical_terms = 24;
  // A question term found only through a gloss is weaker evidence than the word itself; a sense
  // from the general dictionary (CC-CEDICT) is weaker still than one from the ML glossary.
  static constexpr double k_domain_gloss_evidence = 0.75;
  static constexpr double k_gloss_evidence = 0.2;
  static constexpr double k_min_lexical_idf = 0.3;      // about: found in over 70% of passages
  static constexpr double k_lexical_row_budget = 4000;  // rows FTS5 may score for one query

  std::vector<std::string> selective_terms(const QueryTerms& q) const;

  QueryTerms query_terms(std::string_view text) const;
  std::shared_ptr<const PaperAnalysis> paper_text(std::size_t paper_index) const;
  double coverage(const QueryTerms& q, std::size_t paper_index) const;
  std::vector<std::string> best_sentences(std::size_t paper_index, const QueryTerms& q,
                                          std::size_t max_sentences) const;
  bool passes(const Paper& paper, std::size_t roundup_index, const SearchFilter& filter) const;
  std::vector<SearchHit> list_papers(const SearchFilter& filter, std::size_t limit) const;
  SearchHit hit_for(std::size_t paper, double score, const QueryTerms& q) const;

  std::shared_ptr<const KnowledgeBase> kb_;
  std::shared_ptr<const Analyzer> analyzer_;
  std::shared_ptr<const Embedder> embedder_;
  FusionSettings fusion_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::size_t, std::shared_ptr<const PaperAnalysis>> paper_text_cache_;
};

}  // namespace roundup::retrieval

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
#include "retrieval/names.h"
#include "retrieval/query_intent.h"
#include "retrieval/spelling.h"

namespace roundup::retrieval {

struct SearchFilter {
  std::optional<std::string> month;
  std::optional<std::string> roundup_id;
  std::optional<std::string> author;
  std::optional<std::string> since;  // "YYYY-MM": roundups of that month or later
  bool any() const { return month || roundup_id || author || since; }
};

// What the ranking saw for one paper: the inputs of the confidence that it answers the question.
struct Evidence {
  // Share of the question's informative content (IDF-weighted concepts, in either language)
  // that the paper holds, 0..1.
  double coverage = 0;
  // How distinctive the most distinctive concept the paper holds is: its IDF over that of a
  // term no passage holds, 0..1. Generic words ("model", "2022") score low, names and rare
  // terms high.
  double best_matched = 0;
  // The same for the most distinctive concept of the question that the paper lacks.
  double best_missing = 0;
  // Share of the question's concept weight that no passage of the corpus holds in any form:
  // words of another topic ("sourdough", "睡眠").
  double unknown_share = 0;
  int matched_concepts = 0;  // concepts the paper holds
  // The paper's rank (0 = first) in the lexical and the dense list; -1 when absent.
  int lexical_rank = -1;
  int dense_rank = -1;
  // The embedder had no vector for the question (a remote server down or slow): only the
  // lexical side ranked, and dense_rank says nothing.
  bool dense_unavailable = false;
  double score = 0;            // fused score, 0..1
  double margin = 0;           // over the best other candidate's fused score
  double coverage_margin = 0;  // over the best other candidate's coverage
  // Versioned names of the question ("GPT-4", "PaLM 2") that the paper never mentions, and
  // versions it writes only as another ("KDD Cup 2020" for "kdd cup 2022"): it is about a
  // sibling at best.
  int missing_names = 0;
  // Words of the question that look like names (Latin letters, no dictionary knows them) and
  // that no passage holds in any form, nor in a spelling the index knows: "Sora", "ColBERT".
  // The question is about something the roundups never mention.
  int unknown_names = 0;
  // The question's link or arXiv id is this paper's: an exact match, confidence 1.
  bool exact_link = false;
  // The question as typed writes the paper's own name, in its casing ("what is PaLM?" of "PaLM:
  // Scaling Language Modeling with Pathways"): it asks about this paper, however many others
  // mention the name.
  bool names_title = false;
  // The question's concepts (their first term) the paper holds and lacks, for explanations.
  std::vector<std::string> held_terms;
  std::vector<std::string> missing_terms;
};

struct SearchHit {
  std::size_t paper = 0;  // index into the catalog's papers
  double score = 0;       // fused, 0..1
  double confidence = 0;  // that the paper answers the question, 0..1 (see confidence.h)
  Evidence evidence;
  std::size_t passage = 0;  // the passage that matched best
  std::string snippet;      // the sentences that best answer the question
};

// A question word no passage holds, read as an indexed word near it in spelling.
struct SpellingCorrection {
  std::string typed;      // analyzer term of the question's word ("chinchila")
  std::string corrected;  // the indexed term it was read as ("chinchilla")
};

struct SearchResponse {
  QueryIntent intent;
  std::vector<SearchHit> hits;
  std::vector<SpellingCorrection> corrections;
};

class SearchEngine {
 public:
  SearchEngine(std::shared_ptr<const KnowledgeBase> kb, std::shared_ptr<const Analyzer> analyzer,
               std::shared_ptr<const Embedder> embedder, FusionSettings fusion);

  // Understands the question (month, roundup, author, "which roundups") and answers it. Reads
  // bounded_question(question): a longer question is answered from its first 2,000 characters.
  SearchResponse search(std::string_view question, std::size_t top_k) const;
  // Ranks papers for a free-text topic within the filter; reads bounded_question(topic). The
  // question as typed names its versions: the topic is case-folded, and only the casing tells
  // the name "PaLM 2" from the words "palm 2". Spelling corrections it made are appended to
  // corrections when given.
  std::vector<SearchHit> rank(std::string_view topic, std::string_view question, const SearchFilter& filter,
                              std::size_t top_k, std::vector<SpellingCorrection>* corrections = nullptr) const;
  // Every paper about a topic that may list several things ("speech, audio or music"): each
  // part is ranked on its own, and the papers that hold more parts come first, then those that
  // score best within their part. A hit's evidence is that of its best part, and its score is
  // its share of that part's best score, 0..1. A topic of one part is rank()ed, with the
  // question's names.
  std::vector<SearchHit> rank_topic(std::string_view topic, std::string_view question, const SearchFilter& filter,
                                    std::size_t top_k, std::vector<SpellingCorrection>* corrections = nullptr) const;
  // Up to max_sentences sentences of the paper's summary that best match the question, in text
  // order (the first sentence when none matches); with lead_with_number, the best-matching
  // sentence that holds a number comes first. Reads bounded_question(question).
  std::vector<std::string> best_sentences(std::size_t paper_index, std::string_view question, std::size_t max_sentences,
                                          bool lead_with_number = false) const;

  // The Latin words of `text` of three or more letters that no dictionary knows, folded: names
  // of products, models or people ("alexnet", "colbert").
  std::vector<std::string> name_words(std::string_view text) const;

  const KnowledgeBase& knowledge_base() const { return *kb_; }
  const Catalog& catalog() const { return kb_->catalog(); }

 private:
  struct QueryTerms {
    std::vector<std::string> terms;        // native and gloss terms, deduplicated
    std::vector<double> weights;           // idf of each
    std::vector<Concept> concepts;         // the question's informative concepts
    std::vector<std::string> names;        // its versioned names (see names.h)
    std::vector<VersionMention> versions;  // its versions after words, in any casing
    std::vector<double> concept_weights;
    std::vector<bool> concept_known;  // some form of it is in the corpus
    std::vector<SpellingCorrection> corrections;
  };
  static constexpr std::size_t k_paper_text_cache_size = 4096;
  static constexpr std::size_t k_max_lexical_terms = 24;
  static constexpr std::size_t k_rerank_depth = 8;  // candidates reordered by their evidence
  // A paper holds a part of a topic when it holds this share of the part's weight.
  static constexpr double k_topic_part_held = 0.7;
  // A question term found only through a gloss is weaker evidence than the word itself; a sense
  // from the general dictionary (CC-CEDICT) is weaker still than one from the ML glossary.
  static constexpr double k_domain_gloss_evidence = 0.75;
  static constexpr double k_gloss_evidence = 0.4;
  // A sense from the general dictionary of the question's own Chinese word, found in the paper.
  static constexpr double k_question_gloss_evidence = 0.6;
  // A question word held only in its spelling correction.
  static constexpr double k_corrected_evidence = 0.8;
  // An acronym of the question spelt out in the paper ("LLM", "large language models").
  static constexpr double k_acronym_evidence = 0.8;
  // A question word that only the paper's author list holds.
  static constexpr double k_author_evidence = 0.3;
  // A Chinese word of which the paper holds only some character pairs ("机器" of "机器人": machine,
  // not robot) is weak evidence of it.
  static constexpr double k_partial_han_evidence = 0.4;
  static constexpr double k_min_lexical_idf = 0.3;      // about: found in over 70% of passages
  static constexpr double k_lexical_row_budget = 4000;  // rows FTS5 may score for one query

  std::vector<std::string> selective_terms(const QueryTerms& q) const;

  // names_from: the text whose versioned names count (see rank).
  QueryTerms query_terms(std::string_view text, std::string_view names_from) const;
  std::shared_ptr<const PaperAnalysis> paper_text(std::size_t paper_index) const;
  const SpellingIndex& spelling() const;
  // How much a concept's corpus IDF counts as evidence, 0..1 (see the definition).
  double specificity(const Concept& c) const;
  // The concept's one Latin word when it is uncorrected and no dictionary knows it, else null.
  const std::string* unknown_word(const Concept& c) const;
  bool is_acronym_like(const Concept& c) const;
  bool is_name_like(const Concept& c) const;
  static constexpr double k_number_specificity = 0.5;
  Evidence evidence(const QueryTerms& q, std::size_t paper_index) const;
  std::vector<std::string> best_sentences(std::size_t paper_index, const QueryTerms& q, std::size_t max_sentences,
                                          bool lead_with_number) const;
  bool passes(const Paper& paper, std::size_t roundup_index, const SearchFilter& filter) const;
  std::vector<SearchHit> list_papers(const SearchFilter& filter, std::size_t limit) const;
  SearchHit hit_for(std::size_t paper, double score, const QueryTerms& q) const;

  std::shared_ptr<const KnowledgeBase> kb_;
  std::shared_ptr<const Analyzer> analyzer_;
  std::shared_ptr<const Embedder> embedder_;
  FusionSettings fusion_;
  mutable std::once_flag spelling_once_;
  mutable std::unique_ptr<const SpellingIndex> spelling_;  // built on first use
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::size_t, std::shared_ptr<const PaperAnalysis>> paper_text_cache_;
};

}  // namespace roundup::retrieval

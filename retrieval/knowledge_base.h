#pragma once
// The persisted knowledge base in data_dir/index/: one generation directory per build
// (kb.sqlite with roundups, passages and the FTS5 lexical index; vectors.faiss, an IndexIDMap2
// over inner-product vectors; manifest.json) and a `current` symlink switched atomically when a
// build completes, so a failed or interrupted build never replaces a good index.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "retrieval/catalog.h"
#include "retrieval/corpus.h"
#include "retrieval/embedder.h"
#include "retrieval/passages.h"

namespace roundup::storage {
class Database;
class Statement;
}  // namespace roundup::storage
namespace faiss {
struct Index;
}

namespace roundup::retrieval {

inline constexpr int k_index_format_version = 4;

// The index is missing, unreadable, or built by another embedder / format.
class IndexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BuildSettings {
  std::filesystem::path corpus_dir;
  std::filesystem::path data_dir;
  std::size_t chunk_chars = 700;
  std::uintmax_t max_file_bytes = 4u << 20;
  // From this many passages on, vectors go into an inverted-file (IVF) index instead of a flat one.
  std::size_t ivf_min_passages = 20000;
};

struct BuildReport {
  std::size_t files = 0, files_added = 0, files_changed = 0, files_removed = 0, files_unchanged = 0;
  std::size_t roundups = 0, papers = 0, items = 0, passages = 0, passages_embedded = 0;
  std::vector<std::string> added, changed, removed;  // file names
  std::vector<FileSummary> summaries;                // what was read from each file
  std::vector<std::string> warnings;
  std::string previous_index_note;  // why the previous index was not reused, if it was not
  std::string vector_index;         // "flat", or "ivf<nlist>" for large corpora
  double seconds = 0;
};

// A paper's analysed text, computed at build time: every answer needs it for each result
// (how much of the question the paper covers, which sentences answer it).
struct PaperAnalysis {
  // Title, authors and summaries of every occurrence: their own terms, and the English stems
  // of their Chinese words' glosses (weaker evidence: glosses are ambiguous).
  std::unordered_set<std::string> native_terms;
  std::unordered_set<std::string> gloss_terms;
  std::unordered_set<std::string> domain_terms;  // the gloss terms that come from the ML glossary
  // The terms of its authors' names that its title and summaries never use: they say who wrote
  // it, not what it is about.
  std::unordered_set<std::string> author_only_terms;
  std::vector<std::string> sentences;  // of the best occurrence's summary (or its title)
  std::vector<std::unordered_set<std::string>> sentence_terms;
};
PaperAnalysis analyze_paper(const Catalog& catalog, std::size_t paper_index, const Analyzer& analyzer);

struct ScoredPassage {
  std::size_t passage = 0;  // index into KnowledgeBase::passages()
  double score = 0;         // higher is better
};

class KnowledgeBase;
BuildReport build_index(const BuildSettings& settings, const Analyzer& analyzer, const Embedder& embedder);

class KnowledgeBase {
 public:
  ~KnowledgeBase();
  KnowledgeBase(const KnowledgeBase&) = delete;
  KnowledgeBase& operator=(const KnowledgeBase&) = delete;

  // Opens data_dir's current index. Throws IndexError when there is none, it is damaged, or it
  // was built by a different embedder or format version (the message says to reindex).
  static std::shared_ptr<KnowledgeBase> open(const std::filesystem::path& data_dir, const Embedder& embedder);
  static bool exists(const std::filesystem::path& data_dir);

  const Catalog& catalog() const { return catalog_; }
  const std::vector<Passage>& passages() const { return passages_; }
  const std::vector<SourceFile>& files() const { return files_; }
  const std::filesystem::path& directory() const { return dir_; }
  // What this index was built from, as 16 hex digits: its format, its embedder and every corpus
  // file's content. Replicas that built the same corpus serve the same generation.
  const std::string& generation() const { return generation_; }
  // How many entries the lexicon that built the current index in data_dir had (its manifest's
  // "lexicon"), whether or not this build can open that index; 0 when there is none, it had
  // none, or the manifest does not say.
  static std::size_t built_lexicon_entries(const std::filesystem::path& data_dir);

  // BM25 over the analysed passages; terms are analyzer terms. Best first.
  std::vector<ScoredPassage> lexical_search(const std::vector<std::string>& terms, std::size_t k) const;
  // Inner product against the stored vectors. Best first.
  std::vector<ScoredPassage> dense_search(const float* query, std::size_t k) const;
  // Inverse document frequency of a term over passages (BM25's formula); unseen terms get the
  // highest value.
  double idf(const std::string& term) const;
  // Number of passages containing the term.
  double document_frequency(const std::string& term) const;
  std::size_t passage_count() const { return passages_.size(); }
  // Calls visit(term, document frequency) for every indexed term whose first byte is in
  // [first, last] (e.g. 'a'..'z': the Latin words), in term order.
  void for_each_term(char first, char last, const std::function<void(std::string_view, double)>& visit) const;
  // Throws IndexError when the stored analysis is missing or damaged.
  PaperAnalysis paper_analysis(std::size_t paper_index) const;

 private:
  KnowledgeBase() = default;
  friend BuildReport build_index(const BuildSettings&, const Analyzer&, const Embedder&);

  std::filesystem::path dir_;
  std::string generation_;
  Catalog catalog_;
  std::vector<Passage> passages_;
  std::unordered_map<std::int64_t, std::size_t> passage_by_id_;
  std::vector<SourceFile> files_;
  std::unique_ptr<storage::Database> db_;             // declared before its statements, so it closes after them
  std::unique_ptr<storage::Statement> lexical_stmt_;  // prepared once, used under db_mutex_
  std::unique_ptr<storage::Statement> idf_stmt_;
  std::unique_ptr<storage::Statement> analysis_stmt_;
  std::unique_ptr<faiss::Index> vectors_;
  mutable std::mutex db_mutex_;  // one SQLite connection, serialised
  mutable std::unordered_map<std::string, double> df_cache_;
  double passage_count_ = 0;
};

// Builds or refreshes the index: re-embeds only passages whose text changed, writes a new
// generation and switches to it. One build at a time per data_dir (a lock file).
BuildReport build_index(const BuildSettings& settings, const Analyzer& analyzer, const Embedder& embedder);

}  // namespace roundup::retrieval

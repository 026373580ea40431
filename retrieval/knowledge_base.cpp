#include "retrieval/knowledge_base.h"

#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "retrieval/hashing.h"
#include "retrieval/index_layout.h"
#include "storage/sqlite.h"

namespace roundup::retrieval {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr double k_title_weight = 2.0;
constexpr double k_native_weight = 1.0;
constexpr double k_gloss_weight = 0.5;
constexpr std::size_t k_ivf_nprobe = 24;

using index_layout::k_current;
using storage::Database;
using storage::ResetOnExit;
using storage::Statement;

json read_json_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw IndexError("cannot read " + file.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw IndexError(file.string() + " is damaged (" + e.what() + ")");
  }
}

}  // namespace

// --- Opening ------------------------------------------------------------------------------------

KnowledgeBase::~KnowledgeBase() = default;

bool KnowledgeBase::exists(const fs::path& data_dir) {
  std::error_code ec;
  return fs::exists(data_dir / "index" / k_current / "manifest.json", ec);
}

std::size_t KnowledgeBase::built_lexicon_entries(const fs::path& data_dir) {
  std::error_code ec;
  const fs::path dir = fs::canonical(data_dir / "index" / k_current, ec);
  if (ec) return 0;
  try {
    const json manifest = read_json_file(dir / "manifest.json");
    const json& entries = manifest.value("/lexicon/entries"_json_pointer, json());
    return entries.is_number_unsigned() ? entries.get<std::size_t>() : 0;
  } catch (const std::exception&) {
    return 0;  // unreadable: nothing to protect
  }
}

std::shared_ptr<KnowledgeBase> KnowledgeBase::open(const fs::path& data_dir, const Embedder& embedder) {
  const fs::path current = data_dir / "index" / k_current;
  if (!exists(data_dir)) throw IndexError("no index in " + (data_dir / "index").string() + ": run `roundup-bot index`");
  std::error_code ec;
  const fs::path dir = fs::canonical(current, ec);
  if (ec) throw IndexError("cannot resolve " + current.string() + ": " + ec.message());

  const json manifest = read_json_file(dir / "manifest.json");
  const int format = manifest.value("format_version", 0);
  if (format != k_index_format_version)
    throw IndexError("the index in " + dir.string() + " has format version " + std::to_string(format) +
                     ", this build reads version " + std::to_string(k_index_format_version) +
                     ": run `roundup-bot index` to rebuild it");
  const std::string built_with = manifest.value("/embedder/id"_json_pointer, std::string());
  if (built_with != embedder.id())
    throw IndexError("the index was built with embedder '" + built_with + "' but this bot uses '" + embedder.id() +
                     "': run `roundup-bot index` to rebuild it");

  std::shared_ptr<KnowledgeBase> kb(new KnowledgeBase());
  kb->dir_ = dir;
  const fs::path db_file = dir / "kb.sqlite";
  kb->db_ = std::make_unique<Database>(db_file, index_layout::database_options(Database::Mode::read_only));
  try {
    std::vector<Roundup> roundups;
    Statement rs(*kb->db_, "SELECT json FROM roundups ORDER BY idx");
    while (rs.step()) roundups.push_back(index_layout::roundup_from_json(json::parse(rs.text(0))));
    kb->catalog_ = Catalog(std::move(roundups));

    Statement fs_stmt(*kb->db_, "SELECT name, roundup_id, sha256, size FROM files ORDER BY name");
    while (fs_stmt.step())
      kb->files_.push_back(SourceFile{fs_stmt.text(0), fs_stmt.text(1), fs_stmt.text(2),
                                      static_cast<std::uintmax_t>(fs_stmt.integer(3))});
    std::string basis = "format " + std::to_string(format) + "\nembedder " + built_with + "\n";
    for (const SourceFile& file : kb->files_) basis += file.name + " " + file.sha256 + "\n";  // by name
    kb->generation_ = sha256_hex(basis).substr(0, 16);

    Statement ps(*kb->db_, "SELECT id, roundup_idx, item_idx, chunk, title, text FROM passages ORDER BY rowid");
    while (ps.step()) {
      Passage p;
      p.id = ps.integer(0);
      p.item = ItemRef{static_cast<std::size_t>(ps.integer(1)), static_cast<std::size_t>(ps.integer(2))};
      p.chunk = static_cast<int>(ps.integer(3));
      p.title = ps.text(4);
      p.text = ps.text(5);
      const auto& rounds = kb->catalog_.roundups();
      if (p.item.roundup >= rounds.size() || p.item.item >= rounds[p.item.roundup].items.size())
        throw IndexError("passage " + std::to_string(p.id) + " points outside the catalog");
      kb->passage_by_id_.emplace(p.id, kb->passages_.size());
      kb->passages_.push_back(std::move(p));
    }
  } catch (const json::exception& e) {
    throw IndexError(db_file.string() + " is damaged (" + e.what() + "): run `roundup-bot index`");
  } catch (const IndexError& e) {
    throw IndexError(std::string(e.what()) + " in " + db_file.string() + ": run `roundup-bot index`");
  }
  kb->passage_count_ = static_cast<double>(kb->passages_.size());
  try {
    const auto cached = [&](const std::string& sql) {
      return std::make_unique<Statement>(*kb->db_, sql, Statement::Lifetime::cached);
    };
    kb->lexical_stmt_ = cached("SELECT rowid, bm25(passage_fts, " + std::to_string(k_title_weight) + ", " +
                               std::to_string(k_native_weight) + ", " + std::to_string(k_gloss_weight) +
                               ") AS s FROM passage_fts WHERE passage_fts MATCH ? ORDER BY s LIMIT ?");
    kb->idf_stmt_ = cached("SELECT doc FROM passage_vocab WHERE term = ?");
    kb->analysis_stmt_ = cached(
        "SELECT native_terms, gloss_terms, domain_terms, sentences, author_only_terms FROM paper_analysis "
        "WHERE paper_idx = ?");
  } catch (const IndexError& e) {
    throw IndexError(std::string(e.what()) + " in " + db_file.string() + ": run `roundup-bot index`");
  }

  const fs::path vec_file = dir / "vectors.faiss";
  try {
    kb->vectors_.reset(faiss::read_index(vec_file.c_str()));
    if (auto* map = dynamic_cast<faiss::IndexIDMap2*>(kb->vectors_.get())) {
      if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(map->index)) ivf->nprobe = k_ivf_nprobe;
    }
  } catch (const faiss::FaissException& e) {
    throw IndexError(vec_file.string() + " is damaged or missing: run `roundup-bot index`");
  }
  if (kb->vectors_->d != embedder.dimension() || static_cast<std::size_t>(kb->vectors_->ntotal) != kb->passages_.size())
    throw IndexError(vec_file.string() + " does not match the passages (" + std::to_string(kb->vectors_->ntotal) +
                     " vectors of dimension " + std::to_string(kb->vectors_->d) + " for " +
                     std::to_string(kb->passages_.size()) + " passages): run `roundup-bot index`");
  return kb;
}

// --- Querying -----------------------------------------------------------------------------------

std::vector<ScoredPassage> KnowledgeBase::lexical_search(const std::vector<std::string>& terms, std::size_t k) const {
  std::vector<ScoredPassage> out;
  if (terms.empty() || k == 0) return out;
  std::string match;
  std::set<std::string> seen;
  for (const std::string& t : terms) {
    if (t.empty() || !seen.insert(t).second) continue;
    if (!match.empty()) match += " OR ";
    match += "\"";
    for (char c : t) {
      if (c == '"') match += '"';
      match += c;
    }
    match += "\"";
  }
  std::lock_guard lock(db_mutex_);
  Statement& st = *lexical_stmt_;
  ResetOnExit reset{st};
  st.bind(1, match).bind(2, static_cast<std::int64_t>(k));
  while (st.step()) {
    auto it = passage_by_id_.find(st.integer(0));
    if (it != passage_by_id_.end()) out.push_back(ScoredPassage{it->second, -st.real(1)});
  }
  return out;
}

std::vector<ScoredPassage> KnowledgeBase::dense_search(const float* query, std::size_t k) const {
  std::vector<ScoredPassage> out;
  const auto n = std::min<std::size_t>(k, passages_.size());
  if (n == 0) return out;
  std::vector<float> distances(n);
  std::vector<faiss::Index::idx_t> labels(n);
  // One query gains nothing from an OpenMP team, and idle team threads spin: search on the
  // calling thread (the setting is per thread).
  omp_set_num_threads(1);
  vectors_->search(1, query, static_cast<faiss::Index::idx_t>(n), distances.data(), labels.data());
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0) continue;
    auto it = passage_by_id_.find(labels[i]);
    if (it != passage_by_id_.end()) out.push_back(ScoredPassage{it->second, distances[i]});
  }
  return out;
}

void KnowledgeBase::for_each_term(char first, char last,
                                  const std::function<void(std::string_view, double)>& visit) const {
  std::lock_guard lock(db_mutex_);
  Statement st(*db_, "SELECT term, doc FROM passage_vocab WHERE term >= ? AND term < ? ORDER BY term");
  st.bind(1, std::string(1, first)).bind(2, std::string(1, static_cast<char>(last + 1)));
  while (st.step()) visit(st.text(0), static_cast<double>(st.integer(1)));
}

double KnowledgeBase::document_frequency(const std::string& term) const {
  std::lock_guard lock(db_mutex_);
  if (auto it = df_cache_.find(term); it != df_cache_.end()) return it->second;
  Statement& st = *idf_stmt_;
  ResetOnExit reset{st};
  st.bind(1, term);
  const double df = st.step() ? static_cast<double>(st.integer(0)) : 0.0;
  if (df_cache_.size() > 100000) df_cache_.clear();
  df_cache_.emplace(term, df);
  return df;
}

double KnowledgeBase::idf(const std::string& term) const {
  const double df = document_frequency(term);
  return std::log(1.0 + (passage_count_ - df + 0.5) / (df + 0.5));
}

PaperAnalysis KnowledgeBase::paper_analysis(std::size_t paper_index) const {
  std::lock_guard lock(db_mutex_);
  Statement& st = *analysis_stmt_;
  ResetOnExit reset{st};
  st.bind(1, static_cast<std::int64_t>(paper_index));
  if (!st.step())
    throw IndexError("no stored analysis for paper " + std::to_string(paper_index) + ": run `roundup-bot index`");
  PaperAnalysis out;
  std::istringstream native(st.text(0));
  for (std::string t; native >> t;) out.native_terms.insert(std::move(t));
  std::istringstream gloss(st.text(1));
  for (std::string t; gloss >> t;) out.gloss_terms.insert(std::move(t));
  std::istringstream domain(st.text(2));
  for (std::string t; domain >> t;) out.domain_terms.insert(std::move(t));
  std::istringstream author_only(st.text(4));
  for (std::string t; author_only >> t;) out.author_only_terms.insert(std::move(t));
  try {
    for (const json& pair : json::parse(st.text(3))) {
      out.sentences.push_back(pair.at(0).get<std::string>());
      std::istringstream sentence_terms(pair.at(1).get<std::string>());
      auto& set = out.sentence_terms.emplace_back();
      for (std::string t; sentence_terms >> t;) set.insert(std::move(t));
    }
  } catch (const json::exception& e) {
    throw IndexError(std::string("stored analysis is damaged (") + e.what() + "): run `roundup-bot index`");
  }
  return out;
}

PaperAnalysis analyze_paper(const Catalog& catalog, std::size_t paper_index, const Analyzer& analyzer) {
  const Paper& paper = catalog.papers()[paper_index];
  PaperAnalysis out;
  std::unordered_set<std::string> author_terms;
  for (const ItemRef& ref : paper.occurrences) {
    const Item& item = catalog.item(ref);
    const Analysis a = analyzer.analyze(item.title + "\n" + item.summary);
    out.native_terms.insert(a.native.begin(), a.native.end());
    out.gloss_terms.insert(a.gloss.begin(), a.gloss.end());
    out.domain_terms.insert(a.domain_gloss.begin(), a.domain_gloss.end());
    std::string authors;
    for (const std::string& name : item.authors) authors += name + "\n";
    const Analysis by = analyzer.analyze(authors);
    author_terms.insert(by.native.begin(), by.native.end());
  }
  for (const std::string& t : author_terms)
    if (out.native_terms.insert(t).second) out.author_only_terms.insert(t);
  const Item& best = catalog.best_item(paper);
  out.sentences = split_sentences(best.summary.empty() ? best.title : best.summary);
  for (const std::string& sentence : out.sentences) {
    const Analysis a = analyzer.analyze(sentence);
    auto& terms = out.sentence_terms.emplace_back(a.native.begin(), a.native.end());
    terms.insert(a.gloss.begin(), a.gloss.end());
  }
  return out;
}

}  // namespace roundup::retrieval

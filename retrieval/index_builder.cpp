#include "retrieval/knowledge_base.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "retrieval/index_layout.h"
#include "storage/file_lock.h"
#include "storage/sqlite.h"

// Building an index generation (build_index in retrieval/knowledge_base.h): parse the corpus,
// analyse and embed the passages (reusing the previous generation's vectors), write kb.sqlite,
// the FAISS index and the manifest, then switch `current` to it.

namespace roundup::retrieval {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using index_layout::k_current;
using storage::Database;
using storage::Statement;

std::string join_terms(const std::vector<std::string>& terms) {
  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

void write_file_atomically(const fs::path& file, const std::string& content) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) throw IndexError("cannot write " + tmp.string());
  }
  fs::rename(tmp, file);
}

// Runs work(i) for i in [0, n) on every core (at most max_threads, when not 0). Analysis and
// embedding dominate a build; they are independent per item (the Analyzer and Embedder are
// thread-safe). The first exception wins.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& work, std::size_t max_threads = 0) {
  std::size_t threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 8));
  if (max_threads > 0) threads = std::min(threads, max_threads);
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto run = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// --- Building -----------------------------------------------------------------------------------

BuildReport build_index(const BuildSettings& settings, const Analyzer& analyzer, const Embedder& embedder) {
  const auto started = std::chrono::steady_clock::now();
  BuildReport report;
  const fs::path index_dir = settings.data_dir / "index";
  std::error_code ec;
  fs::create_directories(index_dir, ec);
  if (ec) throw IndexError("cannot create " + index_dir.string() + ": " + ec.message());
  // One build at a time per data_dir.
  std::optional<storage::FileLock> lock;
  try {
    lock.emplace(index_dir / ".lock");
    lock->lock();
  } catch (const std::system_error& e) {
    throw IndexError(e.what());
  }

  LoadedCorpus corpus = load_corpus(settings.corpus_dir, settings.max_file_bytes);
  report.warnings = std::move(corpus.warnings);
  report.summaries = corpus.summaries;
  if (corpus.roundups.empty())
    throw IndexError("no usable roundup files in " + settings.corpus_dir.string() + "; the current index is kept");

  std::shared_ptr<KnowledgeBase> previous;
  if (KnowledgeBase::exists(settings.data_dir)) {
    try {
      previous = KnowledgeBase::open(settings.data_dir, embedder);
    } catch (const IndexError& e) {
      report.previous_index_note = e.what();
    }
  }

  // An index built with a fuller lexicon answers Chinese questions about English summaries (and
  // the reverse) better; a process that lost its lexicon (a wrong lexicon_dir) must not replace
  // it with a worse one for every process sharing data_dir.
  if (const std::size_t built_with = KnowledgeBase::built_lexicon_entries(settings.data_dir);
      built_with > analyzer.lexicon().size())
    throw IndexError("the current index was built with a lexicon of " + std::to_string(built_with) +
                     " entries and this process has " + std::to_string(analyzer.lexicon().size()) +
                     " (check retrieval.lexicon_dir, or remove " + index_dir.string() +
                     " to rebuild without it); the current index is kept");

  // What changed, by content hash.
  std::unordered_map<std::string, std::string> old_hashes;
  if (previous)
    for (const SourceFile& f : previous->files()) old_hashes.emplace(f.name, f.sha256);
  std::set<std::string> new_names;
  for (const SourceFile& f : corpus.files) {
    new_names.insert(f.name);
    auto it = old_hashes.find(f.name);
    if (it == old_hashes.end()) {
      report.added.push_back(f.name);
    } else if (it->second != f.sha256) {
      report.changed.push_back(f.name);
    } else {
      ++report.files_unchanged;
    }
  }
  for (const auto& [name, hash] : old_hashes)
    if (!new_names.count(name)) report.removed.push_back(name);
  report.files = corpus.files.size();
  report.files_added = report.added.size();
  report.files_changed = report.changed.size();
  report.files_removed = report.removed.size();

  std::vector<SourceFile> files = corpus.files;
  Catalog catalog(std::move(corpus.roundups));
  std::vector<Passage> passages;
  for (std::size_t r = 0; r < catalog.roundups().size(); ++r) {
    for (Passage& p : passages_of(catalog, r, settings.chunk_chars)) passages.push_back(std::move(p));
  }
  // Ids must be unique; a collision (astronomically unlikely) drops the later passage.
  {
    std::set<std::int64_t> ids;
    std::erase_if(passages, [&](const Passage& p) { return !ids.insert(p.id).second; });
  }

  // Vectors: reuse what the previous index has for the same passage id, embed the rest.
  const auto dim = static_cast<std::size_t>(embedder.dimension());
  std::vector<float> vectors(passages.size() * dim);
  std::vector<std::size_t> to_embed;
  for (std::size_t i = 0; i < passages.size(); ++i) {
    if (previous && previous->passage_by_id_.count(passages[i].id)) {
      previous->vectors_->reconstruct(passages[i].id, vectors.data() + i * dim);
    } else {
      to_embed.push_back(i);
    }
  }
  try {
    constexpr std::size_t k_batch = 256;
    parallel_for((to_embed.size() + k_batch - 1) / k_batch,
                 [&](std::size_t batch) {
                   const std::size_t begin = batch * k_batch, end = std::min(to_embed.size(), begin + k_batch);
                   std::vector<std::string> texts;
                   texts.reserve(end - begin);
                   for (std::size_t j = begin; j < end; ++j)
                     texts.push_back(passages[to_embed[j]].title + "\n" + passages[to_embed[j]].text);
                   std::vector<float> embedded(texts.size() * dim);
                   embedder.embed_documents(texts, embedded.data());
                   for (std::size_t j = begin; j < end; ++j)
                     std::copy_n(embedded.data() + (j - begin) * dim, dim, vectors.data() + to_embed[j] * dim);
                 },
                 embedder.max_concurrent_calls());
  } catch (const std::exception& e) {
    // A remote embedder's server down or answering nonsense: nothing has been written yet.
    throw IndexError("embedding " + std::to_string(to_embed.size()) + " passages failed: " + e.what() +
                     "; the current index is kept");
  }
  report.passages_embedded = to_embed.size();
  previous.reset();

  // A fresh generation directory; `current` moves only when everything is written.
  const auto stamp =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string gen_name = "gen-" + std::to_string(stamp) + "-" + std::to_string(::getpid());
  const fs::path gen = index_dir / gen_name;
  fs::create_directories(gen);
  try {
    const fs::path db_file = gen / "kb.sqlite";
    auto db_holder =
        std::make_unique<Database>(db_file, index_layout::database_options(Database::Mode::read_write_create));
    Database& db = *db_holder;
    db.exec(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"
        "CREATE TABLE roundups(idx INTEGER PRIMARY KEY, id TEXT NOT NULL, json TEXT NOT NULL);"
        "CREATE TABLE files(name TEXT PRIMARY KEY, roundup_id TEXT, sha256 TEXT, size INTEGER);"
        "CREATE TABLE passages(id INTEGER NOT NULL UNIQUE, roundup_idx INTEGER, item_idx INTEGER, chunk INTEGER,"
        " title TEXT, text TEXT);"
        "CREATE TABLE paper_analysis(paper_idx INTEGER PRIMARY KEY, native_terms TEXT, gloss_terms TEXT,"
        " domain_terms TEXT, sentences TEXT, author_only_terms TEXT);"
        "CREATE VIRTUAL TABLE passage_fts USING fts5(title, native, gloss, content='', tokenize='ascii');"
        "CREATE VIRTUAL TABLE passage_vocab USING fts5vocab(passage_fts, 'row');");
    {
      Statement ins(db, "INSERT INTO roundups(idx, id, json) VALUES(?, ?, ?)");
      for (std::size_t r = 0; r < catalog.roundups().size(); ++r) {
        ins.bind(1, static_cast<std::int64_t>(r))
            .bind(2, catalog.roundups()[r].id)
            .bind(3, index_layout::roundup_to_json(catalog.roundups()[r]).dump());
        ins.run();
      }
      Statement fins(db, "INSERT INTO files(name, roundup_id, sha256, size) VALUES(?, ?, ?, ?)");
      for (const SourceFile& f : files) {
        fins.bind(1, f.name).bind(2, f.roundup_id).bind(3, f.sha256).bind(4, static_cast<std::int64_t>(f.size));
        fins.run();
      }
      Statement pins(db,
                     "INSERT INTO passages(id, roundup_idx, item_idx, chunk, title, text) VALUES(?, ?, ?, ?, ?, ?)");
      Statement fts(db, "INSERT INTO passage_fts(rowid, title, native, gloss) VALUES(?, ?, ?, ?)");
      struct FtsRow {
        std::string title, native, gloss;
      };
      std::vector<FtsRow> rows(passages.size());
      parallel_for(passages.size(), [&](std::size_t i) {
        const Analysis title = analyzer.analyze(passages[i].title);
        const Analysis body = analyzer.analyze(passages[i].text);
        std::vector<std::string> title_terms = title.native;
        title_terms.insert(title_terms.end(), title.gloss.begin(), title.gloss.end());
        rows[i] = FtsRow{join_terms(title_terms), join_terms(body.native), join_terms(body.gloss)};
      });
      for (std::size_t i = 0; i < passages.size(); ++i) {
        const Passage& p = passages[i];
        pins.bind(1, p.id)
            .bind(2, static_cast<std::int64_t>(p.item.roundup))
            .bind(3, static_cast<std::int64_t>(p.item.item))
            .bind(4, p.chunk)
            .bind(5, p.title)
            .bind(6, p.text);
        pins.run();
        fts.bind(1, p.id).bind(2, rows[i].title).bind(3, rows[i].native).bind(4, rows[i].gloss);
        fts.run();
      }
    }
    {
      Statement ains(db,
                     "INSERT INTO paper_analysis(paper_idx, native_terms, gloss_terms, domain_terms, sentences,"
                     " author_only_terms) VALUES(?, ?, ?, ?, ?, ?)");
      struct AnalysisRow {
        std::string native, gloss, domain, sentences, author_only;
      };
      std::vector<AnalysisRow> rows(catalog.papers().size());
      parallel_for(rows.size(), [&](std::size_t p) {
        const PaperAnalysis a = analyze_paper(catalog, p, analyzer);
        const auto joined = [](const std::unordered_set<std::string>& set) {
          return join_terms(std::vector<std::string>(set.begin(), set.end()));
        };
        json sentences = json::array();
        for (std::size_t i = 0; i < a.sentences.size(); ++i)
          sentences.push_back({a.sentences[i], joined(a.sentence_terms[i])});
        rows[p] = AnalysisRow{joined(a.native_terms), joined(a.gloss_terms), joined(a.domain_terms), sentences.dump(),
                              joined(a.author_only_terms)};
      });
      for (std::size_t p = 0; p < rows.size(); ++p) {
        ains.bind(1, static_cast<std::int64_t>(p))
            .bind(2, rows[p].native)
            .bind(3, rows[p].gloss)
            .bind(4, rows[p].domain)
            .bind(5, rows[p].sentences)
            .bind(6, rows[p].author_only);
        ains.run();
      }
    }
    db.exec("COMMIT;");
    db_holder.reset();

    // Exact search up to settings.ivf_min_passages; beyond, an inverted-file index that scans only
    // the nearest clusters (a flat scan of 100k+ vectors costs tens of milliseconds per query).
    std::unique_ptr<faiss::Index> inner;
    std::vector<faiss::Index::idx_t> ids;
    ids.reserve(passages.size());
    for (const Passage& p : passages) ids.push_back(p.id);
    const auto n = static_cast<faiss::Index::idx_t>(passages.size());
    std::string vector_index_kind = "flat";
    if (passages.size() >= settings.ivf_min_passages) {
      const auto nlist = static_cast<std::size_t>(std::clamp(4.0 * std::sqrt(static_cast<double>(n)), 64.0, 4096.0));
      auto* quantizer = new faiss::IndexFlatIP(static_cast<faiss::Index::idx_t>(dim));
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, nlist, faiss::METRIC_INNER_PRODUCT);
      ivf->own_fields = true;
      ivf->cp.seed = 1234;  // deterministic clustering
      const std::size_t train_n = std::min<std::size_t>(passages.size(), nlist * 64);
      ivf->train(static_cast<faiss::Index::idx_t>(train_n), vectors.data());
      inner = std::move(ivf);
      vector_index_kind = "ivf" + std::to_string(nlist);
    } else {
      inner = std::make_unique<faiss::IndexFlatIP>(static_cast<faiss::Index::idx_t>(dim));
    }
    faiss::IndexIDMap2 index(inner.get());
    index.add_with_ids(n, vectors.data(), ids.data());
    // Reconstructing vectors by id (reused by the next incremental build) needs the direct map.
    if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(inner.get())) ivf->make_direct_map(true);
    report.vector_index = vector_index_kind;
    faiss::write_index(&index, (gen / "vectors.faiss").c_str());

    json jfiles = json::array();
    for (const SourceFile& f : files)
      jfiles.push_back({{"name", f.name}, {"roundup_id", f.roundup_id}, {"sha256", f.sha256}, {"size", f.size}});
    report.roundups = catalog.roundups().size();
    report.papers = 0;
    for (const Paper& p : catalog.papers())
      report.papers += p.kind == ItemKind::paper || p.kind == ItemKind::listed_paper;
    for (const Roundup& r : catalog.roundups()) report.items += r.items.size();
    report.passages = passages.size();
    const json manifest = {{"format_version", k_index_format_version},
                           {"embedder",
                            {{"id", embedder.id()},
                             {"kind", embedder.kind()},
                             {"model", embedder.model()},
                             {"dimension", embedder.dimension()}}},
                           {"lexicon", {{"entries", analyzer.lexicon().size()}}},
                           {"vector_index", report.vector_index},
                           {"built_at", now_iso8601()},
                           {"chunk_chars", settings.chunk_chars},
                           {"files", jfiles},
                           {"counts",
                            {{"roundups", report.roundups},
                             {"papers", report.papers},
                             {"items", report.items},
                             {"passages", report.passages}}}};
    write_file_atomically(gen / "manifest.json", manifest.dump(2) + "\n");
  } catch (...) {
    fs::remove_all(gen, ec);
    throw;
  }

  // Atomic switch: a new symlink renamed over the old one.
  const fs::path tmp_link = index_dir / (std::string(k_current) + ".tmp");
  fs::remove(tmp_link, ec);
  fs::create_directory_symlink(gen_name, tmp_link);
  fs::rename(tmp_link, index_dir / k_current);

  // Older generations (and leftovers of interrupted builds) go; open readers keep their files.
  for (const auto& entry : fs::directory_iterator(index_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("gen-", 0) == 0 && name != gen_name) fs::remove_all(entry.path(), ec);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace roundup::retrieval

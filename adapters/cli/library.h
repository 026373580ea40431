#pragma once
// The bot's hot-swappable knowledge base. Questions are answered from a snapshot of the current
// search engine while a reindex builds the next index beside it; the new engine is then swapped
// in at once, so a question in flight always finishes on the engine it started with.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/cli/runtime.h"
#include "bot/answer.h"
#include "bot/knowledge.h"
#include "bot/responder.h"
#include "config/config.h"
#include "retrieval/knowledge_base.h"
#include "retrieval/search_engine.h"

namespace roundup::adapters::cli {

struct ReindexResult {
  bool ok = false;
  bool already_running = false;                      // another reindex was in progress: this call did nothing
  std::string error;                                 // why it failed (ok == false); the previous index still answers
  std::vector<std::string> added, changed, removed;  // file names, by content hash
  std::size_t papers_before = 0, papers_after = 0;   // featured and listed papers
  std::size_t papers_added = 0, papers_removed = 0;  // by paper id, between the two catalogs
  std::size_t passages = 0;
  std::vector<std::string> warnings;  // e.g. "skipped bad.md: it is not valid UTF-8"
  std::int64_t duration_ms = 0;       // build and swap
};

// The one-paragraph reply to a reindex command: "Reindexed in 0.4 s: 1 file added, 0 changed,
// 0 removed; 47 papers (+10), 312 passages. Skipped: bad.md (not valid UTF-8)."
std::string describe(const ReindexResult& result);

struct LibraryStats {
  std::size_t roundups = 0;
  std::vector<std::string> months;  // "YYYY-MM", distinct and sorted; roundups of unknown month are left out
  std::size_t papers = 0;           // featured and listed papers, as `roundup-bot papers` lists them
  std::size_t passages = 0;
  std::uintmax_t index_bytes = 0;  // the current index generation's files on disk
  std::string built_at;            // "2023-02-01T12:00:00Z" from the index manifest; empty if unknown
};

class Library final : public bot::Knowledge {
 public:
  // Runs one build in the calling thread. Replaceable so tests can hold a build at a known
  // point; the default is Runtime::reindex.
  using BuildFunction = std::function<retrieval::BuildReport(const Runtime& runtime, std::ostream& log)>;

  explicit Library(config::Config config, BuildFunction build = {});
  explicit Library(Runtime runtime, BuildFunction build = {});
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // Opens the index, building it first when there is none. Throws retrieval::IndexError (or
  // std::runtime_error for an unreadable corpus) when there is nothing to answer from.
  void open(std::ostream& log);

  // Thread-safe. Before open() succeeds, a notice that the index is not loaded.
  bot::Answer answer(std::string_view input, const bot::CommandSpelling& commands) const override;
  bot::Answer follow_up(const bot::FollowUpQuestion& question, const bot::CommandSpelling& commands) const override;
  using bot::Knowledge::answer;

  // Incremental rebuild from corpus_dir in the calling thread, then an atomic swap. Never
  // throws for a failed build: the result says why and the previous engine keeps answering. A
  // call while another reindex runs returns at once with already_running.
  ReindexResult rebuild();
  // bot::Knowledge: rebuild() with describe() as the admin's reply.
  ReindexOutcome reindex() override;
  // bot::Knowledge: stats() as /stats lines.
  std::vector<std::string> stats_lines() const override;
  // bot::Knowledge: the current index's size on disk (what stats() reports, without the rest).
  std::uintmax_t index_bytes() const override;

  LibraryStats stats() const;
  // The engine answering now (null before open()); holding it keeps that index alive, so a
  // digest reads one consistent catalog even across a swap.
  std::shared_ptr<const retrieval::SearchEngine> engine() const override;
  const Runtime& runtime() const { return runtime_; }

 private:
  // An engine and the responder over it, replaced together so they never disagree.
  struct Snapshot {
    std::shared_ptr<const retrieval::SearchEngine> engine;
    std::shared_ptr<const bot::Responder> responder;
  };

  std::shared_ptr<const Snapshot> snapshot() const;
  void install(std::shared_ptr<const retrieval::SearchEngine> engine);

  Runtime runtime_;
  BuildFunction build_;
  mutable std::mutex snapshot_mutex_;  // guards current_ only; held for a pointer copy, never for a search
  std::shared_ptr<const Snapshot> current_;
  std::mutex build_mutex_;  // held for a whole build; reindex() only tries it, so it never waits
};

}  // namespace roundup::adapters::cli

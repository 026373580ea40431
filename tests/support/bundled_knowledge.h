#pragma once
// The bundled corpus as the service tests and benchmarks answer from it: one Library per process
// (the lexicon and index take a second or two to load).

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"
#include "adapters/service/platform_registry.h"
#include "tests/support/temp_dir.h"

namespace roundup::testing {

inline config::Config bundled_config(const std::filesystem::path& data_dir) {
  config::Config config = config::default_config(adapters::service::builtin_platform_sections());
  const std::string root = ROUNDUP_SOURCE_DIR;
  config.corpus_dir = root + "/data/roundups";
  config.retrieval.lexicon_dir = root + "/data/lexicon";
  config.data_dir = data_dir;
  return config;
}

// The knowledge base the service tests answer from: the bundled corpus, opened once per test
// process. Tests that reindex build their own Library.
inline std::shared_ptr<adapters::cli::Library> bundled_knowledge() {
  static std::mutex mutex;
  static std::shared_ptr<adapters::cli::Library> library;
  static TempDir index_dir;
  std::lock_guard lock(mutex);
  if (!library) {
    library = std::make_shared<adapters::cli::Library>(bundled_config(index_dir.path()));
    std::ostringstream log;
    library->open(log);
  }
  return library;
}

// One input in, the Answer a test scripts for it.
using ScriptedAnswers = std::function<bot::Answer(std::string_view input)>;

// The bundled knowledge base with its answers replaced by `answerer` (tests of rendering and
// chunking); the catalog, stats and reindex stay the bundled library's.
class ScriptedKnowledge final : public bot::Knowledge {
 public:
  explicit ScriptedKnowledge(ScriptedAnswers answerer)
      : answerer_(std::move(answerer)), library_(bundled_knowledge()) {}
  bot::Answer answer(std::string_view input, const bot::CommandSpelling&) const override { return answerer_(input); }
  bot::Answer follow_up(const bot::FollowUpQuestion& question, const bot::CommandSpelling&) const override {
    return answerer_(question.text);
  }
  std::shared_ptr<const retrieval::SearchEngine> engine() const override { return library_->engine(); }
  ReindexOutcome reindex() override { return library_->reindex(); }
  std::vector<std::string> stats_lines() const override { return library_->stats_lines(); }
  std::uintmax_t index_bytes() const override { return library_->index_bytes(); }

 private:
  ScriptedAnswers answerer_;
  std::shared_ptr<adapters::cli::Library> library_;
};

}  // namespace roundup::testing

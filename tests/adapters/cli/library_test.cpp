// The hot-swappable knowledge base: answers keep flowing while a reindex builds and swaps in the
// next index; failed, corrupt and concurrent reindexes leave the bot answering.

#include "adapters/cli/library.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include "adapters/cli/json_output.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

using roundup::adapters::cli::describe;
using roundup::adapters::cli::Library;
using roundup::adapters::cli::ReindexResult;
using roundup::adapters::cli::Runtime;
using roundup::bot::Answer;
using roundup::testing::TempDir;
using roundup::testing::write_file;
namespace fs = std::filesystem;

namespace {

// Questions about the bundled papers that each have a good answer, in both languages.
const std::vector<std::string> k_questions = {
    "Chinchilla compute-optimal tokens",
    "5400亿参数的模型是哪篇?",
    "watermark for LLM outputs",
    "MusicLM music generation from text",
};

// A roundup in the bundled "1、Title / link / By authors" layout, with a paper no other
// roundup has.
const char* const k_new_roundup = R"(2023年7月的深度学习论文推荐

本月的论文包括生物启发的注意力机制等主题。

1、Zebrafish Attention Transformers

https://arxiv.org/abs/2307.99901

By Zora Quillfeather, Ignatius Moravec, et al.

这篇论文研究斑马鱼幼体的视觉注意力,并据此提出 Zebrafish Attention Transformers:一种模仿斑马鱼视顶盖的稀疏注意力机制。

作者在多个视觉基准上表明,这种斑马鱼注意力比标准自注意力更省计算,而且精度相当。

2、Axolotl Memory Networks for Continual Learning

https://arxiv.org/abs/2307.99902

By Quentin Marrow.

受蝾螈再生能力启发,这项工作提出一种在持续学习中不会遗忘旧任务的记忆网络。
)";

// A copy of the bundled corpus in a temp dir (so tests can add, corrupt and hide files) and a
// config pointing at it.
struct TempCorpus {
  TempDir tmp;
  fs::path corpus = tmp / "corpus";
  roundup::config::Config config = roundup::testing::bundled_config(tmp / "var");

  TempCorpus() {
    fs::create_directories(corpus);
    for (const auto& entry : fs::directory_iterator(fs::path(ROUNDUP_SOURCE_DIR) / "data" / "roundups")) {
      const auto ext = entry.path().extension();
      if (ext != ".txt" && ext != ".md") continue;
      write_file(corpus / entry.path().filename(), roundup::testing::read_file(entry.path()));
    }
    config.corpus_dir = corpus;
  }
};

// A usable answer: something found and cited, not "no good match" or an error notice.
bool is_good(const Answer& a) {
  return a.kind != Answer::Kind::no_match && a.kind != Answer::Kind::notice && !a.lines.empty() && !a.citations.empty();
}

bool cites(const Answer& a, const std::string& title) {
  for (const auto& c : a.citations)
    if (c.title.find(title) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("Library: answers keep flowing while a reindex swaps in a new roundup") {
  TempCorpus t;
  // The build starts only once the askers are running (k_askers answers in), so questions are
  // answered during the build and across the swap.
  roundup::testing::Signal progress;
  std::size_t answered = 0;  // guarded by progress
  constexpr std::size_t k_askers = 4;
  Library library(t.config, [&](const Runtime& rt, std::ostream& log) {
    CHECK(progress.wait_for([&] { return answered >= k_askers; }));
    return rt.reindex(log);
  });
  std::ostringstream log;
  library.open(log);
  for (const std::string& q : k_questions) REQUIRE_MESSAGE(is_good(library.answer(q)), q);
  CHECK_FALSE(cites(library.answer("Zebrafish Attention Transformers"), "Zebrafish"));

  std::atomic<bool> reindexed{false};
  std::atomic<int> failed{0}, empty{0};
  constexpr int k_iterations_after_swap = 8;
  std::vector<std::thread> askers;
  for (std::size_t n = 0; n < k_askers; ++n) {
    askers.emplace_back([&, n] {
      int after = 0;
      for (std::size_t i = n; after < k_iterations_after_swap; ++i) {
        if (reindexed.load()) ++after;
        try {
          if (!is_good(library.answer(k_questions[i % k_questions.size()]))) ++empty;
        } catch (...) {
          ++failed;
        }
        progress.update([&] { ++answered; });
      }
    });
  }

  write_file(t.corpus / "005_zebrafish.txt", k_new_roundup);
  const ReindexResult result = library.rebuild();
  // Asked before the askers are told: the swap is complete when rebuild() returns.
  const Answer zebrafish = library.answer("Zebrafish Attention Transformers");
  reindexed = true;
  for (std::thread& a : askers) a.join();

  CHECK(failed.load() == 0);
  CHECK(empty.load() == 0);
  REQUIRE_MESSAGE(result.ok, result.error);
  CHECK(result.added == std::vector<std::string>{"005_zebrafish.txt"});
  CHECK(result.changed.empty());
  CHECK(result.removed.empty());
  CHECK(result.papers_after == result.papers_before + 2);
  CHECK(result.papers_added == 2);
  CHECK(result.papers_removed == 0);
  CHECK(cites(zebrafish, "Zebrafish Attention Transformers"));
  CHECK(describe(result).find("1 file added, 0 changed, 0 removed") != std::string::npos);
  CHECK(describe(result).find("(2 new, 0 gone)") != std::string::npos);
}

TEST_CASE("Library: a corrupt file is skipped and reported - and answers keep working") {
  TempCorpus t;
  Library library(t.config);
  std::ostringstream log;
  library.open(log);
  write_file(t.corpus / "bad.md", std::string("# Digest\n\ncaf\xe9 \xff\xfe au lait\n"));
  const ReindexResult result = library.rebuild();
  REQUIRE_MESSAGE(result.ok, result.error);
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].find("bad.md") != std::string::npos);
  CHECK(result.added.empty());
  CHECK(result.papers_after == result.papers_before);
  CHECK(describe(result).find("Skipped: bad.md (not valid UTF-8).") != std::string::npos);
  for (const std::string& q : k_questions) CHECK_MESSAGE(is_good(library.answer(q)), q);
}

TEST_CASE("Library: a failed build keeps the old engine answering") {
  TempCorpus t;
  Library library(t.config);
  std::ostringstream log;
  library.open(log);
  const auto before = library.engine();
  // An unreadable corpus folder makes the build throw before it touches the index.
  fs::rename(t.corpus, t.tmp / "corpus-away");
  const ReindexResult failed = library.rebuild();
  CHECK_FALSE(failed.ok);
  CHECK_FALSE(failed.already_running);
  CHECK(failed.error.find("corpus") != std::string::npos);
  CHECK(describe(failed).find("Reindex failed") != std::string::npos);
  CHECK(describe(failed).find("still answering") != std::string::npos);
  CHECK(library.engine() == before);
  for (const std::string& q : k_questions) CHECK_MESSAGE(is_good(library.answer(q)), q);

  // Once the corpus is back, the next reindex succeeds.
  fs::rename(t.tmp / "corpus-away", t.corpus);
  const ReindexResult recovered = library.rebuild();
  CHECK_MESSAGE(recovered.ok, recovered.error);
  CHECK(library.engine() != before);
}

TEST_CASE("Library: a second reindex while one runs returns already_running without waiting") {
  TempCorpus t;
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> builds{0};
  Library library(t.config, [&](const Runtime& rt, std::ostream& log) {
    if (builds++ == 0) {  // only the first build is held
      entered.set_value();
      released.wait();
    }
    return rt.reindex(log);
  });
  std::ostringstream log;
  library.open(log);

  ReindexResult first;
  std::thread worker([&] { first = library.rebuild(); });
  entered.get_future().wait();
  const ReindexResult second = library.rebuild();
  // Answers are served from the old engine while the first build is held.
  const bool answered_meanwhile = is_good(library.answer(k_questions[0]));
  release.set_value();
  worker.join();

  CHECK(second.already_running);
  CHECK_FALSE(second.ok);
  CHECK(describe(second).find("already running") != std::string::npos);
  CHECK(answered_meanwhile);
  CHECK_MESSAGE(first.ok, first.error);
  CHECK_FALSE(first.already_running);
  // The lock is released: the next reindex runs.
  const ReindexResult third = library.rebuild();
  CHECK_MESSAGE(third.ok, third.error);
  CHECK(builds.load() == 2);
}

TEST_CASE("Library: stats match the corpus") {
  TempCorpus t;
  Library library(t.config);
  CHECK(library.engine() == nullptr);
  CHECK(library.answer(k_questions[0]).kind == Answer::Kind::notice);
  CHECK(library.stats().papers == 0);

  std::ostringstream log;
  library.open(log);
  const auto stats = library.stats();
  const ReindexResult unchanged = library.rebuild();
  REQUIRE(unchanged.ok);
  CHECK(stats.roundups == 5);
  CHECK(stats.papers == roundup::adapters::cli::papers_json(library.engine()->catalog()).size());
  CHECK(stats.papers == unchanged.papers_after);
  CHECK(stats.passages == unchanged.passages);
  CHECK(stats.months == std::vector<std::string>{"2021-11", "2022-02", "2022-03", "2022-04", "2023-02"});

  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::canonical(t.tmp / "var" / "index" / "current")))
    if (entry.is_regular_file()) bytes += entry.file_size();
  CHECK(library.stats().index_bytes == bytes);
  CHECK(bytes > 0);
  REQUIRE(stats.built_at.size() == 20);  // "2023-02-01T12:00:00Z"
  CHECK(stats.built_at[10] == 'T');
  CHECK(stats.built_at.back() == 'Z');
}

TEST_CASE("Library: describe words a reindex for a chat reply") {
  ReindexResult r;
  r.ok = true;
  r.duration_ms = 420;
  r.added = {"new.md"};
  r.papers_before = 37;
  r.papers_after = 47;
  r.papers_added = 10;
  r.passages = 312;
  r.warnings = {"skipped bad.md: it is not valid UTF-8", "skipped empty.txt: it is empty"};
  CHECK(describe(r) ==
        "Reindexed in 0.4 s: 1 file added, 0 changed, 0 removed; 47 papers (10 new, 0 gone), 312 passages. "
        "Skipped: bad.md (not valid UTF-8); empty.txt (empty).");
  r.added = {"a.md", "b.md"};
  r.removed = {"old.md"};
  r.papers_after = 30;
  r.papers_added = 3;
  r.papers_removed = 10;
  r.warnings = {"the lexicon has no glossary"};
  CHECK(describe(r) ==
        "Reindexed in 0.4 s: 2 files added, 0 changed, 1 removed; 30 papers (3 new, 10 gone), 312 passages. "
        "Warnings: the lexicon has no glossary.");
}

// Retrieval benchmark: index build time, query latency (p50/p99) and peak RSS.
//   roundup-bench build --corpus DIR --data DIR --lexicon DIR
//   roundup-bench query --corpus DIR --data DIR --lexicon DIR --questions FILE.jsonl [--repeat N]
//   roundup-bench hostile --corpus DIR --data DIR --lexicon DIR --questions FILE.jsonl [--repeat N] [--case NAME]
// Run them in separate processes so that each peak RSS belongs to one phase (bench/run.sh).
// `hostile` answers (Responder::ask, as `roundup-bot ask` does) the ordinary questions and then
// each crafted worst case, and prints the CPU time of each; --case NAME runs one case alone (or
// only the ordinary questions: --case ordinary), so that a case that crashes the process does not
// hide the others.

#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

// CPU time of the whole process (the FAISS and OpenMP threads included), in milliseconds.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

std::string repeated(std::string_view unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

// Questions crafted to be expensive: the reproductions of issue 12 (a 40,000-character Slack
// message; U+FDFA and U+FB03, which NFKC expands 18x and 3x), inputs of the same shapes at the
// 2,000-character cap, and other shapes that stress one stage each.
std::vector<std::pair<std::string, std::string>> hostile_questions() {
  const std::string fdfa = "\uFDFA", ffi = "\uFB03";
  return {
      {"papers_by_abc_x10000", "papers by " + repeated("abc ", 10000)},
      {"papers_by_fdfa_x4000", "papers by " + repeated(fdfa, 4000)},
      {"zh_author_ffi_x4090", "的论文" + repeated(ffi, 4090)},
      {"letter_a_x40000", repeated("a", 40000)},
      {"invalid_utf8_x40000", repeated("\xff", 40000)},
      {"frame_words_x10000", "February 2023 " + repeated("论文", 10000)},
      {"which_what_x5000", repeated("which roundups ", 5000)},
      {"digits_x400_billion", repeated("9", 400) + " billion parameters"},
      {"cap_papers_by_abc", "papers by " + repeated("abc ", 497)},
      {"cap_zh_author_ffi", "的论文" + repeated(ffi, 665)},
      {"cap_han_x2000", repeated("模型", 1000)},
  };
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roundup-bot retrieval benchmark"};
  app.require_subcommand(1);
  std::string corpus, data, lexicon, questions;
  int repeat = 1;
  for (auto* sub : {app.add_subcommand("build", "time a full index build"),
                    app.add_subcommand("query", "time queries against an existing index"),
                    app.add_subcommand("hostile", "CPU time of crafted worst-case questions against ordinary ones")}) {
    sub->add_option("--corpus", corpus)->required();
    sub->add_option("--data", data)->required();
    sub->add_option("--lexicon", lexicon)->required();
    if (sub->get_name() != "build") {
      sub->add_option("--questions", questions)->required();
      sub->add_option("--repeat", repeat);
    }
  }
  std::string only_case;
  app.get_subcommand("hostile")->add_option("--case", only_case, "run this case alone");
  CLI11_PARSE(app, argc, argv);

  roundup::config::Config config = roundup::config::default_config();
  config.corpus_dir = corpus;
  config.data_dir = data;
  config.retrieval.lexicon_dir = lexicon;
  roundup::adapters::cli::Runtime runtime(config);
  nlohmann::json out;

  if (app.got_subcommand("build")) {
    std::filesystem::remove_all(std::filesystem::path(data) / "index");
    const auto report = runtime.reindex(std::cerr);
    out = {{"phase", "build"},          {"files", report.files},
           {"papers", report.papers},   {"passages", report.passages},
           {"seconds", report.seconds}, {"peak_rss_mib", peak_rss_mib()}};
    std::uintmax_t bytes = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(std::filesystem::path(data) / "index"))
      if (e.is_regular_file()) bytes += e.file_size();
    out["index_mib"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
  } else if (app.got_subcommand("hostile")) {
    // The path every platform and the CLI answer through (bot::Knowledge).
    roundup::adapters::cli::Library library(runtime.config());
    library.open(std::cerr);
    std::vector<std::string> qs;
    std::ifstream in(questions);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) qs.push_back(nlohmann::json::parse(line)["q"].get<std::string>());
    if (qs.empty()) {
      std::cerr << "no questions in " << questions << "\n";
      return 2;
    }
    // The cost of one answer: the least CPU time of `repeat` runs (the others add noise only).
    const auto cost = [&](const std::string& q) {
      double best = 0;
      for (int r = 0; r < std::max(repeat, 1); ++r) {
        const double t0 = cpu_ms();
        const auto answer = library.answer(q);
        const double t = cpu_ms() - t0;
        if (r == 0 || t < best) best = t;
      }
      return best;
    };
    out = {{"phase", "hostile"}};
    const bool all = only_case.empty();
    if (all || only_case == "ordinary") {
      for (std::size_t i = 0; i < std::min<std::size_t>(qs.size(), 10); ++i) library.answer(qs[i]);  // warm-up
      std::vector<double> ms;
      for (const std::string& q : qs) ms.push_back(cost(q));
      out["ordinary"] = {
          {"questions", ms.size()}, {"p50_cpu_ms", percentile(ms, 0.50)}, {"max_cpu_ms", percentile(ms, 1.0)}};
    } else {
      library.answer(qs.front());  // warm-up
    }
    bool found = all || only_case == "ordinary";
    for (const auto& [name, q] : hostile_questions()) {
      if (!all && name != only_case) continue;
      found = true;
      out["cases"][name] = {{"bytes", q.size()}, {"cpu_ms", cost(q)}};
    }
    if (!found) {
      std::cerr << "no case named " << only_case << "\n";
      return 2;
    }
    out["peak_rss_mib"] = peak_rss_mib();
  } else {
    const auto start = std::chrono::steady_clock::now();
    const auto engine = runtime.engine(std::cerr);
    const double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::string> qs;
    std::ifstream in(questions);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) qs.push_back(nlohmann::json::parse(line)["q"].get<std::string>());
    if (qs.empty()) {
      std::cerr << "no questions in " << questions << "\n";
      return 2;
    }
    for (std::size_t i = 0; i < std::min<std::size_t>(qs.size(), 10); ++i) engine->search(qs[i], 5);  // warm-up
    std::vector<double> ms;
    std::size_t empty = 0;
    for (int r = 0; r < repeat; ++r) {
      for (const std::string& q : qs) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto response = engine->search(q, 5);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        empty += response.hits.empty();
      }
    }
    double sum = 0;
    for (double v : ms) sum += v;
    out = {{"phase", "query"},
           {"queries", ms.size()},
           {"empty_results", empty},
           {"open_seconds", open_seconds},
           {"p50_ms", percentile(ms, 0.50)},
           {"p99_ms", percentile(ms, 0.99)},
           {"max_ms", percentile(ms, 1.0)},
           {"mean_ms", sum / static_cast<double>(ms.size())},
           {"peak_rss_mib", peak_rss_mib()}};
  }
  std::cout << out.dump() << "\n";
  return 0;
}

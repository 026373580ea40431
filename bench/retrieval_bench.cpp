// Retrieval benchmark: index build time, query latency (p50/p99) and peak RSS.
//   roundup-bench build --corpus DIR --data DIR --lexicon DIR
//   roundup-bench query --corpus DIR --data DIR --lexicon DIR --questions FILE.jsonl [--repeat N]
// Run the two in separate processes so that each peak RSS belongs to one phase (bench/run.sh).

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adapters/cli/runtime.h"

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
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
                    app.add_subcommand("query", "time queries against an existing index")}) {
    sub->add_option("--corpus", corpus)->required();
    sub->add_option("--data", data)->required();
    sub->add_option("--lexicon", lexicon)->required();
    if (sub->get_name() == "query") {
      sub->add_option("--questions", questions)->required();
      sub->add_option("--repeat", repeat);
    }
  }
  CLI11_PARSE(app, argc, argv);

  roundup::config::Config config = roundup::config::default_config();
  config.corpus_dir = corpus;
  config.data_dir = data;
  config.retrieval.lexicon_dir = lexicon;
  roundup::app::Runtime runtime(config);
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

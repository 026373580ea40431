// Roundup files with their metadata: front matter, sidecar NAME.meta.json, saved HTML pages, and
// the corpus load that indexes what it cannot structure instead of dropping it.

#include "retrieval/roundup_source.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "retrieval/corpus.h"
#include "tests/support/temp_dir.h"

using roundup::retrieval::ItemKind;
using roundup::retrieval::MonthSource;
using roundup::retrieval::read_roundup;

namespace {

const char* k_paper_block =
    "1. A Tiny Paper About Routers\n\nAuthors: Ada Lovelace, Alan Turing\nLink: https://arxiv.org/abs/2401.00001\n"
    "Summary: Routers pick two experts per token.\n";

void write(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

}  // namespace

TEST_CASE("roundup source: front matter overrides title, month, source and language with line numbers kept") {
  const std::string text = std::string(
                               "---\ntitle: Reading group picks\nmonth: 2023-07\nsource: https://example.org/rg\n"
                               "language: en\n---\n\n") +
                           k_paper_block;
  const auto read = read_roundup("rg", "rg.md", text, std::nullopt);
  const auto& r = read.parse.roundup;
  CHECK(read.warnings.empty());
  CHECK(r.title == "Reading group picks");
  CHECK(r.month == "2023-07");
  CHECK(r.month_source == MonthSource::metadata);
  CHECK(r.source_url == "https://example.org/rg");
  CHECK(r.language == "en");
  REQUIRE_FALSE(r.items.empty());
  CHECK(r.items.front().title == "A Tiny Paper About Routers");
  CHECK(r.items.front().first_line == 8);  // the front matter's 6 lines and a blank line precede it
}

TEST_CASE("roundup source: without metadata the month comes from the arXiv ids and a --- opening is no front matter") {
  const auto read = read_roundup("x", "x.md", std::string("---\n\n") + k_paper_block, std::nullopt);
  CHECK(read.parse.roundup.month == "2024-01");
  CHECK(read.parse.roundup.month_source == MonthSource::arxiv_ids);
  CHECK(read.warnings.empty());
}

TEST_CASE("roundup source: the sidecar wins over the front matter and bad values are warned about, not used") {
  const std::string text = std::string("---\nmonth: 2023-07\n---\n") + k_paper_block;
  const auto read = read_roundup("x", "x.md", text, std::string(R"({"month": "2024-05", "language": "zh"})"));
  CHECK(read.parse.roundup.month == "2024-05");
  CHECK(read.parse.roundup.language == "zh");

  const auto bad =
      read_roundup("x", "x.md", k_paper_block, std::string(R"({"month": "May 2024", "colour": "red", "title": 7})"));
  CHECK(bad.parse.roundup.month == "2024-01");  // still the inferred one
  REQUIRE(bad.warnings.size() == 3);
  CHECK(std::any_of(bad.warnings.begin(), bad.warnings.end(),
                    [](const std::string& w) { return w.find("must be YYYY-MM") != std::string::npos; }));

  const auto broken = read_roundup("x", "x.md", k_paper_block, std::string("{not json"));
  REQUIRE(broken.warnings.size() == 1);
  CHECK(broken.warnings[0] == "x.meta.json is not valid JSON; ignored");
}

TEST_CASE("roundup source: a saved HTML page is read through its article, with the page's date and URL") {
  const std::string html =
      "<html><head><title>Site</title><meta property=\"article:published_time\" content=\"2023-10-12T08:00:00Z\">"
      "<link rel=\"canonical\" href=\"https://blog.example/picks\"></head><body><nav><a href=\"/\">Home</a></nav>"
      "<article><h1>October picks</h1><p>Old news from September 2023.</p>"
      "<h2><a href=\"https://arxiv.org/abs/2310.00001\">Vision Transformers Need Registers</a></h2>"
      "<p><em>Timoth&eacute;e Darcet, Maxime Oquab et al.</em></p><p>Register tokens remove artefacts.</p>"
      "</article><footer>&copy; 2023 Blog</footer></body></html>";
  const auto read = read_roundup("picks", "picks.html", html, std::nullopt);
  const auto& r = read.parse.roundup;
  CHECK(read.format == "html");
  CHECK(r.title == "October picks");
  CHECK(r.month == "2023-10");
  CHECK(r.month_source == MonthSource::page);
  CHECK(r.source_url == "https://blog.example/picks");
  REQUIRE_FALSE(r.items.empty());
  const auto paper =
      std::find_if(r.items.begin(), r.items.end(), [](const auto& i) { return i.kind == ItemKind::paper; });
  REQUIRE(paper != r.items.end());
  CHECK(paper->title == "Vision Transformers Need Registers");
  CHECK(paper->authors.front() == "Timothée Darcet");
  CHECK(paper->arxiv_id == "2310.00001");
}

TEST_CASE("corpus: html and sidecars are read, a paperless file is kept as passages and reported") {
  roundup::testing::TempDir dir;
  write(dir / "a.md", k_paper_block);
  write(dir / "a.meta.json", R"({"month": "2024-02"})");
  write(
      dir / "essay.txt",
      "Why evaluations drift\n\nBenchmarks saturate within a year of release, and leaderboards reward overfitting.\n");
  write(dir / "page.html",
        "<html><body><article><h1>Page</h1><p>Nothing structured here at all.</p></article></body></html>");
  const auto corpus = roundup::retrieval::load_corpus(dir.path(), 1 << 20);
  REQUIRE(corpus.roundups.size() == 3);
  REQUIRE(corpus.summaries.size() == 3);
  CHECK(corpus.roundups[0].month == "2024-02");
  CHECK(corpus.summaries[0].papers == 1);
  CHECK(corpus.summaries[1].name == "essay.txt");
  CHECK(corpus.summaries[1].passages >= 1);
  bool warned = false;
  for (const auto& w : corpus.warnings) warned = warned || w.starts_with("essay.txt: no papers found");
  CHECK(warned);
  // Editing the sidecar changes the file's hash, so the roundup is rebuilt.
  const std::string before = corpus.files[0].sha256;
  write(dir / "a.meta.json", R"({"month": "2024-03"})");
  CHECK(roundup::retrieval::load_corpus(dir.path(), 1 << 20).files[0].sha256 != before);
}

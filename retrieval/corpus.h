#pragma once
// Reading the corpus folder: every roundup file (.txt, .md, .html; retrieval/roundup_source.h),
// validated and parsed, with its sidecar metadata. A file that cannot be read (too big, not
// UTF-8, empty) is skipped with one warning naming it and why; the rest still loads. A file whose
// layout is not recognised is indexed as unstructured passages and reported, never dropped.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "retrieval/roundup.h"
#include "retrieval/roundup_parser.h"

namespace roundup::retrieval {

struct SourceFile {
  std::string name;        // file name inside the corpus folder
  std::string roundup_id;  // file stem
  std::string sha256;      // of the raw bytes
  std::uintmax_t size = 0;
};

// What was read from one file, for the index report.
struct FileSummary {
  std::string name;
  std::string format;  // "text", "markdown", "html"
  std::size_t papers = 0;
  std::size_t listed_papers = 0;
  std::size_t news_and_tools = 0;
  std::size_t passages = 0;  // unstructured
  std::string month;
  MonthSource month_source = MonthSource::unknown;
};

struct LoadedCorpus {
  std::vector<Roundup> roundups;       // sorted by id
  std::vector<SourceFile> files;       // parallel to roundups
  std::vector<FileSummary> summaries;  // parallel to roundups
  std::vector<std::string> warnings;
};

// The summary line of one file and the warnings its parse deserves: no papers found, or most of
// its text unstructured.
FileSummary summarize(const std::string& name, const std::string& format, const RoundupParse& parse);
std::vector<std::string> parse_warnings(const FileSummary& summary, const RoundupParse& parse);

// Throws std::runtime_error when the folder itself cannot be read.
LoadedCorpus load_corpus(const std::filesystem::path& dir, std::uintmax_t max_file_bytes);

}  // namespace roundup::retrieval

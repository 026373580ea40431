#pragma once
// Reading the corpus folder: every .txt/.md roundup file, validated and parsed. A bad file is
// skipped with one warning naming it and why; the rest still loads.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "retrieval/roundup.h"

namespace roundup::retrieval {

struct SourceFile {
  std::string name;        // file name inside the corpus folder
  std::string roundup_id;  // file stem
  std::string sha256;      // of the raw bytes
  std::uintmax_t size = 0;
};

struct LoadedCorpus {
  std::vector<Roundup> roundups;  // sorted by id
  std::vector<SourceFile> files;  // parallel to roundups
  std::vector<std::string> warnings;
};

// Throws std::runtime_error when the folder itself cannot be read.
LoadedCorpus load_corpus(const std::filesystem::path& dir, std::uintmax_t max_file_bytes);

}  // namespace roundup::retrieval

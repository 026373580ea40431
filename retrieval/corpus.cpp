#include "retrieval/corpus.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "retrieval/hashing.h"
#include "retrieval/roundup_parser.h"
#include "retrieval/text.h"

namespace roundup::retrieval {

namespace {
bool is_roundup_file(const std::filesystem::directory_entry& entry) {
  const std::string ext = entry.path().extension().string();
  return (ext == ".txt" || ext == ".md") && entry.path().filename().string().front() != '.';
}
}  // namespace

LoadedCorpus load_corpus(const std::filesystem::path& dir, std::uintmax_t max_file_bytes) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw std::runtime_error("cannot read corpus folder " + dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : it) {
    std::error_code type_ec;
    if (entry.is_regular_file(type_ec) && is_roundup_file(entry)) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());

  LoadedCorpus corpus;
  for (const auto& path : paths) {
    const std::string name = path.filename().string();
    auto skip = [&](const std::string& why) {
      std::string warning = "skipped ";
      warning += name;
      warning += ": ";
      warning += why;
      corpus.warnings.push_back(std::move(warning));
    };
    std::error_code size_ec;
    const std::uintmax_t size = std::filesystem::file_size(path, size_ec);
    if (size_ec) {
      skip("cannot read it (" + size_ec.message() + ")");
      continue;
    }
    if (size > max_file_bytes) {
      skip("it is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(max_file_bytes) +
           " (retrieval.max_file_bytes)");
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    if (!in || !(buffer << in.rdbuf())) {
      if (size == 0) {
        skip("it is empty");
      } else {
        skip("cannot read it");
      }
      continue;
    }
    std::string bytes = buffer.str();
    if (trim(bytes).empty()) {
      skip("it is empty");
      continue;
    }
    if (!is_valid_utf8(bytes)) {
      skip("it is not valid UTF-8");
      continue;
    }
    const std::string id = path.stem().string();
    Roundup roundup = parse_roundup(id, bytes);
    if (roundup.items.empty()) {
      skip("no papers, news or tools were found in it");
      continue;
    }
    corpus.files.push_back(SourceFile{name, id, sha256_hex(bytes), size});
    corpus.roundups.push_back(std::move(roundup));
  }
  return corpus;
}

}  // namespace roundup::retrieval

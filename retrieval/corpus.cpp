#include "retrieval/corpus.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "retrieval/hashing.h"
#include "retrieval/roundup_source.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {
bool is_roundup_file(const std::filesystem::directory_entry& entry) {
  return is_roundup_file_name(entry.path().filename().string());
}

// Sidecars are small; a bigger one is a mistake, not metadata.
constexpr std::uintmax_t k_max_sidecar_bytes = 64 * 1024;

std::optional<std::string> read_small_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > k_max_sidecar_bytes)
    return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  if (!in || !(buffer << in.rdbuf())) return std::nullopt;
  return buffer.str();
}

// Most of a file unstructured: the parser probably missed its layout.
constexpr double k_mostly_unstructured = 0.5;
}  // namespace

FileSummary summarize(const std::string& name, const std::string& format, const RoundupParse& parse) {
  FileSummary s;
  s.name = name;
  s.format = format;
  for (const Item& item : parse.roundup.items) {
    switch (item.kind) {
      case ItemKind::paper: ++s.papers; break;
      case ItemKind::listed_paper: ++s.listed_papers; break;
      case ItemKind::news:
      case ItemKind::tool: ++s.news_and_tools; break;
      case ItemKind::passage: ++s.passages; break;
    }
  }
  s.month = parse.roundup.month;
  s.month_source = parse.roundup.month_source;
  return s;
}

std::vector<std::string> parse_warnings(const FileSummary& summary, const RoundupParse& parse) {
  std::vector<std::string> warnings;
  const std::string inspect = " (see `roundup-bot inspect " + summary.name + "`)";
  const std::size_t total = parse.structured_chars + parse.unstructured_chars;
  if (summary.papers + summary.listed_papers == 0) {
    warnings.push_back(summary.name + ": no papers found; indexed as " + std::to_string(summary.passages) +
                       " unstructured passage(s) and " + std::to_string(summary.news_and_tools) + " news/tool item(s)" +
                       inspect);
  } else if (total > 0 && static_cast<double>(parse.unstructured_chars) > k_mostly_unstructured * total) {
    warnings.push_back(summary.name + ": " +
                       std::to_string(static_cast<int>(100.0 * parse.unstructured_chars / total)) +
                       "% of its text is unstructured (not in any paper, news or tool item)" + inspect);
  }
  if (summary.month.empty())
    warnings.push_back(summary.name + ": no month found; set one with front matter or " + sidecar_name(summary.name));
  return warnings;
}

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
    const std::optional<std::string> sidecar = read_small_file(path.parent_path() / sidecar_name(name));
    RoundupRead read = read_roundup(id, name, bytes, sidecar);
    for (std::string& w : read.warnings) corpus.warnings.push_back(name + ": " + std::move(w));
    if (read.parse.roundup.items.empty()) {
      skip("nothing in it could be indexed (only page furniture)");
      continue;
    }
    FileSummary summary = summarize(name, read.format, read.parse);
    for (std::string& w : parse_warnings(summary, read.parse)) corpus.warnings.push_back(std::move(w));
    // The sidecar is part of the roundup's content: editing it must rebuild the roundup.
    const std::string hash = sidecar ? sha256_hex(bytes + "\n" + *sidecar) : sha256_hex(bytes);
    corpus.files.push_back(SourceFile{name, id, hash, size});
    corpus.summaries.push_back(std::move(summary));
    corpus.roundups.push_back(std::move(read.parse.roundup));
  }
  return corpus;
}

}  // namespace roundup::retrieval

#include "adapters/cli/inspect.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "retrieval/corpus.h"
#include "text/unicode.h"

namespace roundup::adapters::cli {

namespace {

constexpr std::size_t k_summary_preview_cp = 90;

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  if (!in || !(buffer << in.rdbuf())) throw std::runtime_error("cannot read " + file.string());
  return buffer.str();
}

std::string preview(std::string_view text) {
  std::string flat = text::squash_spaces(text);
  for (char& c : flat)
    if (c == '\n') c = ' ';
  const std::string cut = text::utf8_prefix(flat, k_summary_preview_cp);
  return cut.size() < flat.size() ? cut + "…" : cut;
}

std::string lines_of(const retrieval::Item& item) {
  if (item.first_line == 0) return "";
  if (item.first_line == item.last_line) return "line " + std::to_string(item.first_line);
  return "lines " + std::to_string(item.first_line) + "-" + std::to_string(item.last_line);
}

const char* month_source_words(retrieval::MonthSource source) {
  switch (source) {
    case retrieval::MonthSource::text: return "stated in the text";
    case retrieval::MonthSource::arxiv_ids: return "inferred from the newest arXiv id";
    case retrieval::MonthSource::metadata: return "from the metadata";
    case retrieval::MonthSource::page: return "the page's publication date";
    case retrieval::MonthSource::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace

retrieval::RoundupRead read_roundup_file(const std::filesystem::path& file, std::uintmax_t max_file_bytes) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot read " + file.string() + ": " + ec.message());
  if (size > max_file_bytes)
    throw std::runtime_error(file.string() + " is " + std::to_string(size) + " bytes, over the limit of " +
                             std::to_string(max_file_bytes) + " (retrieval.max_file_bytes)");
  const std::string bytes = read_all(file);
  if (!text::is_valid_utf8(bytes)) throw std::runtime_error(file.string() + " is not valid UTF-8");
  std::optional<std::string> sidecar;
  const std::filesystem::path sidecar_path = file.parent_path() / retrieval::sidecar_name(file.filename().string());
  if (std::filesystem::is_regular_file(sidecar_path, ec)) sidecar = read_all(sidecar_path);
  return retrieval::read_roundup(file.stem().string(), file.filename().string(), bytes, sidecar);
}

void print_inspection(const std::string& file_name, const retrieval::RoundupRead& read, std::ostream& out) {
  const retrieval::Roundup& r = read.parse.roundup;
  const retrieval::FileSummary summary = retrieval::summarize(file_name, read.format, read.parse);
  out << file_name << " (" << read.format << ")\n";
  out << "  title:    " << (r.title.empty() ? "(none)" : r.title) << "\n";
  out << "  month:    " << (r.month.empty() ? "(none)" : r.month) << " (" << month_source_words(r.month_source)
      << ")\n";
  if (!r.source_url.empty()) out << "  source:   " << r.source_url << "\n";
  out << "  language: " << r.language << "\n";
  out << "  found:    " << summary.papers << " papers, " << summary.listed_papers << " listed papers, "
      << summary.news_and_tools << " news/tool items, " << summary.passages << " unstructured passages\n";
  for (const std::string& w : read.warnings) out << "warning: " << w << "\n";
  for (const std::string& w : retrieval::parse_warnings(summary, read.parse)) out << "warning: " << w << "\n";
  for (const retrieval::Item& item : r.items) {
    out << "\n[" << item.ordinal << "] " << retrieval::to_string(item.kind) << " (" << lines_of(item)
        << "): " << item.title << "\n";
    if (!item.authors.empty()) {
      out << "    authors: ";
      for (std::size_t i = 0; i < item.authors.size(); ++i) out << (i ? ", " : "") << item.authors[i];
      out << "\n";
    }
    if (!item.url.empty()) out << "    link:    " << item.url << "\n";
    for (std::size_t i = 1; i < item.links.size(); ++i) out << "    also:    " << item.links[i] << "\n";
    if (!item.summary.empty()) out << "    summary: " << preview(item.summary) << "\n";
  }
  if (!read.parse.skipped.empty()) {
    out << "\nnot indexed:\n";
    for (const retrieval::SkippedStretch& s : read.parse.skipped) {
      out << "  lines " << s.first_line << "-" << s.last_line << " (" << s.reason << "): " << preview(s.text) << "\n";
    }
  }
}

nlohmann::json inspection_json(const std::string& file_name, const retrieval::RoundupRead& read) {
  const retrieval::Roundup& r = read.parse.roundup;
  nlohmann::json items = nlohmann::json::array();
  for (const retrieval::Item& item : r.items) {
    items.push_back({{"kind", retrieval::to_string(item.kind)},
                     {"title", item.title},
                     {"authors", item.authors},
                     {"url", item.url},
                     {"links", item.links},
                     {"arxiv_id", item.arxiv_id ? nlohmann::json(*item.arxiv_id) : nlohmann::json(nullptr)},
                     {"summary", item.summary},
                     {"lines", {item.first_line, item.last_line}}});
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const retrieval::SkippedStretch& s : read.parse.skipped)
    skipped.push_back({{"lines", {s.first_line, s.last_line}}, {"reason", s.reason}, {"text", s.text}});
  const retrieval::FileSummary summary = retrieval::summarize(file_name, read.format, read.parse);
  std::vector<std::string> warnings = read.warnings;
  for (std::string& w : retrieval::parse_warnings(summary, read.parse)) warnings.push_back(std::move(w));
  return {{"file", file_name},
          {"format", read.format},
          {"title", r.title},
          {"month", r.month},
          {"month_source", retrieval::to_string(r.month_source)},
          {"source_url", r.source_url},
          {"language", r.language},
          {"items", std::move(items)},
          {"skipped", std::move(skipped)},
          {"warnings", std::move(warnings)}};
}

}  // namespace roundup::adapters::cli

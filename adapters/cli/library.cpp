#include "adapters/cli/library.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

namespace roundup::adapters::cli {

namespace {

// What `roundup-bot papers` lists and BuildReport::papers counts: news and tools are not papers.
std::size_t paper_count(const retrieval::Catalog& catalog) {
  return static_cast<std::size_t>(std::count_if(catalog.papers().begin(), catalog.papers().end(), [](const auto& p) {
    return p.kind == retrieval::ItemKind::paper || p.kind == retrieval::ItemKind::listed_paper;
  }));
}

std::set<std::string> paper_ids(const retrieval::Catalog& catalog) {
  std::set<std::string> ids;
  for (const auto& p : catalog.papers())
    if (p.kind == retrieval::ItemKind::paper || p.kind == retrieval::ItemKind::listed_paper) ids.insert(p.id);
  return ids;
}

std::uintmax_t directory_bytes(const std::filesystem::path& dir) {
  // A generation a later build has already removed counts as empty, not as an error: stats are
  // informational and must not fail a /stats reply.
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) {
      const std::uintmax_t size = it->file_size(file_ec);
      if (!file_ec) total += size;
    }
  }
  return total;
}

std::string manifest_built_at(const std::filesystem::path& dir) {
  std::ifstream in(dir / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object()) return {};
  const auto it = manifest.find("built_at");
  return it != manifest.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string count_of(std::size_t n, const char* singular, const char* plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

// "skipped bad.md: it is not valid UTF-8" -> "bad.md (not valid UTF-8)", the corpus loader's
// wording shortened for a chat reply; other warnings stay as they are.
std::string short_skip(const std::string& warning, bool& is_skip) {
  constexpr std::string_view k_skipped = "skipped ";
  const std::size_t colon = warning.find(": ");
  is_skip = warning.rfind(k_skipped, 0) == 0 && colon != std::string::npos;
  if (!is_skip) return warning;
  std::string why = warning.substr(colon + 2);
  if (why.rfind("it is ", 0) == 0) why.erase(0, 6);
  return warning.substr(k_skipped.size(), colon - k_skipped.size()) + " (" + why + ")";
}

}  // namespace

std::string describe(const ReindexResult& r) {
  if (r.already_running) return "A reindex is already running; whoever started it gets the result when it finishes.";
  std::ostringstream out;
  if (!r.ok) {
    out << "Reindex failed: " << r.error << ". The previous index is still answering.";
    return out.str();
  }
  out << "Reindexed in " << std::fixed << std::setprecision(1) << static_cast<double>(r.duration_ms) / 1000.0
      << " s: " << count_of(r.added.size(), "file", "files") << " added, " << r.changed.size() << " changed, "
      << r.removed.size() << " removed; " << count_of(r.papers_after, "paper", "papers") << " (" << r.papers_added
      << " new, " << r.papers_removed << " gone), " << count_of(r.passages, "passage", "passages") << ".";
  std::vector<std::string> skipped, other;
  for (const std::string& w : r.warnings) {
    bool is_skip = false;
    std::string text = short_skip(w, is_skip);
    (is_skip ? skipped : other).push_back(std::move(text));
  }
  auto list = [&](const char* label, const std::vector<std::string>& items) {
    if (items.empty()) return;
    out << " " << label << ": ";
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? "; " : "") << items[i];
    out << ".";
  };
  list("Skipped", skipped);
  list("Warnings", other);
  return out.str();
}

Library::Library(config::Config config, BuildFunction build) : Library(Runtime(std::move(config)), std::move(build)) {}

Library::Library(Runtime runtime, BuildFunction build) : runtime_(std::move(runtime)), build_(std::move(build)) {
  if (!build_) build_ = [](const Runtime& rt, std::ostream& log) { return rt.reindex(log); };
}

void Library::open(std::ostream& log) {
  // Opening may build a missing index; that must not overlap a reindex of the same data_dir.
  std::lock_guard build_lock(build_mutex_);
  install(runtime_.engine(log));
}

std::shared_ptr<const Library::Snapshot> Library::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return current_;
}

void Library::install(std::shared_ptr<const retrieval::SearchEngine> engine) {
  auto next = std::make_shared<Snapshot>();
  next->responder = std::make_shared<const bot::Responder>(engine, runtime_.responder_settings());
  next->engine = std::move(engine);
  std::shared_ptr<const Snapshot> previous;
  {
    std::lock_guard lock(snapshot_mutex_);
    previous = std::exchange(current_, std::move(next));
  }
  // `previous` may be the last owner of the old index: let it close outside the lock, so
  // answer() callers never wait on that.
}

std::shared_ptr<const retrieval::SearchEngine> Library::engine() const {
  const auto snap = snapshot();
  return snap ? snap->engine : nullptr;
}

namespace {
bot::Answer not_ready() {
  bot::Answer a;
  a.kind = bot::Answer::Kind::notice;
  a.heading = "Not ready";
  a.lines.emplace_back("The paper index is still loading; please ask again in a moment.");
  return a;
}
}  // namespace

bot::Answer Library::answer(std::string_view input, const bot::CommandSpelling& commands) const {
  const auto snap = snapshot();
  return snap ? snap->responder->handle(input, commands) : not_ready();
}

bot::Answer Library::follow_up(const bot::FollowUpQuestion& question, const bot::CommandSpelling& commands) const {
  const auto snap = snapshot();
  return snap ? snap->responder->follow_up(question, commands) : not_ready();
}

ReindexResult Library::rebuild() {
  ReindexResult result;
  std::unique_lock build_lock(build_mutex_, std::try_to_lock);
  if (!build_lock.owns_lock()) {
    result.already_running = true;
    result.error = "a reindex is already running";
    return result;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto before = engine();
  if (before) result.papers_before = paper_count(before->catalog());
  // Warnings reach the caller through the report; the build's log lines would only repeat them.
  std::ostringstream log;
  try {
    retrieval::BuildReport report = build_(runtime_, log);
    result.added = std::move(report.added);
    result.changed = std::move(report.changed);
    result.removed = std::move(report.removed);
    result.papers_after = report.papers;
    result.passages = report.passages;
    result.warnings = std::move(report.warnings);
    install(runtime_.engine(log));
    const std::set<std::string> old_ids = before ? paper_ids(before->catalog()) : std::set<std::string>{};
    const std::set<std::string> new_ids = paper_ids(engine()->catalog());
    for (const auto& id : new_ids) result.papers_added += old_ids.count(id) == 0 ? 1 : 0;
    for (const auto& id : old_ids) result.papers_removed += new_ids.count(id) == 0 ? 1 : 0;
    result.ok = true;
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  result.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  return result;
}

LibraryStats Library::stats() const {
  LibraryStats s;
  const auto current = engine();
  if (!current) return s;
  const retrieval::Catalog& catalog = current->catalog();
  s.roundups = catalog.roundups().size();
  std::set<std::string> months;
  for (const retrieval::Roundup& r : catalog.roundups())
    if (!r.month.empty()) months.insert(r.month);
  s.months.assign(months.begin(), months.end());
  s.papers = paper_count(catalog);
  s.passages = current->knowledge_base().passage_count();
  s.index_bytes = directory_bytes(current->knowledge_base().directory());
  s.built_at = manifest_built_at(current->knowledge_base().directory());
  return s;
}

std::uintmax_t Library::index_bytes() const {
  const auto current = engine();
  return current ? directory_bytes(current->knowledge_base().directory()) : 0;
}

bot::Knowledge::ReindexOutcome Library::reindex() {
  const ReindexResult result = rebuild();
  return {result.ok, describe(result), result.already_running};
}

std::vector<std::string> Library::stats_lines() const {
  const LibraryStats s = stats();
  std::vector<std::string> lines;
  lines.push_back("Roundups: " + std::to_string(s.roundups));
  if (!s.months.empty()) {
    lines.push_back("Months covered: " + s.months.front() + " … " + s.months.back() + " (" +
                    std::to_string(s.months.size()) + ")");
  }
  lines.push_back("Papers: " + std::to_string(s.papers));
  lines.push_back("Passages: " + std::to_string(s.passages));
  std::ostringstream size;
  size << std::fixed << std::setprecision(1) << static_cast<double>(s.index_bytes) / (1024.0 * 1024.0) << " MiB";
  lines.push_back("Index size: " + size.str());
  if (!s.built_at.empty()) lines.push_back("Index built: " + s.built_at);
  return lines;
}

}  // namespace roundup::adapters::cli

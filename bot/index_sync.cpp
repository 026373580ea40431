#include "bot/index_sync.h"

#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "telemetry/log.h"

namespace roundup::bot {
namespace {

using nlohmann::json;

constexpr const char* k_announcement = "index.reindex";
constexpr const char* k_report_prefix = "index.replica.";

}  // namespace

IndexSync::IndexSync(KeyValues& values, Knowledge& knowledge, IndexSyncOptions options,
                     std::function<std::int64_t()> now_ms)
    : values_(values), knowledge_(knowledge), options_(std::move(options)), now_ms_(std::move(now_ms)) {}

IndexSync::~IndexSync() {
  stop();
}

void IndexSync::start() {
  try {
    // The index this replica opened was built from its corpus after the last announcement, unless
    // it came back without a build (a container restart keeps an older index): then the first
    // look rebuilds, once.
    const auto [sequence, generation] = announcement();
    const std::string mine = knowledge_.index_generation();
    seen_ = !generation.empty() && generation != mine && sequence > 0 ? sequence - 1 : sequence;
  } catch (const std::exception& error) {
    // Then the first look that can read it rebuilds once more than needed: harmless.
    log::warn("index_sync", "cannot read the last announced reindex", {{"error", error.what()}});
  }
  report();
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void IndexSync::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IndexSync::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.period, [this] { return stopping_; })) {
    lock.unlock();
    follow();
    lock.lock();
  }
}

std::pair<std::int64_t, std::string> IndexSync::announcement() const {
  const auto stored = values_.value(k_announcement);
  if (!stored) return {0, ""};
  const json announced = json::parse(*stored, nullptr, false);
  if (!announced.is_object() || !announced.value("seq", json()).is_number_integer()) return {0, ""};
  const json generation = announced.value("generation", json());
  return {announced["seq"].get<std::int64_t>(), generation.is_string() ? generation.get<std::string>() : ""};
}

void IndexSync::announce_reindex() {
  if (following_) return;  // a rebuild follow() asked for
  try {
    // Two admins announcing at once may both write the same number: every replica still rebuilds.
    const std::int64_t next = announcement().first + 1;
    values_.set_value(k_announcement, json{{"seq", next},
                                           {"by", options_.replica_id},
                                           {"generation", knowledge_.index_generation()},
                                           {"at_ms", now_ms_()}}
                                          .dump());
    seen_ = next;
    log::info("index_sync", "announced the reindex to the other replicas",
              {{"seq", std::to_string(next)}, {"generation", knowledge_.index_generation()}});
  } catch (const std::exception& error) {
    log::error("index_sync", "cannot announce the reindex; the other replicas keep their index",
               {{"error", error.what()}});
  }
  report();
}

void IndexSync::follow() {
  std::int64_t announced = 0;
  try {
    announced = announcement().first;
  } catch (const std::exception& error) {
    log::warn("index_sync", "cannot read the last announced reindex", {{"error", error.what()}});
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;  // no rebuild to hold up a shutdown
  }
  if (announced > seen_) {
    following_ = true;
    Knowledge::ReindexOutcome outcome;
    try {
      outcome = knowledge_.reindex();
    } catch (const std::exception& error) {
      outcome.summary = error.what();
    }
    following_ = false;
    if (outcome.already_running) return;  // the next look tries again
    seen_ = announced;
    if (outcome.ok) {
      log::info("index_sync", "rebuilt the index after another replica's reindex",
                {{"seq", std::to_string(announced)}, {"generation", knowledge_.index_generation()}});
    } else {
      log::error("index_sync", "cannot rebuild after another replica's reindex; the previous index keeps answering",
                 {{"seq", std::to_string(announced)}, {"error", outcome.summary}});
    }
  }
  report();
}

void IndexSync::report() {
  try {
    values_.set_value(k_report_prefix + options_.replica_id,
                      json{{"generation", knowledge_.index_generation()}, {"at_ms", now_ms_()}}.dump());
  } catch (const std::exception& error) {
    log::warn("index_sync", "cannot report this replica's index generation", {{"error", error.what()}});
  }
}

std::vector<std::string> IndexSync::stats_lines() const {
  std::vector<std::string> lines;
  std::vector<std::pair<std::string, std::string>> reports;
  try {
    reports = values_.values_with_prefix(k_report_prefix);
  } catch (const std::exception&) {
    lines.emplace_back("Replicas: unknown (the state database does not answer)");
    return lines;
  }
  const std::int64_t oldest = now_ms_() - options_.report_ttl.count();
  std::map<std::string, std::string> live;  // replica id -> generation
  for (const auto& [key, value] : reports) {
    const json report = json::parse(value, nullptr, false);
    if (!report.is_object() || !report.value("at_ms", json()).is_number_integer() ||
        report["at_ms"].get<std::int64_t>() < oldest) {
      continue;
    }
    live[key.substr(std::char_traits<char>::length(k_report_prefix))] = report.value("generation", std::string());
  }
  std::set<std::string> generations;
  for (const auto& [replica, generation] : live) {
    generations.insert(generation);
    lines.push_back("Replica " + replica + ": index " + (generation.empty() ? "not loaded" : generation) +
                    (replica == options_.replica_id ? " (this one)" : ""));
  }
  if (generations.size() > 1) {
    lines.emplace_back(
        "Replicas serve different indexes: check that every replica's corpus_dir holds the same files, then "
        "reindex");
  }
  return lines;
}

}  // namespace roundup::bot

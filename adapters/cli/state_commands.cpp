// `roundup-bot state export` / `state import`: a state store's records as JSON Lines in the
// portable schema (bot::transfer_tables), to move a state between backends (SQLite to PostgreSQL)
// or keep a copy. The first line names the format and the schema; then one row per line:
//   {"format": "roundup-state", "version": 1, "tables": {"inbound": ["id", ...], ...}}
//   {"table": "inbound", "values": [1, "slack:event:Ev1", ...]}
// Numbers are written as JSON numbers where they are integers, absent values as null.

#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/cli/commands.h"
#include "adapters/service/data_dir_lock.h"
#include "adapters/service/state_backend.h"
#include "bot/state_store.h"

namespace roundup::adapters::cli {
namespace {

using nlohmann::json;

constexpr int k_format_version = 1;

json schema() {
  json tables = json::object();
  for (const auto& table : bot::transfer_tables()) {
    json columns = json::array();
    for (const auto column : table.columns) columns.push_back(std::string(column));
    tables[std::string(table.name)] = columns;
  }
  return tables;
}

// An integer as a JSON number (what it is), anything else as a string.
json to_json(const std::optional<std::string>& value) {
  if (!value) return nullptr;
  const std::string& text = *value;
  const bool integer = !text.empty() && text.size() < 19 &&
                       text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos &&
                       text != "-" && (text.size() == 1 || text[0] != '0') && text.rfind("-0", 0) != 0;
  if (integer) return std::stoll(text);
  return text;
}

std::optional<std::string> from_json(const json& value, std::size_t line) {
  if (value.is_null()) return std::nullopt;
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_string()) return value.get<std::string>();
  throw bot::StateError("line " + std::to_string(line) + ": a value is neither a string, an integer nor null");
}

// The replicas that reported their index generation (bot::IndexSync, every 5 s) in the last minute.
std::vector<std::string> recently_reporting_replicas(const config::Config& config) {
  const auto store = service::open_state_store(config, service::StateAccess::read_write);
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<std::string> live;
  for (const auto& [key, value] : store->values_with_prefix("index.replica.")) {
    const json report = json::parse(value, nullptr, false);
    if (report.is_object() && report.value("at_ms", json()).is_number_integer() &&
        report["at_ms"].get<std::int64_t>() > now - 60'000) {
      live.push_back(key.substr(std::string_view("index.replica.").size()));
    }
  }
  return live;
}

}  // namespace

int export_state(const std::string& config_file, const std::string& file, std::ostream& out) {
  const config::Config config = load_configuration(config_file);
  if (!service::state_exists(config)) {
    std::cerr << "error: there is no state to export at " << service::describe_state(config) << "\n";
    return 1;
  }
  const auto store = service::open_state_transfer(config, service::StateAccess::read_only);
  const auto rows = store->export_rows();
  // Written beside the target and renamed over it: a failed export never leaves half a file.
  const std::filesystem::path target(file);
  const std::filesystem::path temporary = target.string() + ".partial";
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    if (!stream) {
      std::cerr << "error: cannot write " << temporary.string() << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    stream << json{{"format", "roundup-state"}, {"version", k_format_version}, {"tables", schema()}}.dump() << "\n";
    for (const auto& row : rows) {
      json values = json::array();
      for (const auto& value : row.values) values.push_back(to_json(value));
      stream << json{{"table", row.table}, {"values", values}}.dump(-1, ' ', false, json::error_handler_t::replace)
             << "\n";
    }
    stream.flush();
    if (!stream) {
      std::cerr << "error: cannot write " << temporary.string() << " (disk full?)\n";
      std::filesystem::remove(temporary);
      return 1;
    }
  }
  std::filesystem::rename(temporary, target);
  std::map<std::string, std::size_t> counts;
  for (const auto& row : rows) ++counts[row.table];
  out << "exported " << rows.size() << " records from " << service::describe_state(config) << " to " << file << "\n";
  for (const auto& [table, count] : counts) out << "  " << table << ": " << count << "\n";
  return 0;
}

int import_state(const std::string& config_file, const std::string& file, bool replace, std::ostream& out) {
  const config::Config config = load_configuration(config_file);
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    std::cerr << "error: cannot read " << file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::vector<bot::TransferRow> rows;
  std::string line;
  std::size_t number = 0;
  try {
    if (!std::getline(stream, line)) throw bot::StateError("the file is empty");
    ++number;
    const json header = json::parse(line, nullptr, false);
    if (!header.is_object() || header.value("format", "") != "roundup-state") {
      throw bot::StateError("line 1: not a roundup-bot state export");
    }
    if (header.value("version", 0) != k_format_version || header.value("tables", json()) != schema()) {
      throw bot::StateError("line 1: written by a roundup-bot with another state schema; export again with this build");
    }
    while (std::getline(stream, line)) {
      ++number;
      if (line.empty()) continue;
      const json row = json::parse(line, nullptr, false);
      if (!row.is_object() || !row.value("table", json()).is_string() || !row.value("values", json()).is_array()) {
        throw bot::StateError("line " + std::to_string(number) + ": not a {table, values} record");
      }
      bot::TransferRow parsed{row["table"].get<std::string>(), {}};
      for (const auto& value : row["values"]) parsed.values.push_back(from_json(value, number));
      (void)bot::transfer_table_of(parsed);  // checks the table and the number of values
      rows.push_back(std::move(parsed));
    }
  } catch (const bot::StateError& error) {
    std::cerr << "error: " << file << ": " << error.what() << "\n";
    return 1;
  }
  // Nothing may run on the target meanwhile: replaced rows under a running serve would be sent or
  // marked delivered by ids that now name other rows. SQLite: serve's own data_dir lock.
  // PostgreSQL: no replica may have reported its index in the last minute (they do every 5 s).
  std::optional<service::DataDirLock> lock;
  if (service::state_is_shared(config)) {
    const auto live = recently_reporting_replicas(config);
    if (!live.empty()) {
      std::cerr << "error: a roundup-bot serve is running on " << service::describe_state(config) << " ("
                << live.front() << "); stop every replica first\n";
      return 1;
    }
  } else {
    try {
      lock.emplace(config.data_dir / "state", std::chrono::milliseconds(0));
    } catch (const std::exception& error) {
      std::cerr << "error: " << error.what() << "; stop serve first\n";
      return 1;
    }
  }
  const auto store = service::open_state_transfer(config, service::StateAccess::read_write);
  if (!replace && store->holds_records()) {
    std::cerr << "error: " << service::describe_state(config)
              << " already holds state; import --force replaces it (stop every serve first)\n";
    return 1;
  }
  store->import_rows(rows, replace);
  out << "imported " << rows.size() << " records into " << service::describe_state(config) << "\n";
  return 0;
}

}  // namespace roundup::adapters::cli

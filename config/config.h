// Roundup Bot configuration: typed settings, strict JSON parsing, and error
// reports that name every problem with its key path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace roundup::config {

struct FusionConfig {
  std::string method = "score";  // "score" | "rrf"
  double lexical_weight = 1.0;
  double dense_weight = 0.4;
  int rrf_k = 60;

  bool operator==(const FusionConfig&) const = default;
};

struct EmbedderConfig {
  std::string kind = "hashed";
  int dimension = 768;

  bool operator==(const EmbedderConfig&) const = default;
};

struct RetrievalConfig {
  int top_k = 5;                                  // results returned by search/ask (1..50)
  double min_confidence = 0.10;                   // below this an answer says "nothing matches well" (0..1)
  int chunk_chars = 700;                          // passage size in characters (200..5000)
  std::int64_t max_file_bytes = 4 * 1024 * 1024;  // larger roundup files are skipped (1 KiB..256 MiB)
  std::filesystem::path lexicon_dir = "data/lexicon";
  FusionConfig fusion;
  EmbedderConfig embedder;

  bool operator==(const RetrievalConfig&) const = default;
};

// Relative paths are kept as written; the caller resolves them against the
// working directory.
struct Config {
  std::filesystem::path corpus_dir = "data/roundups";
  std::filesystem::path data_dir = "var";
  std::string log_level = "info";  // trace|debug|info|warn|error|off
  RetrievalConfig retrieval;

  bool operator==(const Config&) const = default;
};

// One mistake in a configuration document. `path` is the dotted key path
// (e.g. "retrieval.fusion.rrf_k"); it is empty for document-level problems
// such as an unreadable file or invalid JSON.
struct ConfigProblem {
  std::string path;
  std::string message;

  bool operator==(const ConfigProblem&) const = default;
};

// Thrown when a configuration cannot be used. what() lists every problem, one
// per line as "path: message" (just "message" when the path is empty), so a
// user can fix the whole file in one go.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigProblem> problems);

  const std::vector<ConfigProblem>& problems() const noexcept { return problems_; }

 private:
  std::vector<ConfigProblem> problems_;
};

Config default_config();

// Parses a JSON document. Collects every problem (unknown key, wrong type,
// out-of-range value, bad enum value) with its key path and throws ConfigError
// if there is any. Missing keys keep their defaults.
Config parse_config(const nlohmann::json& doc);

// Reads and parses a JSON file. Besides everything parse_config reports, a
// missing/unreadable file, invalid JSON (with line and column), a top-level
// value that is not an object and duplicate keys raise ConfigError.
// `//` and `/* */` comments are allowed so operators can annotate the file.
Config load_config(const std::filesystem::path& file);

}  // namespace roundup::config

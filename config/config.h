// Roundup Bot configuration: typed settings, strict JSON parsing, and error
// reports that name every problem with its key path.
#pragma once

#include <any>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace roundup::config {

// A credential. It has no stream operator and no implicit conversion on purpose, so it cannot be
// logged by accident; code that needs the text asks for `.value` explicitly.
struct Secret {
  std::string value;

  bool empty() const { return value.empty(); }
  bool operator==(const Secret&) const = default;
};

struct FusionConfig {
  std::string method = "score";  // "score" | "rrf"
  double lexical_weight = 1.0;
  double dense_weight = 0.4;
  int rrf_k = 60;

  bool operator==(const FusionConfig&) const = default;
};

// An embedder's own fusion weights, overriding retrieval.fusion's when set: a model's cosine
// scores deserve another weight than the hashed embedder's.
struct EmbedderFusionConfig {
  std::optional<double> lexical_weight;
  std::optional<double> dense_weight;

  bool operator==(const EmbedderFusionConfig&) const = default;
};

// What turns passages and questions into vectors. "hashed" works offline; "openai" calls an
// OpenAI-compatible POST /v1/embeddings (Ollama, vLLM, text-embeddings-inference). A change of
// kind, model or dimension rebuilds the index.
struct EmbedderConfig {
  std::string kind = "hashed";  // hashed|openai
  int dimension = 768;          // 16..4096; for "openai", the model's vector size
  // The rest only with kind "openai".
  std::string base_url;         // the server's root, "http://127.0.0.1:11434" (required)
  std::string model;            // "bge-m3" (required)
  int batch = 32;               // passages per request while indexing (1..2048)
  int timeout_ms = 60000;       // one request while indexing (1000..600000)
  int query_timeout_ms = 1500;  // a question's vector (50..60000); later, it is ranked lexically
  Secret api_key;               // sent as a Bearer token; ROUNDUP_EMBEDDER_API_KEY overrides
  EmbedderFusionConfig fusion;

  bool operator==(const EmbedderConfig&) const = default;
};

struct RetrievalConfig {
  int top_k = 5;                                  // results returned by search/ask (1..50)
  double min_confidence = 0.3;                    // the best hit's confidence below this: "I don't know" (0..1)
  double sure_confidence = 0.6;                   // below this (and above min_confidence): "closest match" (0..1)
  int chunk_chars = 700;                          // passage size in characters (200..5000)
  std::int64_t max_file_bytes = 4 * 1024 * 1024;  // larger roundup files are skipped (1 KiB..256 MiB)
  std::filesystem::path lexicon_dir = "data/lexicon";
  // serve refuses to start without the whole lexicon (cross-lingual answers would be worse, and
  // its index would not match one built with it); false serves without it, with a warning.
  bool require_lexicon = true;
  FusionConfig fusion;
  EmbedderConfig embedder;

  bool operator==(const RetrievalConfig&) const = default;
};

// Outbound TLS (Slack and Telegram Web APIs). The system trust store is always used; `ca_file`
// adds PEM certificates on top of it (a corporate proxy's CA, or the CA a test generates).
struct TlsConfig {
  std::filesystem::path ca_file;  // empty = none

  bool operator==(const TlsConfig&) const = default;
};

// The daily digest: at `time` local to `timezone`, each channel gets the next papers it has not
// had yet. Channels are platform-qualified: "slack:C0123", "telegram:-1001234".
struct DigestConfig {
  std::string time = "09:00";         // HH:MM, 24-hour, local to `timezone`
  std::string timezone = "UTC";       // IANA name, e.g. "Asia/Shanghai" (DST-correct)
  std::vector<std::string> channels;  // besides the chats that /subscribe
  int papers_per_post = 1;            // 1..10

  bool operator==(const DigestConfig&) const = default;
};

// Inbound work that keeps failing: after `max_attempts` handler runs that ended in a crash, an
// exception or a restart after a timeout, an item is quarantined (set aside, with an apology).
struct InboxConfig {
  int max_attempts = 3;            // 1..100
  int handler_timeout_ms = 60000;  // 100..3600000: a handler running longer is logged and counted

  bool operator==(const InboxConfig&) const = default;
};

// Where the durable state lives (inbox, outbox, digests, subscriptions, audit). "sqlite", the
// default: one file under data_dir, for one process. "postgresql": a database shared by several
// replicas; `url` is a libpq URI ("postgresql://bot@db.internal/roundup") or key=value string. Its
// password is best left out of the file: ROUNDUP_STATE_URL (the whole URL) or libpq's own
// PGPASSWORD / ~/.pgpass supply it.
struct StateConfig {
  std::string backend = "sqlite";  // sqlite|postgresql
  Secret url;                      // postgresql only

  bool operator==(const StateConfig&) const = default;
};

// Inbound connections on `listen`. Each holds a file descriptor; the service fits
// max_connections under its descriptor limit (see adapters/service/descriptor_limit.h).
struct HttpConfig {
  int max_connections = 1000;          // 16..1000000, open at once in all
  int max_connections_per_peer = 256;  // 1..1000000, open at once from one address (a proxy is one)

  bool operator==(const HttpConfig&) const = default;
};

// An optional language model behind an OpenAI-compatible chat-completions API (issue 17): Ollama,
// vLLM, llama.cpp's server or a hosted service. Present = on; the section's absence turns it off.
// The key is best left out of the file: ROUNDUP_LLM_API_KEY supplies it (and wins over the file)
// when the section is present.
struct LlmConfig {
  std::string base_url;      // http:// or https:// root, "/v1" optional: "http://127.0.0.1:11434"
  std::string model;         // the server's name for it: "qwen2.5:7b-instruct"
  Secret api_key;            // empty = no Authorization header (local servers)
  int timeout_ms = 20000;    // 100..600000, the whole call
  int max_tokens = 512;      // 16..8192, the reply's length
  double temperature = 0.2;  // 0..2

  bool operator==(const LlmConfig&) const = default;
};

// Reads an environment variable (std::getenv); injectable for tests.
using EnvironmentLookup = const char* (*)(const char* name);

namespace schema {
class Problems;
}  // namespace schema

// A chat platform's part of the configuration, supplied by the platform's adapter
// (adapters/<name>/<name>_config.cpp, through the service's platform registry): its section, its
// environment variables, its checks and its id grammar. The settings are the adapter's own type,
// held in a std::any; config/platform_section.h builds a section from a typed schema.
struct PlatformSection {
  std::string name;   // the section's key and the prefix of the platform's ids: "slack"
  std::any defaults;  // the settings when the section is absent (not enabled)
  // Reads a present section into `settings` and enables it; problems are reported under `path`.
  std::function<void(const nlohmann::json& section, std::any& settings, const std::string& path,
                     schema::Problems& problems)>
      read;
  // Takes the platform's variables from the environment; true when one was set, which enables it.
  std::function<bool(std::any& settings, EnvironmentLookup getenv_fn)> apply_environment;
  std::function<bool(const std::any& settings)> enabled;
  // What keeps an enabled platform from running (a required key, a token's shape), under "name.".
  std::function<void(const std::any& settings, schema::Problems& problems)> check_runnable;
  std::function<bool(const std::any& a, const std::any& b)> equal;
  // The id grammar: a chat it can post to (digest.channels) and a user (admins), without "name:".
  std::function<bool(std::string_view id)> valid_channel_id;
  std::function<bool(std::string_view id)> valid_user_id;
  std::string channel_example;  // "slack:C0123"
  std::string user_example;     // "slack:U0123"
  // One line for `config check`: "events mode", or "off" when not enabled.
  std::function<std::string(const std::any& settings)> summary;
};
using PlatformSections = std::vector<PlatformSection>;

// Every known platform's settings, as read with the sections the configuration was loaded with.
class PlatformSettings {
 public:
  PlatformSettings() = default;
  explicit PlatformSettings(PlatformSections sections);

  const PlatformSections& sections() const noexcept;
  const PlatformSection* section(std::string_view name) const;
  // The platform's settings as its adapter's type; nullptr when no section has that name.
  template <typename Settings>
  const Settings* get(std::string_view name) const {
    const std::any* settings = find(name);
    return settings ? std::any_cast<Settings>(settings) : nullptr;
  }
  template <typename Settings>
  Settings* get(std::string_view name) {
    std::any* settings = find(name);
    return settings ? std::any_cast<Settings>(settings) : nullptr;
  }
  std::any* find(std::string_view name);
  const std::any* find(std::string_view name) const;
  bool enabled(std::string_view name) const;

  bool operator==(const PlatformSettings& other) const;

 private:
  std::shared_ptr<const PlatformSections> sections_;
  std::vector<std::any> settings_;  // settings_[i] belongs to (*sections_)[i]
};

// Relative paths that a config file names are resolved against that file's directory by
// load_config. The defaults (and paths set by load_config_text or parse_config) are kept as
// written and resolve against the working directory.
struct Config {
  std::filesystem::path corpus_dir = "data/roundups";
  std::filesystem::path data_dir = "var";
  std::string log_level = "info";         // trace|debug|info|warn|error|off
  std::string log_format = "logfmt";      // logfmt|json (one JSON object per line)
  std::string listen = "127.0.0.1:8080";  // "host:port" or "[v6]:port" the webhook service binds
  // Serve /healthz, /readyz and /metrics on this separate "host:port" too (e.g. an internal
  // interface); empty = only on `listen`.
  std::string metrics_listen;
  HttpConfig http;
  int workers = 4;  // threads answering questions (1..64)
  // How long a conversation's memory (the paper in focus, the last list) lasts after its last
  // message, in minutes (1..43200, 30 days); follow-ups after that start afresh.
  int conversation_ttl_minutes = 1440;
  InboxConfig inbox;
  StateConfig state;
  // Who may run admin commands (reindex, stats, digest now): "slack:U0123", "telegram:42".
  std::vector<std::string> admins;
  DigestConfig digest;
  RetrievalConfig retrieval;
  TlsConfig tls;
  std::optional<LlmConfig> llm;  // nullopt: no `llm` section, no model is called
  // Each chat platform's section ("slack": {...}), read by the platform's own schema.
  PlatformSettings platforms;

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

// `sections`: the chat platforms the configuration may name (the service's registry); without
// them a platform section is an unknown key.
Config default_config(PlatformSections sections = {});

// Parses a JSON document. Collects every problem (unknown key, wrong type,
// out-of-range value, bad enum value) with its key path and throws ConfigError
// if there is any. Missing keys keep their defaults.
Config parse_config(const nlohmann::json& doc, PlatformSections sections = {});

// Reads and parses a JSON file. Besides everything parse_config reports, a
// missing/unreadable file, invalid JSON (with line and column), a top-level
// value that is not an object and duplicate keys raise ConfigError.
// `//` and `/* */` comments are allowed so operators can annotate the file.
Config load_config(const std::filesystem::path& file, PlatformSections sections = {});
// load_config for a document already read; `origin` stands for the file name in messages.
Config load_config_text(std::string_view text, std::string_view origin, PlatformSections sections = {});

// Reads the secrets operators may keep out of the file, through each platform's section
// (ROUNDUP_SLACK_BOT_TOKEN, ROUNDUP_TELEGRAM_BOT_TOKEN, ...), ROUNDUP_STATE_URL and
// ROUNDUP_LLM_API_KEY. A set (non-empty) variable wins over the file and enables its platform; the
// model's key applies only when the `llm` section is present (it names no server or model).
void apply_environment(Config& config, EnvironmentLookup getenv_fn);

// Where the default paths (corpus_dir, retrieval.lexicon_dir, data_dir) are when the file leaves
// them out, or there is no file: never the working directory, so one command gives the same
// answers wherever it is started. In order: $ROUNDUP_HOME (data/roundups, data/lexicon, var
// under it); the checkout or build tree the executable sits in (build/roundup-bot beside data/);
// an installation (bin/roundup-bot with share/roundup/{roundups,lexicon}, state under
// $XDG_STATE_HOME or ~/.local/state/roundup); else the executable's own directory.
struct DefaultPlaces {
  std::filesystem::path corpus_dir;
  std::filesystem::path lexicon_dir;
  std::filesystem::path data_dir;
};
DefaultPlaces default_places(EnvironmentLookup getenv_fn, const std::filesystem::path& executable);
// The running executable (/proc/self/exe).
std::filesystem::path running_executable();
// Replaces the paths that are still relative (defaults: a file's own paths were resolved against
// the file's directory when it was read) by `places`.
void resolve_default_paths(Config& config, const DefaultPlaces& places);

// Rules that need the whole, environment-merged configuration: required keys of each enabled
// platform, token shapes, URL schemes, digest channels on enabled platforms, and paths that must
// exist (corpus_dir, lexicon_dir, tls.ca_file) or be creatable (data_dir). Empty when the
// configuration can run. `roundup-bot config check` prints these; `serve` refuses to start on any.
std::vector<ConfigProblem> check_runnable(const Config& config);

// `roundup-bot config check`: everything load_config, apply_environment and check_runnable would
// report, in one list (runnable checks run on what could be read, so a file with a mistyped key
// still has its paths and platforms checked). An empty `file` checks the defaults.
std::vector<ConfigProblem> check_config(const std::filesystem::path& file, EnvironmentLookup getenv_fn,
                                        PlatformSections sections = {});

// "slack:C0123" -> {"slack", "C0123"}; nullopt unless a section is named by the prefix and its
// channel-id grammar accepts the rest.
struct QualifiedId {
  std::string platform;
  std::string id;
};
std::optional<QualifiedId> parse_qualified_id(std::string_view text, const PlatformSections& sections);
// The sections' channel examples for messages: "\"slack:C0123\" or \"telegram:-1001234\"".
std::string channel_id_examples(const PlatformSections& sections);
// A user, as in `admins` ("slack:U0123", "telegram:42"), by the section's user-id grammar.
std::optional<QualifiedId> parse_user_id(std::string_view text, const PlatformSections& sections);

// "HH:MM" (or "H:MM"), 00:00..23:59 -> {hour, minute}; nullopt when malformed or out of range.
std::optional<std::pair<int, int>> parse_time_of_day(std::string_view text);

// Whether `name` is a time zone of the tz database ("Asia/Shanghai", "UTC"). False too when the
// database itself cannot be read.
bool valid_timezone(std::string_view name);

// `config check`'s line for the model: "off", or "<model> at <scheme://host[:port]>" (never the
// key, nor the URL's path).
std::string llm_summary(const Config& config);

// "host:port" / "[v6]:port" split; nullopt when malformed (the parser already rejects that).
struct ListenAddress {
  std::string host;
  unsigned short port = 0;
};
std::optional<ListenAddress> parse_listen(std::string_view text);

}  // namespace roundup::config

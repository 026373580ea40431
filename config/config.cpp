#include "config/config.h"

#include "config/platform_section.h"
#include "text/unicode.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include <date/tz.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "config/schema.h"

namespace roundup::config {
namespace {

using nlohmann::json;
using namespace schema;  // the reader the tables below are declared with

// ---------------------------------------------------------------------------
// Limits and allowed values. Kept together so the documented ranges in
// config.h and the checks below cannot drift apart unnoticed.

constexpr int k_min_top_k = 1;
constexpr int k_max_top_k = 50;
constexpr double k_min_confidence = 0.0;
constexpr double k_max_confidence = 1.0;
constexpr int k_min_chunk_chars = 200;
constexpr int k_max_chunk_chars = 5000;
constexpr std::int64_t k_min_file_bytes = 1024;
constexpr std::int64_t k_max_file_bytes = 256LL * 1024 * 1024;
constexpr double k_min_fusion_weight = 0.0;
constexpr double k_max_fusion_weight = 100.0;
constexpr int k_min_rrf_k = 1;
constexpr int k_max_rrf_k = 1000;
constexpr int k_min_dimension = 16;
constexpr int k_max_dimension = 4096;

constexpr std::array<std::string_view, 6> k_log_levels = {"trace", "debug", "info", "warn", "error", "off"};
constexpr std::array<std::string_view, 2> k_fusion_methods = {"rrf", "score"};
constexpr int k_min_workers = 1;
constexpr int k_max_workers = 64;
constexpr int k_min_inbox_attempts = 1;
constexpr int k_max_inbox_attempts = 100;
constexpr int k_min_handler_timeout_ms = 100;
constexpr int k_max_handler_timeout_ms = 3600000;
constexpr int k_min_max_connections = 16;
constexpr int k_max_max_connections = 1000000;
constexpr std::array<std::string_view, 2> k_log_formats = {"json", "logfmt"};
constexpr std::array<std::string_view, 2> k_state_backends = {"postgresql", "sqlite"};
constexpr int k_min_papers_per_post = 1;
constexpr int k_max_papers_per_post = 10;
constexpr int k_min_llm_timeout_ms = 100;
constexpr int k_max_llm_timeout_ms = 600000;
constexpr int k_min_llm_max_tokens = 16;
constexpr int k_max_llm_max_tokens = 8192;
constexpr double k_min_llm_temperature = 0.0;
constexpr double k_max_llm_temperature = 2.0;
constexpr std::array<std::string_view, 2> k_embedder_kinds = {"hashed", "openai"};
constexpr int k_min_embedder_batch = 1;
constexpr int k_max_embedder_batch = 2048;
constexpr int k_min_embedder_timeout_ms = 1000;
constexpr int k_max_embedder_timeout_ms = 600000;
constexpr int k_min_query_timeout_ms = 50;
constexpr int k_max_query_timeout_ms = 60000;
// The keys of retrieval.embedder that only a remote embedder reads.
constexpr std::array<std::string_view, 7> k_remote_embedder_keys = {
    "base_url", "model", "batch", "timeout_ms", "query_timeout_ms", "api_key", "fusion"};

std::optional<std::string> listen_problem(const std::string& text) {
  if (parse_listen(text)) return std::nullopt;
  return "expected \"host:port\" or \"[ipv6]:port\" with a port 0..65535";
}

std::optional<std::string> optional_listen_problem(const std::string& text) {
  return text.empty() ? std::nullopt : listen_problem(text);
}

// A server's root: http(s), no user info (the key belongs in api_key), query or fragment. The
// value is never quoted: it may hold a token.
std::optional<std::string> embedder_url_problem(const std::string& text) {
  const auto authority_end = text.find('/', text.find("://") + 3);
  const std::string_view authority =
      std::string_view(text).substr(0, authority_end == std::string::npos ? text.size() : authority_end);
  const bool clean = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == 0x7f;
  });
  if (!is_http_url(text) || !clean || authority.find('@') != std::string_view::npos)
    return "expected the server's root URL, http:// or https:// with no user, query or fragment, like "
           "\"http://127.0.0.1:11434\"";
  return std::nullopt;
}

std::optional<std::string> time_of_day_problem(const std::string& text) {
  if (parse_time_of_day(text)) return std::nullopt;
  return "expected a 24-hour time \"HH:MM\" (00:00..23:59)";
}

std::optional<std::string> timezone_problem(const std::string& text) {
  if (valid_timezone(text)) return std::nullopt;
  return "unknown time zone; use an IANA name such as \"Europe/Berlin\" or \"Asia/Shanghai\"";
}

// An http(s) URL cut where the model client's URL parser cuts it (adapters/http/url.h).
struct HttpUrlParts {
  std::string_view origin;     // "scheme://authority"
  std::string_view authority;  // "host", "host:port", "[v6]:port"; user info included, if any
  std::string_view rest;       // path, query and fragment
};

std::optional<HttpUrlParts> split_http_url(std::string_view url) {
  std::size_t authority_start = 0;
  if (url.starts_with("https://")) {
    authority_start = 8;
  } else if (url.starts_with("http://")) {
    authority_start = 7;
  } else {
    return std::nullopt;
  }
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
  return HttpUrlParts{url.substr(0, authority_end), url.substr(authority_start, authority_end - authority_start),
                      url.substr(authority_end)};
}

// "host", "host:port" or "[v6]:port" with a host and, when given, a port 1..65535.
bool valid_authority(std::string_view authority) {
  std::size_t host_end = std::min(authority.find(':'), authority.size());
  if (authority.starts_with('[')) {
    host_end = authority.find(']');
    if (host_end == std::string_view::npos || host_end == 1) return false;
    ++host_end;
  }
  if (host_end == 0) return false;
  if (host_end >= authority.size()) return true;
  if (authority[host_end] != ':') return false;
  const std::string_view port = authority.substr(host_end + 1);
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

// Visible ASCII only: what a URL or a header value can carry as it is.
bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > ' ' && static_cast<unsigned char>(c) < 0x7f;
  });
}

// The model server's root. The key has its own field, so credentials in the URL are refused
// rather than shown by `config check`; a query or fragment would end up inside the API's paths.
std::optional<std::string> llm_base_url_problem(const std::string& text) {
  const std::string expected =
      "expected an http:// or https:// URL of the server's root, such as "
      "\"http://127.0.0.1:11434\"";
  if (!printable_ascii(text)) return "must not contain spaces, control or non-ASCII characters; " + expected;
  const auto parts = split_http_url(text);
  if (!parts) return expected;
  if (parts->authority.find('@') != std::string_view::npos)
    return "must not carry credentials; set llm.api_key or ROUNDUP_LLM_API_KEY instead";
  if (!valid_authority(parts->authority)) return "needs a host and, if any, a port 1..65535; " + expected;
  if (parts->rest.find_first_of("?#") != std::string_view::npos)
    return "must not have a query or fragment (the API's paths are added to it)";
  return std::nullopt;
}

// "a" or "a or b" or "a, b or c".
std::string or_list(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

// An array of platform-qualified ids ("slack:U0123"); each element is checked with `parse` (a
// platform's grammar) and reported with its index. `example` ends the message for a bad one.
template <typename Section>
FieldSpec<Section> qualified_ids_field(std::string_view key, std::vector<std::string> Section::*member,
                                       std::string example, std::function<bool(std::string_view)> parse) {
  return {key, [member, example = std::move(example), parse = std::move(parse)](
                   const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_array()) {
              problems.add(path, wrong_type("array of strings", value));
              return;
            }
            std::vector<std::string> ids;
            for (std::size_t i = 0; i < value.size(); ++i) {
              const std::string item_path = path + "[" + std::to_string(i) + "]";
              const json& item = value[i];
              if (!item.is_string()) {
                problems.add(item_path, wrong_type("string", item));
                continue;
              }
              const auto& text = item.get_ref<const std::string&>();
              if (!parse(text)) {
                problems.add(item_path, "expected a platform-qualified id like " + example);
                continue;
              }
              if (std::find(ids.begin(), ids.end(), text) == ids.end()) ids.push_back(text);
            }
            out.*member = std::move(ids);
          }};
}

// The examples of every platform's ids, quoted: "\"slack:C0123\" or \"telegram:-1001234\"".
std::string id_examples(const PlatformSections& sections, std::string PlatformSection::*example) {
  std::vector<std::string> quoted;
  for (const auto& section : sections) quoted.push_back("\"" + section.*example + "\"");
  return quoted.empty() ? std::string("\"platform:id\" (no chat platform is known)") : or_list(quoted);
}

// ---------------------------------------------------------------------------
// Section tables.

const SectionSpec<FusionConfig>& fusion_spec() {
  static const SectionSpec<FusionConfig> spec{
      {
          choice_field("method", &FusionConfig::method, k_fusion_methods),
          number_field("lexical_weight", &FusionConfig::lexical_weight, k_min_fusion_weight, k_max_fusion_weight),
          number_field("dense_weight", &FusionConfig::dense_weight, k_min_fusion_weight, k_max_fusion_weight),
          integer_field("rrf_k", &FusionConfig::rrf_k, k_min_rrf_k, k_max_rrf_k),
      },
      // With both weights at zero every fused score is 0 and ranking is arbitrary.
      [](const FusionConfig& fusion, const std::string& path, Problems& problems) {
        if (fusion.lexical_weight == 0.0 && fusion.dense_weight == 0.0) {
          problems.add(path, "lexical_weight and dense_weight cannot both be 0");
        }
      },
  };
  return spec;
}

const SectionSpec<EmbedderFusionConfig>& embedder_fusion_spec() {
  static const SectionSpec<EmbedderFusionConfig> spec{
      {
          optional_number_field("lexical_weight", &EmbedderFusionConfig::lexical_weight, k_min_fusion_weight,
                                k_max_fusion_weight),
          optional_number_field("dense_weight", &EmbedderFusionConfig::dense_weight, k_min_fusion_weight,
                                k_max_fusion_weight),
      },
      {},
  };
  return spec;
}

const SectionSpec<EmbedderConfig>& embedder_spec() {
  static const SectionSpec<EmbedderConfig> spec{
      {
          choice_field("kind", &EmbedderConfig::kind, k_embedder_kinds),
          integer_field("dimension", &EmbedderConfig::dimension, k_min_dimension, k_max_dimension),
          checked_string_field("base_url", &EmbedderConfig::base_url, "string (a URL)", &embedder_url_problem),
          string_field("model", &EmbedderConfig::model),
          integer_field("batch", &EmbedderConfig::batch, k_min_embedder_batch, k_max_embedder_batch),
          integer_field("timeout_ms", &EmbedderConfig::timeout_ms, k_min_embedder_timeout_ms,
                        k_max_embedder_timeout_ms),
          integer_field("query_timeout_ms", &EmbedderConfig::query_timeout_ms, k_min_query_timeout_ms,
                        k_max_query_timeout_ms),
          secret_field("api_key", &EmbedderConfig::api_key),
          section_field("fusion", &EmbedderConfig::fusion, &embedder_fusion_spec),
      },
      {},
  };
  return spec;
}

// retrieval.embedder: its table; a remote embedder's server and model, which have no default;
// and no remote embedder's key under the hashed one (it would be silently ignored; more likely
// `kind` was forgotten). A kind that is itself wrong is reported alone.
void read_embedder(const json& value, RetrievalConfig& out, const std::string& path, Problems& problems) {
  read_section(value, out.embedder, path, embedder_spec(), problems);
  if (!value.is_object()) return;
  if (out.embedder.kind == "openai") {
    if (!value.contains("base_url"))
      problems.add(join_path(path, "base_url"),
                   "required with kind \"openai\": the server's root, like \"http://127.0.0.1:11434\"");
    if (!value.contains("model"))
      problems.add(join_path(path, "model"), "required with kind \"openai\": the model's name, like \"bge-m3\"");
    return;
  }
  if (value.value("kind", json("hashed")) != json("hashed")) return;
  for (const auto& item : value.items()) {
    if (std::find(k_remote_embedder_keys.begin(), k_remote_embedder_keys.end(), item.key()) !=
        k_remote_embedder_keys.end())
      problems.add(join_path(path, item.key()),
                   "only used with kind \"openai\" (the hashed embedder has no server; set kind or remove it)");
  }
}

const SectionSpec<RetrievalConfig>& retrieval_spec() {
  static const SectionSpec<RetrievalConfig> spec{
      {
          integer_field("top_k", &RetrievalConfig::top_k, k_min_top_k, k_max_top_k),
          number_field("min_confidence", &RetrievalConfig::min_confidence, k_min_confidence, k_max_confidence),
          number_field("sure_confidence", &RetrievalConfig::sure_confidence, k_min_confidence, k_max_confidence),
          integer_field("chunk_chars", &RetrievalConfig::chunk_chars, k_min_chunk_chars, k_max_chunk_chars),
          integer_field("max_file_bytes", &RetrievalConfig::max_file_bytes, k_min_file_bytes, k_max_file_bytes),
          path_field("lexicon_dir", &RetrievalConfig::lexicon_dir),
          boolean_field("require_lexicon", &RetrievalConfig::require_lexicon),
          section_field("fusion", &RetrievalConfig::fusion, &fusion_spec),
          {"embedder", &read_embedder},
      },
      // Between the two the bot offers a closest match; the other way round it never would.
      [](const RetrievalConfig& retrieval, const std::string& path, Problems& problems) {
        if (retrieval.sure_confidence < retrieval.min_confidence)
          problems.add(join_path(path, "sure_confidence"), "must be at least min_confidence");
        const EmbedderFusionConfig& own = retrieval.embedder.fusion;
        if ((own.lexical_weight || own.dense_weight) &&
            own.lexical_weight.value_or(retrieval.fusion.lexical_weight) == 0.0 &&
            own.dense_weight.value_or(retrieval.fusion.dense_weight) == 0.0)
          problems.add(join_path(path, "embedder.fusion"), "lexical_weight and dense_weight cannot both be 0");
      },
  };
  return spec;
}

const SectionSpec<TlsConfig>& tls_spec() {
  static const SectionSpec<TlsConfig> spec{{path_field("ca_file", &TlsConfig::ca_file)}, {}};
  return spec;
}

SectionSpec<DigestConfig> digest_spec(const PlatformSections& sections) {
  return SectionSpec<DigestConfig>{
      {
          checked_string_field("time", &DigestConfig::time, "string \"HH:MM\"", &time_of_day_problem),
          checked_string_field("timezone", &DigestConfig::timezone, "string (an IANA time zone)", &timezone_problem),
          qualified_ids_field(
              "channels", &DigestConfig::channels, id_examples(sections, &PlatformSection::channel_example),
              [&sections](std::string_view text) { return parse_qualified_id(text, sections).has_value(); }),
          integer_field("papers_per_post", &DigestConfig::papers_per_post, k_min_papers_per_post,
                        k_max_papers_per_post),
      },
      {},
  };
}

const SectionSpec<InboxConfig>& inbox_spec() {
  static const SectionSpec<InboxConfig> spec{
      {
          integer_field("max_attempts", &InboxConfig::max_attempts, k_min_inbox_attempts, k_max_inbox_attempts),
          integer_field("handler_timeout_ms", &InboxConfig::handler_timeout_ms, k_min_handler_timeout_ms,
                        k_max_handler_timeout_ms),
      },
      {},
  };
  return spec;
}

const SectionSpec<StateConfig>& state_spec() {
  static const SectionSpec<StateConfig> spec{
      {
          choice_field("backend", &StateConfig::backend, k_state_backends),
          secret_field("url", &StateConfig::url),
      },
      {},
  };
  return spec;
}

const SectionSpec<HttpConfig>& http_spec() {
  static const SectionSpec<HttpConfig> spec{
      {
          integer_field("max_connections", &HttpConfig::max_connections, k_min_max_connections, k_max_max_connections),
          integer_field("max_connections_per_peer", &HttpConfig::max_connections_per_peer, 1, k_max_max_connections),
      },
      {},
  };
  return spec;
}

// base_url and model cannot come from the environment, so a present section must name both; a key
// already reported as malformed is not reported again as missing.
const SectionSpec<LlmConfig>& llm_spec() {
  static const SectionSpec<LlmConfig> spec{
      {
          checked_string_field("base_url", &LlmConfig::base_url, "string (an http:// or https:// URL)",
                               &llm_base_url_problem),
          string_field("model", &LlmConfig::model),
          secret_field("api_key", &LlmConfig::api_key),
          integer_field("timeout_ms", &LlmConfig::timeout_ms, k_min_llm_timeout_ms, k_max_llm_timeout_ms),
          integer_field("max_tokens", &LlmConfig::max_tokens, k_min_llm_max_tokens, k_max_llm_max_tokens),
          number_field("temperature", &LlmConfig::temperature, k_min_llm_temperature, k_max_llm_temperature),
      },
      [](const LlmConfig& llm, const std::string& path, Problems& problems) {
        const auto reported = [&problems](const std::string& key_path) {
          return std::any_of(problems.list().begin(), problems.list().end(),
                             [&key_path](const ConfigProblem& p) { return p.path == key_path; });
        };
        const std::string base_url = join_path(path, "base_url");
        if (llm.base_url.empty() && !reported(base_url))
          problems.add(base_url, "is required: the server's root, such as \"http://127.0.0.1:11434\"");
        const std::string model = join_path(path, "model");
        if (llm.model.empty() && !reported(model))
          problems.add(model, "is required: the model's name as the server knows it");
      },
  };
  return spec;
}

// The root table, with one entry per platform section. `sections` must outlive its use.
SectionSpec<Config> root_spec(const PlatformSections& sections) {
  SectionSpec<Config> spec{
      {
          path_field("corpus_dir", &Config::corpus_dir),
          path_field("data_dir", &Config::data_dir),
          choice_field("log_level", &Config::log_level, k_log_levels),
          choice_field("log_format", &Config::log_format, k_log_formats),
          checked_string_field("listen", &Config::listen, "string \"host:port\"", &listen_problem),
          checked_string_field("metrics_listen", &Config::metrics_listen, "string \"host:port\"",
                               &optional_listen_problem),
          section_field("http", &Config::http, &http_spec),
          qualified_ids_field("admins", &Config::admins,
                              id_examples(sections, &PlatformSection::user_example) + " (a user id)",
                              [&sections](std::string_view text) { return parse_user_id(text, sections).has_value(); }),
          {"digest",
           [&sections](const json& value, Config& out, const std::string& path, Problems& problems) {
             read_section(value, out.digest, path, digest_spec(sections), problems);
           }},
          integer_field("workers", &Config::workers, k_min_workers, k_max_workers),
          integer_field("conversation_ttl_minutes", &Config::conversation_ttl_minutes, 1, 43200),
          section_field("inbox", &Config::inbox, &inbox_spec),
          section_field("state", &Config::state, &state_spec),
          section_field("retrieval", &Config::retrieval, &retrieval_spec),
          section_field("tls", &Config::tls, &tls_spec),
          // Present means on, so the section is read into a fresh LlmConfig.
          {"llm", [](const json& value, Config& out, const std::string& path,
                     Problems& problems) { read_section(value, out.llm.emplace(), path, llm_spec(), problems); }},
      },
      {},
  };
  for (const PlatformSection& section : sections) {
    spec.fields.push_back(
        {section.name, [&section](const json& value, Config& out, const std::string& path, Problems& problems) {
           section.read(value, *out.platforms.find(section.name), path, problems);
         }});
  }
  return spec;
}

Config parse_into(const json& doc, PlatformSections sections, Problems& problems) {
  Config config = default_config(std::move(sections));
  read_section(doc, config, "", root_spec(config.platforms.sections()), problems);
  return config;
}

// ---------------------------------------------------------------------------
// File loading.

std::string format_problems(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& problem : problems) {
    if (!out.empty()) out += '\n';
    if (!problem.path.empty()) {
      out += problem.path;
      out += ": ";
    }
    out += problem.message;
  }
  return out;
}

[[noreturn]] void throw_single(std::string message) {
  throw ConfigError({ConfigProblem{"", std::move(message)}});
}

std::string quoted(const std::filesystem::path& file) {
  return "'" + file.string() + "'";
}

std::string read_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    throw_single("config file " + quoted(file) + " does not exist");
  }
  if (ec) {
    // E.g. a parent directory without search permission: "does not exist" would mislead.
    throw_single("cannot access config file " + quoted(file) + ": " + ec.message());
  }
  if (std::filesystem::is_directory(status)) {
    throw_single("config file " + quoted(file) + " is a directory");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw_single("cannot open config file " + quoted(file) + ": " + std::strerror(errno));
  }
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    throw_single("cannot read config file " + quoted(file) + ": " + std::strerror(errno));
  }
  return content;
}

struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};

// nlohmann's parse_error::byte is the 1-based offset of the last character read
// (one past the end for premature end of input); convert it to line/column.
TextPosition position_of(std::string_view text, std::size_t byte) {
  const std::size_t index = std::min(byte == 0 ? 0 : byte - 1, text.size());
  TextPosition position;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      line_start = i + 1;
    }
  }
  position.column = index - line_start + 1;
  return position;
}

// Keeps only nlohmann's description ("syntax error while parsing value - invalid string: missing
// closing quote") since we report the position ourselves. Everything from "; last read:" on is
// dropped: it quotes the token being read, and in a config file that is often a secret (an
// unterminated "xoxb-..." string runs to the end of the file).
std::string parse_error_detail(const json::parse_error& error) {
  std::string_view detail = error.what();
  const auto start = detail.find("parse error");
  if (start != std::string_view::npos) {
    const auto colon = detail.find(": ", start);
    if (colon != std::string_view::npos) detail.remove_prefix(colon + 2);
  }
  return std::string(detail.substr(0, detail.find("; last read:")));
}

// nlohmann silently keeps the last of duplicate keys; a duplicate in a config
// file is almost always a mistake (one of the two edits is lost), so we report
// it. Tracks the key path via the parser callback.
class DuplicateKeyTracker {
 public:
  explicit DuplicateKeyTracker(Problems& problems) : problems_(problems) {}

  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames_.push_back(Frame{event == json::parse_event_t::array_start, child_path(), {}, {}, 0});
        break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.current_key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.current_key).second) {
          problems_.add(join_path(frame.path, frame.current_key), "duplicate key; only the last value would be used");
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        advance_array_index();
        break;
      case json::parse_event_t::value: advance_array_index(); break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_array = false;
    std::string path;
    std::set<std::string> keys;
    std::string current_key;
    std::size_t index = 0;
  };

  std::string child_path() const {
    if (frames_.empty()) return "";
    const Frame& parent = frames_.back();
    if (parent.is_array) return parent.path + "[" + std::to_string(parent.index) + "]";
    return join_path(parent.path, parent.current_key);
  }

  void advance_array_index() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  Problems& problems_;
  std::vector<Frame> frames_;
};

// A digest channel on a platform that is not enabled would never get its digest: its messages would
// wait in the outbox for a sender that never comes. (Admins are not checked: an admin list may name
// people on both platforms while one runs, and an entry for the other just grants nothing.)
void check_platforms_enabled(const Config& config, Problems& problems) {
  for (std::size_t i = 0; i < config.digest.channels.size(); ++i) {
    const auto id = parse_qualified_id(config.digest.channels[i], config.platforms.sections());
    if (id && !config.platforms.enabled(id->platform)) {
      problems.add(
          "digest.channels[" + std::to_string(i) + "]",
          id->platform + " is not enabled (add a \"" + id->platform + "\" section or its environment variables)");
    }
  }
}

// The nearest existing ancestor of `dir` decides whether it can be created.
bool creatable_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path probe = dir.empty() ? std::filesystem::path(".") : dir;
  while (!std::filesystem::exists(probe, ec)) {
    if (!probe.has_parent_path() || probe.parent_path() == probe) {
      probe = ".";
      break;
    }
    probe = probe.parent_path();
  }
  return std::filesystem::is_directory(probe, ec) && ::access(probe.c_str(), W_OK | X_OK) == 0;
}

// The URL itself is checked by libpq when the service connects; here only what is plainly wrong,
// and never by quoting it (it may hold a password).
void check_state(const StateConfig& state, Problems& problems) {
  const std::string& url = state.url.value;
  if (state.backend == "sqlite") {
    if (!url.empty()) {
      problems.add("state.url",
                   "is set (in the file or ROUNDUP_STATE_URL) but state.backend is \"sqlite\"; set state.backend "
                   "to \"postgresql\" to use it, or remove it");
    }
    return;
  }
  if (url.empty()) {
    problems.add("state.url", "the postgresql backend needs a connection URL (or set ROUNDUP_STATE_URL)");
  } else if (!url.starts_with("postgresql://") && !url.starts_with("postgres://") &&
             url.find('=') == std::string::npos) {
    problems.add("state.url", "must be a libpq URI (postgresql://user@host/db) or key=value connection string");
  }
}

// The key goes into an Authorization header, which cannot carry spaces or control characters;
// checked here because ROUNDUP_LLM_API_KEY may supply it. Never quoted.
void check_llm(const Config& config, Problems& problems) {
  if (!config.llm) return;
  const std::string& key = config.llm->api_key.value;
  if (!printable_ascii(key))
    problems.add("llm.api_key", "must be printable ASCII without spaces (it is sent in an Authorization header)");
}

// A key from the environment that the hashed embedder would never send (one in the file is
// reported when it is read, under the same path).
void check_embedder(const EmbedderConfig& embedder, Problems& problems) {
  if (embedder.kind == "hashed" && !embedder.api_key.empty())
    problems.add("retrieval.embedder.api_key",
                 "is set (in the file or ROUNDUP_EMBEDDER_API_KEY) but retrieval.embedder.kind is \"hashed\"; set "
                 "kind to \"openai\" to use it, or remove it");
}

void check_paths(const Config& config, Problems& problems) {
  std::error_code ec;
  const auto need_directory = [&](const std::string& key, const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir, ec)) {
      problems.add(key, "the directory does not exist");
    } else if (::access(dir.c_str(), R_OK | X_OK) != 0) {
      problems.add(key, "the directory is not readable");
    }
  };
  need_directory("corpus_dir", config.corpus_dir);
  if (config.retrieval.require_lexicon) need_directory("retrieval.lexicon_dir", config.retrieval.lexicon_dir);
  if (!creatable_directory(config.data_dir)) {
    problems.add("data_dir", "the directory cannot be created or written");
  } else if (std::filesystem::exists(config.data_dir, ec) && ::access(config.data_dir.c_str(), W_OK | X_OK) != 0) {
    problems.add("data_dir", "the directory is not writable");
  }
  if (!config.tls.ca_file.empty()) {
    if (!std::filesystem::is_regular_file(config.tls.ca_file, ec) || ::access(config.tls.ca_file.c_str(), R_OK) != 0) {
      problems.add("tls.ca_file", "not a readable file");
    }
  }
}

}  // namespace

namespace {

// "name:id" split on the first colon, when `name` is a known section; nullptr otherwise.
const PlatformSection* split_qualified(std::string_view text, const PlatformSections& sections, std::string_view& id) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return nullptr;
  const std::string_view name = text.substr(0, colon);
  id = text.substr(colon + 1);
  const auto section = std::find_if(sections.begin(), sections.end(),
                                    [name](const PlatformSection& candidate) { return candidate.name == name; });
  return section == sections.end() ? nullptr : &*section;
}

}  // namespace

std::optional<QualifiedId> parse_qualified_id(std::string_view text, const PlatformSections& sections) {
  std::string_view id;
  const PlatformSection* section = split_qualified(text, sections, id);
  if (!section || !section->valid_channel_id(id)) return std::nullopt;
  return QualifiedId{section->name, std::string(id)};
}

std::string channel_id_examples(const PlatformSections& sections) {
  return id_examples(sections, &PlatformSection::channel_example);
}

std::optional<QualifiedId> parse_user_id(std::string_view text, const PlatformSections& sections) {
  std::string_view id;
  const PlatformSection* section = split_qualified(text, sections, id);
  if (!section || !section->valid_user_id(id)) return std::nullopt;
  return QualifiedId{section->name, std::string(id)};
}

std::optional<std::pair<int, int>> parse_time_of_day(std::string_view text) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon < 1 || colon > 2 || text.size() != colon + 3) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (i != colon && !is_digit(text[i])) return std::nullopt;
  int hour = 0;
  for (std::size_t i = 0; i < colon; ++i) hour = hour * 10 + (text[i] - '0');
  const int minute = (text[colon + 1] - '0') * 10 + (text[colon + 2] - '0');
  if (hour > 23 || minute > 59) return std::nullopt;
  return std::pair{hour, minute};
}

bool valid_timezone(std::string_view name) {
  if (name.empty()) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::string llm_summary(const Config& config) {
  if (!config.llm) return "off";
  // The origin only: a path can be long, and the parser refused a URL with credentials.
  const auto parts = split_http_url(config.llm->base_url);
  return config.llm->model + " at " + (parts ? std::string(parts->origin) : std::string("an invalid base_url"));
}

std::optional<ListenAddress> parse_listen(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return ListenAddress{std::string(host), static_cast<unsigned short>(value)};
}

void apply_environment(Config& config, EnvironmentLookup getenv_fn) {
  take_secret(getenv_fn, "ROUNDUP_STATE_URL", config.state.url);
  if (config.llm) take_secret(getenv_fn, "ROUNDUP_LLM_API_KEY", config.llm->api_key);
  take_secret(getenv_fn, "ROUNDUP_EMBEDDER_API_KEY", config.retrieval.embedder.api_key);
  for (const PlatformSection& section : config.platforms.sections()) {
    section.apply_environment(*config.platforms.find(section.name), getenv_fn);
  }
}

std::vector<ConfigProblem> check_runnable(const Config& config) {
  Problems problems;
  for (const PlatformSection& section : config.platforms.sections()) {
    section.check_runnable(*config.platforms.find(section.name), problems);
  }
  check_platforms_enabled(config, problems);
  check_state(config.state, problems);
  check_llm(config, problems);
  check_embedder(config.retrieval.embedder, problems);
  check_paths(config, problems);
  return std::move(problems.list());
}

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(format_problems(problems)), problems_(std::move(problems)) {}

PlatformSettings::PlatformSettings(PlatformSections sections)
    : sections_(std::make_shared<const PlatformSections>(std::move(sections))) {
  settings_.reserve(sections_->size());
  for (const PlatformSection& section : *sections_) settings_.push_back(section.defaults);
}

const PlatformSections& PlatformSettings::sections() const noexcept {
  static const PlatformSections k_none;
  return sections_ ? *sections_ : k_none;
}

const PlatformSection* PlatformSettings::section(std::string_view name) const {
  for (const PlatformSection& candidate : sections())
    if (candidate.name == name) return &candidate;
  return nullptr;
}

std::any* PlatformSettings::find(std::string_view name) {
  const auto& all = sections();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].name == name) return &settings_[i];
  return nullptr;
}

const std::any* PlatformSettings::find(std::string_view name) const {
  return const_cast<PlatformSettings*>(this)->find(name);
}

bool PlatformSettings::enabled(std::string_view name) const {
  const PlatformSection* known = section(name);
  return known && known->enabled(*find(name));
}

bool PlatformSettings::operator==(const PlatformSettings& other) const {
  const auto& mine = sections();
  const auto& theirs = other.sections();
  if (mine.size() != theirs.size()) return false;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (mine[i].name != theirs[i].name || !mine[i].equal(settings_[i], other.settings_[i])) return false;
  }
  return true;
}

Config default_config(PlatformSections sections) {
  Config config;
  config.platforms = PlatformSettings(std::move(sections));
  return config;
}

Config parse_config(const json& doc, PlatformSections sections) {
  Problems problems;
  Config config = parse_into(doc, std::move(sections), problems);
  if (!problems.empty()) throw ConfigError(std::move(problems.list()));
  return config;
}

namespace {

// A document's configuration and every problem found reading it; throws ConfigError only when
// there is no document to read keys from (invalid JSON, not an object). `origin` names the
// document in messages: the quoted file name.
Config read_config_text(std::string_view content, const std::string& origin, PlatformSections sections,
                        Problems& problems, json* parsed_doc = nullptr) {
  DuplicateKeyTracker duplicates(problems);
  json doc;
  try {
    doc = json::parse(
        content,
        [&duplicates](int /*depth*/, json::parse_event_t event, json& parsed) {
          return duplicates.on_event(event, parsed);
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    const TextPosition position = position_of(content, error.byte);
    throw_single("invalid JSON in " + origin + " at line " + std::to_string(position.line) + ", column " +
                 std::to_string(position.column) + ": " + parse_error_detail(error));
  } catch (const json::out_of_range&) {
    // A number beyond a double ("1e999"): nlohmann reports it apart from syntax errors, without a
    // position, and its message quotes the number.
    throw_single("invalid JSON in " + origin + ": a number is too large");
  }

  if (!doc.is_object()) {
    throw_single("config file " + origin + " must contain a JSON object at the top level, got " + describe_type(doc));
  }
  Config config = parse_into(doc, std::move(sections), problems);
  if (parsed_doc) *parsed_doc = std::move(doc);
  return config;
}

// The paths a config file names, relative to the file's own directory: the same file means the
// same corpus, lexicon and data whatever directory the bot is started from. Keys the file leaves
// out keep their defaults.
void resolve_against(const std::filesystem::path& base, const json& doc, Config& config) {
  const auto resolve = [&base](const json& section, const char* key, std::filesystem::path& path) {
    if (section.is_object() && section.contains(key) && !path.empty() && path.is_relative())
      path = (base / path).lexically_normal();
  };
  resolve(doc, "corpus_dir", config.corpus_dir);
  resolve(doc, "data_dir", config.data_dir);
  if (const auto it = doc.find("retrieval"); it != doc.end()) resolve(*it, "lexicon_dir", config.retrieval.lexicon_dir);
  if (const auto it = doc.find("tls"); it != doc.end()) resolve(*it, "ca_file", config.tls.ca_file);
}

Config read_config_file(const std::filesystem::path& file, PlatformSections sections, Problems& problems) {
  json doc;
  Config config = read_config_text(read_file(file), quoted(file), std::move(sections), problems, &doc);
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  resolve_against(ec ? file.parent_path() : absolute.parent_path(), doc, config);
  return config;
}

}  // namespace

Config load_config(const std::filesystem::path& file, PlatformSections sections) {
  Problems problems;
  Config config = read_config_file(file, std::move(sections), problems);
  if (!problems.empty()) throw ConfigError(std::move(problems.list()));
  return config;
}

Config load_config_text(std::string_view text, std::string_view origin, PlatformSections sections) {
  Problems problems;
  Config config = read_config_text(text, quoted(std::filesystem::path(origin)), std::move(sections), problems);
  if (!problems.empty()) throw ConfigError(std::move(problems.list()));
  return config;
}

std::filesystem::path running_executable() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe;
}

DefaultPlaces default_places(EnvironmentLookup getenv_fn, const std::filesystem::path& executable) {
  namespace fs = std::filesystem;
  const auto under = [](const fs::path& root) {
    return DefaultPlaces{root / "data" / "roundups", root / "data" / "lexicon", root / "var"};
  };
  if (const char* home = getenv_fn("ROUNDUP_HOME"); home && *home) return under(fs::path(home).lexically_normal());
  std::error_code ec;
  const fs::path dir = executable.parent_path();
  for (const fs::path& root : {dir.parent_path(), dir})
    if (!root.empty() && fs::is_directory(root / "data" / "roundups", ec)) return under(root);
  for (const fs::path& share : {dir.parent_path() / "share" / "roundup", fs::path("/usr/share/roundup")}) {
    if (!fs::is_directory(share / "roundups", ec)) continue;
    fs::path state;
    if (const char* xdg = getenv_fn("XDG_STATE_HOME"); xdg && *xdg) {
      state = fs::path(xdg) / "roundup";
    } else if (const char* user_home = getenv_fn("HOME"); user_home && *user_home) {
      state = fs::path(user_home) / ".local" / "state" / "roundup";
    } else {
      state = "/var/lib/roundup";
    }
    return {share / "roundups", share / "lexicon", state};
  }
  return under(dir);
}

void resolve_default_paths(Config& config, const DefaultPlaces& places) {
  if (config.corpus_dir.is_relative()) config.corpus_dir = places.corpus_dir;
  if (config.retrieval.lexicon_dir.is_relative()) config.retrieval.lexicon_dir = places.lexicon_dir;
  if (config.data_dir.is_relative()) config.data_dir = places.data_dir;
}

std::vector<ConfigProblem> check_config(const std::filesystem::path& file, EnvironmentLookup getenv_fn,
                                        PlatformSections sections) {
  Problems problems;
  Config config;
  try {
    config = file.empty() ? default_config(std::move(sections)) : read_config_file(file, std::move(sections), problems);
  } catch (const ConfigError& error) {
    return error.problems();
  }
  apply_environment(config, getenv_fn);
  resolve_default_paths(config, default_places(getenv_fn, running_executable()));
  // A key already reported as malformed kept its default; do not report it twice.
  const auto reported = [&problems](const std::string& path) {
    return std::any_of(problems.list().begin(), problems.list().end(),
                       [&path](const ConfigProblem& p) { return p.path == path; });
  };
  for (auto& problem : check_runnable(config))
    if (!reported(problem.path)) problems.add(std::move(problem.path), std::move(problem.message));
  return std::move(problems.list());
}

}  // namespace roundup::config

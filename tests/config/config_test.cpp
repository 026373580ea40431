#include "config/config.h"
#include "tests/support/platform_config.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using roundup::config::Config;
using roundup::config::ConfigError;
using roundup::config::ConfigProblem;
using roundup::config::default_places;
using roundup::config::DefaultPlaces;
using roundup::config::resolve_default_paths;
using roundup::testing::platform_sections;
using roundup::testing::slack_of;
using roundup::testing::telegram_of;

// The reader as the bot runs it: with the built-in platforms' sections.
Config parse_config(const json& doc) {
  return roundup::config::parse_config(doc, platform_sections());
}
Config default_config() {
  return roundup::config::default_config(platform_sections());
}
Config load_config(const fs::path& file) {
  return roundup::config::load_config(file, platform_sections());
}
std::vector<ConfigProblem> check_config(const fs::path& file, roundup::config::EnvironmentLookup getenv_fn) {
  return roundup::config::check_config(file, getenv_fn, platform_sections());
}

// Runs `action`, which must throw ConfigError, and returns its problems.
template <typename Action>
std::vector<ConfigProblem> problems_of(Action&& action, std::string* what = nullptr) {
  try {
    action();
  } catch (const ConfigError& error) {
    if (what != nullptr) *what = error.what();
    return error.problems();
  }
  FAIL("expected ConfigError");
  return {};
}

std::vector<ConfigProblem> parse_problems(const json& doc, std::string* what = nullptr) {
  return problems_of([&] { (void)parse_config(doc); }, what);
}

const ConfigProblem* find_problem(const std::vector<ConfigProblem>& problems, const std::string& path) {
  const auto it =
      std::find_if(problems.begin(), problems.end(), [&](const ConfigProblem& p) { return p.path == path; });
  return it == problems.end() ? nullptr : &*it;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A unique scratch directory, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("roundup_config_test_" + std::to_string(random()) + "_" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("empty object yields the defaults") {
  const Config config = parse_config(json::object());
  CHECK(config == default_config());
  CHECK(config.corpus_dir == fs::path("data/roundups"));
  CHECK(config.data_dir == fs::path("var"));
  CHECK(config.log_level == "info");
  CHECK(config.retrieval.top_k == 5);
  CHECK(config.retrieval.min_confidence == doctest::Approx(0.3));
  CHECK(config.retrieval.sure_confidence == doctest::Approx(0.6));
  CHECK(config.retrieval.chunk_chars == 700);
  CHECK(config.retrieval.max_file_bytes == 4 * 1024 * 1024);
  CHECK(config.retrieval.lexicon_dir == fs::path("data/lexicon"));
  CHECK(config.retrieval.require_lexicon);
  CHECK(config.retrieval.fusion.method == "score");
  CHECK(config.retrieval.fusion.lexical_weight == doctest::Approx(1.0));
  CHECK(config.retrieval.fusion.dense_weight == doctest::Approx(0.4));
  CHECK(config.retrieval.fusion.rrf_k == 60);
  CHECK(config.retrieval.embedder.kind == "hashed");
  CHECK(config.retrieval.embedder.dimension == 768);
}

TEST_CASE("a full valid document sets every field") {
  const json doc = {
      {"corpus_dir", "/srv/roundups"},
      {"data_dir", "state"},
      {"log_level", "debug"},
      {"retrieval",
       {
           {"top_k", 12},
           {"min_confidence", 0.35},
           {"chunk_chars", 1200},
           {"max_file_bytes", 1048576},
           {"lexicon_dir", "lex"},
           {"fusion", {{"method", "rrf"}, {"lexical_weight", 2}, {"dense_weight", 0.5}, {"rrf_k", 10}}},
           {"embedder", {{"kind", "hashed"}, {"dimension", 256}}},
       }},
  };
  const Config config = parse_config(doc);
  CHECK(config.corpus_dir == fs::path("/srv/roundups"));
  CHECK(config.data_dir == fs::path("state"));
  CHECK(config.data_dir.is_relative());  // relative paths are not resolved here
  CHECK(config.log_level == "debug");
  CHECK(config.retrieval.top_k == 12);
  CHECK(config.retrieval.min_confidence == doctest::Approx(0.35));
  CHECK(config.retrieval.chunk_chars == 1200);
  CHECK(config.retrieval.max_file_bytes == 1048576);
  CHECK(config.retrieval.lexicon_dir == fs::path("lex"));
  CHECK(config.retrieval.fusion.method == "rrf");
  CHECK(config.retrieval.fusion.lexical_weight == doctest::Approx(2.0));  // integer accepted for a number
  CHECK(config.retrieval.fusion.dense_weight == doctest::Approx(0.5));
  CHECK(config.retrieval.fusion.rrf_k == 10);
  CHECK(config.retrieval.embedder.kind == "hashed");
  CHECK(config.retrieval.embedder.dimension == 256);
}

TEST_CASE("partial sections keep the defaults of missing keys") {
  const Config config = parse_config(json{{"retrieval", {{"fusion", {{"rrf_k", 30}}}}}});
  CHECK(config.retrieval.fusion.rrf_k == 30);
  CHECK(config.retrieval.fusion.method == "score");
  CHECK(config.retrieval.top_k == 5);
  CHECK(config.log_level == "info");
}

TEST_CASE("sure_confidence below min_confidence is a problem naming the key") {
  const auto problems = parse_problems(json{{"retrieval", {{"min_confidence", 0.6}, {"sure_confidence", 0.4}}}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "retrieval.sure_confidence");
  CHECK(problems[0].message.find("min_confidence") != std::string::npos);
}

TEST_CASE("range bounds are inclusive") {
  const Config low = parse_config(
      json{{"retrieval", {{"top_k", 1}, {"min_confidence", 0}, {"chunk_chars", 200}, {"max_file_bytes", 1024}}}});
  CHECK(low.retrieval.top_k == 1);
  CHECK(low.retrieval.min_confidence == 0.0);
  CHECK(low.retrieval.chunk_chars == 200);
  CHECK(low.retrieval.max_file_bytes == 1024);

  const Config high = parse_config(json{{"retrieval",
                                         {{"top_k", 50},
                                          {"min_confidence", 1.0},
                                          {"sure_confidence", 1.0},
                                          {"chunk_chars", 5000},
                                          {"max_file_bytes", 256LL * 1024 * 1024}}}});
  CHECK(high.retrieval.top_k == 50);
  CHECK(high.retrieval.min_confidence == 1.0);
  CHECK(high.retrieval.chunk_chars == 5000);
  CHECK(high.retrieval.max_file_bytes == 256LL * 1024 * 1024);
}

TEST_CASE("unknown top-level key is reported with a suggestion") {
  std::string what;
  const auto problems = parse_problems(json{{"retreival", json::object()}}, &what);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "retreival");
  CHECK(problems[0].message == "unknown key 'retreival' (did you mean 'retrieval'?)");
  CHECK(what == "retreival: unknown key 'retreival' (did you mean 'retrieval'?)");
}

TEST_CASE("unknown key far from every known key gets no suggestion") {
  const auto problems = parse_problems(json{{"discord", {{"token", "x"}}}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "discord");
  CHECK(problems[0].message == "unknown key 'discord'");
}

TEST_CASE("unknown nested key is reported with its path and a suggestion") {
  const auto problems = parse_problems(json{{"retrieval", {{"top_kk", 3}}}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "retrieval.top_kk");
  CHECK(problems[0].message == "unknown key 'top_kk' (did you mean 'top_k'?)");

  const auto deeper = parse_problems(json{{"retrieval", {{"fusion", {{"RRF_K", 3}}}}}});
  REQUIRE(deeper.size() == 1);
  CHECK(deeper[0].path == "retrieval.fusion.RRF_K");
  CHECK(contains(deeper[0].message, "did you mean 'rrf_k'?"));
}

TEST_CASE("wrong types say what was expected and what was found") {
  SUBCASE("string for integer") {
    const auto problems = parse_problems(json{{"retrieval", {{"top_k", "5"}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.top_k");
    CHECK(problems[0].message == "expected integer, got string");
  }
  SUBCASE("integers must be JSON integers, even 5.0") {
    for (const double value : {5.5, 5.0}) {
      const auto problems = parse_problems(json{{"retrieval", {{"top_k", value}}}});
      REQUIRE(problems.size() == 1);
      CHECK(problems[0].path == "retrieval.top_k");
      CHECK(contains(problems[0].message, "expected integer, got floating-point number"));
    }
  }
  SUBCASE("boolean for number") {
    const auto problems = parse_problems(json{{"retrieval", {{"min_confidence", true}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.min_confidence");
    CHECK(problems[0].message == "expected number, got boolean");
  }
  SUBCASE("number for a section") {
    const auto problems = parse_problems(json{{"retrieval", {{"fusion", 3}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.fusion");
    CHECK(problems[0].message == "expected object, got integer");
  }
  SUBCASE("null for a path") {
    const auto problems = parse_problems(json{{"data_dir", nullptr}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "data_dir");
    CHECK(contains(problems[0].message, "expected string"));
    CHECK(contains(problems[0].message, "got null"));
  }
  SUBCASE("document is not an object") {
    const auto problems = parse_problems(json::array({1, 2}));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "");
    CHECK(problems[0].message == "expected object, got array");
  }
}

TEST_CASE("out-of-range values report the allowed range, not the value") {
  SUBCASE("integer below minimum") {
    const auto problems = parse_problems(json{{"retrieval", {{"top_k", 0}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.top_k");
    CHECK(problems[0].message == "must be between 1 and 50");
  }
  SUBCASE("negative integer") {
    const auto problems = parse_problems(json{{"retrieval", {{"chunk_chars", -700}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.chunk_chars");
    CHECK(problems[0].message == "must be between 200 and 5000");
  }
  SUBCASE("huge unsigned value does not wrap around") {
    const auto problems = parse_problems(json{{"retrieval", {{"max_file_bytes", 18446744073709551615ULL}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.max_file_bytes");
    CHECK(contains(problems[0].message, "must be between 1024 and 268435456"));
  }
  SUBCASE("value that would overflow int") {
    const auto problems = parse_problems(json{{"retrieval", {{"top_k", 4294967301LL}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.top_k");
  }
  SUBCASE("real number above maximum") {
    const auto problems = parse_problems(json{{"retrieval", {{"min_confidence", 1.5}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.min_confidence");
    CHECK(problems[0].message == "must be between 0.0 and 1.0");
  }
  SUBCASE("empty path") {
    const auto problems = parse_problems(json{{"retrieval", {{"lexicon_dir", ""}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.lexicon_dir");
    CHECK(problems[0].message == "must not be empty");
  }
  SUBCASE("both fusion weights zero") {
    const auto problems =
        parse_problems(json{{"retrieval", {{"fusion", {{"lexical_weight", 0}, {"dense_weight", 0.0}}}}}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.fusion");
    CHECK(contains(problems[0].message, "cannot both be 0"));
  }
}

TEST_CASE("bad enum values list the allowed values") {
  const auto problems = parse_problems(json{{"log_level", "verbose"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "log_level");
  CHECK(problems[0].message == "invalid value; expected one of 'trace', 'debug', 'info', 'warn', 'error', 'off'");

  const auto typo = parse_problems(json{{"retrieval", {{"fusion", {{"method", "scores"}}}}}});
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].path == "retrieval.fusion.method");
  CHECK(contains(typo[0].message, "invalid value;"));
  CHECK(contains(typo[0].message, "(did you mean 'score'?)"));

  const auto kind = parse_problems(json{{"retrieval", {{"embedder", {{"kind", "onnx"}}}}}});
  REQUIRE(kind.size() == 1);
  CHECK(kind[0].path == "retrieval.embedder.kind");
  CHECK(contains(kind[0].message, "expected one of 'hashed'"));
}

TEST_CASE("several problems are all reported with their paths") {
  const json doc = {
      {"log_level", "loud"},
      {"extra", 1},
      {"retrieval",
       {
           {"top_k", 100},
           {"chunk_chars", "big"},
           {"fusion", {{"rrf_k", 0}, {"methd", "rrf"}}},
           {"embedder", {{"dimension", 1.5}}},
       }},
  };
  std::string what;
  const auto problems = parse_problems(doc, &what);
  CHECK(problems.size() == 7);
  std::vector<std::string> lines;
  std::istringstream what_stream(what);
  for (std::string line; std::getline(what_stream, line);) lines.push_back(line);
  CHECK(lines.size() == problems.size());

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"log_level", "invalid value;"},
      {"extra", "unknown key 'extra'"},
      {"retrieval.top_k", "must be between 1 and 50"},
      {"retrieval.chunk_chars", "expected integer, got string"},
      {"retrieval.fusion.rrf_k", "must be between 1 and 1000"},
      {"retrieval.fusion.methd", "did you mean 'method'?"},
      {"retrieval.embedder.dimension", "expected integer, got floating-point number"},
  };
  for (const auto& [path, message] : expected) {
    CAPTURE(path);
    const ConfigProblem* problem = find_problem(problems, path);
    REQUIRE(problem != nullptr);
    CHECK(contains(problem->message, message));
    // what() carries every problem as its own "path: message" line.
    const std::string line = path + ": " + problem->message;
    CHECK(std::find(lines.begin(), lines.end(), line) != lines.end());
  }
}

TEST_CASE("ConfigError formats one line per problem") {
  const ConfigError error({{"a.b", "first"}, {"", "whole document"}, {"c", "third"}});
  CHECK(std::string(error.what()) == "a.b: first\nwhole document\nc: third");
  REQUIRE(error.problems().size() == 3);
  CHECK(error.problems()[1].message == "whole document");
}

TEST_CASE("load_config reads a valid file") {
  const TempDir dir;
  const fs::path file = dir.write("config.json", R"({
  // comments are allowed so operators can annotate settings
  "log_level": "warn",
  "retrieval": { "top_k": 7 /* keep answers short */ }
}
)");
  const Config config = load_config(file);
  CHECK(config.log_level == "warn");
  CHECK(config.retrieval.top_k == 7);
  CHECK(config.retrieval.chunk_chars == 700);
}

TEST_CASE("a switch takes only true or false") {
  CHECK_FALSE(parse_config(json::parse(R"({"retrieval": {"require_lexicon": false}})")).retrieval.require_lexicon);
  for (const char* bad : {R"("false")", "0", "null"}) {
    CAPTURE(bad);
    const auto problems = problems_of(
        [&] { (void)parse_config(json::parse(std::string(R"({"retrieval": {"require_lexicon": )") + bad + "}}")); });
    REQUIRE(find_problem(problems, "retrieval.require_lexicon") != nullptr);
  }
}

TEST_CASE("load_config resolves the file's relative paths against the file's directory") {
  const TempDir dir;
  fs::create_directories(dir.path() / "etc");
  const fs::path file = dir.write("etc/config.json", R"({
  "corpus_dir": "../corpus", "data_dir": "state",
  "retrieval": {"lexicon_dir": "lexicon"}, "tls": {"ca_file": "ca/extra.pem"}
})");
  // From any working directory: the file's paths do not depend on it.
  const Config config = load_config(fs::relative(file, fs::current_path()));
  const fs::path etc = fs::absolute(dir.path() / "etc").lexically_normal();
  CHECK(config.corpus_dir == (dir.path() / "corpus").lexically_normal());
  CHECK(config.data_dir == etc / "state");
  CHECK(config.retrieval.lexicon_dir == etc / "lexicon");
  CHECK(config.tls.ca_file == etc / "ca" / "extra.pem");
  // Absolute paths are kept; keys the file leaves out keep their defaults.
  const fs::path other = dir.write("other.json", R"({"corpus_dir": "/srv/roundups"})");
  const Config defaults = load_config(other);
  CHECK(defaults.corpus_dir == fs::path("/srv/roundups"));
  CHECK(defaults.data_dir == fs::path("var"));
  CHECK(defaults.retrieval.lexicon_dir == fs::path("data/lexicon"));
}

namespace {
// A fake environment for default_places: only these variables are set.
const char* k_home_env = nullptr;
const char* k_xdg_env = nullptr;
const char* fake_getenv(const char* name) {
  if (std::string(name) == "ROUNDUP_HOME") return k_home_env;
  if (std::string(name) == "XDG_STATE_HOME") return k_xdg_env;
  return nullptr;
}
}  // namespace

TEST_CASE("default paths come from ROUNDUP_HOME, the executable's checkout or installation - never the cwd") {
  const TempDir dir;
  // A checkout: build/roundup-bot beside data/roundups.
  fs::create_directories(dir.path() / "checkout" / "data" / "roundups");
  fs::create_directories(dir.path() / "checkout" / "build");
  k_home_env = nullptr;
  k_xdg_env = nullptr;
  DefaultPlaces places = default_places(fake_getenv, dir.path() / "checkout" / "build" / "roundup-bot");
  CHECK(places.corpus_dir == dir.path() / "checkout" / "data" / "roundups");
  CHECK(places.lexicon_dir == dir.path() / "checkout" / "data" / "lexicon");
  CHECK(places.data_dir == dir.path() / "checkout" / "var");
  // An installation: bin/roundup-bot and share/roundup/{roundups,lexicon}; state per user.
  fs::create_directories(dir.path() / "usr" / "share" / "roundup" / "roundups");
  fs::create_directories(dir.path() / "usr" / "bin");
  k_xdg_env = "/home/ann/.state";
  places = default_places(fake_getenv, dir.path() / "usr" / "bin" / "roundup-bot");
  CHECK(places.corpus_dir == dir.path() / "usr" / "share" / "roundup" / "roundups");
  CHECK(places.lexicon_dir == dir.path() / "usr" / "share" / "roundup" / "lexicon");
  CHECK(places.data_dir == fs::path("/home/ann/.state/roundup"));
  // ROUNDUP_HOME wins.
  k_home_env = "/srv/roundup";
  places = default_places(fake_getenv, dir.path() / "usr" / "bin" / "roundup-bot");
  CHECK(places.corpus_dir == fs::path("/srv/roundup/data/roundups"));
  CHECK(places.data_dir == fs::path("/srv/roundup/var"));
  k_home_env = nullptr;

  // Only paths still relative (defaults) are replaced; a file's own were made absolute already.
  Config config;
  config.corpus_dir = "/srv/roundups";
  resolve_default_paths(config, places);
  CHECK(config.corpus_dir == fs::path("/srv/roundups"));
  CHECK(config.data_dir == places.data_dir);
  CHECK(config.retrieval.lexicon_dir == places.lexicon_dir);
}

TEST_CASE("load_config reports a missing file") {
  const TempDir dir;
  const fs::path file = dir.path() / "nope.json";
  std::string what;
  const auto problems = problems_of([&] { (void)load_config(file); }, &what);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "");
  CHECK(contains(problems[0].message, "nope.json"));
  CHECK(contains(problems[0].message, "does not exist"));
  CHECK(what == problems[0].message);
}

TEST_CASE("load_config reports a directory") {
  const TempDir dir;
  const auto problems = problems_of([&] { (void)load_config(dir.path()); });
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0].message, "is a directory"));
}

TEST_CASE("load_config reports invalid JSON with line and column") {
  const TempDir dir;
  SUBCASE("syntax error in the middle") {
    // Missing comma after "info": the parser rejects the string token "data_dir" on line 3;
    // the position is the token's last character (column 12), as nlohmann reads it whole.
    const fs::path file = dir.write("bad.json", "{\n  \"log_level\": \"info\"\n  \"data_dir\": \"x\"\n}\n");
    const auto problems = problems_of([&] { (void)load_config(file); });
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "");
    CHECK(contains(problems[0].message, "bad.json"));
    CHECK(contains(problems[0].message, "at line 3, column 12"));
    CHECK(contains(problems[0].message, "syntax error"));
    // Our own position replaces nlohmann's prefix instead of repeating it.
    CHECK_FALSE(contains(problems[0].message, "[json.exception"));
  }
  SUBCASE("truncated document") {
    const fs::path file = dir.write("truncated.json", "{\n  \"retrieval\": {\n    \"top_k\": 5\n");
    const auto problems = problems_of([&] { (void)load_config(file); });
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "at line 4, column 1"));
  }
  SUBCASE("raw newline inside a string points at the newline") {
    const fs::path file = dir.write("newline.json", "{\"a\": \"x\ny\"}");
    const auto problems = problems_of([&] { (void)load_config(file); });
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "at line 1, column 9"));
  }
  SUBCASE("empty file") {
    const fs::path file = dir.write("empty.json", "");
    const auto problems = problems_of([&] { (void)load_config(file); });
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "at line 1, column 1"));
  }
}

TEST_CASE("load_config rejects a non-object document") {
  const TempDir dir;
  const fs::path file = dir.write("list.json", "[1, 2, 3]\n");
  const auto problems = problems_of([&] { (void)load_config(file); });
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "");
  CHECK(contains(problems[0].message, "list.json"));
  CHECK(contains(problems[0].message, "JSON object"));
  CHECK(contains(problems[0].message, "got array"));
}

TEST_CASE("load_config reports validation problems and duplicate keys together") {
  const TempDir dir;
  const fs::path file = dir.write("dup.json", R"({
  "retrieval": { "top_k": 3, "fusion": { "rrf_k": 10 }, "top_k": 4 },
  "log_level": "loud"
})");
  const auto problems = problems_of([&] { (void)load_config(file); });
  REQUIRE(problems.size() == 2);
  const ConfigProblem* duplicate = find_problem(problems, "retrieval.top_k");
  REQUIRE(duplicate != nullptr);
  CHECK(contains(duplicate->message, "duplicate key"));
  const ConfigProblem* level = find_problem(problems, "log_level");
  REQUIRE(level != nullptr);
  CHECK(contains(level->message, "invalid value;"));
}

// ---------------------------------------------------------------------------
// Service and platform sections.

namespace {

using roundup::config::apply_environment;
using roundup::config::check_runnable;
using roundup::config::parse_listen;

bool has_problem(const std::vector<ConfigProblem>& problems, const std::string& path) {
  return std::any_of(problems.begin(), problems.end(), [&](const ConfigProblem& p) { return p.path == path; });
}

const char* no_environment(const char* /*name*/) {
  return nullptr;
}

const char* slack_environment(const char* name) {
  const std::string key = name;
  if (key == "ROUNDUP_SLACK_BOT_TOKEN") return "xoxb-from-env";
  if (key == "ROUNDUP_SLACK_SIGNING_SECRET") return "env-signing-secret";
  if (key == "ROUNDUP_TELEGRAM_BOT_TOKEN") return "";  // set but empty: ignored
  return nullptr;
}

}  // namespace

TEST_CASE("platforms are disabled by default and the defaults are runnable") {
  Config config = default_config();
  apply_environment(config, &no_environment);
  CHECK_FALSE(slack_of(config).enabled);
  CHECK_FALSE(telegram_of(config).enabled);
  CHECK(config.listen == "127.0.0.1:8080");
  CHECK(check_runnable(config).empty());
}

TEST_CASE("a present slack section enables Slack and its keys are read") {
  const Config config = parse_config(json::parse(R"({
    "listen": "0.0.0.0:9000", "workers": 8, "tls": {"ca_file": "/etc/ca.pem"},
    "slack": {"signing_secret": "s3cret", "bot_token": "xoxb-1", "mode": "events",
              "api_base": "https://127.0.0.1:4443/api", "command": "/papers"}})"));
  CHECK(slack_of(config).enabled);
  CHECK(slack_of(config).signing_secret.value == "s3cret");
  CHECK(slack_of(config).command == "/papers");
  CHECK(config.workers == 8);
  CHECK(config.tls.ca_file == fs::path("/etc/ca.pem"));
  // Everything but the CA file, which does not exist here, can run.
  const auto problems = check_runnable(config);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "tls.ca_file");
}

TEST_CASE("digest - admins and log settings are read and checked with their key paths") {
  const Config config = parse_config(json::parse(R"({
    "log_format": "json", "metrics_listen": "127.0.0.1:9100",
    "admins": ["slack:U0123", "telegram:42", "slack:U0123"],
    "digest": {"time": "7:30", "timezone": "Europe/Berlin", "papers_per_post": 3,
               "channels": ["slack:C0123", "telegram:-1001234", "telegram:@roundups"]}})"));
  CHECK(config.log_format == "json");
  CHECK(config.metrics_listen == "127.0.0.1:9100");
  CHECK(config.admins == std::vector<std::string>{"slack:U0123", "telegram:42"});  // duplicates dropped
  CHECK(config.digest.time == "7:30");
  CHECK(config.digest.timezone == "Europe/Berlin");
  CHECK(config.digest.papers_per_post == 3);
  CHECK(config.digest.channels.size() == 3);

  const auto problems_of = [](const char* text) {
    std::vector<std::string> paths;
    try {
      parse_config(json::parse(text));
    } catch (const ConfigError& error) {
      for (const auto& problem : error.problems()) paths.push_back(problem.path);
    }
    return paths;
  };
  CHECK(problems_of(R"({"digest": {"time": "24:00"}})") == std::vector<std::string>{"digest.time"});
  CHECK(problems_of(R"({"digest": {"timezone": "Asia/Shanghaii"}})") == std::vector<std::string>{"digest.timezone"});
  CHECK(problems_of(R"({"digest": {"papers_per_post": 0}})") == std::vector<std::string>{"digest.papers_per_post"});
  CHECK(problems_of(R"({"digest": {"channels": ["C0123", "slack:c1"]}})") ==
        std::vector<std::string>{"digest.channels[0]", "digest.channels[1]"});
  CHECK(problems_of(R"({"admins": "slack:U1"})") == std::vector<std::string>{"admins"});
  CHECK(problems_of(R"({"admins": ["telegram:4x2", 7]})") == std::vector<std::string>{"admins[0]", "admins[1]"});
  // Channels are not users: an admin entry that could never match anyone is a mistake.
  CHECK(problems_of(R"({"admins": ["slack:C0123", "telegram:-1001", "telegram:@alice", "slack:W1"]})") ==
        std::vector<std::string>{"admins[0]", "admins[1]", "admins[2]"});
  CHECK(problems_of(R"({"log_format": "text"})") == std::vector<std::string>{"log_format"});
  CHECK(problems_of(R"({"metrics_listen": "9100"})") == std::vector<std::string>{"metrics_listen"});
}

TEST_CASE("check_runnable finds paths that cannot work and digest channels on disabled platforms") {
  Config config = default_config();
  config.corpus_dir = "/nonexistent/roundups";
  config.retrieval.lexicon_dir = "/nonexistent/lexicon";
  config.data_dir = "/etc/passwd/var";  // under a file: cannot be created, even by root
  config.digest.channels = {"telegram:-1001"};
  std::vector<std::string> paths;
  for (const auto& problem : check_runnable(config)) paths.push_back(problem.path);
  CHECK(paths == std::vector<std::string>{"digest.channels[0]", "corpus_dir", "retrieval.lexicon_dir", "data_dir"});
}

TEST_CASE("environment secrets win over the file and enable the platform") {
  Config config = parse_config(json::parse(R"({"slack": {"bot_token": "xoxb-from-file"}})"));
  apply_environment(config, &slack_environment);
  CHECK(slack_of(config).bot_token.value == "xoxb-from-env");
  CHECK(slack_of(config).signing_secret.value == "env-signing-secret");
  CHECK_FALSE(telegram_of(config).enabled);

  Config only_env = default_config();
  apply_environment(only_env, &slack_environment);
  CHECK(slack_of(only_env).enabled);
  CHECK(check_runnable(only_env).empty());
}

TEST_CASE("check_runnable names each missing or malformed platform key") {
  const Config slack_events = parse_config(json::parse(R"({"slack": {}})"));
  auto problems = check_runnable(slack_events);
  CHECK(has_problem(problems, "slack.bot_token"));
  CHECK(has_problem(problems, "slack.signing_secret"));

  const Config slack_socket =
      parse_config(json::parse(R"({"slack": {"mode": "socket", "bot_token": "xoxp-user", "app_token": "xoxb-x"}})"));
  problems = check_runnable(slack_socket);
  CHECK(has_problem(problems, "slack.bot_token"));
  CHECK(has_problem(problems, "slack.app_token"));
  CHECK_FALSE(has_problem(problems, "slack.signing_secret"));

  const Config telegram = parse_config(json::parse(
      R"({"telegram": {"mode": "webhook", "bot_token": "123:abc", "public_url": "http://x", "secret_token": "bad token!"}})"));
  problems = check_runnable(telegram);
  CHECK(has_problem(problems, "telegram.public_url"));
  CHECK(has_problem(problems, "telegram.secret_token"));
  CHECK_FALSE(has_problem(problems, "telegram.bot_token"));
}

TEST_CASE("secret values never appear in problem messages") {
  const Config config =
      parse_config(json::parse(R"({"slack": {"bot_token": "not-a-bot-token-SENSITIVE", "mode": "events"}})"));
  for (const auto& problem : check_runnable(config)) {
    CHECK(problem.message.find("SENSITIVE") == std::string::npos);
  }
}

TEST_CASE("listen addresses are validated") {
  CHECK(parse_listen("127.0.0.1:8080")->port == 8080);
  CHECK(parse_listen("[::1]:0")->host == "::1");
  CHECK_FALSE(parse_listen("localhost"));
  CHECK_FALSE(parse_listen("1.2.3.4:65536"));
  CHECK_FALSE(parse_listen("::1:80"));
  CHECK_FALSE(parse_listen(":80"));
  const auto problems = parse_problems(json::parse(R"({"listen": "8080", "slack": {"mode": "sockets"}})"));
  CHECK(has_problem(problems, "listen"));
  CHECK(has_problem(problems, "slack.mode"));
}

// ---------------------------------------------------------------------------
// No value from the file is ever echoed: a token pasted into the wrong key, or a file cut off in
// the middle of one, must not end up in a terminal, a CI log or a crash report.

namespace {

constexpr const char* k_leak = "xoxb-LEAK-7f3a";

// Every message of `problems` and the joined what(), none containing the marker.
void check_no_leak(const std::vector<ConfigProblem>& problems, const std::string& what = {}) {
  CHECK_FALSE(problems.empty());
  for (const auto& problem : problems) {
    CAPTURE(problem.path);
    CHECK(problem.message.find("LEAK") == std::string::npos);
  }
  CHECK(what.find("LEAK") == std::string::npos);
}

}  // namespace

TEST_CASE("invalid JSON names the line and column, never the text it stopped in") {
  const TempDir dir;
  SUBCASE("unterminated string holding a token") {
    const fs::path file =
        dir.write("cut.json", std::string("{\n  \"slack\": {\n    \"bot_token\": \"") + k_leak + "\n  }\n}\n");
    std::string what;
    const auto problems = problems_of([&] { (void)load_config(file); }, &what);
    check_no_leak(problems, what);
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "at line 3, column"));
    CHECK(contains(problems[0].message, "invalid string"));
    // check_config (what `config check` prints) reads the file the same way.
    check_no_leak(check_config(file, &no_environment));
  }
  SUBCASE("an invalid literal after a key") {
    const fs::path file = dir.write("literal.json", std::string("{\"slack\": {\"bot_token\": ") + k_leak + "}}");
    std::string what;
    check_no_leak(problems_of([&] { (void)load_config(file); }, &what), what);
  }
  // Found writing fuzz/config_fuzz.cpp (its seed number_overflow.json): nlohmann throws
  // out_of_range, not parse_error, for a number beyond a double, and `config check` exited 1
  // quoting it.
  SUBCASE("a number too large for a double") {
    const fs::path file = dir.write("huge.json", "{\"workers\": 1e999}");
    std::string what;
    const auto problems = problems_of([&] { (void)load_config(file); }, &what);
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "huge.json"));
    CHECK(contains(problems[0].message, "a number is too large"));
    CHECK_FALSE(contains(what, "1e999"));
    CHECK(check_config(file, &no_environment) == problems);
    CHECK_THROWS_AS((void)roundup::config::load_config_text("[-1e400]", "doc"), ConfigError);
  }
}

TEST_CASE("type, range and format problems name the key, not the value") {
  const json doc = {
      {"log_level", k_leak},
      {"log_format", k_leak},
      {"listen", k_leak},
      {"metrics_listen", k_leak},
      {"admins", {k_leak}},
      {"digest", {{"time", k_leak}, {"timezone", k_leak}, {"channels", {k_leak}}}},
      {"retrieval",
       {{"top_k", 7.25e-300},
        {"min_confidence", 7.25e300},
        {"chunk_chars", 987654321},
        {"fusion", {{"method", k_leak}, {"rrf_k", -987654321}}},
        {"embedder", {{"kind", k_leak}}}}},
      {"slack", {{"mode", k_leak}}},
      {"telegram", {{"mode", k_leak}}},
  };
  std::string what;
  const auto problems = parse_problems(doc, &what);
  CHECK(problems.size() == 16);
  check_no_leak(problems, what);
  // Numbers are values too.
  for (const char* number : {"7.25", "987654321"}) {
    CAPTURE(number);
    CHECK(what.find(number) == std::string::npos);
  }
}

TEST_CASE("config check: paths that cannot be used are named by key, not by value") {
  const TempDir dir;
  // data_dir below a regular file can never be created, even by root.
  const fs::path file = dir.write("paths.json", json{{"corpus_dir", std::string("/nonexistent/") + k_leak},
                                                     {"data_dir", (dir.path() / "paths.json" / k_leak).string()},
                                                     {"tls", {{"ca_file", std::string("/nonexistent/") + k_leak}}},
                                                     {"retrieval", {{"lexicon_dir", k_leak}}}}
                                                    .dump());
  const auto problems = check_config(file, &no_environment);
  check_no_leak(problems);
  for (const char* key : {"corpus_dir", "data_dir", "tls.ca_file", "retrieval.lexicon_dir"}) {
    CAPTURE(key);
    CHECK(find_problem(problems, key) != nullptr);
  }
}

namespace {

const char* state_url_environment(const char* name) {
  return std::string_view(name) == "ROUNDUP_STATE_URL" ? "postgresql://bot:env-pw@db.internal/roundup" : nullptr;
}

}  // namespace

TEST_CASE("state: SQLite by default - PostgreSQL with a URL from the file or ROUNDUP_STATE_URL, never echoed") {
  const Config defaults = default_config();
  CHECK(defaults.state.backend == "sqlite");
  CHECK(defaults.state.url.empty());

  Config from_env = parse_config(json{{"state", {{"backend", "postgresql"}}}});
  CHECK(has_problem(check_runnable(from_env), "state.url"));
  apply_environment(from_env, &state_url_environment);
  CHECK(from_env.state.url.value == "postgresql://bot:env-pw@db.internal/roundup");
  CHECK_FALSE(has_problem(check_runnable(from_env), "state.url"));

  const Config from_file = parse_config(json{{"state", {{"backend", "postgresql"}, {"url", "host=db user=bot"}}}});
  CHECK_FALSE(has_problem(check_runnable(from_file), "state.url"));

  // A URL that would be ignored is a mistake, said without quoting it.
  Config ignored = parse_config(json{{"state", {{"url", "postgresql://bot:file-pw@db/roundup"}}}});
  const auto problems = check_runnable(ignored);
  const ConfigProblem* problem = find_problem(problems, "state.url");
  REQUIRE(problem != nullptr);
  CHECK(problem->message.find("state.backend") != std::string::npos);
  CHECK(problem->message.find("file-pw") == std::string::npos);

  const Config garbage = parse_config(json{{"state", {{"backend", "postgresql"}, {"url", "my-secret-garbage"}}}});
  const auto garbage_problems = check_runnable(garbage);
  const ConfigProblem* bad = find_problem(garbage_problems, "state.url");
  REQUIRE(bad != nullptr);
  CHECK(bad->message.find("my-secret-garbage") == std::string::npos);

  // A mistyped backend or key is named with the choices.
  CHECK(has_problem(parse_problems(json{{"state", {{"backend", "postgres"}}}}), "state.backend"));
  CHECK(has_problem(parse_problems(json{{"state", {{"uri", "x"}}}}), "state.uri"));
}

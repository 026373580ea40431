// The optional `llm` section (issue 17): a model server's root URL, the model's name, its key (the
// file's or ROUNDUP_LLM_API_KEY), the call's deadline and the reply's length and temperature. The
// key is never echoed: not in a problem, not in `config check`'s summary.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "tests/support/temp_dir.h"

namespace {

using nlohmann::json;
using roundup::config::Config;
using roundup::config::ConfigError;
using roundup::config::ConfigProblem;
using roundup::config::parse_config;

constexpr std::string_view k_key = "sk-LEAK-0123456789";

json llm_section(const json& overrides = json::object()) {
  json section = {{"base_url", "http://127.0.0.1:11434"}, {"model", "qwen2.5:7b-instruct"}};
  section.update(overrides);
  return json{{"llm", section}};
}

std::vector<ConfigProblem> parse_problems(const json& doc) {
  try {
    (void)parse_config(doc);
  } catch (const ConfigError& error) {
    CHECK(std::string(error.what()).find(k_key) == std::string::npos);
    return error.problems();
  }
  FAIL("expected ConfigError");
  return {};
}

const char* key_environment(const char* name) {
  return std::string_view(name) == "ROUNDUP_LLM_API_KEY" ? "sk-LEAK-from-env" : nullptr;
}

const char* no_environment(const char*) {
  return nullptr;
}

}  // namespace

TEST_CASE("llm config: absent is off - a present section is read with its defaults") {
  const Config off = parse_config(json::object());
  CHECK_FALSE(off.llm.has_value());
  CHECK(roundup::config::llm_summary(off) == "off");

  const Config defaults = parse_config(llm_section());
  REQUIRE(defaults.llm.has_value());
  CHECK(defaults.llm->base_url == "http://127.0.0.1:11434");
  CHECK(defaults.llm->model == "qwen2.5:7b-instruct");
  CHECK(defaults.llm->api_key.empty());
  CHECK(defaults.llm->timeout_ms == 20000);
  CHECK(defaults.llm->max_tokens == 512);
  CHECK(defaults.llm->temperature == doctest::Approx(0.2));

  const Config full = parse_config(llm_section({{"base_url", "https://api.example.com/v1"},
                                                {"api_key", k_key},
                                                {"timeout_ms", 100},
                                                {"max_tokens", 8192},
                                                {"temperature", 0}}));
  REQUIRE(full.llm.has_value());
  CHECK(full.llm->api_key.value == k_key);
  CHECK(full.llm->timeout_ms == 100);
  CHECK(full.llm->max_tokens == 8192);
  CHECK(full.llm->temperature == 0.0);
  // `config check`'s line: the model and the origin, not the path and never the key.
  CHECK(roundup::config::llm_summary(full) == "qwen2.5:7b-instruct at https://api.example.com");
  CHECK(roundup::config::llm_summary(parse_config(llm_section({{"base_url", "http://[::1]:8000/"}}))) ==
        "qwen2.5:7b-instruct at http://[::1]:8000");
}

TEST_CASE("llm config: each bad value is named by its key path - without quoting it") {
  struct Case {
    json overrides;
    std::string path;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{{"base_url", "ftp://127.0.0.1"}}, "llm.base_url", "http:// or https://"},
      {{{"base_url", "127.0.0.1:11434"}}, "llm.base_url", "http:// or https://"},
      {{{"base_url", "http://"}}, "llm.base_url", "needs a host"},
      {{{"base_url", "http://:8080"}}, "llm.base_url", "needs a host"},
      {{{"base_url", "http://host:99999"}}, "llm.base_url", "port"},
      {{{"base_url", "http://host:0"}}, "llm.base_url", "port"},
      {{{"base_url", std::string("https://user:") + std::string(k_key) + "@api.example.com"}},
       "llm.base_url",
       "credentials"},
      {{{"base_url", std::string("https://api.example.com/v1?key=") + std::string(k_key)}}, "llm.base_url", "query"},
      {{{"base_url", "http://host /v1"}}, "llm.base_url", "spaces"},
      {{{"base_url", 11434}}, "llm.base_url", "expected string"},
      {{{"model", ""}}, "llm.model", "must not be empty"},
      {{{"model", 7}}, "llm.model", "expected string"},
      {{{"api_key", 12345}}, "llm.api_key", "expected string"},
      {{{"timeout_ms", 99}}, "llm.timeout_ms", "between 100 and 600000"},
      {{{"timeout_ms", 600001}}, "llm.timeout_ms", "between 100 and 600000"},
      {{{"timeout_ms", 2.5}}, "llm.timeout_ms", "expected integer"},
      {{{"max_tokens", 15}}, "llm.max_tokens", "between 16 and 8192"},
      {{{"max_tokens", 8193}}, "llm.max_tokens", "between 16 and 8192"},
      {{{"temperature", -0.1}}, "llm.temperature", "between 0"},
      {{{"temperature", 2.5}}, "llm.temperature", "between 0"},
      {{{"temperature", "warm"}}, "llm.temperature", "expected number"},
      {{{"modle", "x"}}, "llm.modle", "did you mean 'model'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.overrides.dump());
    const auto problems = parse_problems(llm_section(c.overrides));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == c.path);
    CHECK(problems[0].message.find(c.says) != std::string::npos);
    CHECK(problems[0].message.find(k_key) == std::string::npos);
  }

  // A present section must name the server and the model; a malformed one is not also "required".
  const auto missing = parse_problems(json{{"llm", json::object()}});
  REQUIRE(missing.size() == 2);
  CHECK(missing[0].path == "llm.base_url");
  CHECK(missing[0].message.find("required") != std::string::npos);
  CHECK(missing[1].path == "llm.model");
  const auto malformed = parse_problems(json{{"llm", {{"base_url", "nope"}, {"model", "m"}}}});
  REQUIRE(malformed.size() == 1);
  CHECK(malformed[0].message.find("required") == std::string::npos);

  CHECK(parse_problems(json{{"llm", "http://127.0.0.1:11434"}}).at(0).path == "llm");
}

TEST_CASE("llm config: ROUNDUP_LLM_API_KEY supplies or overrides the key of a present section only") {
  Config from_env = parse_config(llm_section());
  roundup::config::apply_environment(from_env, &key_environment);
  CHECK(from_env.llm->api_key.value == "sk-LEAK-from-env");

  Config overridden = parse_config(llm_section({{"api_key", k_key}}));
  roundup::config::apply_environment(overridden, &key_environment);
  CHECK(overridden.llm->api_key.value == "sk-LEAK-from-env");

  Config kept = parse_config(llm_section({{"api_key", k_key}}));
  roundup::config::apply_environment(kept, &no_environment);
  CHECK(kept.llm->api_key.value == k_key);

  // The key names no server or model, so it does not turn the model on by itself.
  Config off = parse_config(json::object());
  roundup::config::apply_environment(off, &key_environment);
  CHECK_FALSE(off.llm.has_value());
}

TEST_CASE("llm config: a key a header cannot carry is a runnable problem - never quoted") {
  const Config spaced = parse_config(llm_section({{"api_key", std::string(k_key) + " \n"}}));
  const auto problems = roundup::config::check_runnable(spaced);
  const auto found =
      std::find_if(problems.begin(), problems.end(), [](const ConfigProblem& p) { return p.path == "llm.api_key"; });
  REQUIRE(found != problems.end());
  CHECK(found->message.find(k_key) == std::string::npos);
  CHECK(found->message.find("Authorization") != std::string::npos);

  const Config fine = parse_config(llm_section({{"api_key", k_key}}));
  for (const ConfigProblem& p : roundup::config::check_runnable(fine)) CHECK(p.path != "llm.api_key");
}

TEST_CASE("llm config: config check reports the section's problems - and its summary names no key") {
  roundup::testing::TempDir tmp;
  const std::filesystem::path file = tmp / "llm.json";
  {
    std::ofstream out(file);
    out << json{{"llm", {{"base_url", "https://api.example.com"}, {"api_key", k_key}, {"max_tokens", 1}}}}.dump();
  }
  const auto problems = roundup::config::check_config(file, &key_environment);
  bool named = false;
  for (const ConfigProblem& p : problems) {
    CHECK(p.message.find(k_key) == std::string::npos);
    CHECK(p.message.find("sk-LEAK") == std::string::npos);
    named |= p.path == "llm.max_tokens";
  }
  CHECK(named);
  CHECK(std::any_of(problems.begin(), problems.end(), [](const ConfigProblem& p) { return p.path == "llm.model"; }));

  Config with_key = parse_config(llm_section({{"api_key", k_key}}));
  roundup::config::apply_environment(with_key, &key_environment);
  const std::string summary = roundup::config::llm_summary(with_key);
  CHECK(summary == "qwen2.5:7b-instruct at http://127.0.0.1:11434");
  CHECK(summary.find("sk-LEAK") == std::string::npos);
}

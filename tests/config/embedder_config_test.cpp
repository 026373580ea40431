// retrieval.embedder (issue 17): the hashed default keeps its two keys; kind "openai" reads a
// server, a model and its limits, a key that the environment may supply, and its own fusion
// weights. Every mistake names its key path and never the value.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace {

using nlohmann::json;
using roundup::config::ConfigError;
using roundup::config::ConfigProblem;
using roundup::config::parse_config;

std::vector<ConfigProblem> problems_of(const json& doc, std::string* what = nullptr) {
  try {
    (void)parse_config(doc);
  } catch (const ConfigError& error) {
    if (what) *what = error.what();
    return error.problems();
  }
  FAIL("expected ConfigError");
  return {};
}

const ConfigProblem* problem_at(const std::vector<ConfigProblem>& problems, const std::string& path) {
  const auto it =
      std::find_if(problems.begin(), problems.end(), [&](const ConfigProblem& p) { return p.path == path; });
  return it == problems.end() ? nullptr : &*it;
}

json embedder(json section) {
  return json{{"retrieval", {{"embedder", std::move(section)}}}};
}

const json k_remote = {
    {"kind", "openai"}, {"base_url", "http://127.0.0.1:11434"}, {"model", "bge-m3"}, {"dimension", 1024}};

const char* no_environment(const char*) {
  return nullptr;
}

const char* key_in_environment(const char* name) {
  return std::string_view(name) == "ROUNDUP_EMBEDDER_API_KEY" ? "sk-from-environment" : nullptr;
}

}  // namespace

TEST_CASE("embedder config: the defaults are the hashed embedder's, and a remote one reads every key") {
  const auto defaults = parse_config(json::object()).retrieval.embedder;
  CHECK(defaults.kind == "hashed");
  CHECK(defaults.dimension == 768);
  CHECK(defaults.batch == 32);
  CHECK(defaults.timeout_ms == 60000);
  CHECK(defaults.query_timeout_ms == 1500);
  CHECK(defaults.api_key.empty());
  CHECK_FALSE(defaults.fusion.lexical_weight);
  CHECK_FALSE(defaults.fusion.dense_weight);

  json full = k_remote;
  full["batch"] = 64;
  full["timeout_ms"] = 120000;
  full["query_timeout_ms"] = 800;
  full["api_key"] = "sk-in-file";
  full["fusion"] = {{"dense_weight", 1.5}};
  const auto e = parse_config(embedder(full)).retrieval.embedder;
  CHECK(e.kind == "openai");
  CHECK(e.base_url == "http://127.0.0.1:11434");
  CHECK(e.model == "bge-m3");
  CHECK(e.dimension == 1024);
  CHECK(e.batch == 64);
  CHECK(e.timeout_ms == 120000);
  CHECK(e.query_timeout_ms == 800);
  CHECK(e.api_key.value == "sk-in-file");
  CHECK_FALSE(e.fusion.lexical_weight);  // retrieval.fusion's stays
  REQUIRE(e.fusion.dense_weight);
  CHECK(*e.fusion.dense_weight == doctest::Approx(1.5));
}

TEST_CASE("embedder config: the environment's key wins over the file's") {
  json doc = k_remote;
  doc["api_key"] = "sk-in-file";
  auto config = parse_config(embedder(doc));
  roundup::config::apply_environment(config, &key_in_environment);
  CHECK(config.retrieval.embedder.api_key.value == "sk-from-environment");
  auto untouched = parse_config(embedder(doc));
  roundup::config::apply_environment(untouched, &no_environment);
  CHECK(untouched.retrieval.embedder.api_key.value == "sk-in-file");
}

TEST_CASE("embedder config: a remote embedder's key under the hashed one is an error naming the key") {
  const auto problems = problems_of(embedder({{"dimension", 256}, {"model", "bge-m3"}, {"api_key", "sk-secret-1"}}));
  REQUIRE(problems.size() == 2);
  for (const char* path : {"retrieval.embedder.model", "retrieval.embedder.api_key"}) {
    CAPTURE(path);
    const ConfigProblem* p = problem_at(problems, path);
    REQUIRE(p != nullptr);
    CHECK(p->message.find("only used with kind \"openai\"") != std::string::npos);
  }
  // Also when kind says "hashed" in so many words; a mistyped kind is reported alone.
  CHECK(problems_of(embedder({{"kind", "hashed"}, {"batch", 8}})).size() == 1);
  const auto typo = problems_of(embedder({{"kind", "opneai"}, {"model", "bge-m3"}}));
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].path == "retrieval.embedder.kind");
  CHECK(typo[0].message.find("did you mean 'openai'?") != std::string::npos);

  // From the environment it is a check that keeps `serve` from running.
  auto config = parse_config(json::object());
  roundup::config::apply_environment(config, &key_in_environment);
  const auto runnable = roundup::config::check_runnable(config);
  const ConfigProblem* p = problem_at(runnable, "retrieval.embedder.api_key");
  REQUIRE(p != nullptr);
  CHECK(p->message.find("ROUNDUP_EMBEDDER_API_KEY") != std::string::npos);
  CHECK(p->message.find("sk-from-environment") == std::string::npos);
}

TEST_CASE("embedder config: a remote embedder needs a usable base_url, a model and a dimension in range") {
  const auto missing = problems_of(embedder({{"kind", "openai"}}));
  CHECK(missing.size() == 2);
  CHECK(problem_at(missing, "retrieval.embedder.base_url") != nullptr);
  CHECK(problem_at(missing, "retrieval.embedder.model") != nullptr);

  const std::string secret = "tok-9f8e7d";
  for (const std::string& url :
       {std::string("ftp://models.internal"), std::string("127.0.0.1:11434"),
        "https://user:" + secret + "@models.internal", "http://models.internal/v1?key=" + secret,
        std::string("http://"), std::string("http://host name")}) {
    CAPTURE(url);
    json doc = k_remote;
    doc["base_url"] = url;
    std::string what;
    const auto problems = problems_of(embedder(doc), &what);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "retrieval.embedder.base_url");
    CHECK(what.find(secret) == std::string::npos);
  }
  // With or without /v1, http or https: the server's root either way.
  for (const char* url : {"https://embeddings.example.com/v1", "http://[::1]:8080/", "http://tei:80"}) {
    json doc = k_remote;
    doc["base_url"] = url;
    CHECK_NOTHROW((void)parse_config(embedder(doc)));
  }

  const std::vector<std::pair<std::string, json>> out_of_range = {{"dimension", 8},
                                                                  {"dimension", 5000},
                                                                  {"batch", 0},
                                                                  {"batch", 2049},
                                                                  {"query_timeout_ms", 49},
                                                                  {"query_timeout_ms", 60001},
                                                                  {"timeout_ms", 999},
                                                                  {"model", ""},
                                                                  {"api_key", 42},
                                                                  {"fusion", {{"dense_weight", -1}}},
                                                                  {"fusion", {{"rank", 1}}}};
  for (const auto& bad : out_of_range) {
    const std::string& key = bad.first;  // a plain name: CAPTURE's lambda cannot capture a binding
    CAPTURE(key);
    json doc = k_remote;
    doc[key] = bad.second;
    const auto problems = problems_of(embedder(doc));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path.rfind("retrieval.embedder." + key, 0) == 0);
  }
}

TEST_CASE("embedder config: its fusion weights may not leave both sides at zero") {
  json doc = k_remote;
  doc["fusion"] = {{"dense_weight", 0}};
  json retrieval = {{"fusion", {{"lexical_weight", 0}, {"dense_weight", 1}}}, {"embedder", doc}};
  const auto problems = problems_of(json{{"retrieval", retrieval}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "retrieval.embedder.fusion");
  doc["fusion"] = {{"lexical_weight", 0.5}, {"dense_weight", 0}};
  CHECK_NOTHROW((void)parse_config(embedder(doc)));
}

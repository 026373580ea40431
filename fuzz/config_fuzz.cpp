// libFuzzer target for the configuration reader (config/config.h load_config_text, then the
// environment and check_runnable as `serve` and `config check` run them): JSON text with comments
// in, a Config or a list of problems out. An operator writes the file, but it holds tokens, and
// what is reported about it goes to terminals and CI logs. Seeds: fuzz/corpus/config_fuzz
// (deploy/config.example.json and the documents of tests/config).
//
// Properties: the reader throws nothing but ConfigError, and a ConfigError names at least one
// problem, each with a message; no message quotes a string value of the document (the README's
// promise that a token in the wrong place never reaches a terminal; checked for values that hold
// a character no message template has); a Config that is accepted is within the documented ranges.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/slack/slack_config.h"
#include "adapters/telegram/telegram_config.h"
#include "config/config.h"
#include "fuzz/fuzz_support.h"

namespace {

using nlohmann::json;
namespace config = roundup::config;

// A value is checked when it could not come from the messages' own wording: at least 8 bytes,
// one of them a byte no message template has (non-ASCII, or one of the characters below).
// Otherwise the fuzzer soon finds a value that is a piece of a template ("tform-qualified ").
bool checkable(const std::string& value) {
  if (value.size() < 8) return false;
  for (const char c : value)
    if (static_cast<unsigned char>(c) >= 0x80 || std::string_view("{}|~^`$#%\\").find(c) != std::string_view::npos)
      return true;
  return false;
}

void collect_strings(const json& node, std::vector<std::string>& values, std::vector<std::string>& keys) {
  if (node.is_string()) {
    values.push_back(node.get<std::string>());
  } else if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      keys.push_back(key);
      collect_strings(value, values, keys);
    }
  } else if (node.is_array()) {
    for (const json& value : node) collect_strings(value, values, keys);
  }
}

// Whether `value` occurs in a key: keys are named in messages by design ("unknown key '...'").
bool part_of_a_key(const std::string& value, const std::vector<std::string>& keys) {
  for (const std::string& key : keys)
    if (key.find(value) != std::string::npos) return true;
  return false;
}

void check_quotes_no_value(std::string_view text, const std::vector<config::ConfigProblem>& problems) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) return;
  std::vector<std::string> values;
  std::vector<std::string> keys;
  collect_strings(doc, values, keys);
  for (const std::string& value : values) {
    if (!checkable(value) || part_of_a_key(value, keys)) continue;
    for (const config::ConfigProblem& problem : problems)
      FUZZ_REQUIRE(problem.message.find(value) == std::string::npos);
  }
}

// The built-in platforms' sections, as `serve` reads the file.
const config::PlatformSections& sections() {
  static const config::PlatformSections all = {roundup::adapters::slack::config_section(),
                                               roundup::adapters::telegram::config_section()};
  return all;
}

void check_ranges(const config::Config& c) {
  FUZZ_REQUIRE(c.retrieval.top_k >= 1 && c.retrieval.top_k <= 50);
  FUZZ_REQUIRE(c.retrieval.min_confidence >= 0 && c.retrieval.min_confidence <= c.retrieval.sure_confidence &&
               c.retrieval.sure_confidence <= 1);
  FUZZ_REQUIRE(c.workers >= 1 && c.workers <= 64);
  FUZZ_REQUIRE(c.digest.papers_per_post >= 1 && c.digest.papers_per_post <= 10);
  FUZZ_REQUIRE(config::parse_time_of_day(c.digest.time).has_value());
  FUZZ_REQUIRE(config::parse_listen(c.listen).has_value());
  for (const std::string& admin : c.admins) FUZZ_REQUIRE(config::parse_user_id(admin, sections()).has_value());
  for (const std::string& channel : c.digest.channels)
    FUZZ_REQUIRE(config::parse_qualified_id(channel, sections()).has_value());
}

const char* environment(const char* name) {
  return std::string_view(name) == "ROUNDUP_SLACK_BOT_TOKEN" ? "xoxb-from-the-environment" : nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = roundup::fuzz::as_text(data, size);
  std::vector<config::ConfigProblem> problems;
  try {
    config::Config parsed = config::load_config_text(text, "fuzz.json", sections());
    check_ranges(parsed);
    config::apply_environment(parsed, environment);
    problems = config::check_runnable(parsed);
  } catch (const config::ConfigError& error) {
    problems = error.problems();
    FUZZ_REQUIRE(!problems.empty());
  }
  for (const config::ConfigProblem& problem : problems) FUZZ_REQUIRE(!problem.message.empty());
  check_quotes_no_value(text, problems);
  return 0;
}

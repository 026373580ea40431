// deploy/config.example.json is what the Docker image, the systemd unit and (without comments)
// the Kubernetes ConfigMap run with, so it is loaded here with the real parser: a key renamed or
// a range tightened in config/ fails this test instead of a deployment.

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "config/config.h"
#include "tests/support/platform_config.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using roundup::config::Config;
using roundup::config::ConfigError;

const fs::path k_example = fs::path(ROUNDUP_SOURCE_DIR) / "deploy" / "config.example.json";

Config load_example() {
  try {
    return roundup::config::load_config(k_example, roundup::testing::platform_sections());
  } catch (const ConfigError& error) {
    FAIL("deploy/config.example.json is rejected:\n" << error.what());
    throw;
  }
}

// Well-formed stand-ins for what deploy/compose.yaml, the systemd EnvironmentFile and the
// Kubernetes Secret provide.
const char* fake_secrets(const char* name) {
  if (std::strcmp(name, "ROUNDUP_SLACK_SIGNING_SECRET") == 0) return "0123456789abcdef0123456789abcdef";
  if (std::strcmp(name, "ROUNDUP_SLACK_BOT_TOKEN") == 0) return "xoxb-test";
  if (std::strcmp(name, "ROUNDUP_SLACK_APP_TOKEN") == 0) return "xapp-test";
  if (std::strcmp(name, "ROUNDUP_TELEGRAM_BOT_TOKEN") == 0) return "123456:TEST";
  if (std::strcmp(name, "ROUNDUP_TELEGRAM_SECRET_TOKEN") == 0) return "test-secret";
  return nullptr;
}

}  // namespace

TEST_CASE("deploy/config.example.json: loads - and its values are the documented defaults") {
  const Config example = load_example();

  // The comments say "Default X" next to each value written out; apart from the deployment's own
  // choices below, the written values are those defaults.
  Config expected = roundup::config::default_config(roundup::testing::platform_sections());
  expected.corpus_dir = "/usr/share/roundup/roundups";
  expected.data_dir = "/var/lib/roundup";
  expected.listen = "0.0.0.0:8080";
  expected.retrieval.lexicon_dir = "/usr/share/roundup/lexicon";
  roundup::testing::slack_of(expected).enabled = true;  // the sections are present
  roundup::testing::telegram_of(expected).enabled = true;
  CHECK(example == expected);
}

TEST_CASE("deploy/config.example.json: runs once the secrets come from the environment") {
  Config config = load_example();
  // Without secrets the bot must refuse to start, naming what is missing.
  CHECK_FALSE(roundup::config::check_runnable(config).empty());

  roundup::config::apply_environment(config, &fake_secrets);
  // The image's paths do not exist here: point them at the repository's corpus and lexicon.
  const roundup::testing::TempDir data;
  config.corpus_dir = fs::path(ROUNDUP_SOURCE_DIR) / "data" / "roundups";
  config.retrieval.lexicon_dir = fs::path(ROUNDUP_SOURCE_DIR) / "data" / "lexicon";
  config.data_dir = data.path();
  std::string problems;
  for (const auto& problem : roundup::config::check_runnable(config)) {
    problems += problem.path + ": " + problem.message + "\n";
  }
  CHECK_MESSAGE(problems.empty(), problems);
}

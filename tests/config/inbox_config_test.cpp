// The inbox's keys: how often a failing question is tried before it is quarantined, and when a
// handler counts as over time.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace {

using nlohmann::json;
using roundup::config::ConfigError;
using roundup::config::parse_config;

}  // namespace

TEST_CASE("config: inbox.max_attempts and inbox.handler_timeout_ms are read - defaulted - and range-checked") {
  const auto defaults = parse_config(json::object());
  CHECK(defaults.inbox.max_attempts == 3);
  CHECK(defaults.inbox.handler_timeout_ms == 60000);

  const auto config = parse_config(json::parse(R"({"inbox": {"max_attempts": 5, "handler_timeout_ms": 2500}})"));
  CHECK(config.inbox.max_attempts == 5);
  CHECK(config.inbox.handler_timeout_ms == 2500);

  for (const char* bad : {R"({"inbox": {"max_attempts": 0}})", R"({"inbox": {"max_attempts": 101}})",
                          R"({"inbox": {"handler_timeout_ms": 99}})", R"({"inbox": {"handler_timeout_ms": 3600001}})",
                          R"({"inbox": {"retries": 1}})"}) {
    CAPTURE(bad);
    try {
      (void)parse_config(json::parse(bad));
      FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
      REQUIRE(error.problems().size() == 1);
      CHECK(error.problems()[0].path.rfind("inbox.", 0) == 0);
    }
  }
}

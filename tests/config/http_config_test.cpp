// The `http` keys: how many inbound connections the service holds at once, in all and per peer.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace {

using nlohmann::json;
using roundup::config::ConfigError;
using roundup::config::parse_config;

}  // namespace

TEST_CASE("config: http.max_connections and http.max_connections_per_peer are read - defaulted - and range-checked") {
  const auto defaults = parse_config(json::object());
  CHECK(defaults.http.max_connections == 1000);
  CHECK(defaults.http.max_connections_per_peer == 256);

  const auto config = parse_config(json::parse(R"({"http": {"max_connections": 50, "max_connections_per_peer": 5}})"));
  CHECK(config.http.max_connections == 50);
  CHECK(config.http.max_connections_per_peer == 5);

  for (const char* bad : {R"({"http": {"max_connections": 15}})", R"({"http": {"max_connections": 1000001}})",
                          R"({"http": {"max_connections_per_peer": 0}})", R"({"http": {"max_connections": "many"}})",
                          R"({"http": {"max_connection": 10}})"}) {
    CAPTURE(bad);
    try {
      (void)parse_config(json::parse(bad));
      FAIL("expected ConfigError");
    } catch (const ConfigError& error) {
      REQUIRE(error.problems().size() == 1);
      CHECK(error.problems()[0].path.rfind("http.", 0) == 0);
    }
  }
}

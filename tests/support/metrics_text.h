#pragma once
// Reading one sample out of Prometheus text exposition (GET /metrics, Registry::render()).

#include <sstream>
#include <string>

namespace roundup::testing {

// The value of `series` ("name" or "name{labels}") as written on its sample line; empty when the
// text has no such line.
inline std::string sample_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  }
  return {};
}

// The same, as a number; 0 when the series is not there yet (a counter never incremented).
inline double sample_number(const std::string& text, const std::string& series) {
  const std::string value = sample_value(text, series);
  return value.empty() ? 0 : std::stod(value);
}

}  // namespace roundup::testing

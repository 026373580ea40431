#pragma once
// A wall-clock instant as UTC text, for the soak's configuration and report.

#include <chrono>
#include <ctime>
#include <string>

namespace roundup::soak {

// `format` as strftime takes it ("%Y-%m-%d", "%H:%M:%S").
inline std::string utc_text(std::chrono::system_clock::time_point at, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

}  // namespace roundup::soak

#pragma once
// One-line structured logging for the service: `ts=... level=info component=slack msg="..." k=v`.
// Lines are written whole under a mutex, so concurrent threads never interleave. Secrets must
// never be passed in; config::Secret has no conversion to text for that reason.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace roundup::log {

enum class Level { trace, debug, info, warn, error, off };

// "trace".."off"; anything else is info.
Level parse_level(std::string_view name);
void set_level(Level level);
bool enabled(Level level);

// Output format: logfmt (default) or one JSON object per line.
enum class Format { logfmt, json };
void set_format(Format format);

using Field = std::pair<std::string_view, std::string>;
void write(Level level, std::string_view component, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {}) {
  write(Level::debug, component, message, fields);
}
inline void info(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {}) {
  write(Level::info, component, message, fields);
}
inline void warn(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {}) {
  write(Level::warn, component, message, fields);
}
inline void error(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {}) {
  write(Level::error, component, message, fields);
}

// Adds `request=<id>` to every line this thread writes while the scope lives (an inbox worker
// handling one platform event, say), so one request's lines can be found together. Nests: the
// innermost id wins.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

// Where lines go; stderr by default. Tests capture with a std::ostringstream.
void set_sink(std::ostream* sink);

// Holds back a line that anyone outside can make the service write (a refused request, say): at
// most one line per key per `interval`, so a flood cannot fill the disk. The line let through
// after a quiet spell carries how many were held back since the last one written, so a flood that
// goes on is still counted. Thread-safe.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `clock` defaults to std::chrono::steady_clock::now; tests inject their own.
  explicit RateLimiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(10), Clock clock = {});

  // nullopt: do not write this line. Otherwise write it, with the number of lines for `key` held
  // back since the last one written (as a `suppressed` field when it is not 0). Keys are a
  // bounded set chosen by the caller (reasons, not request data).
  std::optional<std::uint64_t> admit(std::string_view key);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point last_written;
    std::uint64_t suppressed = 0;
  };
  const std::chrono::steady_clock::duration interval_;
  const Clock clock_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary, with "..." appended when it
// was cut: for request data (a URL target) in a log line.
std::string truncated(std::string_view text, std::size_t max_bytes);

}  // namespace roundup::log

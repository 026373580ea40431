#pragma once
// One-line structured logging for the service: `ts=... level=info component=slack msg="..." k=v`.
// Lines are written whole under a mutex, so concurrent threads never interleave. Secrets must
// never be passed in; config::Secret has no conversion to text for that reason.

#include <initializer_list>
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

}  // namespace roundup::log

#include "telemetry/log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

namespace roundup::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::logfmt};
std::mutex g_mutex;
std::ostream* g_sink = &std::cerr;

constexpr std::string_view k_names[] = {"trace", "debug", "info", "warn", "error", "off"};

std::string_view name_of(Level level) {
  return k_names[static_cast<int>(level)];
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const auto length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(length), buffer, static_cast<int>(millis));
  return out;
}

// logfmt: bare when safe, otherwise quoted with \" \\ and \n escaped; control bytes dropped so a
// hostile value cannot forge a second line.
void append_value(std::string& line, std::string_view value) {
  const bool bare = !value.empty() && value.find_first_of(" =\"\\") == std::string_view::npos &&
                    std::all_of(value.begin(), value.end(), [](unsigned char c) { return c > 0x20 && c != 0x7f; });
  if (bare) {
    line += value;
    return;
  }
  line += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      line += c;
    }
  }
  line += '"';
}

}  // namespace

Level parse_level(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (k_names[i] == name) return static_cast<Level>(i);
  }
  return Level::info;
}

void set_level(Level level) {
  g_level = level;
}

bool enabled(Level level) {
  return level != Level::off && level >= g_level.load();
}

void set_format(Format format) {
  g_format = format;
}

void set_sink(std::ostream* sink) {
  std::lock_guard lock(g_mutex);
  g_sink = sink ? sink : &std::cerr;
}

namespace {
thread_local std::string t_request_id;
}  // namespace

RequestScope::RequestScope(std::string request_id) : previous_(std::exchange(t_request_id, std::move(request_id))) {}

RequestScope::~RequestScope() {
  t_request_id = std::move(previous_);
}

RateLimiter::RateLimiter(std::chrono::steady_clock::duration interval, Clock clock)
    : interval_(interval), clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

std::optional<std::uint64_t> RateLimiter::admit(std::string_view key) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    // The callers' keys are a handful of reasons; this only stops a caller's mistake from growing
    // the map without bound.
    if (entries_.size() >= 1024) entries_.clear();
    entries_.emplace(std::string(key), Entry{now, 0});
    return 0;
  }
  Entry& entry = found->second;
  if (now - entry.last_written < interval_) {
    ++entry.suppressed;
    return std::nullopt;
  }
  entry.last_written = now;
  return std::exchange(entry.suppressed, 0);
}

std::string truncated(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) so a character is never split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  std::string out(text.substr(0, end));
  out += "...";
  return out;
}

void write(Level level, std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  std::string line;
  if (g_format.load() == Format::json) {
    nlohmann::json object = {
        {"ts", timestamp()}, {"level", name_of(level)}, {"component", component}, {"msg", message}};
    if (!t_request_id.empty()) object["request"] = t_request_id;
    for (const auto& [key, value] : fields) object[std::string(key)] = value;
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = "ts=" + timestamp() + " level=" + std::string(name_of(level)) + " component=";
    append_value(line, component);
    line += " msg=";
    append_value(line, message);
    if (!t_request_id.empty()) {
      line += " request=";
      append_value(line, t_request_id);
    }
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      append_value(line, value);
    }
  }
  line += '\n';
  std::lock_guard lock(g_mutex);
  *g_sink << line << std::flush;
}

}  // namespace roundup::log

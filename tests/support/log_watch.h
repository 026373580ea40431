#pragma once
// The bot's log as a test can wait on it.

#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "telemetry/log.h"
#include "tests/support/wait.h"

namespace roundup::testing {

// The service's log as a test can wait on it: every flushed line refreshes `seen` under the fake
// API's signal and wakes its waiters. Detaches itself (back to stderr) when it goes.
struct LogWatch {
  struct Buffer : std::stringbuf {
    Signal* signal = nullptr;
    std::string seen;  // a copy taken under the signal's lock, for waiting threads
    int sync() override {
      signal->update([&] { seen = str(); });
      return 0;
    }
  } buffer;
  std::ostream stream{&buffer};
  Signal& signal;

  explicit LogWatch(Signal& s) : signal(s) {
    buffer.signal = &s;
    roundup::log::set_sink(&stream);
  }
  ~LogWatch() { roundup::log::set_sink(nullptr); }
  LogWatch(const LogWatch&) = delete;
  LogWatch& operator=(const LogWatch&) = delete;

  bool wait_for(const std::string& text) {
    return signal.wait_for([&] { return buffer.seen.find(text) != std::string::npos; });
  }
  // Everything logged so far; call once the service has stopped (the logger writes under its own lock).
  std::string text() const { return buffer.str(); }
};

}  // namespace roundup::testing

#include "bot/log.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace log = roundup::log;

// Captures the log for one test and restores the defaults afterwards.
struct Capture {
  std::ostringstream out;
  Capture() { log::set_sink(&out); }
  ~Capture() {
    log::set_sink(nullptr);
    log::set_format(log::Format::logfmt);
  }
};

}  // namespace

TEST_CASE("log: logfmt quotes values that need it and tags lines with the request in scope") {
  Capture capture;
  {
    log::RequestScope request("slack:event:Ev1");
    log::info("slack", "question accepted", {{"channel", "C1"}, {"text", "two words \"quoted\""}});
  }
  log::info("slack", "after");
  const std::string text = capture.out.str();
  CHECK(text.find("component=slack msg=\"question accepted\" request=slack:event:Ev1 channel=C1 "
                  "text=\"two words \\\"quoted\\\"\"\n") != std::string::npos);
  const std::string last = text.substr(text.rfind("ts="));
  CHECK(last.find("request=") == std::string::npos);
}

TEST_CASE("log: JSON lines are one parseable object per line - request scope per thread") {
  Capture capture;
  log::set_format(log::Format::json);
  log::RequestScope outer("telegram:update:7");
  std::thread other([] { log::warn("telegram", "other thread"); });
  other.join();
  log::error("telegram", "broken \xff byte", {{"retry_in_ms", "100"}});
  std::istringstream lines(capture.out.str());
  std::string line;
  std::vector<nlohmann::json> objects;
  while (std::getline(lines, line)) objects.push_back(nlohmann::json::parse(line));
  REQUIRE(objects.size() == 2);
  CHECK(objects[0]["msg"] == "other thread");
  CHECK_FALSE(objects[0].contains("request"));
  CHECK(objects[1]["level"] == "error");
  CHECK(objects[1]["request"] == "telegram:update:7");
  CHECK(objects[1]["retry_in_ms"] == "100");
}

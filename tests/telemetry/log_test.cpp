#include "telemetry/log.h"

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

TEST_CASE("log rate limiter: one line per key per interval - the next one says how many were held back") {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  log::RateLimiter limiter(std::chrono::seconds(10), [&now] { return now; });
  CHECK(limiter.admit("bad_signature") == 0);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.admit("bad_signature"));
  CHECK(limiter.admit("stale_timestamp") == 0);  // keys are independent
  now += std::chrono::seconds(9);
  CHECK_FALSE(limiter.admit("bad_signature"));
  now += std::chrono::seconds(1);  // 10 s after the last line written
  CHECK(limiter.admit("bad_signature") == 6);
  CHECK_FALSE(limiter.admit("bad_signature"));
  now += std::chrono::seconds(10);
  CHECK(limiter.admit("bad_signature") == 1);
  now += std::chrono::minutes(5);
  CHECK(limiter.admit("bad_signature") == 0);  // quiet since: nothing held back
  CHECK(limiter.admit("stale_timestamp") == 0);
}

TEST_CASE("log truncated: cut at a character boundary with a marker") {
  CHECK(log::truncated("short", 10) == "short");
  CHECK(log::truncated("exactly10!", 10) == "exactly10!");
  CHECK(log::truncated("/slack/events?aaaaaaaa", 13) == "/slack/events...");
  // "é" is two bytes: a cut between them backs up to before it.
  CHECK(log::truncated("abcé", 4) == "abc...");
  CHECK(log::truncated(std::string(100000, 'x'), 64).size() == 67);
}

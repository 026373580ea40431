#include "telemetry/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/metrics_text.h"

namespace {

using roundup::telemetry::Counter;
using roundup::telemetry::GaugeRegistration;
using roundup::telemetry::Histogram;
using roundup::telemetry::Registry;
using roundup::testing::sample_value;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("metrics: a small registry renders exactly - families sorted by name") {
  Registry registry;
  Counter& ok = registry.counter("roundup_requests_total", "HTTP requests by route and status.",
                                 {{"route", "/slack/events"}, {"status", "200"}});
  // Label order in the call does not matter; the series is rendered with labels sorted by name.
  Counter& unauthorized = registry.counter("roundup_requests_total", "HTTP requests by route and status.",
                                           {{"status", "401"}, {"route", "/slack/events"}});
  Counter& answers = registry.counter("roundup_answers_sent_total", "Answers delivered.");
  Histogram& latency = registry.histogram("roundup_answer_seconds", "Time to compute an answer.",
                                          {{"platform", "slack"}}, {0.25, 0.5, 1});
  double backlog = 7;
  GaugeRegistration gauge =
      registry.gauge("roundup_outbox_backlog", "Messages waiting in the outbox.", {}, [&backlog] { return backlog; });

  ok.add(3);
  unauthorized.inc();
  answers.inc();
  answers.inc();
  // Binary-exact values so _sum is exact; 0.25 and 0.5 sit on bounds, which are inclusive.
  for (const double seconds : {0.125, 0.25, 0.5, 2.0}) latency.observe(seconds);

  CHECK(registry.render() ==
        "# HELP roundup_answer_seconds Time to compute an answer.\n"
        "# TYPE roundup_answer_seconds histogram\n"
        "roundup_answer_seconds_bucket{platform=\"slack\",le=\"0.25\"} 2\n"
        "roundup_answer_seconds_bucket{platform=\"slack\",le=\"0.5\"} 3\n"
        "roundup_answer_seconds_bucket{platform=\"slack\",le=\"1\"} 3\n"
        "roundup_answer_seconds_bucket{platform=\"slack\",le=\"+Inf\"} 4\n"
        "roundup_answer_seconds_sum{platform=\"slack\"} 2.875\n"
        "roundup_answer_seconds_count{platform=\"slack\"} 4\n"
        "# HELP roundup_answers_sent_total Answers delivered.\n"
        "# TYPE roundup_answers_sent_total counter\n"
        "roundup_answers_sent_total 2\n"
        "# HELP roundup_outbox_backlog Messages waiting in the outbox.\n"
        "# TYPE roundup_outbox_backlog gauge\n"
        "roundup_outbox_backlog 7\n"
        "# HELP roundup_requests_total HTTP requests by route and status.\n"
        "# TYPE roundup_requests_total counter\n"
        "roundup_requests_total{route=\"/slack/events\",status=\"200\"} 3\n"
        "roundup_requests_total{route=\"/slack/events\",status=\"401\"} 1\n");

  // Gauges are read at scrape time.
  backlog = 0.5;
  CHECK(sample_value(registry.render(), "roundup_outbox_backlog") == "0.5");
}

TEST_CASE("metrics: the same name and labels give the same handle") {
  Registry registry;
  Counter& a = registry.counter("x_total", "x", {{"a", "1"}, {"b", "2"}});
  Counter& b = registry.counter("x_total", "x", {{"b", "2"}, {"a", "1"}});
  Counter& other = registry.counter("x_total", "x", {{"a", "1"}, {"b", "3"}});
  CHECK(&a == &b);
  CHECK(&a != &other);
  CHECK(&registry.histogram("h_seconds", "h") == &registry.histogram("h_seconds", "h"));
}

TEST_CASE("metrics: label values and help text are escaped") {
  Registry registry;
  registry
      .counter("escapes_total", "Help with a \\ backslash,\na newline and \"quotes\".",
               {{"path", "C:\\dir\\\"file\"\nnext"}})
      .inc();
  const auto lines = lines_of(registry.render());
  REQUIRE(lines.size() == 3);
  // HELP escapes only backslash and newline; label values escape the quote too.
  CHECK(lines[0] == "# HELP escapes_total Help with a \\\\ backslash,\\na newline and \"quotes\".");
  CHECK(lines[2] == "escapes_total{path=\"C:\\\\dir\\\\\\\"file\\\"\\nnext\"} 1");
}

TEST_CASE("metrics: histogram buckets are cumulative and +Inf equals the count") {
  Registry registry;
  const std::vector<double> bounds = {0.01, 0.1, 1, 10};
  Histogram& histogram = registry.histogram("work_seconds", "Work.", {}, bounds);
  // Per bucket: 3 at <= 0.01 (one negative), 1 in (0.01, 0.1], none in (0.1, 1], 3 in (1, 10],
  // 2 above every bound; the NaN is ignored.
  for (const double value : {0.001, 0.01, -1.0, 0.05, 5.0, 10.0, 7.0, 11.0, 100.0, std::nan("")}) {
    histogram.observe(value);
  }
  const Histogram::Snapshot snapshot = histogram.snapshot();
  CHECK(snapshot.cumulative == std::vector<std::uint64_t>{3, 4, 4, 7, 9});
  CHECK(snapshot.count == 9);

  const std::string text = registry.render();
  CHECK(sample_value(text, "work_seconds_bucket{le=\"0.01\"}") == "3");
  CHECK(sample_value(text, "work_seconds_bucket{le=\"0.1\"}") == "4");
  CHECK(sample_value(text, "work_seconds_bucket{le=\"1\"}") == "4");
  CHECK(sample_value(text, "work_seconds_bucket{le=\"10\"}") == "7");
  CHECK(sample_value(text, "work_seconds_bucket{le=\"+Inf\"}") == "9");
  CHECK(sample_value(text, "work_seconds_count") == "9");
  CHECK(std::stod(sample_value(text, "work_seconds_sum")) == doctest::Approx(132.061));

  // A trailing +Inf bound is accepted and means the same histogram.
  std::vector<double> with_inf = bounds;
  with_inf.push_back(std::numeric_limits<double>::infinity());
  CHECK(&registry.histogram("work_seconds", "Work.", {}, with_inf) == &histogram);
}

TEST_CASE("metrics: concurrent increments from 4 threads sum exactly") {
  Registry registry;
  constexpr int k_threads = 4;
  constexpr int k_per_thread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&registry] {
      // Registration races too: every thread must get the same series.
      Counter& counter = registry.counter("hits_total", "Hits.", {{"route", "/"}});
      Histogram& histogram = registry.histogram("hit_seconds", "Hit time.", {}, {0.5});
      for (int i = 0; i < k_per_thread; ++i) {
        counter.inc();
        histogram.observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 20000 == 0) (void)registry.render();  // scrapes while writers run
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(registry.counter("hits_total", "Hits.", {{"route", "/"}}).value() == k_threads * k_per_thread);
  const auto snapshot = registry.histogram("hit_seconds", "Hit time.", {}, {0.5}).snapshot();
  CHECK(snapshot.cumulative == std::vector<std::uint64_t>{k_threads * k_per_thread / 2, k_threads * k_per_thread});
  CHECK(snapshot.sum == doctest::Approx(k_threads * k_per_thread * 0.625));
}

TEST_CASE("metrics: invalid names and inconsistent registrations are rejected") {
  Registry registry;
  for (const char* name : {"", "1_total", "a-b", "a b", "caf\xc3\xa9", "x{y}"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(registry.counter(name, "h"), std::invalid_argument);
  }
  CHECK_NOTHROW(registry.counter("ns:sub_total", "colons are allowed in metric names"));
  CHECK_NOTHROW(registry.counter("_private_total", "h"));

  for (const char* label : {"", "1a", "a:b", "a-b", "__reserved"}) {
    CAPTURE(label);
    CHECK_THROWS_AS(registry.counter("labelled_total", "h", {{label, "v"}}), std::invalid_argument);
  }
  CHECK_THROWS_AS(registry.counter("dup_total", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("h_seconds", "h", {{"le", "1"}}), std::invalid_argument);

  registry.counter("typed", "h", {{"a", "1"}});
  CHECK_THROWS_AS(registry.histogram("typed", "h", {{"a", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS((void)registry.gauge("typed", "h", {{"a", "1"}}, [] { return 1.0; }), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("typed", "other help", {{"a", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("typed", "h", {{"b", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("typed", "h"), std::invalid_argument);

  CHECK_THROWS_AS(registry.histogram("bad_bounds", "h", {}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("bad_bounds", "h", {}, {2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("bad_bounds", "h", {}, {std::nan("")}), std::invalid_argument);
  registry.histogram("lat_seconds", "h", {}, {1, 2});
  CHECK_THROWS_AS(registry.histogram("lat_seconds", "h", {}, {1, 3}), std::invalid_argument);

  // A histogram's _bucket/_sum/_count lines must not be mistaken for another family's.
  CHECK_THROWS_AS(registry.counter("lat_seconds_count", "h"), std::invalid_argument);
  registry.counter("queue_sum", "h");
  CHECK_THROWS_AS(registry.histogram("queue", "h"), std::invalid_argument);

  CHECK_THROWS_AS((void)registry.gauge("no_callback", "h", {}, nullptr), std::invalid_argument);

  // Nothing rejected was half-registered.
  const std::string text = registry.render();
  CHECK(text.find("bad_bounds") == std::string::npos);
  CHECK(text.find("labelled_total") == std::string::npos);
  CHECK(text.find("# TYPE queue ") == std::string::npos);
}

TEST_CASE("metrics: a gauge lives as long as its registration") {
  Registry registry;
  GaugeRegistration first = registry.gauge("index_passages", "Passages in the index.", {}, [] { return 10.0; });
  CHECK(sample_value(registry.render(), "index_passages") == "10");
  {
    // While two registrations of a series are alive the newer is read; when it goes, the older is.
    GaugeRegistration second = registry.gauge("index_passages", "Passages in the index.", {}, [] { return 20.0; });
    CHECK(sample_value(registry.render(), "index_passages") == "20");
  }
  CHECK(sample_value(registry.render(), "index_passages") == "10");

  GaugeRegistration moved = std::move(first);
  CHECK(sample_value(registry.render(), "index_passages") == "10");
  moved.reset();
  // No series left: the family is left out entirely rather than rendered without samples.
  CHECK(registry.render().empty());

  // A callback that throws loses its sample, not the scrape.
  GaugeRegistration broken =
      registry.gauge("broken", "Throws.", {}, []() -> double { throw std::runtime_error("unavailable"); });
  GaugeRegistration fine = registry.gauge("fine", "Works.", {}, [] { return -1.5; });
  const std::string text = registry.render();
  CHECK(text.find("broken") == std::string::npos);
  CHECK(sample_value(text, "fine") == "-1.5");
}

TEST_CASE("metrics: special values use Prometheus spellings") {
  Registry registry;
  GaugeRegistration inf =
      registry.gauge("special", "h", {{"v", "inf"}}, [] { return std::numeric_limits<double>::infinity(); });
  GaugeRegistration ninf =
      registry.gauge("special", "h", {{"v", "ninf"}}, [] { return -std::numeric_limits<double>::infinity(); });
  GaugeRegistration nan = registry.gauge("special", "h", {{"v", "nan"}}, [] { return std::nan(""); });
  GaugeRegistration big = registry.gauge("special", "h", {{"v", "big"}}, [] { return 1e21; });
  const std::string text = registry.render();
  CHECK(sample_value(text, "special{v=\"inf\"}") == "+Inf");
  CHECK(sample_value(text, "special{v=\"ninf\"}") == "-Inf");
  CHECK(sample_value(text, "special{v=\"nan\"}") == "NaN");
  CHECK(sample_value(text, "special{v=\"big\"}") == "1e+21");
}

TEST_CASE("metrics: the process-wide registry is one object") {
  CHECK(&roundup::telemetry::metrics() == &roundup::telemetry::metrics());
}

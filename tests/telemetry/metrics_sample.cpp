// Prints a registry that uses every feature of bot/metrics.h (labels needing escapes, histograms
// with and without labels, callback gauges with special values) so the ctest
// `metrics_exposition_parses` can check render() with an independent Prometheus text parser
// (scripts/check-metrics.mjs), the same check later run against the live GET /metrics.

#include <iostream>
#include <limits>

#include "telemetry/metrics.h"

int main() {
  roundup::telemetry::Registry registry;

  for (const char* status : {"200", "401", "404"}) {
    registry
        .counter("roundup_http_requests_total", "HTTP requests by route and status.",
                 {{"route", "/slack/events"}, {"status", status}})
        .add(3);
  }
  registry.counter("roundup_http_requests_total", "HTTP requests by route and status.",
                   {{"route", "/telegram/webhook"}, {"status", "200"}});
  registry.counter("roundup_answers_sent_total", "Answers delivered, by platform.", {{"platform", "slack"}}).inc();
  registry
      .counter("roundup_escapes_total", "Help with a \\ backslash\nand a second line.",
               {{"value", "back\\slash \"quoted\"\nnewline, comma={brace}"}})
      .inc();
  registry.counter("roundup_unlabelled_total", "No labels at all.");

  auto& latency = registry.histogram("roundup_answer_seconds", "Time to compute an answer.", {{"platform", "slack"}});
  for (const double seconds : {0.003, 0.02, 0.02, 0.4, 3.0, 12.0}) latency.observe(seconds);
  registry.histogram("roundup_answer_seconds", "Time to compute an answer.", {{"platform", "telegram"}});
  auto& plain = registry.histogram("roundup_index_build_seconds", "Index build time.", {}, {1, 10, 60});
  plain.observe(0.5);
  plain.observe(61);

  const auto backlog =
      registry.gauge("roundup_outbox_backlog", "Messages waiting in the outbox.", {}, [] { return 4; });
  const auto passages = registry.gauge("roundup_index_passages", "Passages in the index.", {}, [] { return 1234.0; });
  const auto inf = registry.gauge("roundup_special_values", "Special float values.", {{"kind", "inf"}},
                                  [] { return std::numeric_limits<double>::infinity(); });
  const auto nan = registry.gauge("roundup_special_values", "Special float values.", {{"kind", "nan"}},
                                  [] { return std::numeric_limits<double>::quiet_NaN(); });
  const auto tiny =
      registry.gauge("roundup_special_values", "Special float values.", {{"kind", "tiny"}}, [] { return 1.5e-9; });

  std::cout << registry.render();
  return std::cout.good() ? 0 : 1;
}

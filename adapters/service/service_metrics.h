#pragma once
// The service's metrics (GET /metrics): the counters and histograms it records, registered once in
// the process-wide registry, and the per-(route, status) request counters read on the ack path.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/server.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::service {

// The route label of requests to paths that are neither operational nor a platform's webhook, so
// a scanner probing random URLs cannot blow up the number of series.
inline constexpr std::string_view k_other_route = "other";

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A delivery's error code as a metrics label: the platform chose it (Slack's "error" member is
// any string its server sends), so anything but a short lower-case word becomes "other" and the
// number of series stays bounded.
inline std::string code_label(std::string_view code) {
  const bool word = !code.empty() && code.size() <= 40 && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  return word ? std::string(code) : "other";
}

// The service's metrics, registered once in the process-wide registry (GET /metrics).
struct ServiceMetrics {
  telemetry::Registry& registry = telemetry::metrics();
  telemetry::Histogram& answer_seconds = registry.histogram(
      "roundup_answer_seconds", "Time to turn one accepted event into its replies (retrieval and rendering)");
  telemetry::Histogram& retrieval_seconds =
      registry.histogram("roundup_retrieval_seconds", "Time the knowledge base took to answer one input");
  telemetry::Histogram& reindex_seconds = registry.histogram(
      "roundup_reindex_seconds", "Duration of admin-requested reindexes", {}, {0.1, 0.5, 1, 5, 15, 60, 300, 1200});

  telemetry::Counter& inbound(const std::string& platform) {
    return registry.counter("roundup_inbound_events_total", "Accepted platform events (questions and commands)",
                            {{"platform", platform}});
  }
  telemetry::Counter& sent(const std::string& platform) {
    return registry.counter("roundup_messages_sent_total", "Messages the platforms confirmed (answers, digests)",
                            {{"platform", platform}});
  }
  telemetry::Counter& retry(const std::string& platform) {
    return registry.counter("roundup_delivery_retries_total", "Delivery attempts that will be retried",
                            {{"platform", platform}});
  }
  // Looked up once: a connection flood calls these for every refused connection.
  telemetry::Counter& refused_server_full = refused_counter(http::ConnectionRefusal::server_full);
  telemetry::Counter& refused_peer_full = refused_counter(http::ConnectionRefusal::peer_full);
  telemetry::Counter& refused_connection(http::ConnectionRefusal why) {
    return why == http::ConnectionRefusal::server_full ? refused_server_full : refused_peer_full;
  }
  telemetry::Counter& refused_counter(http::ConnectionRefusal why) {
    return registry.counter("roundup_http_connections_refused_total",
                            "Connections closed at accept because a connection cap was reached",
                            {{"reason", http::to_string(why)}});
  }
  telemetry::Counter& api_error(const std::string& platform, const std::string& code) {
    return registry.counter("roundup_platform_api_errors_total", "Failed platform API deliveries, by error code",
                            {{"platform", platform}, {"code", code}});
  }
};

ServiceMetrics& service_metrics();

// The HTTP request counters by route and status. Every response passes here (on the ack path),
// so each (route, status) counter is looked up in the registry once and then read from this
// table without a lock. The routes are fixed when the service starts.
class RequestCounters {
 public:
  explicit RequestCounters(std::vector<std::string> routes) : routes_(std::move(routes)), slots_(routes_.size() + 1) {}

  // The route of `path`: its index among the routes, or routes_.size() for "other".
  std::size_t route(const std::string& path) const {
    return static_cast<std::size_t>(std::find(routes_.begin(), routes_.end(), path) - routes_.begin());
  }

  telemetry::Counter& count(std::size_t route, int status) {
    const auto code = static_cast<std::size_t>(std::clamp(status, 100, 599) - 100);
    std::atomic<telemetry::Counter*>& slot = slots_[route][code];
    telemetry::Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      const std::string label = route < routes_.size() ? routes_[route] : std::string(k_other_route);
      counter = &service_metrics().registry.counter("roundup_http_requests_total",
                                                    "HTTP requests served, by route and status",
                                                    {{"route", label}, {"status", std::to_string(code + 100)}});
      slot.store(counter, std::memory_order_release);
    }
    return *counter;
  }

 private:
  std::vector<std::string> routes_;
  std::vector<std::array<std::atomic<telemetry::Counter*>, 500>> slots_;  // per route, then "other"
};

}  // namespace roundup::adapters::service

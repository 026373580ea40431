#pragma once
// Prometheus metrics: a small thread-safe registry of counters, histograms and callback gauges,
// rendered in the text exposition format 0.0.4 (what GET /metrics serves).
//
// Registration (counter(), histogram(), gauge()) takes a lock and allocates; do it once and keep
// the returned reference. Updating through that reference is one relaxed atomic operation with no
// lock and no allocation, so it is cheap enough for every request. Counters and histograms live as
// long as their registry; gauges are read by calling back into their owner at scrape time, so
// they are scoped to a GaugeRegistration the owner holds.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roundup::telemetry {

// The Content-Type of render()'s output, for the HTTP response.
inline constexpr std::string_view k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Upper bounds in seconds for request and answer latencies: 5 ms to 10 s, like the Prometheus
// clients' defaults, which cover a webhook acknowledgement as well as a slow answer.
inline const std::vector<double>& default_seconds_buckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

// Label name -> value. The order given does not matter: a series is identified by its set of
// labels, rendered sorted by name.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc() noexcept { value_.fetch_add(1, std::memory_order_relaxed); }
  void add(std::uint64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  // `bounds`: finite, strictly increasing upper bounds (checked by the registry).
  explicit Histogram(std::vector<double> bounds);

  // Records one observation (seconds, for latencies). NaN is ignored: it would turn _sum into NaN
  // for the rest of the process's life.
  void observe(double value) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  // Per-bucket (not cumulative) counts, the last one for values above every bound. The count is
  // their sum rather than a separate atomic, so _count always equals the +Inf bucket even when a
  // scrape races with observe().
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

class Registry;

// Keeps a gauge's callback registered; destroying (or reset()) it unregisters the gauge and waits
// for a scrape that is reading it, so the callback may capture objects that die with the owner.
class GaugeRegistration {
 public:
  GaugeRegistration() = default;
  GaugeRegistration(GaugeRegistration&& other) noexcept;
  GaugeRegistration& operator=(GaugeRegistration&& other) noexcept;
  GaugeRegistration(const GaugeRegistration&) = delete;
  GaugeRegistration& operator=(const GaugeRegistration&) = delete;
  ~GaugeRegistration();

  void reset() noexcept;

 private:
  friend class Registry;
  struct Slot;
  GaugeRegistration(Registry* registry, std::shared_ptr<Slot> slot) : registry_(registry), slot_(std::move(slot)) {}

  Registry* registry_ = nullptr;
  std::shared_ptr<Slot> slot_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry() = default;  // every GaugeRegistration of it must be gone by then

  // Returns the series' counter, creating it (and its family) on first use; the same name and
  // labels always give the same object. Throws std::invalid_argument for an invalid metric or
  // label name, a name already used by another type or with another help text, label names that
  // differ from the family's, or a name that collides with a histogram's _bucket/_sum/_count.
  Counter& counter(std::string_view name, std::string_view help, const MetricLabels& labels = {});

  // As counter(); `bounds` must be finite and strictly increasing (a trailing +Inf is accepted
  // and implied anyway) and the same for every series of the family. "le" is not a label name.
  Histogram& histogram(std::string_view name, std::string_view help, const MetricLabels& labels = {},
                       const std::vector<double>& bounds = default_seconds_buckets());

  // A gauge whose value is `read()` at scrape time (a queue's backlog, the index's size). It is
  // called without the registry's lock held, on the scraping thread; if it throws, that sample is
  // left out of the scrape. While two registrations of one series are alive, the newer is read.
  [[nodiscard]] GaugeRegistration gauge(std::string_view name, std::string_view help, const MetricLabels& labels,
                                        std::function<double()> read);

  // The text exposition format 0.0.4: families sorted by name, each with # HELP and # TYPE, its
  // series sorted by label values. Families without a series (a gauge none registers) are left out.
  std::string render() const;

 private:
  friend class GaugeRegistration;
  enum class Type { counter, gauge, histogram };
  struct Series {
    std::string labels;  // rendered `a="x",b="y"`, without braces
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::vector<std::shared_ptr<GaugeRegistration::Slot>> gauges;  // newest last
  };
  struct Family {
    Type type = Type::counter;
    std::string help;
    std::vector<std::string> label_names;               // sorted
    std::vector<double> bounds;                         // histograms
    std::map<std::vector<std::string>, Series> series;  // keyed by values, in label_names order
  };

  Series& series_for(std::string_view name, std::string_view help, Type type, const MetricLabels& labels,
                     const std::vector<double>* bounds);
  void unregister(const std::shared_ptr<GaugeRegistration::Slot>& slot) noexcept;

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// The process-wide registry the service exposes. Tests should build their own Registry.
Registry& metrics();

}  // namespace roundup::telemetry

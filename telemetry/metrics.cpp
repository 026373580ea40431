#include "telemetry/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace roundup::telemetry {

struct GaugeRegistration::Slot {
  // Held while the callback runs, so unregistering waits for a scrape that is reading it.
  std::mutex mutex;
  std::function<double()> read;
  // The series that lists this slot; only touched under the registry's lock. Series live in
  // std::map nodes that are never erased, so the pointer stays valid.
  Registry::Series* series = nullptr;
};

namespace {

bool is_name_start(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_name_char(char c, bool allow_colon) {
  return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: the same without ':'.
bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty() || !is_name_start(name.front(), allow_colon)) return false;
  return std::all_of(name.begin(), name.end(), [allow_colon](char c) { return is_name_char(c, allow_colon); });
}

[[noreturn]] void reject(std::string_view name, const std::string& why) {
  throw std::invalid_argument("metric '" + std::string(name) + "': " + why);
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Shortest text that reads back as the same double; Prometheus spells the specials +Inf, -Inf, NaN.
void append_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

// The sample names a family's lines use, for detecting two families that would render the same
// name (a counter "x_count" beside a histogram "x").
std::vector<std::string> sample_names(std::string_view name, bool histogram) {
  const std::string base(name);
  if (histogram) return {base, base + "_bucket", base + "_sum", base + "_count"};
  return {base};
}

std::vector<double> checked_bounds(std::string_view name, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) reject(name, "histogram bounds must be finite (+Inf is implied)");
    if (i > 0 && !(bounds[i - 1] < bounds[i])) reject(name, "histogram bounds must be strictly increasing");
  }
  return bounds;
}

}  // namespace

// ---------------------------------------------------------------------------
// Histogram

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) noexcept {
  if (std::isnan(value)) return;
  // `le` is inclusive: a value equal to a bound belongs to that bound's bucket.
  const auto index =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

// ---------------------------------------------------------------------------
// GaugeRegistration

GaugeRegistration::GaugeRegistration(GaugeRegistration&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), slot_(std::move(other.slot_)) {}

GaugeRegistration& GaugeRegistration::operator=(GaugeRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    slot_ = std::move(other.slot_);
  }
  return *this;
}

GaugeRegistration::~GaugeRegistration() {
  reset();
}

void GaugeRegistration::reset() noexcept {
  if (!slot_) return;
  {
    // Waits for a scrape in the callback; after this the callback's captures are never touched.
    std::lock_guard lock(slot_->mutex);
    slot_->read = nullptr;
  }
  registry_->unregister(slot_);
  slot_.reset();
  registry_ = nullptr;
}

// ---------------------------------------------------------------------------
// Registry

// Called with mutex_ held, so two threads registering the same new series get the same object.
Registry::Series& Registry::series_for(std::string_view name, std::string_view help, Type type,
                                       const MetricLabels& labels, const std::vector<double>* bounds) {
  if (!valid_name(name, /*allow_colon=*/true)) reject(name, "invalid metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*)");
  MetricLabels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> label_names;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& [label, value] = sorted[i];
    if (!valid_name(label, /*allow_colon=*/false)) reject(name, "invalid label name '" + label + "'");
    if (label.rfind("__", 0) == 0) reject(name, "label names starting with '__' are reserved");
    if (type == Type::histogram && label == "le") reject(name, "'le' is reserved for histogram buckets");
    if (i > 0 && sorted[i - 1].first == label) reject(name, "duplicate label '" + label + "'");
    label_names.push_back(label);
    values.push_back(value);
  }
  std::vector<double> checked = bounds ? checked_bounds(name, *bounds) : std::vector<double>{};

  auto family_it = families_.find(name);
  if (family_it == families_.end()) {
    const auto mine = sample_names(name, type == Type::histogram);
    for (const auto& [other_name, other] : families_) {
      for (const auto& theirs : sample_names(other_name, other.type == Type::histogram)) {
        if (std::find(mine.begin(), mine.end(), theirs) != mine.end()) {
          reject(name, "its samples would collide with those of '" + other_name + "'");
        }
      }
    }
    Family family;
    family.type = type;
    family.help = std::string(help);
    family.label_names = label_names;
    family.bounds = std::move(checked);
    family_it = families_.emplace(std::string(name), std::move(family)).first;
  } else {
    const Family& family = family_it->second;
    if (family.type != type) reject(name, "already registered with another type");
    if (family.help != help) reject(name, "already registered with another help text");
    if (family.label_names != label_names) reject(name, "already registered with other label names");
    if (type == Type::histogram && family.bounds != checked) reject(name, "already registered with other bounds");
  }

  Family& family = family_it->second;
  auto [series_it, inserted] = family.series.try_emplace(std::move(values));
  Series& series = series_it->second;
  if (inserted) {
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) series.labels += ',';
      series.labels += sorted[i].first;
      series.labels += "=\"";
      append_escaped(series.labels, sorted[i].second, /*escape_quote=*/true);
      series.labels += '"';
    }
    if (type == Type::counter) series.counter = std::make_unique<Counter>();
    if (type == Type::histogram) series.histogram = std::make_unique<Histogram>(family.bounds);
  }
  return series;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  return *series_for(name, help, Type::counter, labels, nullptr).counter;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                               const std::vector<double>& bounds) {
  std::lock_guard lock(mutex_);
  return *series_for(name, help, Type::histogram, labels, &bounds).histogram;
}

GaugeRegistration Registry::gauge(std::string_view name, std::string_view help, const MetricLabels& labels,
                                  std::function<double()> read) {
  if (!read) reject(name, "a gauge needs a callback");
  auto slot = std::make_shared<GaugeRegistration::Slot>();
  slot->read = std::move(read);
  std::lock_guard lock(mutex_);
  Series& series = series_for(name, help, Type::gauge, labels, nullptr);
  slot->series = &series;
  series.gauges.push_back(slot);
  return GaugeRegistration(this, std::move(slot));
}

void Registry::unregister(const std::shared_ptr<GaugeRegistration::Slot>& slot) noexcept {
  std::lock_guard lock(mutex_);
  auto& gauges = slot->series->gauges;
  gauges.erase(std::remove(gauges.begin(), gauges.end(), slot), gauges.end());
}

std::string Registry::render() const {
  // Copy what is needed under the lock, then read values and call gauge callbacks without it: a
  // callback may take its owner's locks, and that owner may be registering a metric right now.
  struct SeriesView {
    std::string labels;
    const Counter* counter = nullptr;
    const Histogram* histogram = nullptr;
    std::shared_ptr<GaugeRegistration::Slot> gauge;
  };
  struct FamilyView {
    std::string name;
    std::string help;
    Type type = Type::counter;
    std::vector<double> bounds;
    std::vector<SeriesView> series;
  };
  std::vector<FamilyView> views;
  {
    std::lock_guard lock(mutex_);
    views.reserve(families_.size());
    for (const auto& [name, family] : families_) {
      FamilyView view{name, family.help, family.type, family.bounds, {}};
      for (const auto& [values, series] : family.series) {
        if (family.type == Type::gauge && series.gauges.empty()) continue;
        view.series.push_back(SeriesView{series.labels, series.counter.get(), series.histogram.get(),
                                         series.gauges.empty() ? nullptr : series.gauges.back()});
      }
      views.push_back(std::move(view));
    }
  }

  std::string out;
  std::string family_text;
  for (const FamilyView& family : views) {
    family_text.clear();
    for (const SeriesView& series : family.series) {
      const std::string braced = series.labels.empty() ? std::string() : "{" + series.labels + "}";
      switch (family.type) {
        case Type::counter:
          family_text += family.name + braced + ' ';
          append_uint(family_text, series.counter->value());
          family_text += '\n';
          break;
        case Type::gauge: {
          double value = 0;
          {
            std::lock_guard lock(series.gauge->mutex);
            if (!series.gauge->read) continue;  // unregistered since the snapshot
            try {
              value = series.gauge->read();
            } catch (...) {
              continue;  // one unavailable source must not fail the whole scrape
            }
          }
          family_text += family.name + braced + ' ';
          append_double(family_text, value);
          family_text += '\n';
          break;
        }
        case Type::histogram: {
          const Histogram::Snapshot snapshot = series.histogram->snapshot();
          const std::string prefix = family.name + "_bucket{" + series.labels + (series.labels.empty() ? "" : ",");
          for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
            family_text += prefix + "le=\"";
            if (i < family.bounds.size()) {
              append_double(family_text, family.bounds[i]);
            } else {
              family_text += "+Inf";
            }
            family_text += "\"} ";
            append_uint(family_text, snapshot.cumulative[i]);
            family_text += '\n';
          }
          family_text += family.name + "_sum" + braced + ' ';
          append_double(family_text, snapshot.sum);
          family_text += '\n' + family.name + "_count" + braced + ' ';
          append_uint(family_text, snapshot.count);
          family_text += '\n';
          break;
        }
      }
    }
    if (family_text.empty()) continue;
    out += "# HELP " + family.name + ' ';
    append_escaped(out, family.help, /*escape_quote=*/false);
    out += "\n# TYPE " + family.name + ' ';
    out += family.type == Type::counter ? "counter" : family.type == Type::gauge ? "gauge" : "histogram";
    out += '\n';
    out += family_text;
  }
  return out;
}

Registry& metrics() {
  // Never destroyed: objects with static storage may still hold a GaugeRegistration or update a
  // counter while the process exits, after a function-local static registry would be gone.
  static Registry* const registry = new Registry;
  return *registry;
}

}  // namespace roundup::telemetry

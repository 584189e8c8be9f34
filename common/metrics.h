#pragma once
// The counter registry: every component registers its counters and gauges here (name, labels,
// help, type). The stats line is printed from it; a metrics endpoint reads the same entries.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/counter.h"

namespace stash53 {

enum class MetricType : std::uint8_t { Counter, Gauge };

/// One registered metric. `instance` names the component instance it belongs to (an emitter's
/// or an enricher's name, empty for the pipeline's own), `labels` break a family down
/// (`malformed{reason="bad-pointer"}`).
struct MetricInfo {
  std::string component;  // "" (pipeline), "emitter", "enricher"
  std::string instance;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string help;
  MetricType type = MetricType::Counter;
  bool hide_zero = false;  // left off the stats line while zero
};

/// A latency histogram with fixed buckets (Prometheus's defaults, 1 ms to 10 s), one writer
/// thread. Observations are in nanoseconds; exported in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 11> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  10.0};
  void observe(std::int64_t ns) noexcept {
    const double s = static_cast<double>(ns) * 1e-9;
    std::size_t b = 0;
    while (b < kBounds.size() && s > kBounds[b]) ++b;
    buckets_[b].add();
    sum_ns_.add(ns > 0 ? static_cast<std::uint64_t>(ns) : 0);
  }
  /// Observations in bucket b (not cumulative); b == kBounds.size() is above the last bound.
  [[nodiscard]] std::uint64_t bucket(std::size_t b) const noexcept { return buckets_[b].get(); }
  [[nodiscard]] std::uint64_t sum_ns() const noexcept { return sum_ns_.get(); }

 private:
  std::array<Counter, kBounds.size() + 1> buckets_;
  Counter sum_ns_;
};

/// Registration happens at start-up on one thread; reading (snapshot, stats_line) from any
/// thread afterwards. The read functions must stay valid as long as the registry.
class MetricRegistry {
 public:
  /// Registers `counter` (which must outlive the registry).
  void add(MetricInfo info, const Counter& counter);
  /// Registers a value read by `read` (a gauge, or a counter kept elsewhere, e.g. by libpcap).
  void add(MetricInfo info, std::function<std::uint64_t()> read);
  /// Registers a histogram (exported by the metrics endpoint, not on the stats line).
  void add(MetricInfo info, const Histogram& histogram);
  /// Registers each metric of `parts` (registries of the same metrics in the same order: one
  /// per pipeline worker; no histograms) as the sum over them, under the first one's names.
  void add_sums(std::shared_ptr<const std::vector<MetricRegistry>> parts);

  struct Sample {
    const MetricInfo* info;
    std::uint64_t value;
  };
  /// Every metric's value, in registration order. Read last-registered first, so a downstream
  /// count never exceeds its upstream one (`messages` ≤ `packets`, `sent` ≤ `queued`) when
  /// components register in pipeline order.
  [[nodiscard]] std::vector<Sample> snapshot() const;
  /// One line: the pipeline's metrics, a family with labels as `name=sum (a=1,b=2)`, then
  /// ` | <instance> name=value …` per component instance.
  [[nodiscard]] std::string stats_line() const;
  [[nodiscard]] const std::vector<MetricInfo>& metrics() const noexcept { return infos_; }
  /// The Prometheus text exposition (version 0.0.4) of every metric: names
  /// `stash53_[<component>_]<name>[_total]` with `-` as `_`, the instance as a label named
  /// after the component (`emitter="redis"`), HELP and TYPE lines.
  [[nodiscard]] std::string prometheus() const;

 private:
  std::vector<MetricInfo> infos_;
  std::vector<std::function<std::uint64_t()>> readers_;
  std::vector<std::pair<MetricInfo, const Histogram*>> histograms_;
};

}  // namespace stash53

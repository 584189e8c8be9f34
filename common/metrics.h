#pragma once
// The counter registry: every component registers its counters and gauges here (name, labels,
// help, type). The stats line is printed from it; a metrics endpoint reads the same entries.

#include <cstdint>
#include <functional>
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

/// Registration happens at start-up on one thread; reading (snapshot, stats_line) from any
/// thread afterwards. The read functions must stay valid as long as the registry.
class MetricRegistry {
 public:
  /// Registers `counter` (which must outlive the registry).
  void add(MetricInfo info, const Counter& counter);
  /// Registers a value read by `read` (a gauge, or a counter kept elsewhere, e.g. by libpcap).
  void add(MetricInfo info, std::function<std::uint64_t()> read);

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

 private:
  std::vector<MetricInfo> infos_;
  std::vector<std::function<std::uint64_t()>> readers_;
};

}  // namespace stash53

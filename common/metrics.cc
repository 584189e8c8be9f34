#include "common/metrics.h"

#include <fmt/format.h>

namespace stash53 {

void MetricRegistry::add(MetricInfo info, const Counter& counter) {
  add(std::move(info), [&counter] { return counter.get(); });
}

void MetricRegistry::add(MetricInfo info, std::function<std::uint64_t()> read) {
  infos_.push_back(std::move(info));
  readers_.push_back(std::move(read));
}

std::vector<MetricRegistry::Sample> MetricRegistry::snapshot() const {
  std::vector<Sample> out(infos_.size());
  for (std::size_t i = infos_.size(); i-- > 0;) out[i] = {&infos_[i], readers_[i]()};
  return out;
}

std::string MetricRegistry::stats_line() const {
  const auto samples = snapshot();
  std::string line, group;
  for (std::size_t i = 0; i < samples.size();) {
    const MetricInfo& m = *samples[i].info;
    if (m.instance != group) {
      group = m.instance;
      // Emitters keep the bare instance name that readers of the line already parse.
      line += fmt::format(" | {}{}", m.component == "emitter" ? "" : m.component + ":", group);
    }
    if (m.labels.empty()) {
      if (!m.hide_zero || samples[i].value != 0)
        line += fmt::format(" {}={}", m.name, samples[i].value);
      ++i;
      continue;
    }
    // A labelled family: its sum, then the parts that are not zero.
    std::uint64_t sum = 0;
    std::string parts;
    for (; i < samples.size() && samples[i].info->name == m.name &&
           samples[i].info->instance == m.instance;
         ++i) {
      sum += samples[i].value;
      if (samples[i].value != 0)
        parts += fmt::format("{}{}={}", parts.empty() ? "" : ",", samples[i].info->labels[0].second,
                             samples[i].value);
    }
    if (!m.hide_zero || sum != 0) line += fmt::format(" {}={}", m.name, sum);
    if (!parts.empty()) line += " (" + parts + ")";
  }
  return line.substr(line.starts_with(" | ") ? 3 : line.empty() ? 0 : 1);
}

}  // namespace stash53

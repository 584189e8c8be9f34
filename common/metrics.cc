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

void MetricRegistry::add(MetricInfo info, const Histogram& histogram) {
  histograms_.emplace_back(std::move(info), &histogram);
}

void MetricRegistry::add_sums(std::shared_ptr<const std::vector<MetricRegistry>> parts) {
  if (parts->empty()) return;
  for (std::size_t i = 0; i < parts->front().infos_.size(); ++i)
    add(parts->front().infos_[i], [parts, i] {
      std::uint64_t sum = 0;
      for (const auto& part : *parts) sum += part.readers_[i]();
      return sum;
    });
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
      const std::string label =
          m.component == "emitter" || m.component.empty() ? group : m.component + ":" + group;
      line += label.empty() ? " |" : " | " + label;
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

namespace {

std::string prometheus_name(const MetricInfo& m) {
  std::string name = "stash53_" + (m.component.empty() ? "" : m.component + "_") + m.name;
  for (char& c : name)
    if (c == '-' || c == ':' || c == '.') c = '_';
  return name;
}

// Label values escaped as the exposition format asks (backslash, quote, newline).
void append_label(std::string& out, std::string_view key, std::string_view value) {
  out += out.back() == '{' ? "" : ",";
  out += key;
  out += "=\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

std::string labels_of(const MetricInfo& m, std::string_view extra_key = {},
                      std::string_view extra_value = {}) {
  std::string out = "{";
  if (!m.instance.empty()) append_label(out, m.component, m.instance);
  for (const auto& [k, v] : m.labels) append_label(out, k, v);
  if (!extra_key.empty()) append_label(out, extra_key, extra_value);
  return out.size() == 1 ? std::string() : out + "}";
}

}  // namespace

std::string MetricRegistry::prometheus() const {
  const auto samples = snapshot();
  // A family's samples may be registered apart (one per emitter): group them by name, in the
  // order each family first appears, with one HELP and TYPE line each.
  std::vector<std::string> order;
  std::vector<std::string> bodies;
  auto body = [&](const std::string& family, const MetricInfo& m, const char* type) -> std::string& {
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i] == family) return bodies[i];
    order.push_back(family);
    std::string help = m.help;
    for (std::size_t p = 0; (p = help.find('\n', p)) != std::string::npos;) help.replace(p, 1, " ");
    bodies.push_back(fmt::format("# HELP {} {}\n# TYPE {} {}\n", family, help, family, type));
    return bodies.back();
  };
  for (const auto& s : samples) {
    const MetricInfo& m = *s.info;
    const bool counter = m.type == MetricType::Counter;
    const std::string family = prometheus_name(m) + (counter ? "_total" : "");
    body(family, m, counter ? "counter" : "gauge") +=
        fmt::format("{}{} {}\n", family, labels_of(m), s.value);
  }
  for (const auto& [m, h] : histograms_) {
    const std::string family = prometheus_name(m);
    std::string& out = body(family, m, "histogram");
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= Histogram::kBounds.size(); ++b) {
      cumulative += h->bucket(b);
      const std::string le =
          b < Histogram::kBounds.size() ? fmt::format("{}", Histogram::kBounds[b]) : "+Inf";
      out += fmt::format("{}_bucket{} {}\n", family, labels_of(m, "le", le), cumulative);
    }
    out += fmt::format("{}_sum{} {}\n", family, labels_of(m), static_cast<double>(h->sum_ns()) * 1e-9);
    out += fmt::format("{}_count{} {}\n", family, labels_of(m), cumulative);
  }
  std::string text;
  for (const auto& b : bodies) text += b;
  return text;
}

}  // namespace stash53

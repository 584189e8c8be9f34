#include "app/components.h"

#include <algorithm>

namespace stash53::app {
namespace {

struct EnrichEntry {
  config::ComponentConfig* config;
  bool by_default;
};

}  // namespace

Components build_components(config::Config& cfg, const EnrichOverrides& overrides) {
  Components out;
  // Without an `enrich` section, the defaults; an explicit `enrich: []` turns them all off.
  std::vector<config::ComponentConfig> defaults;
  if (!cfg.enrich_given)
    for (const auto& type : enrich::default_enrichers()) {
      YAML::Node n(YAML::NodeType::Map);
      defaults.push_back({type, type, config::OptionReader(n, "enrich(default " + type + ")")});
    }
  auto& list = cfg.enrich_given ? cfg.enrich : defaults;
  std::vector<bool> by_default(list.size(), !cfg.enrich_given);

  for (const auto& s : overrides.set) {
    auto it =
        std::find_if(list.begin(), list.end(), [&](const auto& c) { return c.type == s.type; });
    if (it == list.end()) {
      YAML::Node n(YAML::NodeType::Map);
      list.push_back({s.type, s.type, config::OptionReader(n, "command line (" + s.type + ")")});
      by_default.push_back(false);
      it = std::prev(list.end());
    }
    by_default[static_cast<std::size_t>(it - list.begin())] =
        false;  // asked for: no stepping aside
    if (!s.key.empty()) it->options.set(s.key, s.value);
  }
  for (const auto& type : overrides.disabled)
    if (!enrich::is_enricher(type))
      throw config::ConfigError("--no-enrich: " + enrich::unknown_enricher(type));

  std::vector<EnrichEntry> entries;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (std::find(overrides.disabled.begin(), overrides.disabled.end(), list[i].type) ==
        overrides.disabled.end())
      entries.push_back({&list[i], by_default[i]});
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return enrich::stage_of(a.config->type) < enrich::stage_of(b.config->type);
  });
  out.enrich_effective = YAML::Node(YAML::NodeType::Sequence);
  out.enrichers.resize(cfg.workers);
  for (auto& e : entries) {
    auto enricher = enrich::make_enricher({e.config->type, &e.config->options, e.by_default});
    e.config->options.finish();
    YAML::Node shown = e.config->options.effective();
    shown["type"] = e.config->type;
    out.enrich_fingerprint += e.config->type + ":" + e.config->options.fingerprint() + ";";
    if (!enricher) continue;  // a default that stepped aside
    out.enrich_effective.push_back(shown);
    out.enrichers[0].push_back(std::move(enricher));
    // Each worker has its own: enrichers keep per-client state and caches, unshared.
    for (std::size_t w = 1; w < cfg.workers; ++w)
      out.enrichers[w].push_back(
          enrich::make_enricher({e.config->type, &e.config->options, e.by_default}));
  }

  const bool offline = !cfg.capture.file.empty();
  out.emitters_effective = YAML::Node(YAML::NodeType::Sequence);
  for (auto& e : cfg.emitters) {
    out.emitters.push_back(emitters::make_emitter({e.name, e.type, &e.options, offline, cfg.workers}));
    e.options.finish();
    YAML::Node shown = e.options.effective();
    shown["name"] = e.name;
    shown["type"] = e.type;
    out.emitters_effective.push_back(shown);
    out.emitter_fingerprints.push_back(e.type + ":" + e.options.fingerprint());
  }
  return out;
}

}  // namespace stash53::app

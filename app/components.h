#pragma once
// Building the components a config asks for: the enrichers (defaults, config entries and
// command-line changes merged, ordered by stage) and the emitters.

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "emitters/emitter.h"
#include "enrich/enricher.h"

namespace stash53::app {

/// Command-line changes to the enrichers, applied over the config file's list (or the defaults).
struct EnrichOverrides {
  struct Set {
    std::string type, key;
    YAML::Node value;
  };
  std::vector<Set> set;  // an enricher missing from the list is added; an empty key sets nothing
  std::vector<std::string> disabled;
};

struct Components {
  // One set per pipeline worker (Config::workers), each in run order.
  std::vector<std::vector<std::unique_ptr<enrich::Enricher>>> enrichers;
  std::vector<std::unique_ptr<emitters::Emitter>> emitters;
  // What a reload compares to tell a changed component from an unchanged one.
  std::string enrich_fingerprint;
  std::vector<std::string> emitter_fingerprints;  // one per emitter
  YAML::Node enrich_effective, emitters_effective;  // for --print-config
};

/// Builds every enricher (once per worker) and emitter (connects nothing). Throws config::ConfigError naming the
/// key; opening a database may throw std::runtime_error naming the file.
[[nodiscard]] Components build_components(config::Config& cfg, const EnrichOverrides& overrides);

}  // namespace stash53::app

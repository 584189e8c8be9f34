#pragma once
// Enrichers add derived fields to an event. Each owns one block of fields, declared in its own
// file as event::ValueField constants, and is named after it (`geoip`, `tld`, `nsid`). They run
// on the pipeline thread, ordered by stage, then in config order.
//
// Adding an enricher is one file plus one line: `enrich/<type>.cc` defines its fields and its
// class and ends with STASH53_REGISTER_ENRICHER; `enrich/CMakeLists.txt` gets
// `stash53_add_enricher(<type> SOURCES <type>.cc [DEPS ...])`, which also makes the build option
// STASH53_WITH_<TYPE>.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/counter.h"
#include "common/metrics.h"
#include "config/option_reader.h"
#include "decode/dns_event.h"

namespace stash53::enrich {

/// Enrichers run in stage order: annotations first (they read the decoded event), then
/// classification (reads annotations such as registered_domain), then privacy (rewrites
/// addresses and names after everything else has used them).
enum class Stage : std::uint8_t { Annotate, Classify, Privacy };

class Enricher {
 public:
  virtual ~Enricher() = default;
  /// Fills this enricher's block of `ev`; on a miss leaves it empty. Never throws, never blocks.
  virtual void enrich(decode::DnsEvent& ev) noexcept = 0;
  /// Registers its counters under component "enricher", instance type(): by default hits (the
  /// block was filled), misses (nothing to add) and errors.
  virtual void register_metrics(MetricRegistry& registry) const;
  /// For the start-up log: its type and what it runs with (a database and its version).
  [[nodiscard]] virtual std::string describe() const { return type_; }
  /// The registered type it was built as (set by make_enricher).
  [[nodiscard]] const std::string& type() const noexcept { return type_; }

 protected:
  Counter hits_, misses_, errors_;  // pipeline thread

 private:
  friend std::unique_ptr<Enricher> make_enricher(const struct EnricherSpec& spec);
  std::string type_;
};

/// Built by main: whether the enricher was asked for in the config (or by a flag) or is one of
/// the defaults, which may step aside when what they need is missing (a GeoIP database).
struct EnricherSpec {
  std::string type;
  config::OptionReader* options;  // the enricher reads its keys; the caller calls finish()
  bool by_default = false;
};

/// Builds the enricher spec.type. Returns null when a default enricher cannot run here (it
/// logs why). Throws config::ConfigError for an unknown type or a bad option.
[[nodiscard]] std::unique_ptr<Enricher> make_enricher(const EnricherSpec& spec);
/// The stage of a registered type (Annotate for an unknown one).
[[nodiscard]] Stage stage_of(const std::string& type);
/// The enrichers used when the config has no `enrich` section, in run order.
[[nodiscard]] std::vector<std::string> default_enrichers();
/// Whether `type` is a registered enricher.
[[nodiscard]] bool is_enricher(const std::string& type);
/// "unknown enricher 'x' (known: geoip, nsid, …)", for config errors.
[[nodiscard]] std::string unknown_enricher(const std::string& type);

using EnricherFactory = std::unique_ptr<Enricher> (*)(const EnricherSpec&);
/// Called by STASH53_REGISTER_ENRICHER at static initialisation.
bool register_enricher(const char* type, EnricherFactory factory, Stage stage, bool on_by_default);

}  // namespace stash53::enrich

/// Registers `Class` (constructible from `const EnricherSpec&`) as enricher `type`, run at
/// `stage` (Annotate, Classify, Privacy) and, when `on_by_default`, without configuration.
#define STASH53_REGISTER_ENRICHER(type, Class, stage, on_by_default)                         \
  [[maybe_unused]] static const bool stash53_enricher_registered_##Class =                   \
      ::stash53::enrich::register_enricher(                                                  \
          type,                                                                              \
          [](const ::stash53::enrich::EnricherSpec& spec)                                    \
              -> std::unique_ptr<::stash53::enrich::Enricher> {                              \
            return std::make_unique<Class>(spec);                                            \
          },                                                                                 \
          ::stash53::enrich::Stage::stage, on_by_default)

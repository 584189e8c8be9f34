#pragma once
// Enrichers add derived fields to an event. Each owns one block of DnsEvent and is named after
// it (`rcode`, `tld`, `nsid`, later `geoip`). They run on the pipeline thread, in config order.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/option_reader.h"
#include "decode/dns_event.h"

namespace stash53::enrich {

class Enricher {
 public:
  virtual ~Enricher() = default;
  [[nodiscard]] virtual std::string_view type() const noexcept = 0;
  /// Fills this enricher's block of `ev`; on a miss leaves it empty. Never throws, never blocks.
  virtual void enrich(decode::DnsEvent& ev) noexcept = 0;
};

/// Builds the enricher `type` from its options (which it reads; the caller calls finish()).
/// Throws config::ConfigError for an unknown type or a bad option.
[[nodiscard]] std::unique_ptr<Enricher> make_enricher(const std::string& type,
                                                      config::OptionReader& options);

/// The enrichers used when the config has no `enrich` section.
[[nodiscard]] std::vector<std::string> default_enrichers();

}  // namespace stash53::enrich

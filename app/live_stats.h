#pragma once
// What the live page (`/` of the metrics server) shows a person: messages per second over the
// last minutes, the rcode split, the top qnames, registered domains and clients, and the
// latest security events. Bounded memory: top-N sketches and rings, never a map per name.

#include <string>

#include "common/metrics.h"
#include "decode/dns_event.h"

namespace stash53::app {

class LiveStats {
 public:
  LiveStats();
  ~LiveStats();
  /// Pipeline thread, once per event after enrichment.
  void observe(const decode::DnsEvent& ev) noexcept;
  /// The JSON document of /api/live (schema in app/live/README.md), with the counters of
  /// `registry` (emitter health, drops). Any thread.
  [[nodiscard]] std::string json(const MetricRegistry& registry) const;
};

/// The page served at `/`: one static HTML document with its script inline.
[[nodiscard]] std::string_view live_page_html() noexcept;

}  // namespace stash53::app

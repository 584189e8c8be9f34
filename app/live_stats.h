#pragma once
// What the live page (`/` of the metrics server) shows a person: messages per second over the
// last minutes, the rcode split, the top qnames, registered domains and clients, and the
// latest security events. Bounded memory: top-N sketches and rings, never a map per name.

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/top_n.h"
#include "decode/dns_event.h"

namespace stash53::event {
struct Field;
}

namespace stash53::app {

class LiveStats {
 public:
  static constexpr std::size_t kSeconds = 300;  // the rate's window, one bucket per second
  static constexpr std::size_t kSecurityEvents = 20;
  static constexpr std::size_t kTopShown = 10;
  static constexpr std::size_t kRcodes = 24;  // NOERROR (0) .. BADCOOKIE (23); others as "other"
  /// Unix time in seconds; the rate's buckets are wall-clock seconds.
  using Clock = std::function<std::int64_t()>;

  /// `top_k` counters per sketch (qnames, registered domains, clients), of which kTopShown are
  /// shown. `clock` defaults to std::chrono::system_clock (tests pass their own).
  explicit LiveStats(std::size_t top_k = 100, Clock clock = {});
  ~LiveStats();
  LiveStats(const LiveStats&) = delete;
  LiveStats& operator=(const LiveStats&) = delete;

  /// Pipeline workers, once per event after enrichment. Takes a mutex briefly; allocates nothing
  /// once its strings have grown to the traffic's longest names.
  void observe(const decode::DnsEvent& ev) noexcept;
  /// The JSON document of /api/live (schema in app/live/README.md), with the counters of
  /// `registry` (emitter health, drops). Any thread.
  [[nodiscard]] std::string json(const MetricRegistry& registry) const;

 private:
  struct SecurityEvent {
    std::int64_t ts_ns = 0;                     // capture time
    std::string_view msg_type;                  // "query", "response", or "" without the QR bit
    std::string client, qname, qtype, reasons;  // reasons joined by ','
  };

  Clock clock_;
  // The catalogue's fields, null when their enricher is not built.
  const event::Field* qname_;
  const event::Field* qtype_;
  const event::Field* registered_;
  const event::Field* s_addr_;
  const event::Field* d_addr_;
  const event::Field* class_;
  const event::Field* reasons_;
  struct Scratch {  // per pipeline worker (thread_local in observe)
    std::string qname, registered, client, class_name;
    SecurityEvent pending;
  };

  mutable std::mutex mu_;  // guards everything below
  std::array<std::uint64_t, kSeconds> per_second_{};
  std::array<std::int64_t, kSeconds> second_of_{};  // which second each bucket counts
  std::uint64_t messages_ = 0, queries_ = 0, responses_ = 0, security_ = 0;
  std::array<std::uint64_t, kRcodes + 1> rcodes_{};
  TopN top_qname_, top_registered_, top_client_;
  std::array<SecurityEvent, kSecurityEvents> recent_;  // a ring; recent_next_ is the oldest
  std::size_t recent_next_ = 0, recent_size_ = 0;
};

/// The page served at `/`: one static HTML document with its script inline.
[[nodiscard]] std::string_view live_page_html() noexcept;

}  // namespace stash53::app

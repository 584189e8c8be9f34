#pragma once
// A source delivers what it has: a link-layer frame (libpcap), a DNS message with the endpoints
// and times its writer knew (dnstap), or a log event (dnsmasq). Below the link layer the path is
// shared: frames and messages reach the same message decoder, and every event the same
// enrichers, modes and formats.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "capture/dnsmasq/joiner.h"
#include "decode/dns_event.h"

namespace stash53 {
class MetricRegistry;
}

namespace stash53::capture {

/// One captured packet. `bytes` is borrowed from the source and valid until the next call to
/// Source::next(); `ts_ns` is the capture time from the packet header (never the wall clock).
struct Packet {
  std::int64_t ts_ns = 0;
  std::span<const std::uint8_t> bytes;  // captured part (may be shorter than wire_len)
  std::uint32_t wire_len = 0;
  int dlt = 0;  // libpcap link-layer type (DLT_*)
};

/// A DNS message without its frame. `net` is the message's own direction on the wire (a
/// response goes server → client). Borrowed like Packet's bytes.
struct Message {
  std::int64_t ts_ns = 0;  // the writer's time for the message
  decode::NetInfo net;
  std::span<const std::uint8_t> bytes;
  decode::Dnstap dnstap;  // its TextRefs unset: the texts are the views below
  std::string_view identity, version, query_zone;
};

/// What next() delivered: `packet` for Next::Packet, `message` for Next::Message, `log` for
/// Next::Log (a joined dnsmasq log event, borrowed like the others).
struct Input {
  Packet packet;
  Message message;
  const dnsmasq::Event* log = nullptr;
};

struct SourceStats {
  std::uint64_t received = 0;          // packets handed to the pipeline
  std::uint64_t kernel_dropped = 0;    // pcap_stats ps_drop (live only)
  std::uint64_t interface_dropped = 0; // pcap_stats ps_ifdrop (live only)
};

/// Polled by the pipeline thread only; stop() may be called from any thread.
class Source {
 public:
  enum class Next : std::uint8_t { Packet, Message, Log, Idle, End, Error };
  virtual ~Source() = default;
  /// Fills `in` and returns Packet, Message or Log, or Idle (timeout, nothing captured), End (end of
  /// input or stopped), Error (see error()). Never throws.
  [[nodiscard]] virtual Next next(Input& in) noexcept = 0;
  /// Starts the source's own threads, if it has any: called by the pipeline thread before its
  /// first next(), after privileges were dropped (which must come before any thread).
  virtual void start() {}
  /// Makes the next (or current) next() return End. Async-signal and thread safe.
  virtual void stop() noexcept = 0;
  /// Pipeline thread only (libpcap handles are not thread safe).
  [[nodiscard]] virtual SourceStats stats() const noexcept = 0;
  /// Description of the last Error.
  [[nodiscard]] virtual std::string error() const = 0;
  /// True when it delivers Packet only (libpcap, libwiretap): what the pipeline can shard over
  /// its workers by address pair.
  [[nodiscard]] virtual bool packets_only() const noexcept { return false; }
  /// True when reading a file: nothing races us, so emitters may block instead of dropping.
  [[nodiscard]] virtual bool is_offline() const noexcept = 0;
  /// Registers the source's own counters (component `capture`, `dnstap`, ...).
  virtual void register_metrics(MetricRegistry&) const {}
};

}  // namespace stash53::capture

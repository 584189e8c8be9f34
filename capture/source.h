#pragma once
// A source of raw packets: libpcap today, dnstap and logs later. Nothing DNS-specific here.

#include <cstdint>
#include <span>
#include <string>

namespace stash53::capture {

/// One captured packet. `bytes` is borrowed from the source and valid until the next call to
/// Source::next(); `ts_ns` is the capture time from the packet header (never the wall clock).
struct Packet {
  std::int64_t ts_ns = 0;
  std::span<const std::uint8_t> bytes;  // captured part (may be shorter than wire_len)
  std::uint32_t wire_len = 0;
  int dlt = 0;  // libpcap link-layer type (DLT_*)
};

struct SourceStats {
  std::uint64_t received = 0;          // packets handed to the pipeline
  std::uint64_t kernel_dropped = 0;    // pcap_stats ps_drop (live only)
  std::uint64_t interface_dropped = 0; // pcap_stats ps_ifdrop (live only)
};

/// Polled by the pipeline thread only; stop() may be called from any thread.
class Source {
 public:
  enum class Next : std::uint8_t { Packet, Idle, End, Error };
  virtual ~Source() = default;
  /// Fills `out` and returns Packet, or Idle (timeout, nothing captured), End (end of file or
  /// stopped), Error (see error()). Never throws.
  [[nodiscard]] virtual Next next(Packet& out) noexcept = 0;
  /// Makes the next (or current) next() return End. Async-signal and thread safe.
  virtual void stop() noexcept = 0;
  /// Pipeline thread only (libpcap handles are not thread safe).
  [[nodiscard]] virtual SourceStats stats() const noexcept = 0;
  /// Description of the last Error.
  [[nodiscard]] virtual std::string error() const = 0;
  /// True when reading a file: nothing races us, so emitters may block instead of dropping.
  [[nodiscard]] virtual bool is_offline() const noexcept = 0;
};

}  // namespace stash53::capture

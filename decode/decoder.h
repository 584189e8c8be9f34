#pragma once
// Packet → DNS messages: the layers, the transport framing, the message parser, the counters.

#include <array>
#include <cstdint>
#include <vector>

#include "capture/source.h"
#include "common/counter.h"
#include "decode/dns_event.h"
#include "decode/net_layers.h"

namespace stash53::decode {

/// Receives each decoded message. The event is only valid during the call.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void on_message(DnsEvent& ev) noexcept = 0;
};

/// Config section `decode`.
struct DecodeOptions {
  std::vector<std::uint16_t> ports = {53, 5353};
  bool rrprint = false;  // events also carry each record's zone-file line
};

/// Written by the pipeline thread, read by the stats ticker.
struct DecodeCounters {
  Counter packets;
  std::array<Counter, static_cast<std::size_t>(PacketKind::kCount)> by_kind;  // per packet
  Counter messages;
  std::array<Counter, static_cast<std::size_t>(Malformed::kCount)> malformed;  // per message
  Counter tcp_partial;  // TCP data that is not a whole length-prefixed message (until reassembly)
};

/// Turns captured packets into DNS events. One instance per pipeline thread; not thread safe.
class Decoder {
 public:
  explicit Decoder(const DecodeOptions& options);
  /// Decodes every DNS message in `pkt` into `ev` (refilled per message) and hands each to
  /// `sink`. Counts what it could not decode. Never throws.
  void decode(const capture::Packet& pkt, DnsEvent& ev, MessageSink& sink) noexcept;
  [[nodiscard]] const DecodeCounters& counters() const noexcept { return counters_; }

 private:
  void emit(const capture::Packet& pkt, const Layers& layers, std::span<const std::uint8_t> msg,
            DnsEvent& ev, MessageSink& sink) noexcept;

  PortSet ports_;
  DecodeCounters counters_;
};

}  // namespace stash53::decode

#pragma once
// Packet → DNS messages: the layers, IP reassembly, TCP streams, the message parser, counters.

#include <array>
#include <cstdint>
#include <vector>

#include "capture/source.h"
#include "common/counter.h"
#include "common/metrics.h"
#include "decode/dns_event.h"
#include "decode/ip_reassembly.h"
#include "decode/net_layers.h"
#include "decode/tcp_reassembly.h"

namespace stash53::decode {

/// Receives each decoded message. The event is only valid during the call.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void on_message(DnsEvent& ev) noexcept = 0;
};

/// Config section `decode`.
struct DecodeOptions {
  std::vector<std::uint16_t> ports = {53, 5353, 5355};
  bool rrprint = false;  // events also carry each record's zone-file line
  std::vector<std::uint16_t> vxlan_ports = {4789};   // RFC 7348; empty: VXLAN not stripped
  std::vector<std::uint16_t> geneve_ports = {6081};  // RFC 8926
  bool ip_tunnels = true;  // GRE (RFC 2784, ERSPAN in it), IP-in-IP, IPv6-in-IP
  FragmentLimits fragments;
  TcpLimits tcp;
};

/// Written by the pipeline thread, read by the stats ticker.
struct DecodeCounters {
  Counter packets;
  std::array<Counter, static_cast<std::size_t>(PacketKind::kCount)> by_kind;  // per packet
  Counter tcp_no_payload;  // SYN, ACK, FIN, RST without data (none cut by the snaplen)
  Counter messages;
  std::array<Counter, static_cast<std::size_t>(Malformed::kCount)> malformed;  // per message
};

/// Turns captured packets into DNS events. One instance per pipeline thread; not thread safe.
class Decoder {
 public:
  explicit Decoder(const DecodeOptions& options);
  /// Decodes every DNS message that `pkt` completes into `ev` (refilled per message) and hands
  /// each to `sink`. Counts what it could not decode. Never throws.
  void decode(const capture::Packet& pkt, DnsEvent& ev, MessageSink& sink) noexcept;
  /// A message that came without its frame (dnstap): the same message decoder and counters.
  void decode(const capture::Message& msg, DnsEvent& ev, MessageSink& sink) noexcept;

  [[nodiscard]] const DecodeCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const FragmentCounters& fragment_counters() const noexcept {
    return fragments_.counters();
  }
  [[nodiscard]] const TcpReassembler& tcp() const noexcept { return tcp_; }
  /// The packets counted under a reason for yielding no message: the PacketKind counters but
  /// dns, tcp-no-payload and the TcpEvent ones. Each packet either yields a message or is one of
  /// these, so `packets` minus this is the packets that yielded messages.
  [[nodiscard]] std::uint64_t packets_with_reason() const noexcept;
  /// Registers every counter above, in the order packets flow through them.
  void register_metrics(MetricRegistry& registry) const;

 private:
  void emit(std::int64_t ts_ns, const NetInfo& net, std::span<const std::uint8_t> msg,
            DnsEvent& ev, MessageSink& sink, const capture::Message* tap = nullptr) noexcept;

  PortSet ports_;
  TunnelConfig tunnels_;
  IpReassembler fragments_;
  TcpReassembler tcp_;
  DecodeCounters counters_;
};

}  // namespace stash53::decode

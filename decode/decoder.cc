#include "decode/decoder.h"

#include "decode/dns_wire.h"

namespace stash53::decode {
namespace {
constexpr std::uint16_t kMdnsPort = 5353;  // RFC 6762
}  // namespace

std::string_view malformed_name(Malformed m) noexcept {
  switch (m) {
    case Malformed::None: return "none";
    case Malformed::TruncatedHeader: return "truncated-header";
    case Malformed::TruncatedQuestion: return "truncated-question";
    case Malformed::TruncatedAnswer: return "truncated-answer";
    case Malformed::TruncatedAuthority: return "truncated-authority";
    case Malformed::TruncatedAdditional: return "truncated-additional";
    case Malformed::BadLabelType: return "bad-label-type";
    case Malformed::CompressionLoop: return "compression-loop";
    case Malformed::BadPointer: return "bad-pointer";
    case Malformed::NameTooLong: return "name-too-long";
    case Malformed::BadRdata: return "bad-rdata";
    case Malformed::BadEdns: return "bad-edns";
    case Malformed::kCount: break;
  }
  return "unknown";
}

Decoder::Decoder(const DecodeOptions& options) {
  ports_.clear();
  for (const auto p : options.ports) ports_.add(p);
}

void Decoder::decode(const capture::Packet& pkt, DnsEvent& ev, MessageSink& sink) noexcept {
  counters_.packets.add();
  Layers layers;
  const PacketKind kind = parse_layers(pkt, ports_, layers);
  counters_.by_kind[static_cast<std::size_t>(kind)].add();
  if (kind != PacketKind::Dns) return;

  if (layers.net.transport == Transport::Udp) {
    emit(pkt, layers, layers.payload, ev, sink);
    return;
  }
  // DNS over TCP (RFC 1035 §4.2.2): each message is preceded by its 2-byte length, and one
  // segment may carry several. Messages split over segments wait for stream reassembly.
  auto data = layers.payload;
  while (!data.empty()) {
    if (data.size() < 2) {
      counters_.tcp_partial.add();
      return;
    }
    const std::size_t len = static_cast<std::size_t>(data[0] << 8 | data[1]);
    if (len == 0 || data.size() - 2 < len) {
      counters_.tcp_partial.add();
      return;
    }
    emit(pkt, layers, data.subspan(2, len), ev, sink);
    data = data.subspan(2 + len);
  }
}

void Decoder::emit(const capture::Packet& pkt, const Layers& layers,
                   std::span<const std::uint8_t> msg, DnsEvent& ev, MessageSink& sink) noexcept {
  ev.clear();
  ev.ts_ns = pkt.ts_ns;
  ev.net = layers.net;
  parse_message(msg, ev, layers.net.sport == kMdnsPort || layers.net.dport == kMdnsPort);
  counters_.messages.add();
  if (ev.malformed != Malformed::None)
    counters_.malformed[static_cast<std::size_t>(ev.malformed)].add();
  sink.on_message(ev);
}

}  // namespace stash53::decode

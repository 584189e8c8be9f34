#include "decode/decoder.h"

#include "decode/dns_wire.h"
#include "decode/text.h"

namespace stash53::decode {
namespace {
constexpr std::uint16_t kMdnsPort = 5353;   // RFC 6762
constexpr std::uint16_t kLlmnrPort = 5355;  // RFC 4795
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

std::string_view tunnel_type_name(TunnelType t) noexcept {
  switch (t) {
    case TunnelType::None: return "none";
    case TunnelType::Vxlan: return "vxlan";
    case TunnelType::Geneve: return "geneve";
    case TunnelType::Gre: return "gre";
    case TunnelType::Erspan2: return "erspan2";
    case TunnelType::Erspan3: return "erspan3";
    case TunnelType::IpInIp: return "ip-in-ip";
    case TunnelType::Ipv6InIp: return "ipv6-in-ip";
  }
  return "unknown";
}

Decoder::Decoder(const DecodeOptions& options)
    : fragments_(options.fragments), tcp_(options.tcp) {
  ports_.clear();
  for (const auto p : options.ports) ports_.add(p);
  for (const auto p : options.vxlan_ports) tunnels_.vxlan.add(p);
  for (const auto p : options.geneve_ports) tunnels_.geneve.add(p);
  tunnels_.ip = options.ip_tunnels;
}

void Decoder::register_metrics(MetricRegistry& r) const {
  auto add = [&r](std::string_view name, const char* help, const Counter& c, bool hide_zero) {
    r.add({"", "", std::string(name), {}, help, MetricType::Counter, hide_zero}, c);
  };
  add("packets", "packets seen", counters_.packets, false);
  for (std::size_t k = 1; k < counters_.by_kind.size(); ++k)  // 0 is "dns", shown as messages
    add(packet_kind_name(static_cast<PacketKind>(k)), "packets without DNS, by reason",
        counters_.by_kind[k], true);
  add("tcp-no-payload", "TCP control segments (SYN, ACK, FIN, RST without data)",
      counters_.tcp_no_payload, true);
  const auto& f = fragments_.counters();
  add("frag-reassembled", "IP datagrams reassembled from fragments", f.reassembled, true);
  for (std::size_t d = 0; d < f.dropped.size(); ++d)
    add(fragment_drop_name(static_cast<FragmentDrop>(d)), "fragmented datagrams given up",
        f.dropped[d], true);
  for (std::size_t e = 0; e < static_cast<std::size_t>(TcpEvent::kCount); ++e)
    add(tcp_event_name(static_cast<TcpEvent>(e)), tcp_event_help(static_cast<TcpEvent>(e)),
        tcp_.counter(static_cast<TcpEvent>(e)), true);
  add("tcp-gap-expired", "TCP flows forgotten at the idle timeout with segments held for a gap",
      tcp_.gaps_expired(), true);
  add("messages", "DNS messages decoded", counters_.messages, false);
  for (std::size_t m = 1; m < counters_.malformed.size(); ++m)
    r.add({"", "", "malformed", {{"reason", std::string(malformed_name(static_cast<Malformed>(m)))}},
           "messages that did not decode cleanly, by reason"},
          counters_.malformed[m]);
}

std::uint64_t Decoder::packets_with_reason() const noexcept {
  std::uint64_t n = counters_.tcp_no_payload.get();
  for (std::size_t k = 1; k < counters_.by_kind.size(); ++k) n += counters_.by_kind[k].get();
  for (std::size_t e = 0; e < static_cast<std::size_t>(TcpEvent::kCount); ++e)
    n += tcp_.count(static_cast<TcpEvent>(e));
  return n;
}

void Decoder::decode(const capture::Packet& pkt, DnsEvent& ev, MessageSink& sink) noexcept {
  counters_.packets.add();
  fragments_.expire(pkt.ts_ns);
  tcp_.expire(pkt.ts_ns);
  auto count = [&](PacketKind k) { counters_.by_kind[static_cast<std::size_t>(k)].add(); };
  IpDatagram dgram;
  if (const auto k = parse_ip(pkt, dgram); k != PacketKind::Dns) return count(k);
  // Outer fragments are reassembled before their tunnel is stripped, inner ones after (keyed by
  // the inner addresses; dgram.net keeps the tunnel). decapsulate() bounds the nesting.
  for (;;) {
    if (dgram.fragment) {
      // Only datagrams to DNS ports matter, but only the first fragment shows the ports: hold
      // every fragment, and let the port check see the whole datagram. The fragment that
      // completes it is counted as the datagram is, so each packet has one outcome.
      if (!fragments_.add(dgram, pkt.ts_ns)) return count(PacketKind::IpFragment);
      dgram.cut = 0;  // a fragment's cut is a hole inside the datagram, not its end: unknown
      if (dgram.net.ipv6)
        if (const auto k = skip_ipv6_extensions(dgram); k != PacketKind::Dns) return count(k);
    }
    const TunnelType tunnel = tunnel_of(dgram, tunnels_);
    if (tunnel == TunnelType::None) break;
    if (const auto k = decapsulate(tunnel, dgram); k != PacketKind::Dns) return count(k);
  }
  Layers layers;
  const PacketKind kind = parse_transport(dgram, ports_, layers);
  if (kind == PacketKind::Dns && layers.net.transport == Transport::Tcp && layers.payload.empty() &&
      layers.tcp_cut == 0)  // data cut off entirely by the snaplen is data: the reassembler's
    counters_.tcp_no_payload.add();
  count(kind);
  if (kind != PacketKind::Dns) return;

  if (layers.net.transport == Transport::Udp)
    return emit(pkt.ts_ns, layers.net, layers.payload, ev, sink);
  // Streams are keyed by the inner 4-tuple alone: the same one in two tunnels (two mirrored
  // VPCs with overlapping addresses) would share a stream, a case left aside.
  tcp_.add(layers, pkt.ts_ns, [&](std::span<const std::uint8_t> msg) {
    emit(pkt.ts_ns, layers.net, msg, ev, sink);
  });
}

void Decoder::decode(const capture::Message& msg, DnsEvent& ev, MessageSink& sink) noexcept {
  emit(msg.ts_ns, msg.net, msg.bytes, ev, sink, &msg);
}

void Decoder::emit(std::int64_t ts_ns, const NetInfo& net, std::span<const std::uint8_t> msg,
                   DnsEvent& ev, MessageSink& sink, const capture::Message* tap) noexcept {
  ev.clear();
  ev.ts_ns = ts_ns;
  ev.net = net;
  if (tap != nullptr) {
    ev.source = EventSource::Dnstap;
    ev.dnstap = tap->dnstap;
    // The writer's texts are arbitrary bytes: escaped as dig escapes TXT (\DDD), so the
    // documents stay valid UTF-8.
    const auto add_escaped = [&ev](std::string_view s) {
      const auto off = static_cast<std::uint32_t>(ev.text.size());
      text::append_escaped(ev.text, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
      return TextRef{off, static_cast<std::uint32_t>(ev.text.size() - off)};
    };
    ev.dnstap.identity = add_escaped(tap->identity);
    ev.dnstap.version = add_escaped(tap->version);
    if (!tap->query_zone.empty()) {  // a name in wire format, uncompressed
      const auto off = static_cast<std::uint32_t>(ev.text.size());
      std::size_t end = 0;
      const WireMessage zone{reinterpret_cast<const std::uint8_t*>(tap->query_zone.data()),
                             tap->query_zone.size()};
      if (read_name(zone, 0, ev.text, end, Malformed::NameTooLong) == Malformed::None)
        ev.dnstap.query_zone = {off, static_cast<std::uint32_t>(ev.text.size() - off)};
      else
        ev.text.resize(off);  // not a name: left out
    }
  }
  const auto on = [&](std::uint16_t port) { return net.sport == port || net.dport == port; };
  ev.proto = on(kMdnsPort) ? Proto::Mdns : on(kLlmnrPort) ? Proto::Llmnr : Proto::Dns;
  parse_message(msg, ev, ev.proto == Proto::Mdns);
  counters_.messages.add();
  if (ev.malformed != Malformed::None)
    counters_.malformed[static_cast<std::size_t>(ev.malformed)].add();
  sink.on_message(ev);
}

}  // namespace stash53::decode

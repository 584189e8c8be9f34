#pragma once
// Link layer → IP → (tunnels → IP)* → UDP/TCP: finds the DNS payload of a captured packet.
// Cloud sensors see mirrored traffic wrapped in VXLAN, Geneve, GRE/ERSPAN or IP-in-IP.
// No library does this decapsulation (on a span, bounds-checked): the few layouts are read here.

#include <cstdint>
#include <span>
#include <string_view>

#include "capture/source.h"
#include "decode/dns_event.h"

namespace stash53::decode {

/// What the layers below DNS made of a packet. Names are stable counter labels.
enum class PacketKind : std::uint8_t {
  Dns,             // payload found on a DNS port
  TruncatedFrame,  // cut short before the transport payload (snaplen or damage)
  NotIp,           // ARP, LLDP, … — anything but IPv4/IPv6
  BadHeader,     // wrong IP version, header or UDP/TCP length field
  IpFragment,      // part of a fragmented datagram, handed to reassembly
  NotUdpTcp,       // ICMP, ESP, …
  NotDnsPort,      // neither port is in the configured set
  EmptyUdp,        // a UDP datagram without payload: no DNS message
  BadTunnel,       // a tunnel header cut short or against its RFC (GRE version, ERSPAN version)
  TunnelTooDeep,   // more than kMaxTunnelDepth tunnels nested
  kCount
};
[[nodiscard]] std::string_view packet_kind_name(PacketKind k) noexcept;

/// The configured DNS ports (default 53 and 5353), as a bitmap for one lookup per packet.
class PortSet {
 public:
  PortSet();  // 53 and 5353
  void clear() noexcept;
  void add(std::uint16_t port) noexcept { bits_[port >> 6] |= std::uint64_t{1} << (port & 63); }
  [[nodiscard]] bool contains(std::uint16_t port) const noexcept {
    return bits_[port >> 6] >> (port & 63) & 1;
  }

 private:
  std::uint64_t bits_[1024] = {};
};

/// Which tunnels to strip: config keys decode.vxlan_ports, decode.geneve_ports, decode.ip_tunnels.
struct TunnelConfig {
  TunnelConfig() { vxlan.clear(), geneve.clear(); }
  PortSet vxlan, geneve;  // UDP destination ports
  bool ip = true;         // GRE (and ERSPAN in it), IP-in-IP, IPv6-in-IP
};

/// Tunnels stripped from one packet at most; a deeper one is counted TunnelTooDeep, never looped.
inline constexpr std::uint8_t kMaxTunnelDepth = 4;

/// An IP datagram, or one fragment of it, with the IP header(s) removed.
struct IpDatagram {
  NetInfo net;  // family and addresses (with the tunnel, if any); ports: parse_transport
  std::uint8_t proto = 0;  // transport protocol (for a fragment: of the whole datagram)
  std::span<const std::uint8_t> payload;
  bool fragment = false;
  std::uint32_t frag_id = 0;
  std::uint32_t frag_offset = 0;  // bytes
  bool more_fragments = false;
  // Bytes the IP length fields announce that the capture lacks (a snaplen cut); 0 if whole or
  // unknown (a jumbogram, a reassembled datagram).
  std::uint32_t cut = 0;
};

namespace tcp_flag {
inline constexpr std::uint8_t Fin = 0x01, Syn = 0x02, Rst = 0x04;
}

struct Layers {
  NetInfo net;
  std::span<const std::uint8_t> payload;  // UDP payload, or TCP segment data (maybe empty)
  std::uint32_t tcp_seq = 0;
  std::uint8_t tcp_flags = 0;
  std::uint32_t tcp_cut = 0;  // segment data after `payload` that the capture lacks (snaplen)
};

/// Strips the link layer and the IP header(s) of `pkt`, up to the transport header or the
/// fragment header. Dns means "an IP datagram or fragment to go on with". Reads nothing outside
/// pkt.bytes; trims Ethernet padding using the IP length fields.
[[nodiscard]] PacketKind parse_ip(const capture::Packet& pkt, IpDatagram& out) noexcept;
/// For a reassembled IPv6 datagram: skips the extension headers that followed the fragment
/// header, up to the transport header.
[[nodiscard]] PacketKind skip_ipv6_extensions(IpDatagram& dgram) noexcept;
/// The tunnel carrying a whole (not fragment) datagram, if any: IP protocol 47 (Gre; ERSPAN
/// shows only inside), 4, 41, or UDP to a VXLAN or Geneve port. None: go on with the transport.
[[nodiscard]] TunnelType tunnel_of(const IpDatagram& dgram, const TunnelConfig& tunnels) noexcept;
/// Strips the tunnel `type` (from tunnel_of) and the inner link layer: `dgram` becomes the inner
/// IP datagram (maybe a fragment), its net.tunnel the outermost tunnel with one more depth.
[[nodiscard]] PacketKind decapsulate(TunnelType type, IpDatagram& dgram) noexcept;
/// Parses the UDP or TCP header of a whole datagram; Dns when a port is in `ports`.
[[nodiscard]] PacketKind parse_transport(const IpDatagram& dgram, const PortSet& ports,
                                         Layers& out) noexcept;

/// A hash of the packet's outer IP address pair that is the same in both directions, for
/// sharding flows over the pipeline's workers: a query and its response, every fragment of a
/// datagram (only the first has ports) and every segment of a TCP stream share it, and so do a
/// client's messages to one server. 0 for a packet without an IP header, and for mDNS and
/// LLMNR (ports 5353 and 5355), whose answers come from other addresses.
[[nodiscard]] std::uint64_t address_pair_hash(const capture::Packet& pkt) noexcept;

}  // namespace stash53::decode

#include "decode/net_layers.h"

#include <pcap/dlt.h>

#include <algorithm>
#include <cstring>

#include "common/bytes.h"

namespace stash53::decode {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherVlan = 0x8100,
                        kEtherQinQ = 0x88A8, kEtherQinQOld = 0x9100;
// GRE protocol types: transparent Ethernet bridging (also "an Ethernet frame follows" below),
// ERSPAN type II and type III.
constexpr std::uint16_t kEtherBridging = 0x6558, kEtherErspan2 = 0x88BE, kEtherErspan3 = 0x22EB;
constexpr std::uint8_t kIpProtoIpip = 4, kIpProtoTcp = 6, kIpProtoUdp = 17, kIpProtoIpv6 = 41,
                       kIpProtoGre = 47;

using Bytes = std::span<const std::uint8_t>;

enum class Family : std::uint8_t { None, V4, V6 };

Family family_of_ethertype(std::uint16_t t) noexcept {
  return t == kEtherIpv4 ? Family::V4 : t == kEtherIpv6 ? Family::V6 : Family::None;
}

// Skips any stack of 802.1Q / 802.1ad tags (QinQ) after an ethertype field.
bool skip_vlan_tags(std::uint16_t& type, Bytes& b) noexcept {
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    if (b.size() < 4) return false;
    type = be16(b.data() + 2);
    b = b.subspan(4);
  }
  return true;
}

// BSD loopback: the address family in 4 bytes, host byte order of the capturing machine (NULL)
// or network order (LOOP). The values of AF_INET6 differ between the BSDs and Linux.
Family family_of_af(std::uint32_t af) noexcept {
  switch (af) {
    case 2: return Family::V4;
    case 10: case 24: case 28: case 30: return Family::V6;
    default: return Family::None;
  }
}

// Strips the link layer; returns the IP family of what remains, or None.
PacketKind strip_link(int dlt, Bytes& b, Family& family) noexcept {
  std::uint16_t type = 0;
  switch (dlt) {
    case DLT_EN10MB:
      if (b.size() < 14) return PacketKind::TruncatedFrame;
      type = be16(b.data() + 12);
      b = b.subspan(14);
      break;
    case DLT_LINUX_SLL:  // 16-byte cooked header, protocol last
      if (b.size() < 16) return PacketKind::TruncatedFrame;
      type = be16(b.data() + 14);
      b = b.subspan(16);
      break;
    case DLT_LINUX_SLL2:  // 20-byte cooked header, protocol first
      if (b.size() < 20) return PacketKind::TruncatedFrame;
      type = be16(b.data());
      b = b.subspan(20);
      break;
    case DLT_NULL:
    case DLT_LOOP: {
      if (b.size() < 4) return PacketKind::TruncatedFrame;
      std::uint32_t be = 0, le = 0;
      for (int i = 0; i < 4; ++i) {
        be = be << 8 | b[i];
        le |= std::uint32_t{b[i]} << (8 * i);
      }
      // Which byte order the writer used is not recorded; only one reading is a small number.
      family = family_of_af(be <= 0xFFFF ? be : le);
      b = b.subspan(4);
      return family == Family::None ? PacketKind::NotIp : PacketKind::Dns;
    }
    case DLT_RAW:
    case 14:
    case DLT_IPV4:
    case DLT_IPV6:
      if (b.empty()) return PacketKind::TruncatedFrame;
      family = (b[0] >> 4) == 4 ? Family::V4 : (b[0] >> 4) == 6 ? Family::V6 : Family::None;
      return family == Family::None ? PacketKind::BadHeader : PacketKind::Dns;
    default:
      return PacketKind::NotIp;
  }
  if (!skip_vlan_tags(type, b)) return PacketKind::TruncatedFrame;
  family = family_of_ethertype(type);
  return family == Family::None ? PacketKind::NotIp : PacketKind::Dns;
}

PacketKind strip_ipv4(Bytes& b, IpDatagram& d) noexcept {
  if (b.size() < 20) return PacketKind::TruncatedFrame;
  const std::size_t ihl = (b[0] & 0x0Fu) * 4;
  const std::size_t total = be16(b.data() + 2);
  if ((b[0] >> 4) != 4 || ihl < 20 || total < ihl) return PacketKind::BadHeader;
  if (b.size() < ihl) return PacketKind::TruncatedFrame;
  const std::uint16_t frag = be16(b.data() + 6);
  d.fragment = (frag & 0x3FFF) != 0;  // MF set or a non-zero offset
  d.more_fragments = (frag & 0x2000) != 0;
  d.frag_offset = (frag & 0x1FFFu) * 8;
  d.frag_id = be16(b.data() + 4);
  d.proto = b[9];
  d.net.ipv6 = false;
  std::memcpy(d.net.src.bytes, b.data() + 12, 4);
  std::memcpy(d.net.dst.bytes, b.data() + 16, 4);
  // Drop the link layer's padding; keep a snaplen-cut packet as it is, noting what it lacks.
  d.cut = total > b.size() ? static_cast<std::uint32_t>(total - b.size()) : 0;
  b = b.subspan(ihl, std::min(b.size(), total) - ihl);
  return PacketKind::Dns;
}

// Walks IPv6 extension headers (RFC 8200 §4) from `next` to the transport or a fragment header.
PacketKind walk_ipv6_extensions(std::uint8_t next, Bytes& b, IpDatagram& d) noexcept {
  for (;;) {
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140: {  // shim6
        if (b.size() < 8) return PacketKind::TruncatedFrame;
        const std::size_t len = (b[1] + 1u) * 8;
        if (b.size() < len) return PacketKind::TruncatedFrame;
        next = b[0];
        b = b.subspan(len);
        break;
      }
      case 44: {  // fragment (RFC 8200 §4.5); an atomic fragment (offset 0, no M) is whole
        if (b.size() < 8) return PacketKind::TruncatedFrame;
        const std::uint16_t off_m = be16(b.data() + 2);
        next = b[0];
        if (off_m & 0xFFF9) {
          d.fragment = true;
          d.frag_offset = off_m & 0xFFF8u;
          d.more_fragments = (off_m & 1) != 0;
          d.frag_id = std::uint32_t{b[4]} << 24 | std::uint32_t{b[5]} << 16 |
                      std::uint32_t{b[6]} << 8 | b[7];
          d.proto = next;
          b = b.subspan(8);
          return PacketKind::Dns;
        }
        b = b.subspan(8);
        break;
      }
      case 51: {  // authentication header, length in 4-octet units minus 2
        if (b.size() < 8) return PacketKind::TruncatedFrame;
        const std::size_t len = (b[1] + 2u) * 4;
        if (b.size() < len) return PacketKind::TruncatedFrame;
        next = b[0];
        b = b.subspan(len);
        break;
      }
      default:
        d.proto = next;
        return PacketKind::Dns;
    }
  }
}

PacketKind strip_ipv6(Bytes& b, IpDatagram& d) noexcept {
  if (b.size() < 40) return PacketKind::TruncatedFrame;
  if ((b[0] >> 4) != 6) return PacketKind::BadHeader;
  const std::size_t payload_len = be16(b.data() + 4);
  const std::uint8_t next = b[6];
  d.net.ipv6 = true;
  std::memcpy(d.net.src.bytes, b.data() + 8, 16);
  std::memcpy(d.net.dst.bytes, b.data() + 24, 16);
  b = b.subspan(40);
  // A zero payload length means a jumbogram (RFC 2675): the captured bytes are all we know.
  if (payload_len != 0) {
    d.cut = payload_len > b.size() ? static_cast<std::uint32_t>(payload_len - b.size()) : 0;
    b = b.first(std::min(b.size(), payload_len));
  }
  return walk_ipv6_extensions(next, b, d);
}

// Tunnel headers. Each strips its header from `b`, fills the tunnel's type and ID into `t`
// and says what follows as an ethertype (kEtherBridging: an Ethernet frame).

// VXLAN (RFC 7348 §5): flags (I: the VNI is valid), 3 reserved, VNI (24 bits), 1 reserved.
PacketKind strip_vxlan(Bytes& b, Tunnel& t, std::uint16_t& next) noexcept {
  if (b.size() < 8) return PacketKind::BadTunnel;
  t.has_id = (b[0] & 0x08) != 0;
  t.id = be32(b.data() + 4) >> 8;
  next = kEtherBridging;
  b = b.subspan(8);
  return PacketKind::Dns;
}

// Geneve (RFC 8926 §3.4): version (2 bits, 0), options length (6 bits, 4-byte units), flags,
// protocol type, VNI (24 bits), reserved, then the options, skipped unread.
PacketKind strip_geneve(Bytes& b, Tunnel& t, std::uint16_t& next) noexcept {
  if (b.size() < 8 || (b[0] >> 6) != 0) return PacketKind::BadTunnel;
  const std::size_t len = 8 + (b[0] & 0x3Fu) * 4;
  if (b.size() < len) return PacketKind::BadTunnel;
  next = be16(b.data() + 2);
  t.has_id = true;
  t.id = be32(b.data() + 4) >> 8;
  b = b.subspan(len);
  return PacketKind::Dns;
}

// ERSPAN type II and III (draft-foschiano-erspan §4.2, §4.3) after their GRE header: version
// (1: II, 2: III), VLAN, COS, flags, session ID (10 bits); type III adds a timestamp and a word
// with the frame type (0 Ethernet, 2 IP) and O: an 8-byte platform-specific subheader follows.
PacketKind strip_erspan(Bytes& b, Tunnel& t, std::uint16_t& next) noexcept {
  const bool v3 = next == kEtherErspan3;
  std::size_t len = v3 ? 12 : 8;
  if (b.size() < len || (b[0] >> 4) != (v3 ? 2 : 1)) return PacketKind::BadTunnel;
  t.type = v3 ? TunnelType::Erspan3 : TunnelType::Erspan2;
  t.has_id = true;
  t.id = be16(b.data() + 2) & 0x3FFu;
  next = kEtherBridging;
  if (v3) {
    const std::uint16_t word = be16(b.data() + 10);
    if (word & 1) len += 8;
    if (b.size() < len) return PacketKind::BadTunnel;
    const unsigned frame_type = word >> 10 & 0x1F;
    if (frame_type == 2)  // a bare IP packet: its version tells the family
      next = b.size() > len && (b[len] >> 4) == 6 ? kEtherIpv6 : kEtherIpv4;
    else if (frame_type != 0)
      next = 0;  // reserved frame types: not IP
  }
  b = b.subspan(len);
  return PacketKind::Dns;
}

// GRE (RFC 2784, RFC 2890): C K S flags and version 0, the protocol type, then the checksum
// (with a reserved half) if C, key if K, sequence number if S. Routing (RFC 1701), the other
// reserved bits 1-5 and version 1 (PPTP's enhanced GRE) are not encapsulations read here.
PacketKind strip_gre(Bytes& b, Tunnel& t, std::uint16_t& next) noexcept {
  if (b.size() < 4) return PacketKind::BadTunnel;
  const std::uint16_t flags = be16(b.data());
  if ((flags & 0x4C07) != 0) return PacketKind::BadTunnel;
  const bool checksum = flags & 0x8000, key = flags & 0x2000, seq = flags & 0x1000;
  const std::size_t len = 4 + 4 * (checksum + key + seq);
  if (b.size() < len) return PacketKind::BadTunnel;
  next = be16(b.data() + 2);
  t.has_id = key;
  if (key) t.id = be32(b.data() + (checksum ? 8 : 4));
  b = b.subspan(len);
  if (next == kEtherErspan2 || next == kEtherErspan3) return strip_erspan(b, t, next);
  return PacketKind::Dns;
}

}  // namespace

std::string_view packet_kind_name(PacketKind k) noexcept {
  switch (k) {
    case PacketKind::Dns: return "dns";
    case PacketKind::TruncatedFrame: return "truncated-frame";
    case PacketKind::NotIp: return "not-ip";
    case PacketKind::BadHeader: return "bad-header";
    case PacketKind::IpFragment: return "ip-fragment";
    case PacketKind::NotUdpTcp: return "not-udp-tcp";
    case PacketKind::NotDnsPort: return "not-dns-port";
    case PacketKind::EmptyUdp: return "empty-udp";
    case PacketKind::BadTunnel: return "bad-tunnel";
    case PacketKind::TunnelTooDeep: return "tunnel-too-deep";
    case PacketKind::kCount: break;
  }
  return "unknown";
}

PortSet::PortSet() {
  add(53);
  add(5353);
  add(5355);
}

void PortSet::clear() noexcept { std::memset(bits_, 0, sizeof bits_); }

PacketKind parse_ip(const capture::Packet& pkt, IpDatagram& out) noexcept {
  Bytes b = pkt.bytes;
  Family family = Family::None;
  if (const auto k = strip_link(pkt.dlt, b, family); k != PacketKind::Dns) return k;
  out = {};
  const auto k = family == Family::V4 ? strip_ipv4(b, out) : strip_ipv6(b, out);
  out.payload = b;
  return k;
}

PacketKind skip_ipv6_extensions(IpDatagram& d) noexcept {
  Bytes b = d.payload;
  const auto k = walk_ipv6_extensions(d.proto, b, d);
  if (d.fragment) return PacketKind::BadHeader;  // a fragment header inside a fragment
  d.payload = b;
  return k;
}

TunnelType tunnel_of(const IpDatagram& d, const TunnelConfig& c) noexcept {
  switch (d.proto) {
    case kIpProtoGre: return c.ip ? TunnelType::Gre : TunnelType::None;
    case kIpProtoIpip: return c.ip ? TunnelType::IpInIp : TunnelType::None;
    case kIpProtoIpv6: return c.ip ? TunnelType::Ipv6InIp : TunnelType::None;
    case kIpProtoUdp: {
      if (d.payload.size() < 4) return TunnelType::None;  // parse_transport says what it is
      // Only the destination port: the source port is a flow hash (RFC 7348 §5, RFC 8926 §3.3).
      const std::uint16_t dport = be16(d.payload.data() + 2);
      return c.vxlan.contains(dport)    ? TunnelType::Vxlan
             : c.geneve.contains(dport) ? TunnelType::Geneve
                                        : TunnelType::None;
    }
    default: return TunnelType::None;
  }
}

PacketKind decapsulate(TunnelType type, IpDatagram& d) noexcept {
  Bytes b = d.payload;
  Tunnel t{type, d.net.ipv6, d.net.src, d.net.dst};
  std::uint16_t next = 0;  // what follows the tunnel header, as an ethertype
  PacketKind k = PacketKind::Dns;
  switch (type) {
    case TunnelType::IpInIp: next = kEtherIpv4; break;
    case TunnelType::Ipv6InIp: next = kEtherIpv6; break;
    case TunnelType::Gre: k = strip_gre(b, t, next); break;
    case TunnelType::Vxlan:
    case TunnelType::Geneve: {
      if (b.size() < 8) return PacketKind::TruncatedFrame;
      const std::size_t udp_len = be16(b.data() + 4);
      if (udp_len < 8) return PacketKind::BadHeader;
      b = b.subspan(8, std::min(b.size(), udp_len) - 8);
      k = type == TunnelType::Vxlan ? strip_vxlan(b, t, next) : strip_geneve(b, t, next);
      break;
    }
    default: return PacketKind::BadTunnel;
  }
  if (k != PacketKind::Dns) return k;
  if (d.net.tunnel.depth >= kMaxTunnelDepth) return PacketKind::TunnelTooDeep;
  Family family = family_of_ethertype(next);
  if (next == kEtherBridging)
    if (const auto lk = strip_link(DLT_EN10MB, b, family); lk != PacketKind::Dns) return lk;
  if (family == Family::None) return PacketKind::NotIp;
  // The outermost tunnel is the one reported; inner ones only add to the depth.
  if (d.net.tunnel.type != TunnelType::None) t = d.net.tunnel;
  t.depth = static_cast<std::uint8_t>(d.net.tunnel.depth + 1);
  d = {};
  d.net.tunnel = t;
  k = family == Family::V4 ? strip_ipv4(b, d) : strip_ipv6(b, d);
  d.payload = b;
  return k;
}

PacketKind parse_transport(const IpDatagram& d, const PortSet& ports, Layers& out) noexcept {
  Bytes b = d.payload;
  out.net = d.net;
  out.tcp_seq = 0;
  out.tcp_flags = 0;
  out.tcp_cut = 0;
  if (d.proto == kIpProtoUdp) {
    if (b.size() < 8) return PacketKind::TruncatedFrame;
    out.net.transport = Transport::Udp;
    out.net.sport = be16(b.data());
    out.net.dport = be16(b.data() + 2);
    const std::size_t udp_len = be16(b.data() + 4);
    if (udp_len < 8) return PacketKind::BadHeader;
    b = b.subspan(8, std::min(b.size(), udp_len) - 8);
  } else if (d.proto == kIpProtoTcp) {
    if (b.size() < 20) return PacketKind::TruncatedFrame;
    out.net.transport = Transport::Tcp;
    out.net.sport = be16(b.data());
    out.net.dport = be16(b.data() + 2);
    out.tcp_seq = std::uint32_t{b[4]} << 24 | std::uint32_t{b[5]} << 16 |
                  std::uint32_t{b[6]} << 8 | b[7];
    out.tcp_flags = b[13];
    const std::size_t data_off = (b[12] >> 4) * 4u;
    if (data_off < 20) return PacketKind::BadHeader;
    if (b.size() < data_off) return PacketKind::TruncatedFrame;
    b = b.subspan(data_off);
    out.tcp_cut = d.cut;  // the headers are whole, so what is cut is data
  } else {
    return PacketKind::NotUdpTcp;
  }
  if (!ports.contains(out.net.sport) && !ports.contains(out.net.dport))
    return PacketKind::NotDnsPort;
  if (b.empty() && out.net.transport == Transport::Udp) return PacketKind::EmptyUdp;
  out.payload = b;
  return PacketKind::Dns;
}

std::uint64_t address_pair_hash(const capture::Packet& pkt) noexcept {
  IpDatagram d;
  if (parse_ip(pkt, d) != PacketKind::Dns) return 0;
  // mDNS and LLMNR answers come from another address than the multicast group their query
  // went to: all of theirs go the same way (0), so that exchanges still pair.
  if ((d.proto == 17 || d.proto == 6) && !d.fragment && d.payload.size() >= 4) {
    const std::uint16_t sport = be16(d.payload.data()), dport = be16(d.payload.data() + 2);
    for (const std::uint16_t port : {sport, dport})
      if (port == 5353 || port == 5355) return 0;
  }
  // Each address is mixed alone and the two are added: the same sum either way round.
  const auto mix = [](const IpAddress& a) {
    std::uint64_t hi, lo;
    std::memcpy(&hi, a.bytes, 8);
    std::memcpy(&lo, a.bytes + 8, 8);
    std::uint64_t h = (hi ^ (lo * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
  };
  std::uint64_t h = (mix(d.net.src) + mix(d.net.dst)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 29);
}

}  // namespace stash53::decode

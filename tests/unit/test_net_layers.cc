// Link layers, IP and transport headers, with the layouts of the tcpdump.org LINKTYPE list;
// tunnels (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP) and the live filter that lets them through.
#include <pcap/pcap.h>

#include <boost/test/unit_test.hpp>

#include "config/config.h"
#include "decode/decoder.h"
#include "decode/net_layers.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using stash53::test::DnsBuilder;
using stash53::test::ipv4_fragments;
using stash53::test::udp_packet;
using Bytes = std::vector<std::uint8_t>;

namespace {

const DnsBuilder::Bytes kDns = DnsBuilder().header(1, 0x0100, 1, 0).question("a.example.", 1).bytes();

PacketKind parse(const std::vector<std::uint8_t>& bytes, int dlt, Layers& out) {
  stash53::capture::Packet pkt;
  pkt.bytes = bytes;
  pkt.wire_len = static_cast<std::uint32_t>(bytes.size());
  pkt.dlt = dlt;
  IpDatagram d;
  if (const auto k = parse_ip(pkt, d); k != PacketKind::Dns) return k;
  if (d.fragment) return PacketKind::IpFragment;
  return parse_transport(d, PortSet(), out);
}

std::vector<std::uint8_t> ethernet(std::initializer_list<std::uint16_t> ethertypes) {
  std::vector<std::uint8_t> h = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  bool first = true;
  for (const auto t : ethertypes) {
    if (!first) h.insert(h.end(), {0x00, 0x64});  // the TCI of the tag before: VLAN 100
    h.push_back(static_cast<std::uint8_t>(t >> 8));
    h.push_back(static_cast<std::uint8_t>(t));
    first = false;
  }
  return h;
}

void expect_dns(const std::vector<std::uint8_t>& bytes, int dlt, bool ipv6) {
  Layers l;
  BOOST_TEST_REQUIRE(packet_kind_name(parse(bytes, dlt, l)) == "dns");
  BOOST_TEST(l.net.ipv6 == ipv6);
  BOOST_TEST(l.net.sport == 40000);
  BOOST_TEST(l.net.dport == 53);
  BOOST_TEST(l.payload.size() == kDns.size());
  BOOST_TEST(std::equal(l.payload.begin(), l.payload.end(), kDns.begin()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(net_layers)

BOOST_AUTO_TEST_CASE(ethernet_plain_vlan_qinq) {
  expect_dns(udp_packet(kDns, false, 40000, 53, ethernet({0x0800})), DLT_EN10MB, false);
  expect_dns(udp_packet(kDns, true, 40000, 53, ethernet({0x86DD})), DLT_EN10MB, true);
  expect_dns(udp_packet(kDns, false, 40000, 53, ethernet({0x8100, 0x0800})), DLT_EN10MB, false);
  expect_dns(udp_packet(kDns, true, 40000, 53, ethernet({0x88A8, 0x8100, 0x86DD})), DLT_EN10MB,
             true);
  expect_dns(udp_packet(kDns, false, 40000, 53, ethernet({0x8100, 0x8100, 0x0800})), DLT_EN10MB,
             false);
}

BOOST_AUTO_TEST_CASE(ethernet_padding_is_not_payload) {
  auto p = udp_packet(kDns, false, 40000, 53, ethernet({0x0800}));
  p.insert(p.end(), 20, 0xEE);  // trailer bytes beyond the IP total length
  expect_dns(p, DLT_EN10MB, false);
}

BOOST_AUTO_TEST_CASE(linux_cooked_v1_and_v2) {
  // SLL: type(2) arphrd(2) addrlen(2) addr(8) protocol(2)
  std::vector<std::uint8_t> sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  expect_dns(udp_packet(kDns, false, 40000, 53, sll), DLT_LINUX_SLL, false);
  // SLL2: protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8)
  std::vector<std::uint8_t> sll2 = {0x86, 0xDD, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  expect_dns(udp_packet(kDns, true, 40000, 53, sll2), DLT_LINUX_SLL2, true);
}

BOOST_AUTO_TEST_CASE(bsd_loopback_in_either_byte_order) {
  expect_dns(udp_packet(kDns, false, 40000, 53, {2, 0, 0, 0}), DLT_NULL, false);   // little endian
  expect_dns(udp_packet(kDns, false, 40000, 53, {0, 0, 0, 2}), DLT_NULL, false);   // big endian
  expect_dns(udp_packet(kDns, true, 40000, 53, {30, 0, 0, 0}), DLT_NULL, true);    // macOS AF_INET6
  expect_dns(udp_packet(kDns, true, 40000, 53, {0, 0, 0, 24}), DLT_LOOP, true);    // OpenBSD
  Layers l;
  BOOST_TEST(packet_kind_name(parse(udp_packet(kDns, false, 40000, 53, {7, 0, 0, 0}), DLT_NULL,
                                    l)) == "not-ip");
}

BOOST_AUTO_TEST_CASE(raw_ip) {
  expect_dns(udp_packet(kDns, false, 40000, 53), DLT_RAW, false);
  expect_dns(udp_packet(kDns, true, 40000, 53), DLT_RAW, true);
  expect_dns(udp_packet(kDns, false, 40000, 53), DLT_IPV4, false);
}

BOOST_AUTO_TEST_CASE(ipv6_extension_headers_are_skipped) {
  auto p = udp_packet(kDns, true, 40000, 53);
  // Insert an 8-byte hop-by-hop header (next header UDP) and point the IPv6 header at it.
  p[6] = 0;
  const std::vector<std::uint8_t> hbh = {17, 0, 1, 4, 0, 0, 0, 0};
  p.insert(p.begin() + 40, hbh.begin(), hbh.end());
  p[5] = static_cast<std::uint8_t>(p[5] + 8);
  expect_dns(p, DLT_RAW, true);
}

BOOST_AUTO_TEST_CASE(what_is_not_dns_is_classified) {
  Layers l;
  BOOST_TEST(packet_kind_name(parse(udp_packet(kDns, false, 40000, 8080), DLT_RAW, l)) ==
             "not-dns-port");
  BOOST_TEST(packet_kind_name(parse(ethernet({0x0806}), DLT_EN10MB, l)) == "not-ip");  // ARP
  auto frag = udp_packet(kDns, false, 40000, 53);
  frag[6] = 0x20;  // more fragments
  BOOST_TEST(packet_kind_name(parse(frag, DLT_RAW, l)) == "ip-fragment");
  auto icmp = udp_packet(kDns, false, 40000, 53);
  icmp[9] = 1;
  BOOST_TEST(packet_kind_name(parse(icmp, DLT_RAW, l)) == "not-udp-tcp");
  auto cut = udp_packet(kDns, false, 40000, 53, ethernet({0x0800}));
  cut.resize(14 + 10);
  BOOST_TEST(packet_kind_name(parse(cut, DLT_EN10MB, l)) == "truncated-frame");
}

BOOST_AUTO_TEST_CASE(snaplen_cut_tcp_data_is_measured_from_the_ip_length) {
  const Bytes data(100, 0xAB);
  const Bytes whole = stash53::test::tcp_packet(data, 40000, 53);
  for (const std::size_t keep : {whole.size(), whole.size() - 30, std::size_t{40}}) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep));
    Layers l;
    BOOST_TEST_REQUIRE(packet_kind_name(parse(cut, DLT_RAW, l)) == "dns");
    BOOST_TEST(l.payload.size() == keep - 40);
    BOOST_TEST(l.tcp_cut == whole.size() - keep);  // 20 IP + 20 TCP header bytes kept
  }
  // Ethernet padding is not data, and not a negative cut either.
  Bytes padded = stash53::test::tcp_packet({}, 40000, 53);
  padded.resize(padded.size() + 6);
  Layers l;
  BOOST_TEST_REQUIRE(packet_kind_name(parse(padded, DLT_RAW, l)) == "dns");
  BOOST_TEST((l.payload.empty() && l.tcp_cut == 0u));
}

BOOST_AUTO_TEST_CASE(configured_ports_only) {
  PortSet ports;
  ports.clear();
  ports.add(5300);
  BOOST_TEST(ports.contains(5300));
  BOOST_TEST(!ports.contains(53));
  BOOST_TEST(PortSet().contains(5353));
}

// ---------------------------------------------------------------- tunnels

namespace {

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::uint8_t hi(std::size_t v) { return static_cast<std::uint8_t>(v >> 8); }
std::uint8_t lo(std::size_t v) { return static_cast<std::uint8_t>(v); }

// An outer IPv4 header, 10.0.0.1 → 10.0.0.2, for a payload of IP protocol `proto`.
Bytes outer4(std::uint8_t proto, const Bytes& payload) {
  const std::size_t n = 20 + payload.size();
  return Bytes{0x45, 0, hi(n), lo(n), 0, 2, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2} +
         payload;
}

// An outer IPv6 header, fd00::1 → fd00::2.
Bytes outer6(std::uint8_t next, const Bytes& payload) {
  Bytes h = {0x60, 0, 0, 0, hi(payload.size()), lo(payload.size()), next, 64};
  for (const std::uint8_t last : {std::uint8_t{1}, std::uint8_t{2}}) {
    h.insert(h.end(), {0xfd});
    h.insert(h.end(), 14, 0);
    h.push_back(last);
  }
  return h + payload;
}

Bytes outer_udp(std::uint16_t dport, const Bytes& payload) {
  const std::size_t n = 8 + payload.size();
  return outer4(17, Bytes{0xC0, 0x01, hi(dport), lo(dport), hi(n), lo(n), 0, 0} + payload);
}

Bytes vxlan(std::uint32_t vni, std::uint8_t flags = 0x08) {
  return {flags, 0, 0, 0, static_cast<std::uint8_t>(vni >> 16), hi(vni), lo(vni), 0};
}

// Geneve with `options` (a multiple of 4 bytes) and a protocol type.
Bytes geneve(std::uint32_t vni, std::uint16_t proto, const Bytes& options = {}, int version = 0) {
  return Bytes{static_cast<std::uint8_t>(version << 6 | options.size() / 4), 0, hi(proto),
               lo(proto), static_cast<std::uint8_t>(vni >> 16), hi(vni), lo(vni), 0} +
         options;
}

Bytes gre(std::uint16_t flags, std::uint16_t proto, const Bytes& optional = {}) {
  return Bytes{hi(flags), lo(flags), hi(proto), lo(proto)} + optional;
}

const Bytes kInner4 = udp_packet(kDns, false, 40000, 53);  // 192.0.2.1 → 192.0.2.53
const Bytes kInner6 = udp_packet(kDns, true, 40000, 53);
const Bytes kFrame4 = ethernet({0x0800}) + kInner4;

TunnelConfig default_tunnels() {
  TunnelConfig c;
  c.vxlan.add(4789);
  c.geneve.add(6081);
  return c;
}

// parse() with tunnels stripped, as the decoder does for packets that are not fragments.
PacketKind parse_tunnelled(const Bytes& bytes, Layers& out,
                           const TunnelConfig& tunnels = default_tunnels()) {
  stash53::capture::Packet pkt;
  pkt.bytes = bytes;
  pkt.dlt = DLT_RAW;
  IpDatagram d;
  if (const auto k = parse_ip(pkt, d); k != PacketKind::Dns) return k;
  for (;;) {
    if (d.fragment) return PacketKind::IpFragment;
    const TunnelType t = tunnel_of(d, tunnels);
    if (t == TunnelType::None) break;
    if (const auto k = decapsulate(t, d); k != PacketKind::Dns) return k;
  }
  return parse_transport(d, PortSet(), out);
}

std::string kind(const Bytes& bytes, const TunnelConfig& tunnels = default_tunnels()) {
  Layers l;
  return std::string(packet_kind_name(parse_tunnelled(bytes, l, tunnels)));
}

// The tunnel block of a packet that must decode to the inner DNS query.
Tunnel tunnel_of_dns(const Bytes& bytes, bool inner_ipv6 = false) {
  Layers l;
  BOOST_TEST_REQUIRE(packet_kind_name(parse_tunnelled(bytes, l)) == "dns");
  BOOST_TEST(l.net.ipv6 == inner_ipv6);
  BOOST_TEST(l.net.dport == 53);
  BOOST_TEST(std::equal(l.payload.begin(), l.payload.end(), kDns.begin(), kDns.end()));
  if (!inner_ipv6) BOOST_TEST(l.net.src.bytes[0] == 192);  // the inner addresses, not 10.0.0.1
  return l.net.tunnel;
}

}  // namespace

BOOST_AUTO_TEST_CASE(vxlan_and_geneve_give_their_vni) {
  const Tunnel t = tunnel_of_dns(outer_udp(4789, vxlan(0xABCDEF) + kFrame4));
  BOOST_TEST(tunnel_type_name(t.type) == "vxlan");
  BOOST_TEST((t.has_id && t.id == 0xABCDEFu && t.depth == 1 && !t.ipv6));
  BOOST_TEST((t.src.bytes[0] == 10 && t.src.bytes[3] == 1 && t.dst.bytes[3] == 2));
  BOOST_TEST(!tunnel_of_dns(outer_udp(4789, vxlan(7, 0x00) + kFrame4)).has_id);  // no I flag
  // Geneve: 8 bytes of options skipped; an Ethernet frame or IP directly.
  const Bytes option = {0x01, 0x08, 0x01, 0x01, 0, 0, 0xab, 0xcd};
  const Tunnel g = tunnel_of_dns(outer_udp(6081, geneve(0x123456, 0x6558, option) + kFrame4));
  BOOST_TEST((tunnel_type_name(g.type) == "geneve" && g.has_id && g.id == 0x123456u));
  BOOST_TEST(tunnel_of_dns(outer_udp(6081, geneve(1, 0x86DD) + kInner6), true).id == 1u);
  BOOST_TEST(kind(outer_udp(6081, geneve(1, 0x6558, option, 1) + kFrame4)) == "bad-tunnel");
  auto long_options = geneve(1, 0x6558, option);
  long_options[0] = 63;  // 252 bytes of options announced
  BOOST_TEST(kind(outer_udp(6081, long_options + kFrame4)) == "bad-tunnel");
  BOOST_TEST(kind(outer_udp(6081, geneve(1, 0x0806) + kFrame4)) == "not-ip");  // ARP
}

BOOST_AUTO_TEST_CASE(truncated_vxlan_header_and_inner_frame) {
  BOOST_TEST(kind(outer_udp(4789, {0x08, 0, 0, 0, 0, 1})) == "bad-tunnel");  // 6 of 8 bytes
  BOOST_TEST(kind(outer_udp(4789, {})) == "bad-tunnel");
  BOOST_TEST(kind(outer_udp(4789, vxlan(1) + Bytes(10, 0))) == "truncated-frame");  // Ethernet
  auto cut = outer_udp(4789, vxlan(1) + kFrame4);
  cut.resize(cut.size() - kDns.size() - 10);  // inside the inner UDP header
  BOOST_TEST(kind(cut) == "truncated-frame");
  BOOST_TEST(kind(outer_udp(4789, vxlan(1) + ethernet({0x0806}))) == "not-ip");
  // The UDP length bounds the VXLAN datagram: padding after it is not read as the header.
  auto padded = outer_udp(4789, {0x08, 0, 0});
  padded.insert(padded.end(), 8, 0x08);
  padded[3] = static_cast<std::uint8_t>(padded.size());  // the IP total length covers all
  BOOST_TEST(kind(padded) == "bad-tunnel");
  // Off: a VXLAN port is an ordinary UDP port.
  BOOST_TEST(kind(outer_udp(4789, vxlan(1) + kFrame4), TunnelConfig()) == "not-dns-port");
  // Only the destination port says VXLAN; a DNS query from port 4789 stays DNS.
  Layers l;
  BOOST_TEST(packet_kind_name(parse_tunnelled(udp_packet(kDns, false, 4789, 53), l)) == "dns");
}

BOOST_AUTO_TEST_CASE(gre_with_every_optional_field) {
  // C K S: checksum + reserved, key, sequence number, in that order (RFC 2890 §2).
  const Bytes optional = {0xAA, 0xAA, 0, 0, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 9};
  const Tunnel t = tunnel_of_dns(outer4(47, gre(0xB000, 0x0800, optional) + kInner4));
  BOOST_TEST((tunnel_type_name(t.type) == "gre" && t.has_id && t.id == 0x01020304u));
  BOOST_TEST(tunnel_of_dns(outer4(47, gre(0x2000, 0x0800, {0, 0, 0, 5}) + kInner4)).id == 5u);
  BOOST_TEST(!tunnel_of_dns(outer4(47, gre(0x1000, 0x0800, {0, 0, 0, 1}) + kInner4)).has_id);
  BOOST_TEST(tunnel_of_dns(outer4(47, gre(0, 0x86DD) + kInner6), true).depth == 1);
  BOOST_TEST(!tunnel_of_dns(outer4(47, gre(0, 0x6558) + kFrame4)).has_id);  // bridging
  BOOST_TEST(kind(outer4(47, gre(0xB000, 0x0800, {0, 0, 0, 0, 1, 2}))) == "bad-tunnel");  // cut
  BOOST_TEST(kind(outer4(47, gre(0x4000, 0x0800, Bytes(4, 0)) + kInner4)) == "bad-tunnel");
  BOOST_TEST(kind(outer4(47, gre(0x2001, 0x880B, Bytes(8, 0)) + kInner4)) == "bad-tunnel");  // PPTP
  BOOST_TEST(kind(outer4(47, gre(0, 0x8847) + kInner4)) == "not-ip");  // MPLS
  TunnelConfig off = default_tunnels();
  off.ip = false;
  BOOST_TEST(kind(outer4(47, gre(0, 0x0800) + kInner4), off) == "not-udp-tcp");
}

BOOST_AUTO_TEST_CASE(erspan_ii_and_iii_with_subheader) {
  // Type II: version 1, VLAN 100; COS, En and T set around session 0x155.
  const Bytes ii = {0x10, 0x64, 0xEC | 0x01, 0x55, 0, 0, 0, 7};
  const Tunnel t2 = tunnel_of_dns(outer4(47, gre(0x1000, 0x88BE, {0, 0, 0, 1}) + ii + kFrame4));
  BOOST_TEST((tunnel_type_name(t2.type) == "erspan2" && t2.has_id && t2.id == 0x155u));
  // Type III, session 300, frame type 0, O set: the 8-byte platform subheader follows.
  const Bytes iii = {0x20, 0, 0x01, 0x2C, 0, 0, 0, 1, 0, 0, 0x00, 0x01};
  const Bytes platform = {0x0C, 0, 0, 1, 0x12, 0x34, 0x56, 0x78};
  const Tunnel t3 =
      tunnel_of_dns(outer4(47, gre(0x1000, 0x22EB, {0, 0, 0, 1}) + iii + platform + kFrame4));
  BOOST_TEST((tunnel_type_name(t3.type) == "erspan3" && t3.id == 300u));
  // The key of the GRE header gives way to the session ID.
  BOOST_TEST(tunnel_of_dns(outer4(47, gre(0x2000, 0x22EB, {0, 0, 0, 5}) + iii + platform +
                                          kFrame4)).id == 300u);
  // O set, subheader missing; without O the same bytes are the inner frame's start.
  BOOST_TEST(kind(outer4(47, gre(0, 0x22EB) + iii + Bytes(4, 0))) == "bad-tunnel");
  auto no_o = iii;
  no_o[11] = 0;
  BOOST_TEST(tunnel_of_dns(outer4(47, gre(0, 0x22EB) + no_o + kFrame4)).id == 300u);
  // Frame type 2: a bare IP packet, here IPv6.
  auto ip = no_o;
  ip[10] = 2 << 2;
  BOOST_TEST(tunnel_of_dns(outer4(47, gre(0, 0x22EB) + ip + kInner6), true).id == 300u);
  BOOST_TEST(kind(outer4(47, gre(0, 0x22EB) + ii + kFrame4)) == "bad-tunnel");  // version 1
  BOOST_TEST(kind(outer4(47, gre(0, 0x88BE) + iii + kFrame4)) == "bad-tunnel");  // version 2
  BOOST_TEST(kind(outer4(47, gre(0, 0x88BE) + Bytes{0x10, 0, 0})) == "bad-tunnel");
}

BOOST_AUTO_TEST_CASE(ip_in_ip_and_ipv6_in_ip) {
  const Tunnel t = tunnel_of_dns(outer4(4, kInner4));
  BOOST_TEST((tunnel_type_name(t.type) == "ip-in-ip" && !t.has_id && !t.ipv6));
  const Tunnel t6 = tunnel_of_dns(outer6(41, kInner6), true);
  BOOST_TEST((tunnel_type_name(t6.type) == "ipv6-in-ip" && t6.ipv6 && t6.src.bytes[0] == 0xfd &&
              t6.dst.bytes[15] == 2));
  BOOST_TEST(tunnel_type_name(tunnel_of_dns(outer6(4, kInner4)).type) == "ip-in-ip");
  BOOST_TEST(kind(outer4(4, kInner6)) == "bad-header");  // protocol 4 promises IPv4
  BOOST_TEST(kind(outer4(41, {0x60, 0})) == "truncated-frame");
}

BOOST_AUTO_TEST_CASE(nesting_is_bounded_and_the_outermost_is_reported) {
  // GRE (key 9) around three IP-in-IP: depth 4, the limit, reported as the GRE tunnel.
  Bytes p = kInner4;
  for (int i = 0; i < 3; ++i) p = outer4(4, p);
  const Bytes four = outer4(47, gre(0x2000, 0x0800, {0, 0, 0, 9}) + p);
  const Tunnel t = tunnel_of_dns(four);
  BOOST_TEST((tunnel_type_name(t.type) == "gre" && t.id == 9u && t.depth == kMaxTunnelDepth));
  BOOST_TEST(kind(outer4(4, four)) == "tunnel-too-deep");
  // A VXLAN datagram that carries itself: stops at the bound too, never loops.
  Bytes self = kFrame4;
  for (int i = 0; i < 40; ++i) self = ethernet({0x0800}) + outer_udp(4789, vxlan(1) + self);
  BOOST_TEST(kind(Bytes(self.begin() + 14, self.end())) == "tunnel-too-deep");
}

namespace {

struct TunnelSink final : stash53::decode::MessageSink {
  std::vector<Tunnel> tunnels;
  std::vector<std::uint16_t> ids;
  void on_message(DnsEvent& ev) noexcept override {
    tunnels.push_back(ev.net.tunnel);
    ids.push_back(ev.hdr.id);
  }
};

void feed(Decoder& d, const Bytes& bytes, TunnelSink& sink) {
  stash53::capture::Packet pkt;
  pkt.bytes = bytes;
  pkt.dlt = DLT_RAW;
  pkt.ts_ns = 1'690'000'000'000'000'000;
  DnsEvent ev;
  d.decode(pkt, ev, sink);
}

}  // namespace

BOOST_AUTO_TEST_CASE(decoder_reassembles_inside_and_outside_tunnels_counting_once) {
  DnsBuilder b;
  b.header(9, 0x8180, 1, 1).question("big.example.", 16).pointer(12).rr_fixed(16, 1, 60, 1205);
  for (int i = 0; i < 5; ++i) b.label(std::string(240, 'x'));
  const Bytes big = udp_packet(b.bytes(), false, 53, 40000);
  Decoder d({});
  TunnelSink sink;
  // Inner fragments, each in its own VXLAN packet: the tunnel survives reassembly.
  const auto inner = ipv4_fragments(big, 512);
  for (auto it = inner.rbegin(); it != inner.rend(); ++it)
    feed(d, outer_udp(4789, vxlan(42) + ethernet({0x0800}) + *it), sink);
  // One VXLAN datagram cut by the outer IP.
  const auto outer = ipv4_fragments(outer_udp(4789, vxlan(43) + ethernet({0x0800}) + big), 512);
  for (const auto& f : outer) feed(d, f, sink);
  feed(d, outer4(47, gre(0x2000, 0x0800, {0, 0, 0, 1})), sink);  // GRE, inner IP missing
  Bytes deep = kInner4;
  for (int i = 0; i < 5; ++i) deep = outer4(4, deep);
  feed(d, deep, sink);
  feed(d, outer4(47, gre(0x0001, 0x0800) + kInner4), sink);  // GRE version 1
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{9, 9}));
  BOOST_TEST_REQUIRE(sink.tunnels.size() == 2u);
  BOOST_TEST((sink.tunnels[0].id == 42u && sink.tunnels[1].id == 43u));
  BOOST_TEST((sink.tunnels[0].depth == 1 && sink.tunnels[1].depth == 1));
  BOOST_TEST(d.fragment_counters().reassembled.get() == 2u);
  const auto& c = d.counters();
  auto by = [&](PacketKind k) { return c.by_kind[static_cast<std::size_t>(k)].get(); };
  // Held fragments only: the one completing each of the 2 datagrams counts as the datagram does.
  BOOST_TEST(by(PacketKind::IpFragment) == inner.size() + outer.size() - 2);
  BOOST_TEST(by(PacketKind::TruncatedFrame) == 1u);
  BOOST_TEST(by(PacketKind::TunnelTooDeep) == 1u);
  BOOST_TEST(by(PacketKind::BadTunnel) == 1u);
  // One kind per packet (dns included), at any depth.
  std::uint64_t sum = 0;
  for (const auto& k : c.by_kind) sum += k.get();
  BOOST_TEST(sum == c.packets.get());
}

BOOST_AUTO_TEST_CASE(live_filter_lets_enabled_tunnels_through) {
  auto matches = [](const std::string& filter, const Bytes& frame) {
    std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(pcap_open_dead(DLT_EN10MB, 65535),
                                                        &pcap_close);
    bpf_program prog{};
    BOOST_TEST_REQUIRE(pcap_compile(dead.get(), &prog, filter.c_str(), 1,
                                    PCAP_NETMASK_UNKNOWN) == 0);
    pcap_pkthdr hdr{};
    hdr.caplen = hdr.len = static_cast<bpf_u_int32>(frame.size());
    const bool hit = pcap_offline_filter(&prog, &hdr, frame.data()) != 0;
    pcap_freecode(&prog);
    return hit;
  };
  const Bytes vx = outer_udp(4789, vxlan(1) + kFrame4), gre4 = outer4(47, gre(0, 0x0800) + kInner4);
  const Bytes six = outer6(41, kInner6), other = outer_udp(8080, kDns);
  DecodeOptions on;
  const auto f = stash53::config::default_live_filter(on);
  for (const auto& p : {vx, gre4, six}) {
    const std::uint16_t type = p[0] >> 4 == 6 ? 0x86DD : 0x0800;
    BOOST_TEST(matches(f, ethernet({type}) + p));
    BOOST_TEST(matches(f, ethernet({0x8100, type}) + p));  // behind a VLAN tag
  }
  BOOST_TEST(!matches(f, ethernet({0x0800}) + other));
  DecodeOptions off;
  off.vxlan_ports.clear();
  off.geneve_ports.clear();
  off.ip_tunnels = false;
  const auto g = stash53::config::default_live_filter(off);
  for (const auto& p : {vx, gre4}) BOOST_TEST(!matches(g, ethernet({0x0800}) + p));
  BOOST_TEST(matches(g, ethernet({0x0800}) + kInner4));  // plain DNS still
}

BOOST_AUTO_TEST_SUITE_END()

// Link layers, IP and transport headers, with the layouts of the tcpdump.org LINKTYPE list.
#include <pcap/dlt.h>

#include <boost/test/unit_test.hpp>

#include "decode/net_layers.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using stash53::test::DnsBuilder;
using stash53::test::udp_packet;

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

BOOST_AUTO_TEST_CASE(configured_ports_only) {
  PortSet ports;
  ports.clear();
  ports.add(5300);
  BOOST_TEST(ports.contains(5300));
  BOOST_TEST(!ports.contains(53));
  BOOST_TEST(PortSet().contains(5353));
}

BOOST_AUTO_TEST_SUITE_END()

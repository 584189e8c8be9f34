// EDNS(0) options, with layouts from RFC 6891, 5001, 7871, 7873, 7828, 7830 and 8914.
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "decode/mnemonics.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using stash53::test::DnsBuilder;

namespace {

// A response whose OPT record carries `options` (code, data) pairs.
DnsEvent with_options(std::initializer_list<std::pair<std::uint16_t, DnsBuilder::Bytes>> options,
                      std::uint32_t ttl = 0) {
  DnsBuilder opts;
  for (const auto& [code, data] : options) opts.u16(code).u16(static_cast<std::uint16_t>(data.size())).raw(data);
  DnsBuilder b;
  b.header(1, 0x8180, 1, 0, 0, 1).question("example.", 1).u8(0)
      .rr_fixed(41, 1232, ttl, static_cast<std::uint16_t>(opts.size())).raw(opts.bytes());
  DnsEvent ev;
  parse_message(b.bytes(), ev);
  return ev;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(edns)

BOOST_AUTO_TEST_CASE(nsid_as_text_and_hex) {
  const auto ev = with_options({{3, {'n', 's', '1'}}});
  BOOST_TEST(ev.edns.has_nsid);
  BOOST_TEST(ev.view(ev.edns.nsid_hex) == "6e7331");
  BOOST_TEST(ev.edns.nsid_printable);
  BOOST_TEST(ev.view(ev.edns.nsid_text) == "ns1");
  const auto binary = with_options({{3, {0x00, 0xff}}});
  BOOST_TEST(!binary.edns.nsid_printable);
  const auto request = with_options({{3, {}}});  // RFC 5001 §2.1: a request is empty
  BOOST_TEST(request.edns.has_nsid);
  BOOST_TEST(request.edns.nsid_hex.len == 0u);
}

BOOST_AUTO_TEST_CASE(client_subnet_v4_and_v6) {
  // RFC 7871 §6: family 1, /24, scope 0, only the 3 significant bytes.
  const auto v4 = with_options({{8, {0, 1, 24, 0, 198, 51, 100}}});
  BOOST_TEST(v4.edns.has_ecs);
  BOOST_TEST(v4.edns.ecs_family == 1);
  BOOST_TEST(v4.edns.ecs_source == 24);
  BOOST_TEST(v4.view(v4.edns.ecs_address) == "198.51.100.0");
  const auto v6 = with_options({{8, {0, 2, 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0xfe, 0xed, 0x00}}});
  BOOST_TEST(v6.view(v6.edns.ecs_address) == "2001:db8:feed::");
  BOOST_TEST(v6.edns.ecs_scope == 48);
  const auto too_long = with_options({{8, {0, 1, 32, 0, 1, 2, 3, 4, 5}}});
  BOOST_TEST(malformed_name(too_long.malformed) == "bad-edns");
}

// RFC 7871 §6: ADDRESS is cut to SOURCE PREFIX-LENGTH, the bits past it zero; the prefix fits
// the family. Such an option is kept and the message flagged; the options after it are read.
BOOST_AUTO_TEST_CASE(client_subnet_inconsistent_is_flagged_and_kept) {
  const std::vector<std::uint8_t> nsid{'n', 's'};
  for (const std::vector<std::uint8_t>& bad : {
           std::vector<std::uint8_t>{0, 1, 33, 0, 192, 0, 2, 1},          // /33 for IPv4
           std::vector<std::uint8_t>{0, 1, 24, 0, 198, 51, 100, 7},       // 4 bytes for /24
           std::vector<std::uint8_t>{0, 1, 24, 0, 198, 51},               // 2 bytes for /24
           std::vector<std::uint8_t>{0, 1, 22, 0, 198, 51, 101},          // bits past /22 set
           std::vector<std::uint8_t>{0, 2, 129, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 1}}) {           // /129 for IPv6
    const auto ev = with_options({{8, bad}, {3, nsid}});
    BOOST_TEST(malformed_name(ev.malformed) == "bad-edns");
    BOOST_TEST(ev.edns.has_ecs);
    BOOST_TEST(ev.edns.ecs_source == bad[2]);
    BOOST_TEST(ev.edns.has_nsid);  // read on past the flagged option
  }
  const auto v4 = with_options({{8, {0, 1, 33, 0, 192, 0, 2, 1}}});
  BOOST_TEST(v4.view(v4.edns.ecs_address) == "192.0.2.1");
  const auto fine = with_options({{8, {0, 1, 22, 0, 198, 51, 100}}});  // 100 = 0b011001|00
  BOOST_TEST(malformed_name(fine.malformed) == malformed_name(Malformed::None));
}

BOOST_AUTO_TEST_CASE(cookies) {
  const auto client = with_options({{10, {1, 2, 3, 4, 5, 6, 7, 8}}});
  BOOST_TEST(client.view(client.edns.cookie_client) == "0102030405060708");
  BOOST_TEST(client.edns.cookie_server.len == 0u);
  DnsBuilder::Bytes both = {1, 2, 3, 4, 5, 6, 7, 8};
  both.insert(both.end(), 16, 0xab);
  const auto full = with_options({{10, both}});
  BOOST_TEST(full.view(full.edns.cookie_server) == "abababababababababababababababab");
  const auto bad = with_options({{10, {1, 2, 3}}});  // RFC 7873 §5.2.2: FORMERR-worthy
  BOOST_TEST(malformed_name(bad.malformed) == "bad-edns");
}

BOOST_AUTO_TEST_CASE(extended_errors_padding_keepalive_and_unknown) {
  const auto ev = with_options({{15, {0, 18, 'n', 'o', '\n'}},  // Prohibited, text with a newline
                                {12, {0, 0, 0, 0}},
                                {11, {0, 50}},
                                {65001, {0xca, 0xfe}}});
  BOOST_TEST(malformed_name(ev.malformed) == "none");
  BOOST_TEST_REQUIRE(ev.edns.ede.size() == 1u);
  BOOST_TEST(ev.edns.ede[0].code == 18);
  BOOST_TEST(ede_name(18) == "Prohibited");
  BOOST_TEST(ev.view(ev.edns.ede[0].text) == "no\\010");
  BOOST_TEST(ev.edns.has_padding);
  BOOST_TEST(ev.edns.padding == 4);
  BOOST_TEST(ev.edns.keepalive_has_timeout);
  BOOST_TEST(ev.edns.keepalive == 50);  // 5 seconds in units of 100 ms (RFC 7828 §3.1)
  BOOST_TEST_REQUIRE(ev.edns.other.size() == 1u);
  BOOST_TEST(ev.edns.other[0].code == 65001);
  BOOST_TEST(ev.view(ev.edns.other[0].hex) == "cafe");
}

BOOST_AUTO_TEST_CASE(option_overrunning_the_rdata_keeps_earlier_ones) {
  DnsBuilder b;
  b.header(1, 0x8180, 1, 0, 0, 1).question("example.", 1).u8(0).rr_fixed(41, 1232, 0, 9)
      .u16(12).u16(1).u8(0)       // padding of 1 byte
      .u16(3).raw({0, 9});        // NSID claiming 9 bytes, none there
  DnsEvent ev;
  parse_message(b.bytes(), ev);
  BOOST_TEST(ev.edns.has_padding);
  BOOST_TEST(!ev.edns.has_nsid);
  BOOST_TEST(malformed_name(ev.malformed) == "bad-edns");
}

BOOST_AUTO_TEST_CASE(extended_rcode_version_and_do) {
  const auto ev = with_options({}, 0x01008000);  // ext-rcode 1, version 0, DO
  BOOST_TEST(ev.edns.do_bit);
  BOOST_TEST(ev.rcode() == 16);
  const auto v1 = with_options({}, 0x00010000);
  BOOST_TEST(v1.edns.version == 1);
}

BOOST_AUTO_TEST_CASE(mdns_bits_only_when_asked) {
  DnsBuilder b;
  b.header(0, 0x8400, 1, 1).question("printer.local.", 1, 0x8001).pointer(12)
      .rr_fixed(1, 0x8001, 120, 4).raw({192, 0, 2, 9});
  DnsEvent mdns, dns;
  parse_message(b.bytes(), mdns, true);
  parse_message(b.bytes(), dns, false);
  BOOST_TEST(mdns.qu);
  BOOST_TEST(mdns.qclass == 1);
  BOOST_TEST_REQUIRE(mdns.answers.size() == 1u);
  BOOST_TEST(mdns.answers[0].cache_flush);
  BOOST_TEST(mdns.answers[0].klass == 1);
  BOOST_TEST(!dns.qu);
  BOOST_TEST(dns.qclass == 0x8001);
}

BOOST_AUTO_TEST_SUITE_END()

// RDATA presentation formats, with wire bytes and expected text taken from the RFC of each type.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "decode/mnemonics.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using stash53::test::DnsBuilder;

namespace {

struct RdataCase {
  const char* what;
  std::uint16_t type;
  std::vector<std::uint8_t> rdata;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const RdataCase& c) { return os << c.what; }

DnsBuilder::Bytes wire_name(std::string_view dotted) { return DnsBuilder().name(dotted).bytes(); }

DnsBuilder::Bytes cat(std::initializer_list<DnsBuilder::Bytes> parts) {
  DnsBuilder::Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<RdataCase> cases() {
  using namespace rrtype;
  return {
      {"A", A, {192, 0, 2, 1}, "192.0.2.1"},
      {"AAAA", AAAA, {0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}, "2001:db8::53"},
      {"CNAME", CNAME, wire_name("web.example.org."), "web.example.org."},
      {"MX (RFC 1035 §3.3.9)", MX, cat({{0, 10}, wire_name("mx1.example.org.")}),
       "10 mx1.example.org."},
      {"SOA (RFC 1035 §3.3.13)", SOA,
       cat({wire_name("ns1.example.org."), wire_name("hostmaster.example.org."),
            {0x78, 0x96, 0x38, 0x2d, 0, 0, 0x1c, 0x20, 0, 0, 0x03, 0x84, 0, 0x12, 0x75, 0, 0, 0, 1,
             0x2c}}),
       "ns1.example.org. hostmaster.example.org. 2023110701 7200 900 1209600 300"},
      {"TXT with two strings and a quote", TXT,
       {5, 'h', 'e', 'l', 'l', 'o', 4, 's', 'a', 'y', '"'}, "\"hello\" \"say\\\"\""},
      {"SRV (RFC 2782)", SRV, cat({{0, 10, 0, 60, 0x13, 0xc4}, wire_name("sip.example.org.")}),
       "10 60 5060 sip.example.org."},
      {"CAA (RFC 8659 §4.1.1)", CAA,
       {0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'n',
        'e', 't'},
       "0 issue \"ca.example.net\""},
      {"HINFO", HINFO, {3, 'P', 'D', 'P', 4, 'U', 'n', 'i', 'x'}, "\"PDP\" \"Unix\""},
      // RFC 4034 §5.4: "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"
      {"DS (RFC 4034 §5.4)", DS,
       {0xec, 0x45, 5, 1, 0x2b, 0xb1, 0x83, 0xaf, 0x5f, 0x22, 0x58, 0x81, 0x79, 0xa5, 0x3b, 0x0a,
        0x98, 0x63, 0x1f, 0xad, 0x1a, 0x29, 0x21, 0x18},
       "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"},
      // RFC 4034 §4.3: "host.example.com. A MX RRSIG NSEC TYPE1234"
      {"NSEC (RFC 4034 §4.3)", NSEC,
       cat({wire_name("host.example.com."),
            {0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b},
            DnsBuilder::Bytes(26, 0x00), {0x20}}),
       "host.example.com. A MX RRSIG NSEC TYPE1234"},
      {"DNSKEY", DNSKEY, {0x01, 0x01, 3, 8, 'f', 'o', 'o', 'b', 'a', 'r'}, "257 3 8 Zm9vYmFy"},
      // RFC 3597 §5: unknown types in generic form
      {"unknown type 731", 731, {0xab, 0xcd, 0xef, 0x01, 0x23, 0x45}, "\\# 6 ABCDEF012345"},
      {"empty RDATA (RFC 2136 deletion)", A, {}, ""},
  };
}

std::string render(const RdataCase& c, Malformed& fault) {
  std::string out;
  fault = append_rdata({c.rdata.data(), c.rdata.size()}, 0, c.rdata.size(), c.type, out);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rdata)

BOOST_DATA_TEST_CASE(presentation_format_as_the_rfcs_print_it, boost::unit_test::data::make(cases()),
                     c) {
  Malformed fault{};
  BOOST_TEST(render(c, fault) == c.expected);
  BOOST_TEST(malformed_name(fault) == "none");
}

BOOST_AUTO_TEST_CASE(layout_errors_are_reported) {
  Malformed fault{};
  render({"MX without its name", rrtype::MX, {0, 10}, ""}, fault);
  BOOST_TEST(malformed_name(fault) == "bad-rdata");
  render({"TXT length past the end", rrtype::TXT, {9, 'a'}, ""}, fault);
  BOOST_TEST(malformed_name(fault) == "bad-rdata");
  render({"AAAA of 4 bytes", rrtype::AAAA, {1, 2, 3, 4}, ""}, fault);
  BOOST_TEST(malformed_name(fault) == "bad-rdata");
  render({"CNAME with trailing bytes", rrtype::CNAME, {0, 1}, ""}, fault);
  BOOST_TEST(malformed_name(fault) == "bad-rdata");
}

BOOST_AUTO_TEST_CASE(mnemonics_for_unknown_values_follow_rfc3597) {
  MnemonicBuffer buf;
  BOOST_TEST(type_name(65280, buf) == "TYPE65280");
  BOOST_TEST(class_name(7, buf) == "CLASS7");
  BOOST_TEST(type_name(rrtype::HTTPS, buf) == "HTTPS");
  BOOST_TEST(rcode_name(16, buf) == "BADVERS");
  BOOST_TEST(opcode_name(3, buf) == "RESERVED3");
}

BOOST_AUTO_TEST_SUITE_END()

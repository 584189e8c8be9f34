#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using stash53::test::DnsBuilder;

namespace {

DnsEvent parse(const DnsBuilder& b) {
  DnsEvent ev;
  parse_message(b.bytes(), ev);
  return ev;
}

struct MalformedCase {
  const char* what;
  DnsBuilder message;
  Malformed expected;
  bool has_question;
};
std::ostream& operator<<(std::ostream& os, const MalformedCase& c) { return os << c.what; }

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> v;
  v.push_back({"header of 11 bytes", DnsBuilder().raw({0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0}),
               Malformed::TruncatedHeader, false});
  v.push_back({"question count larger than the message",
               DnsBuilder().header(1, 0x0100, 2, 0).question("a.example.", 1),
               Malformed::TruncatedQuestion, true});
  v.push_back({"name cut inside a label", DnsBuilder().header(1, 0x0100, 1, 0).raw({3, 'w', 'w'}),
               Malformed::TruncatedQuestion, false});
  v.push_back({"pointer to itself (loop)",
               DnsBuilder().header(1, 0x0100, 1, 0).pointer(12).u16(1).u16(1),
               Malformed::CompressionLoop, false});
  v.push_back({"two pointers pointing at each other",
               // question "a." ends at 19; the answer name at 19 points to 21, which points to 19
               DnsBuilder().header(1, 0x8100, 1, 1).question("a.", 1).pointer(21).pointer(19),
               Malformed::CompressionLoop, true});
  v.push_back({"loop through labels: a → b → a",
               // question "a" + pointer to 20; at 20 (after qtype/qclass) "b" + pointer back to 12
               DnsBuilder().header(1, 0x0100, 1, 0).label("a").pointer(20).raw({0, 1, 0, 1})
                   .label("b").pointer(12),
               Malformed::CompressionLoop, false});
  v.push_back({"pointer past the end",
               DnsBuilder().header(1, 0x0100, 1, 0).pointer(0x3FF).u16(1).u16(1),
               Malformed::BadPointer, false});
  v.push_back({"label type 0x41 (RFC 6891 extended label)",
               DnsBuilder().header(1, 0x0100, 1, 0).raw({0x41, 1, 2, 0}).u16(1).u16(1),
               Malformed::BadLabelType, false});
  v.push_back({"label type 0x80 (reserved)",
               DnsBuilder().header(1, 0x0100, 1, 0).raw({0x80, 0}).u16(1).u16(1),
               Malformed::BadLabelType, false});
  {
    DnsBuilder b;
    b.header(1, 0x0100, 1, 0);
    for (int i = 0; i < 5; ++i) b.label(std::string(63, 'x'));  // 5 × 64 > 255 octets
    b.u8(0).u16(1).u16(1);
    v.push_back({"name over 255 octets", b, Malformed::NameTooLong, false});
  }
  v.push_back({"answer cut inside its fixed part",
               DnsBuilder().header(1, 0x8180, 1, 1).question("a.example.", 1).pointer(12).u16(1),
               Malformed::TruncatedAnswer, true});
  v.push_back({"rdlength past the end",
               DnsBuilder().header(1, 0x8180, 1, 1).question("a.example.", 1).pointer(12)
                   .rr_fixed(1, 1, 60, 8).raw({1, 2, 3, 4}),
               Malformed::TruncatedAnswer, true});
  v.push_back({"authority count larger than the section",
               DnsBuilder().header(1, 0x8180, 1, 0, 1).question("a.example.", 1),
               Malformed::TruncatedAuthority, true});
  v.push_back({"additional count larger than the section",
               DnsBuilder().header(1, 0x8180, 1, 0, 0, 3).question("a.example.", 1),
               Malformed::TruncatedAdditional, true});
  v.push_back({"A record with 5 bytes of RDATA",
               DnsBuilder().header(1, 0x8180, 1, 1).question("a.example.", 1).pointer(12)
                   .rr_fixed(1, 1, 60, 5).raw({1, 2, 3, 4, 5}),
               Malformed::BadRdata, true});
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_wire)

BOOST_AUTO_TEST_CASE(header_fields_follow_rfc1035_layout) {
  // QR=1 opcode=0 AA=1 TC=0 RD=1 | RA=1 Z=0 AD=1 CD=0 RCODE=3 → 0x85 0xA3
  const auto ev = parse(DnsBuilder().header(0xbeef, 0x85A3, 1, 0, 0, 0).question("x.example.", 28));
  BOOST_TEST(malformed_name(ev.malformed) == "none");
  BOOST_TEST(ev.hdr.id == 0xbeef);
  BOOST_TEST(ev.hdr.qr);
  BOOST_TEST(ev.hdr.aa);
  BOOST_TEST(!ev.hdr.tc);
  BOOST_TEST(ev.hdr.rd);
  BOOST_TEST(ev.hdr.ra);
  BOOST_TEST(ev.hdr.ad);
  BOOST_TEST(!ev.hdr.cd);
  BOOST_TEST(ev.hdr.rcode == 3);
  BOOST_TEST(ev.view(ev.qname) == "x.example.");
  BOOST_TEST(ev.qtype == 28);
  BOOST_TEST(ev.qclass == 1);
}

BOOST_AUTO_TEST_CASE(question_ending_in_a_loop_keeps_its_type_and_class) {
  // "a" then a pointer to 20, where "b" points back to 12: the name ends at 16 (after the first
  // pointer), so bytes 16..19 are its type (AAAA) and class (CH).
  const auto loop = parse(DnsBuilder().header(1, 0x0100, 1, 0).label("a").pointer(20)
                              .raw({0, 28, 0, 3}).label("b").pointer(12));
  BOOST_TEST(malformed_name(loop.malformed) == "compression-loop");
  BOOST_TEST(!loop.has_question);
  BOOST_TEST(loop.question_type_only);
  BOOST_TEST(loop.qtype == 28);
  BOOST_TEST(loop.qclass == 3);
  // Other faults say nothing of where the name ends: no type and class.
  const auto past = parse(DnsBuilder().header(1, 0x0100, 1, 0).pointer(0x3FF).u16(28).u16(3));
  BOOST_TEST(!past.question_type_only);
  // A loop whose type and class are cut off.
  const auto cut = parse(DnsBuilder().header(1, 0x0100, 1, 0).pointer(12).u16(28));
  BOOST_TEST(malformed_name(cut.malformed) == "compression-loop");
  BOOST_TEST(!cut.question_type_only);
}

BOOST_AUTO_TEST_CASE(opcode_and_cd_bits) {
  const auto ev = parse(DnsBuilder().header(1, 0x2810, 0, 0));  // opcode 5 (UPDATE), CD
  BOOST_TEST(ev.hdr.opcode == 5);
  BOOST_TEST(ev.hdr.cd);
  BOOST_TEST(!ev.has_question);
  BOOST_TEST(malformed_name(ev.malformed) == "none");
}

BOOST_AUTO_TEST_CASE(compressed_names_in_all_sections) {
  // RFC 1035 §4.1.4: answer owner and NS target point back into the question.
  const auto ev = parse(DnsBuilder()
                            .header(7, 0x8400, 1, 1, 1, 1)
                            .question("www.Example.org.", 1)         // name at 12
                            .pointer(12).rr_fixed(1, 1, 300, 4).raw({192, 0, 2, 1})
                            .pointer(16).rr_fixed(2, 1, 86400, 6).label("ns1").pointer(16)
                            .label("ns1").pointer(16).rr_fixed(1, 1, 3600, 4).raw({192, 0, 2, 53}));
  BOOST_TEST(malformed_name(ev.malformed) == "none");
  BOOST_TEST_REQUIRE(ev.answers.size() == 1u);
  BOOST_TEST(ev.view(ev.answers[0].name) == "www.Example.org.");
  BOOST_TEST(ev.view(ev.answers[0].data) == "192.0.2.1");
  BOOST_TEST(ev.answers[0].ttl == 300u);
  BOOST_TEST_REQUIRE(ev.authorities.size() == 1u);
  BOOST_TEST(ev.view(ev.authorities[0].name) == "Example.org.");
  BOOST_TEST(ev.view(ev.authorities[0].data) == "ns1.Example.org.");
  BOOST_TEST_REQUIRE(ev.additionals.size() == 1u);
  BOOST_TEST(ev.view(ev.additionals[0].name) == "ns1.Example.org.");
}

BOOST_AUTO_TEST_CASE(root_name_prints_as_dot) {
  const auto ev = parse(DnsBuilder().header(1, 0, 1, 0).question(".", 2));
  BOOST_TEST(ev.view(ev.qname) == ".");
}

BOOST_AUTO_TEST_CASE(opt_record_goes_to_edns) {
  // RFC 6891 §6.1.2: class = UDP size 1232; TTL = ext-rcode 1, version 0, DO.
  const auto ev = parse(DnsBuilder()
                            .header(1, 0x8180, 1, 0, 0, 1)
                            .question("example.", 1)
                            .u8(0).rr_fixed(41, 1232, 0x01008000, 0));
  BOOST_TEST(malformed_name(ev.malformed) == "none");
  BOOST_TEST(ev.additionals.empty());
  BOOST_TEST(ev.edns.present);
  BOOST_TEST(ev.edns.udp_size == 1232);
  BOOST_TEST(ev.edns.do_bit);
  BOOST_TEST(ev.edns.ext_rcode == 1);
  BOOST_TEST(ev.rcode() == 16);  // BADVERS = 1 << 4 | 0
}

BOOST_DATA_TEST_CASE(hostile_messages_are_flagged_not_fatal,
                     boost::unit_test::data::make(malformed_cases()), c) {
  const auto ev = parse(c.message);
  BOOST_TEST(malformed_name(ev.malformed) == malformed_name(c.expected));
  BOOST_TEST(ev.has_question == c.has_question);
  if (c.expected != Malformed::TruncatedHeader) BOOST_TEST(ev.hdr.id == 1);
}

BOOST_AUTO_TEST_CASE(bad_rdata_keeps_the_record_in_generic_form) {
  const auto ev = parse(DnsBuilder().header(1, 0x8180, 1, 1).question("a.example.", 1).pointer(12)
                            .rr_fixed(1, 1, 60, 5).raw({1, 2, 3, 4, 5}));
  BOOST_TEST_REQUIRE(ev.answers.size() == 1u);
  BOOST_TEST(ev.view(ev.answers[0].data) == "\\# 5 0102030405");
}

BOOST_AUTO_TEST_SUITE_END()

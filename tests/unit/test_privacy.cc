// The privacy enricher: which addresses it changes, and how.
#include <arpa/inet.h>

#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "decode/text.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;
using test::field_text;

namespace {

// A query 198.51.100.77 → 192.0.2.53 (or its response, the other way) with ECS 203.0.113.0/24.
decode::DnsEvent exchange(bool response) {
  decode::DnsEvent ev;
  const std::uint8_t ecs[] = {0, 1, 24, 0, 203, 0, 113};  // family 1, /24, scope 0
  auto b = DnsBuilder().header(7, response ? 0x8180 : 0x0100, 1, 0, 0, 1);
  b.question("www.Example.co.uk.", 1).u8(0).rr_fixed(41, 1232, 0, 4 + sizeof ecs).u16(8).u16(sizeof ecs);
  for (auto c : ecs) b.u8(c);
  decode::parse_message(b.bytes(), ev);
  decode::IpAddress client{}, server{};
  inet_pton(AF_INET, "198.51.100.77", client.bytes);
  inet_pton(AF_INET, "192.0.2.53", server.bytes);
  ev.net.src = response ? server : client;
  ev.net.dst = response ? client : server;
  return ev;
}

std::string addr(const decode::IpAddress& a, bool v6 = false) {
  std::string s;
  v6 ? decode::text::append_ipv6(s, a.bytes) : decode::text::append_ipv4(s, a.bytes);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(privacy)

BOOST_AUTO_TEST_CASE(truncates_the_client_of_queries_and_responses) {
  auto p = test::make_enricher("privacy");
  auto q = exchange(false), r = exchange(true);
  p->enrich(q);
  p->enrich(r);
  BOOST_TEST(addr(q.net.src) == "198.51.100.0");
  BOOST_TEST(addr(q.net.dst) == "192.0.2.53");  // the server stays
  BOOST_TEST(addr(r.net.dst) == "198.51.100.0");
  BOOST_TEST(addr(r.net.src) == "192.0.2.53");
  BOOST_TEST(q.view(q.edns.ecs_address) == "203.0.113.0");
}

BOOST_AUTO_TEST_CASE(prefixes_server_and_v6) {
  auto p = test::make_enricher("privacy", "{ipv4_prefix: 16, ipv6_prefix: 32, server: true}");
  auto q = exchange(false);
  p->enrich(q);
  BOOST_TEST(addr(q.net.src) == "198.51.0.0");
  BOOST_TEST(addr(q.net.dst) == "192.0.0.0");
  decode::DnsEvent v6 = exchange(false);
  v6.net.ipv6 = true;
  inet_pton(AF_INET6, "2001:db8:aaaa:bbbb::1", v6.net.src.bytes);
  p->enrich(v6);
  BOOST_TEST(addr(v6.net.src, true) == "2001:db8::");
}

BOOST_AUTO_TEST_CASE(a_cut_header_hides_both_addresses) {
  auto p = test::make_enricher("privacy");
  decode::DnsEvent ev;
  const std::uint8_t two[] = {0, 7};
  decode::parse_message(two, ev);
  inet_pton(AF_INET, "198.51.100.77", ev.net.src.bytes);
  inet_pton(AF_INET, "192.0.2.53", ev.net.dst.bytes);
  p->enrich(ev);
  BOOST_TEST(addr(ev.net.src) == "198.51.100.0");
  BOOST_TEST(addr(ev.net.dst) == "192.0.2.0");
}

BOOST_AUTO_TEST_CASE(pseudonymizes_with_crypto_pan) {
  // The key and pair from the original Crypto-PAn sample trace (also test_cryptopan).
  const char* yaml =
      "{addresses: pseudonymize, key: "
      "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202}";
  auto p = test::make_enricher("privacy", yaml);
  auto q = exchange(false);
  inet_pton(AF_INET, "128.11.68.132", q.net.src.bytes);
  p->enrich(q);
  BOOST_TEST(addr(q.net.src) == "135.242.180.132");
  BOOST_TEST(addr(q.net.dst) == "192.0.2.53");
  BOOST_TEST(q.view(q.edns.ecs_address) != "203.0.113.0");
  BOOST_TEST(q.view(q.edns.ecs_address).ends_with(".0"));  // still only the /24 the client sent
}

BOOST_AUTO_TEST_CASE(qname_minimised_to_the_registered_domain) {
  auto psl = test::make_enricher("public_suffix");
  auto p = test::make_enricher("privacy", "{qname: registered_domain}");
  auto q = exchange(false);
  psl->enrich(q);
  p->enrich(q);
  BOOST_TEST(q.view(q.qname) == "example.co.uk.");
}

BOOST_AUTO_TEST_CASE(every_question_is_minimised) {
  // mDNS asks several names at once: a second question must not keep what the first lost.
  decode::DnsEvent q;
  decode::parse_message(test::DnsBuilder()
                            .header(1, 0x0100, 3, 0)
                            .question("www.example.co.uk.", 1)
                            .question("alice-laptop.corp.example.org.", 28)
                            .question("com.", 2)
                            .bytes(),
                        q);
  test::make_enricher("privacy", "{qname: registered_domain}")->enrich(q);
  BOOST_TEST_REQUIRE(q.questions.size() == 3u);
  BOOST_TEST(q.view(q.questions[0].name) == "example.co.uk.");
  BOOST_TEST(q.view(q.questions[1].name) == "example.org.");
  BOOST_TEST(q.view(q.questions[2].name) == "com.");  // a public suffix names no one
  BOOST_TEST(q.view(q.qname) == "example.co.uk.");
}

BOOST_AUTO_TEST_CASE(bad_options_are_config_errors) {
  BOOST_TEST(test::config_error_of([] { test::make_enricher("privacy", "{addresses: pseudonymize}"); })
                 .find("needs a key: key, key_file or key_env") != std::string::npos);
  BOOST_TEST(test::config_error_of([] {
               test::make_enricher("privacy", "{addresses: pseudonymize, key: abcd}");
             }).find("enrich[0].key") != std::string::npos);
  BOOST_TEST(test::config_error_of([] { test::make_enricher("privacy", "{key: abcd}"); })
                 .find("only used with addresses: pseudonymize") != std::string::npos);
  BOOST_TEST(test::config_error_of([] { test::make_enricher("privacy", "{ipv4_prefix: 33}"); })
                 .find("ipv4_prefix") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

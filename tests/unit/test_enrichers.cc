// The registry and the small enrichers: tld, nsid.
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;
using test::field_text;

namespace {

decode::DnsEvent event_for(const DnsBuilder& b) {
  decode::DnsEvent ev;
  decode::parse_message(b.bytes(), ev);
  return ev;
}

std::string tld_of(const DnsBuilder& b) {
  auto ev = event_for(b);
  test::make_enricher("tld")->enrich(ev);
  return field_text(ev, "tld");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(enrichers)

BOOST_AUTO_TEST_CASE(tld_is_the_lower_cased_last_label) {
  BOOST_TEST(tld_of(DnsBuilder().header(1, 0, 1, 0).question("www.Example.ORG.", 1)) == "org");
  BOOST_TEST(tld_of(DnsBuilder().header(1, 0, 1, 0).question("localhost.", 1)) == "localhost");
  BOOST_TEST(tld_of(DnsBuilder().header(1, 0, 1, 0).question(".", 2)) == "<none>");
  BOOST_TEST(tld_of(DnsBuilder().header(1, 0, 0, 0)) == "<none>");
  // A dot inside the last label is escaped and is not a label boundary.
  BOOST_TEST(tld_of(DnsBuilder().header(1, 0, 1, 0).label("www").label("a.b").u8(0).u16(1).u16(1)) ==
             "a\\.b");
}

BOOST_AUTO_TEST_CASE(rcode_name_is_decoded_with_the_extended_rcode) {
  auto nx = event_for(DnsBuilder().header(1, 0x8183, 1, 0).question("x.example.", 1));
  BOOST_TEST(field_text(nx, "rcode") == "NXDOMAIN");
  // RFC 6891 §6.1.3: OPT ext-rcode 1 with header rcode 0 is 16, BADVERS.
  auto badvers = event_for(DnsBuilder().header(1, 0x8180, 1, 0, 0, 1).question("x.example.", 1)
                               .u8(0).rr_fixed(41, 1232, 0x01000000, 0));
  BOOST_TEST(field_text(badvers, "rcode") == "BADVERS");
}

BOOST_AUTO_TEST_CASE(nsid_label_from_options_or_host_name) {
  decode::DnsEvent ev;
  test::make_enricher("nsid", "{label: sensor-7}")->enrich(ev);
  BOOST_TEST(field_text(ev, "nsid") == "sensor-7");
  BOOST_TEST(test::config_error_of([] { test::make_enricher("nsid", "{label: ''}"); })
                 .find("enrich[0].label") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(server_id_from_the_nsid_or_the_address_map) {
  auto e = test::make_enricher("server_id", "{servers: {192.0.2.53: ns1-fra, '2001:db8::53': ns2}}");
  // A response carrying NSID "b1.ams" (RFC 5001 option 3): the server's own word wins.
  auto with_nsid = event_for(DnsBuilder().header(1, 0x8180, 1, 0, 0, 1).question("a.example.", 1)
                                 .u8(0).rr_fixed(41, 1232, 0, 10).u16(3).u16(6)
                                 .raw({'b', '1', '.', 'a', 'm', 's'}));
  with_nsid.net.src.bytes[0] = 192, with_nsid.net.src.bytes[2] = 2, with_nsid.net.src.bytes[3] = 53;
  e->enrich(with_nsid);
  BOOST_TEST(field_text(with_nsid, "server_id") == "b1.ams");
  // A query to 192.0.2.53: the map names its destination.
  auto query = event_for(DnsBuilder().header(2, 0x0100, 1, 0).question("a.example.", 1));
  query.net.dst = with_nsid.net.src;
  e->enrich(query);
  BOOST_TEST(field_text(query, "server_id") == "ns1-fra");
  auto unknown = event_for(DnsBuilder().header(3, 0x8180, 1, 0).question("a.example.", 1));
  e->enrich(unknown);
  BOOST_TEST(field_text(unknown, "server_id") == "<none>");
  BOOST_TEST(test::config_error_of([] { test::make_enricher("server_id", "{servers: {ns1: x}}"); })
                 .find("servers.ns1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_enricher_type_is_a_config_error) {
  const auto e = test::config_error_of([] { test::make_enricher("geoipp"); });
  BOOST_TEST(e.find("enrich[0].type") != std::string::npos);
  BOOST_TEST(e.find("geoipp") != std::string::npos);
  BOOST_TEST(e.find("tld") != std::string::npos);  // the known ones are listed
}

BOOST_AUTO_TEST_CASE(enrichers_count_hits_and_misses_in_the_registry) {
  auto tld = test::make_enricher("tld");
  auto ev = event_for(DnsBuilder().header(1, 0, 1, 0).question("a.example.", 1));
  tld->enrich(ev);
  ev = event_for(DnsBuilder().header(1, 0, 0, 0));
  tld->enrich(ev);
  MetricRegistry r;
  tld->register_metrics(r);
  BOOST_TEST(r.stats_line() == "enricher:tld hits=1 misses=1 errors=0");
}

BOOST_AUTO_TEST_CASE(the_catalogue_puts_enricher_fields_in_their_blocks) {
  // Every enricher field is in the catalogue once, after the decoded ones it follows.
  const auto& cat = event::Catalogue::instance();
  BOOST_TEST(cat.find("nsid") != nullptr);
  BOOST_TEST(cat.find("tld") != nullptr);
  BOOST_TEST(cat.find("qname")->has_text());
  BOOST_TEST(!cat.find("answers")->has_text());
  const auto& order = cat.ordered();
  auto pos = [&](const char* name) {
    return std::find(order.begin(), order.end(), cat.find(name)) - order.begin();
  };
  BOOST_TEST(pos("n") < pos("nsid"));
  BOOST_TEST(pos("nsid") < pos("s_addr"));
  BOOST_TEST(pos("edns") < pos("tld"));
  BOOST_TEST(pos("tld") < pos("malformed"));
}

BOOST_AUTO_TEST_SUITE_END()

#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "enrich/enrichers.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53;
using test::DnsBuilder;

namespace {

decode::DnsEvent event_for(const DnsBuilder& b) {
  decode::DnsEvent ev;
  decode::parse_message(b.bytes(), ev);
  return ev;
}

std::string tld_of(const DnsBuilder& b) {
  auto ev = event_for(b);
  enrich::TldEnricher().enrich(ev);
  return ev.has_tld ? std::string(ev.view(ev.tld)) : "<none>";
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

BOOST_AUTO_TEST_CASE(rcode_name_uses_the_extended_rcode) {
  enrich::RcodeEnricher rcode;
  auto nx = event_for(DnsBuilder().header(1, 0x8183, 1, 0).question("x.example.", 1));
  rcode.enrich(nx);
  BOOST_TEST(nx.rcode_name == "NXDOMAIN");
  // RFC 6891 §6.1.3: OPT ext-rcode 1 with header rcode 0 is 16, BADVERS.
  auto badvers = event_for(DnsBuilder().header(1, 0x8180, 1, 0, 0, 1).question("x.example.", 1)
                               .u8(0).rr_fixed(41, 1232, 0x01000000, 0));
  rcode.enrich(badvers);
  BOOST_TEST(badvers.rcode_name == "BADVERS");
}

BOOST_AUTO_TEST_CASE(nsid_label_from_options_or_host_name) {
  YAML::Node n(YAML::NodeType::Map);
  n["label"] = "sensor-7";
  config::OptionReader o(n, "enrich[0]");
  enrich::NsidEnricher nsid(o);
  decode::DnsEvent ev;
  nsid.enrich(ev);
  BOOST_TEST(ev.nsid == "sensor-7");

  YAML::Node empty(YAML::NodeType::Map);
  empty["label"] = "";
  config::OptionReader bad(empty, "enrich[0]");
  BOOST_CHECK_THROW(enrich::NsidEnricher{bad}, config::ConfigError);
}

BOOST_AUTO_TEST_CASE(unknown_enricher_type_is_a_config_error) {
  YAML::Node n(YAML::NodeType::Map);
  config::OptionReader o(n, "enrich[2]");
  try {
    (void)enrich::make_enricher("geoipp", o);
    BOOST_FAIL("no error");
  } catch (const config::ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("enrich[2].type") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("geoipp") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// registered_domain and public_suffix. Expected values from the Public Suffix List's own test
// cases (publicsuffix.org/list/test_psl.txt, checkPublicSuffix) against Debian's list of 2023-02.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;
using test::field_text;

namespace {

struct Case {
  const char* qname;
  const char* registered;
  const char* suffix;
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.qname; }

const Case kCases[] = {
    {"example.com.", "example.com", "com"},
    {"b.example.com.", "example.com", "com"},
    {"a.b.example.com.", "example.com", "com"},
    {"WWW.Example.CO.UK.", "example.co.uk", "co.uk"},  // lower-cased
    {"a.b.example.uk.com.", "example.uk.com", "uk.com"},  // private section
    {"test.ac.", "test.ac", "ac"},
    {"mm.", "<none>", "mm"},  // *.mm: a bare TLD with a wildcard rule
    {"c.mm.", "<none>", "c.mm"},
    {"b.c.mm.", "b.c.mm", "c.mm"},
    {"test.jp.", "test.jp", "jp"},
    {"test.kyoto.jp.", "test.kyoto.jp", "kyoto.jp"},
    {"ide.kyoto.jp.", "<none>", "ide.kyoto.jp"},
    {"b.ide.kyoto.jp.", "b.ide.kyoto.jp", "ide.kyoto.jp"},
    {"c.kobe.jp.", "<none>", "c.kobe.jp"},  // *.kobe.jp
    {"city.kobe.jp.", "city.kobe.jp", "kobe.jp"},  // !city.kobe.jp
    {"www.city.kobe.jp.", "city.kobe.jp", "kobe.jp"},
    {"com.", "<none>", "com"},  // a bare TLD
    {"example.example.", "example.example", "example"},  // not on the list: the * rule
    {"localhost.", "<none>", "localhost"},
    {"xn--85x722f.com.cn.", "xn--85x722f.com.cn", "com.cn"},  // IDN label in punycode
    {"www.xn--85x722f.xn--fiqs8s.", "xn--85x722f.xn--fiqs8s", "xn--fiqs8s"},  // IDN TLD (中国)
    {"shishi.xn--55qx5d.cn.", "shishi.xn--55qx5d.cn", "xn--55qx5d.cn"},  // 公司.cn
    {"4.3.2.1.in-addr.arpa.", "1.in-addr.arpa", "in-addr.arpa"},
    {"a\\.b.example.com.", "example.com", "com"},  // an escaped dot is inside a label
    {"www.foo\\.bar.com.", "foo\\.bar.com", "com"},  // ... also in the registered label
    {"x.a\\008b.", "x.a\\008b", "a\\008b"},  // an escaped label is never on the list
};

}  // namespace

BOOST_AUTO_TEST_SUITE(public_suffix)

BOOST_DATA_TEST_CASE(registered_domain_and_suffix, boost::unit_test::data::make(kCases), c) {
  decode::DnsEvent ev;
  decode::parse_message(DnsBuilder().header(1, 0, 1, 0).question(c.qname, 1).bytes(), ev);
  BOOST_TEST_REQUIRE(ev.view(ev.qname) == c.qname);
  test::make_enricher("public_suffix")->enrich(ev);
  BOOST_TEST(field_text(ev, "registered_domain") == c.registered);
  BOOST_TEST(field_text(ev, "public_suffix") == c.suffix);
}

BOOST_AUTO_TEST_CASE(one_enricher_gives_the_same_answers_from_its_cache) {
  // Every case three times through one enricher, so later rounds come from its cache, and
  // names sharing a tail with a deeper rule (kobe.jp, kyoto.jp) meet each other's entries.
  auto e = test::make_enricher("public_suffix");
  for (int round = 0; round < 3; ++round)
    for (const auto& c : kCases) {
      decode::DnsEvent ev;
      decode::parse_message(DnsBuilder().header(1, 0, 1, 0).question(c.qname, 1).bytes(), ev);
      e->enrich(ev);
      BOOST_TEST(field_text(ev, "registered_domain") == c.registered, c.qname << " round " << round);
      BOOST_TEST(field_text(ev, "public_suffix") == c.suffix, c.qname << " round " << round);
    }
}

BOOST_AUTO_TEST_CASE(root_and_no_question_give_nothing) {
  auto e = test::make_enricher("public_suffix");
  decode::DnsEvent root, none;
  decode::parse_message(DnsBuilder().header(1, 0, 1, 0).question(".", 2).bytes(), root);
  decode::parse_message(DnsBuilder().header(1, 0, 0, 0).bytes(), none);
  e->enrich(root);
  e->enrich(none);
  BOOST_TEST(field_text(root, "public_suffix") == "<none>");
  BOOST_TEST(field_text(none, "registered_domain") == "<none>");
}

BOOST_AUTO_TEST_CASE(a_list_that_cannot_be_loaded_is_a_config_error) {
  BOOST_TEST(test::config_error_of([] {
               test::make_enricher("public_suffix", "{file: /nonexistent/list.dat}");
             }).find("enrich[0].file") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

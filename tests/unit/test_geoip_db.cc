// GeoDatabase against the databases tests/fixtures/make_mmdb.pl writes into
// $STASH53_TEST_MMDB_DIR. Every expected value below is copied from that script's header table,
// which is the independent source (checked there with mmdblookup), not from this reader.
#include <arpa/inet.h>

#include <array>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <ostream>
#include <stdexcept>
#include <string>

#include "enrich/geoip_db.h"

using stash53::enrich::GeoDatabase;
using stash53::enrich::GeoRecord;
using stash53::enrich::is_global_address;
namespace bdata = boost::unit_test::data;

namespace {

// The path of one fixture database; fails the test when the CTest fixture did not set the dir.
std::string db_path(const std::string& name) {
  const char* dir = std::getenv("STASH53_TEST_MMDB_DIR");  // NOLINT(concurrency-mt-unsafe)
  BOOST_TEST_REQUIRE(dir != nullptr, "STASH53_TEST_MMDB_DIR is not set (run make_mmdb.pl DIR)");
  return std::string(dir) + "/" + name;
}

struct Addr {
  std::array<std::uint8_t, 16> bytes{};
  bool ipv6 = false;
};

Addr parse(const char* text) {
  Addr a;
  if (inet_pton(AF_INET, text, a.bytes.data()) == 1) return a;
  a.ipv6 = true;
  BOOST_TEST_REQUIRE(inet_pton(AF_INET6, text, a.bytes.data()) == 1, "bad test address " << text);
  return a;
}

// Looks `text` up into `out`; returns whether the database had an entry.
bool look(const GeoDatabase& db, const char* text, GeoRecord& out) {
  const Addr a = parse(text);
  return db.lookup(a.bytes.data(), a.ipv6, out);
}

GeoRecord look(const GeoDatabase& db, const char* text) {
  GeoRecord r;
  BOOST_TEST(look(db, text, r), text << " should be in " << db.path());
  return r;
}

bool misses(const GeoDatabase& db, const char* text) {
  GeoRecord r;
  const bool hit = look(db, text, r);
  return !hit && r.empty();
}

std::string open_error(const std::string& path) {
  try {
    GeoDatabase db(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(geoip_db)

BOOST_AUTO_TEST_CASE(maxmind_city_ipv4_under_an_ipv6_tree) {
  const GeoDatabase db(db_path("maxmind-city.mmdb"));
  BOOST_TEST(db.database_type() == "GeoIP2-City");
  BOOST_TEST(db.ip_version() == 6u);

  const GeoRecord gb = look(db, "81.2.69.1");
  BOOST_TEST(gb.country_code == "GB");
  BOOST_TEST(gb.country == "United Kingdom");  // `en`, not the `de` name
  BOOST_TEST(gb.city == "London");
  BOOST_TEST(gb.has_location);
  BOOST_CHECK_SMALL(gb.lat - 51.5142, 1e-9);
  BOOST_CHECK_SMALL(gb.lon - -0.0931, 1e-9);
  BOOST_TEST(gb.asn == 0u);
  BOOST_TEST(gb.as_org.empty());

  const GeoRecord se = look(db, "89.160.20.5");
  BOOST_TEST(se.country_code == "SE");
  BOOST_TEST(se.country == "Sweden");
  BOOST_TEST(se.city == "Link\xc3\xb6ping");
  BOOST_CHECK_SMALL(se.lon - 15.6167, 1e-9);

  const GeoRecord us = look(db, "216.160.83.63");  // last of the /29
  BOOST_TEST(us.country == "United States");
  BOOST_TEST(us.city == "Milton");
  BOOST_CHECK_SMALL(us.lat - 47.2513, 1e-9);

  BOOST_TEST(misses(db, "216.160.83.64"));
  BOOST_TEST(misses(db, "81.2.70.1"));
  BOOST_TEST(misses(db, "8.8.8.8"));
}

BOOST_AUTO_TEST_CASE(maxmind_city_ipv6) {
  const GeoDatabase db(db_path("maxmind-city.mmdb"));
  const GeoRecord de = look(db, "2a02:8800:ffff::1");
  BOOST_TEST(de.country_code == "DE");
  BOOST_TEST(de.country == "Germany");
  BOOST_TEST(de.city == "Berlin");
  BOOST_TEST(de.has_location);
  BOOST_CHECK_SMALL(de.lat - 52.52, 1e-9);
  BOOST_CHECK_SMALL(de.lon - 13.405, 1e-9);
  BOOST_TEST(misses(db, "2a02:8900::1"));
  BOOST_TEST(misses(db, "2001:4860::8888"));
}

BOOST_AUTO_TEST_CASE(registered_country_when_country_is_absent) {
  const GeoDatabase db(db_path("maxmind-city.mmdb"));
  const GeoRecord bt = look(db, "67.43.156.1");
  BOOST_TEST(bt.country_code == "BT");
  BOOST_TEST(bt.country == "Bhutan");
  BOOST_TEST(bt.city.empty());
  BOOST_TEST(!bt.has_location);

  const GeoRecord us = look(db, "2001:480::1");
  BOOST_TEST(us.country_code == "US");
  BOOST_TEST(us.country == "United States");
  BOOST_TEST(!us.has_location);
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_in_an_ipv6_database) {
  const GeoDatabase db(db_path("maxmind-city.mmdb"));
  const GeoRecord gb = look(db, "::ffff:81.2.69.200");
  BOOST_TEST(gb.country_code == "GB");
  BOOST_TEST(gb.city == "London");
  BOOST_TEST(misses(db, "::ffff:8.8.8.8"));
}

BOOST_AUTO_TEST_CASE(flat_city_ipv4) {
  const GeoDatabase db(db_path("flat-city-ipv4.mmdb"));
  BOOST_TEST(db.database_type() == "city ipv4");
  BOOST_TEST(db.ip_version() == 4u);

  const GeoRecord gb = look(db, "81.2.69.1");
  BOOST_TEST(gb.country_code == "GB");
  BOOST_TEST(gb.country.empty());  // the flat schema has no country names
  BOOST_TEST(gb.city == "London");
  BOOST_TEST(gb.has_location);
  BOOST_CHECK_SMALL(gb.lat - 51.5085, 1e-4);  // stored as float
  BOOST_CHECK_SMALL(gb.lon - -0.1257, 1e-4);

  const GeoRecord us = look(db, "216.160.83.56");
  BOOST_TEST(us.country_code == "US");
  BOOST_TEST(us.city == "Milton");
  BOOST_CHECK_SMALL(us.lon - -122.31, 1e-4);

  // An entry with empty strings and no coordinates is a hit that fills only the code.
  GeoRecord cn;
  BOOST_TEST(look(db, "175.16.199.255", cn));
  BOOST_TEST(cn.country_code == "CN");
  BOOST_TEST(cn.city.empty());
  BOOST_TEST(!cn.has_location);

  BOOST_TEST(misses(db, "8.8.8.8"));
}

BOOST_AUTO_TEST_CASE(ipv6_in_an_ipv4_database_is_a_miss_and_mapped_is_ipv4) {
  const GeoDatabase db(db_path("flat-city-ipv4.mmdb"));
  BOOST_TEST(misses(db, "2a02:8800::1"));
  BOOST_TEST(misses(db, "::1"));
  const GeoRecord se = look(db, "::ffff:89.160.20.1");
  BOOST_TEST(se.country_code == "SE");
  BOOST_TEST(se.city == "Link\xc3\xb6ping");
  BOOST_CHECK_SMALL(se.lat - 58.41, 1e-4);
}

BOOST_AUTO_TEST_CASE(flat_city_ipv6) {
  const GeoDatabase db(db_path("flat-city-ipv6.mmdb"));
  BOOST_TEST(db.database_type() == "city ipv6");
  const GeoRecord de = look(db, "2a02:8800::1");
  BOOST_TEST(de.country_code == "DE");
  BOOST_TEST(de.city == "Berlin");
  BOOST_CHECK_SMALL(de.lon - 13.405, 1e-4);
  const GeoRecord us = look(db, "2001:480:1::");
  BOOST_TEST(us.city == "San Diego");
  BOOST_CHECK_SMALL(us.lat - 32.7157, 1e-4);
  // Built like @ip-location-db's ipv6 files: no IPv4 data, no ::ffff:0:0/96 alias.
  BOOST_TEST(misses(db, "81.2.69.1"));
  BOOST_TEST(misses(db, "::ffff:81.2.69.1"));
}

BOOST_AUTO_TEST_CASE(maxmind_asn) {
  const GeoDatabase db(db_path("maxmind-asn.mmdb"));
  BOOST_TEST(db.database_type() == "GeoLite2-ASN");
  const GeoRecord aaisp = look(db, "81.2.69.1");
  BOOST_TEST(aaisp.asn == 20712u);
  BOOST_TEST(aaisp.as_org == "Andrews & Arnold Ltd");
  BOOST_TEST(aaisp.country_code.empty());
  BOOST_TEST(!aaisp.has_location);
  BOOST_TEST(look(db, "1.159.255.255").asn == 1221u);
  BOOST_TEST(look(db, "::ffff:89.160.20.9").as_org == "Bredband2 AB");
  const GeoRecord lg = look(db, "2a02:8800:1::1");
  BOOST_TEST(lg.asn == 6830u);
  BOOST_TEST(lg.as_org == "Liberty Global B.V.");
  BOOST_TEST(misses(db, "2001:480::1"));
  BOOST_TEST(misses(db, "1.160.0.0"));
}

BOOST_AUTO_TEST_CASE(city_and_asn_merge_into_one_record) {
  const GeoDatabase city(db_path("maxmind-city.mmdb"));
  const GeoDatabase asn(db_path("maxmind-asn.mmdb"));
  GeoRecord r;
  BOOST_TEST(look(city, "81.2.69.1", r));
  BOOST_TEST(look(asn, "81.2.69.1", r));
  BOOST_TEST(r.country_code == "GB");
  BOOST_TEST(r.city == "London");
  BOOST_TEST(r.asn == 20712u);
  BOOST_TEST(r.as_org == "Andrews & Arnold Ltd");

  // Only the ASN database knows 1.128.0.0/11.
  r.clear();
  BOOST_TEST(!look(city, "1.130.0.1", r));
  BOOST_TEST(look(asn, "1.130.0.1", r));
  BOOST_TEST(r.asn == 1221u);
  BOOST_TEST(r.country_code.empty());
}

BOOST_AUTO_TEST_CASE(lookup_fills_only_empty_fields) {
  const GeoDatabase flat(db_path("flat-city-ipv4.mmdb"));
  const GeoDatabase maxmind(db_path("maxmind-city.mmdb"));
  GeoRecord r;
  r.city = "Preset";
  BOOST_TEST(look(flat, "81.2.69.1", r));
  BOOST_TEST(look(maxmind, "81.2.69.1", r));
  BOOST_TEST(r.city == "Preset");
  BOOST_TEST(r.country_code == "GB");
  BOOST_TEST(r.country == "United Kingdom");  // only the second database had it
  BOOST_CHECK_SMALL(r.lat - 51.5085, 1e-4);   // the first database's location is kept

  // A full record stays as it is, and the lookup is still a hit.
  const GeoRecord before = r;
  const GeoDatabase asn(db_path("maxmind-asn.mmdb"));
  BOOST_TEST(look(asn, "81.2.69.1", r));
  BOOST_TEST(look(asn, "81.2.69.1", r));
  BOOST_TEST(r.asn == 20712u);
  BOOST_TEST(r.city == before.city);
  BOOST_TEST(r.lat == before.lat);
}

BOOST_AUTO_TEST_CASE(reused_record_keeps_its_buffers) {
  const GeoDatabase db(db_path("maxmind-city.mmdb"));
  GeoRecord r;
  r.country.reserve(64);
  r.city.reserve(64);
  const char* country = r.country.data();
  const char* city = r.city.data();
  for (const char* ip : {"81.2.69.1", "89.160.20.5", "2a02:8800::1", "216.160.83.57"}) {
    r.clear();
    BOOST_TEST(r.empty());
    BOOST_TEST(look(db, ip, r));
    BOOST_TEST(!r.empty());
  }
  BOOST_TEST(r.country == "United States");
  BOOST_TEST(r.country.data() == country);
  BOOST_TEST(r.city.data() == city);
  BOOST_TEST(r.country.capacity() >= 64u);
}

BOOST_AUTO_TEST_CASE(bad_files_throw_with_the_path) {
  const std::string garbage = db_path("not-an-mmdb.mmdb");
  BOOST_CHECK_THROW(GeoDatabase{garbage}, std::runtime_error);
  std::string msg = open_error(garbage);
  BOOST_TEST(msg.rfind("geoip: cannot open '" + garbage + "': ", 0) == 0, msg);
  BOOST_TEST(msg.find("metadata") != std::string::npos, msg);  // MMDB_strerror's text

  const std::string missing = db_path("no-such-file.mmdb");
  msg = open_error(missing);
  BOOST_TEST(msg.rfind("geoip: cannot open '" + missing + "': ", 0) == 0, msg);
}

namespace {

struct GlobalCase {
  const char* addr;
  bool global;
};

std::ostream& operator<<(std::ostream& os, const GlobalCase& c) {
  return os << c.addr << (c.global ? " global" : " not global");
}

const GlobalCase kGlobalCases[] = {
    {"8.8.8.8", true},
    {"81.2.69.1", true},
    {"1.1.1.1", true},
    {"0.0.0.0", false},
    {"0.255.255.255", false},
    {"10.1.2.3", false},
    {"100.63.255.255", true},
    {"100.64.0.1", false},
    {"100.127.255.255", false},
    {"100.128.0.0", true},
    {"127.0.0.1", false},
    {"169.254.1.1", false},
    {"172.15.255.255", true},
    {"172.16.0.1", false},
    {"172.31.255.255", false},
    {"172.32.0.0", true},
    {"192.0.0.8", false},
    {"192.0.2.1", false},
    {"192.0.3.1", true},
    {"192.168.1.1", false},
    {"198.17.255.255", true},
    {"198.18.0.1", false},
    {"198.19.255.255", false},
    {"198.20.0.0", true},
    {"198.51.100.7", false},
    {"203.0.113.9", false},
    {"203.0.114.1", true},
    {"224.0.0.251", false},
    {"239.255.255.250", false},
    {"240.0.0.1", false},
    {"255.255.255.255", false},
    {"223.255.255.255", true},
    {"2a02:8800::1", true},
    {"2001:4860:4860::8888", true},
    {"::", false},
    {"::1", false},
    {"fc00::1", false},
    {"fd12:3456::1", false},
    {"fe80::1", false},
    {"febf::1", false},
    {"fec0::1", false},
    {"ff02::fb", false},
    {"ff0e::1", false},
    {"2001:db8::1", false},
    {"2001:db9::1", true},
    {"2001:2::1", false},
    {"3fff::1", false},
    {"3ffe::1", true},
    {"100::1", false},
    {"::ffff:8.8.8.8", true},
    {"::ffff:10.0.0.1", false},
    {"::ffff:127.0.0.1", false},
    {"::ffff:192.168.0.1", false},
    {"64:ff9b::808:808", true},
    {"64:ff9b::a00:1", false},
    {"2002:808:808::1", true},
    {"2002:c0a8:101::1", false},
};

}  // namespace

BOOST_DATA_TEST_CASE(is_global_address_table, bdata::make(kGlobalCases), c) {
  const Addr a = parse(c.addr);
  BOOST_TEST(is_global_address(a.bytes.data(), a.ipv6) == c.global, c);
}

BOOST_AUTO_TEST_SUITE_END()

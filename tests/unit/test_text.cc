#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <array>
#include <ctime>
#include <vector>

#include "decode/text.h"

using namespace stash53::decode;

namespace {
std::string label(std::string_view s) {
  std::string out;
  stash53::decode::text::append_label(out, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return out;
}
std::string quoted(std::string_view s) {
  std::string out;
  stash53::decode::text::append_quoted(out, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return out;
}
std::string base64(std::string_view s) {
  std::string out;
  stash53::decode::text::append_base64(out, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(text)

// RFC 1035 §5.1: special characters are escaped with a backslash, others as \DDD (as dig does).
BOOST_AUTO_TEST_CASE(label_escapes_special_and_unprintable_bytes) {
  BOOST_TEST(label("www") == "www");
  BOOST_TEST(label("a.b") == "a\\.b");
  BOOST_TEST(label("a b") == "a\\032b");
  BOOST_TEST(label("semi;colon") == "semi\\;colon");
  BOOST_TEST(label(std::string_view("\x00\x7f\xff", 3)) == "\\000\\127\\255");
  BOOST_TEST(label("MiXeD") == "MiXeD");  // case is kept (0x20 randomisation)
}

BOOST_AUTO_TEST_CASE(character_string_is_quoted_with_escapes) {
  BOOST_TEST(quoted("v=spf1 -all") == "\"v=spf1 -all\"");
  BOOST_TEST(quoted("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
  BOOST_TEST(quoted("tab\there") == "\"tab\\009here\"");
  BOOST_TEST(quoted("") == "\"\"");
}

// RFC 4648 §10 test vectors.
BOOST_AUTO_TEST_CASE(base64_matches_rfc4648_vectors) {
  BOOST_TEST(base64("") == "");
  BOOST_TEST(base64("f") == "Zg==");
  BOOST_TEST(base64("fo") == "Zm8=");
  BOOST_TEST(base64("foo") == "Zm9v");
  BOOST_TEST(base64("foob") == "Zm9vYg==");
  BOOST_TEST(base64("fooba") == "Zm9vYmE=");
  BOOST_TEST(base64("foobar") == "Zm9vYmFy");
}

BOOST_AUTO_TEST_CASE(addresses_numbers_hex_and_times) {
  std::string out;
  const std::uint8_t v4[] = {198, 51, 100, 10};
  stash53::decode::text::append_ipv4(out, v4);
  BOOST_TEST(out == "198.51.100.10");
  out.clear();
  const std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  stash53::decode::text::append_ipv6(out, v6);
  BOOST_TEST(out == "2001:db8::1");  // RFC 5952 §4.2.1: longest zero run compressed
  out.clear();
  const std::uint8_t bytes[] = {0x0a, 0xbc};
  stash53::decode::text::append_hex(out, bytes, 2);
  BOOST_TEST(out == "0ABC");
  out.clear();
  stash53::decode::text::append_uint(out, 4294967295u);
  BOOST_TEST(out == "4294967295");
  out.clear();
  // RFC 4034 §3.3: 1048354263 is 20030322173103.
  stash53::decode::text::append_dnssec_time(out, 1048354263u);
  BOOST_TEST(out == "20030322173103");
}

// Our IPv6 text against the C library's inet_ntop, on the cases RFC 5952 names and on many
// addresses with zero groups here and there.
BOOST_AUTO_TEST_CASE(ipv6_text_is_inet_ntops) {
  std::vector<std::array<std::uint8_t, 16>> cases;
  const auto from_text = [&](const char* s) {
    std::array<std::uint8_t, 16> a{};
    BOOST_REQUIRE(inet_pton(AF_INET6, s, a.data()) == 1);
    cases.push_back(a);
  };
  for (const char* s : {"::", "::1", "1::", "2001:db8::1", "2001:db8:0:1:1:1:1:1", "2001:0:0:1::1",
                        "2001:db8::1:0:0:1", "::ffff:192.0.2.1", "::192.0.2.1", "::ffff:0:1",
                        "fe80::1:2:3:4", "1:0:0:2:0:0:0:3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                        "0:0:1::", "::ffff:0.0.0.0", "::0.0.1.0", "64:ff9b::192.0.2.33"})
    from_text(s);
  std::uint32_t x = 12345;
  for (int n = 0; n < 20000; ++n) {
    std::array<std::uint8_t, 16> a{};
    for (int g = 0; g < 8; ++g) {
      x = x * 1103515245 + 12345;
      if ((x >> 16) % 3 != 0) continue;  // a zero group two times in three
      a[2 * g] = static_cast<std::uint8_t>(x >> 8), a[2 * g + 1] = static_cast<std::uint8_t>(x >> 24);
    }
    cases.push_back(a);
  }
  for (const auto& a : cases) {
    char want[INET6_ADDRSTRLEN];
    BOOST_REQUIRE(inet_ntop(AF_INET6, a.data(), want, sizeof want) != nullptr);
    std::string got;
    stash53::decode::text::append_ipv6(got, a.data());
    BOOST_TEST_REQUIRE(got == want);
  }
}

// RRSIG times against gmtime_r and strftime, across leap days, centuries and the end of 32 bits.
BOOST_AUTO_TEST_CASE(dnssec_time_is_strftimes) {
  for (std::uint64_t t = 0; t <= 0xffffffffu; t += 86399 * 7 + 3601) {
    const std::time_t secs = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char want[16];
    std::strftime(want, sizeof want, "%Y%m%d%H%M%S", &tm);
    std::string got;
    stash53::decode::text::append_dnssec_time(got, static_cast<std::uint32_t>(t));
    BOOST_TEST_REQUIRE(got == want);
  }
  std::string last;
  stash53::decode::text::append_dnssec_time(last, 0xffffffffu);
  BOOST_TEST(last == "21060207062815");
}

BOOST_AUTO_TEST_SUITE_END()

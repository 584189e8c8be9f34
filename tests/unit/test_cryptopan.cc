#include <arpa/inet.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "enrich/cryptopan.h"

using namespace stash53;
using enrich::CryptoPan;

namespace {

// The key of the original Crypto-PAn distribution's sample (Xu, Fan, Ammar, Moon 2002;
// sample_trace_raw.txt / sample_trace_sanitized.txt).
constexpr std::array<std::uint8_t, 32> kSampleKey = {
    21,  34,  23,  141, 51,  164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
    216, 152, 143, 131, 121, 121, 101, 39,  98, 87, 76, 45, 42, 132, 34,  2};
constexpr std::string_view kSampleKeyHex =
    "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";

// Bytes 0, 1, ..., 31: the key of yacryptopan's and pycryptopan's self-tests.
constexpr std::array<std::uint8_t, 32> kCountingKey = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                       11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                       22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

struct Vector {
  const char* in;
  const char* out;
};

// The distinct address pairs of the original distribution's sample_trace_raw.txt →
// sample_trace_sanitized.txt under kSampleKey, as tabulated in github.com/Yawning/cryptopan's
// cryptopan_test.go. All 70 re-derived with tests/fixtures/cryptopan_ref.py (which uses
// python3-cryptography's AES, not OpenSSL through this code).
constexpr Vector kSampleV4[] = {
    {"128.11.68.132", "135.242.180.132"},   {"129.118.74.4", "134.136.186.123"},
    {"130.132.252.244", "133.68.164.234"},  {"141.223.7.43", "141.167.8.160"},
    {"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
    {"156.29.3.236", "147.225.12.42"},      {"165.247.96.84", "162.9.99.234"},
    {"166.107.77.190", "160.132.178.185"},  {"192.102.249.13", "252.138.62.131"},
    {"192.215.32.125", "252.43.47.189"},    {"192.233.80.103", "252.25.108.8"},
    {"192.41.57.43", "252.222.221.184"},    {"193.150.244.223", "253.169.52.216"},
    {"195.205.63.100", "255.186.223.5"},    {"198.200.171.101", "249.199.68.213"},
    {"198.26.132.101", "249.36.123.202"},   {"198.36.213.5", "249.7.21.132"},
    {"198.51.77.238", "249.18.186.254"},    {"199.217.79.101", "248.38.184.213"},
    {"202.49.198.20", "245.206.7.234"},     {"203.12.160.252", "244.248.163.4"},
    {"204.184.162.189", "243.192.77.90"},   {"204.202.136.230", "243.178.4.198"},
    {"204.29.20.4", "243.33.20.123"},       {"205.178.38.67", "242.108.198.51"},
    {"205.188.147.153", "242.96.16.101"},   {"205.188.248.25", "242.96.88.27"},
    {"205.245.121.43", "242.21.121.163"},   {"207.105.49.5", "241.118.205.138"},
    {"207.135.65.238", "241.202.129.222"},  {"207.155.9.214", "241.220.250.22"},
    {"207.188.7.45", "241.255.249.220"},    {"207.25.71.27", "241.33.119.156"},
    {"207.33.151.131", "241.1.233.131"},    {"208.147.89.59", "227.237.98.191"},
    {"208.234.120.210", "227.154.67.17"},   {"208.28.185.184", "227.39.94.90"},
    {"208.52.56.122", "227.8.63.165"},      {"209.12.231.7", "226.243.167.8"},
    {"209.238.72.3", "226.6.119.243"},      {"209.246.74.109", "226.22.124.76"},
    {"209.68.60.238", "226.184.220.233"},   {"209.85.249.6", "226.170.70.6"},
    {"212.120.124.31", "228.135.163.231"},  {"212.146.8.236", "228.19.4.234"},
    {"212.186.227.154", "228.59.98.98"},    {"212.204.172.118", "228.71.195.169"},
    {"212.206.130.201", "228.69.242.193"},  {"216.148.237.145", "235.84.194.111"},
    {"216.157.30.252", "235.89.31.26"},     {"216.184.159.48", "235.96.225.78"},
    {"216.227.10.221", "235.28.253.36"},    {"216.254.18.172", "235.7.16.162"},
    {"216.32.132.250", "235.192.139.38"},   {"216.35.217.178", "235.195.157.81"},
    {"24.0.250.221", "100.15.198.226"},     {"24.13.62.231", "100.2.192.247"},
    {"24.14.213.138", "100.1.42.141"},      {"24.5.0.80", "100.9.15.210"},
    {"24.7.198.88", "100.10.6.25"},         {"24.94.26.44", "100.88.228.35"},
    {"38.15.67.68", "64.3.66.187"},         {"4.3.88.225", "124.60.155.63"},
    {"63.14.55.111", "95.9.215.7"},         {"63.195.241.44", "95.179.238.44"},
    {"63.97.7.140", "95.97.9.123"},         {"64.14.118.196", "0.255.183.58"},
    {"64.34.154.117", "0.221.154.117"},     {"64.39.15.238", "0.219.7.41"},
};

// IPv6 under kSampleKey. The first five are github.com/Yawning/cryptopan's published IPv6
// vectors; the rest were derived with tests/fixtures/cryptopan_ref.py, which also reproduces the
// first five: that package and yacryptopan extend Crypto-PAn to 128 bits the same way.
constexpr Vector kSampleV6[] = {
    {"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
    {"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
    {"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
    {"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
    {"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
    {"::", "78ff:f001:9fc0:20df:8380:b1f1:704:ec"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ce78:61ff:387e:8078:38c4:407:c3bf:f781"},
    {"2001:db8:85a3::8a2e:370:7334", "4401:2bc:867e:e401:fdff:85b2:fb57:7ccb"},
    {"fe80::1", "cf7f:c0e:1fc3:da1c:70:b18e:f7f3:2101"},
    {"2a00:1450:4001:82a::200e", "4a30:ebed:a03e:bed:820f:5e00:f02:221e"},
    // NAT64 (RFC 6052) embeds IPv4 but is not IPv4-mapped: anonymised as IPv6.
    {"64:ff9b::192.0.2.1", "7897:79f:e03f:c5c3:8270:ff81:e1f4:e10d"},
};

std::array<std::uint8_t, 16> parse(const char* text, bool ipv6) {
  std::array<std::uint8_t, 16> a{};
  BOOST_REQUIRE_MESSAGE(inet_pton(ipv6 ? AF_INET6 : AF_INET, text, a.data()) == 1, text);
  return a;
}

std::string format(const std::uint8_t* a, bool ipv6) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(ipv6 ? AF_INET6 : AF_INET, a, buf, sizeof buf);
}

std::string anonymized(CryptoPan& cp, const char* text, bool ipv6) {
  auto a = parse(text, ipv6);
  cp.anonymize(a.data(), ipv6);
  return format(a.data(), ipv6);
}

unsigned common_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) {
    if (const unsigned diff = a[i] ^ b[i]; diff != 0) {
      return i * 8 + static_cast<unsigned>(__builtin_clz(diff)) - 24;
    }
  }
  return bytes * 8;
}

// A random address and a second one sharing exactly `k` leading bits with it.
void random_pair(std::mt19937_64& rng, unsigned bytes, unsigned k, std::uint8_t* a,
                 std::uint8_t* b) {
  for (unsigned i = 0; i < bytes; ++i) {
    a[i] = static_cast<std::uint8_t>(rng());
    b[i] = static_cast<std::uint8_t>(rng());
  }
  for (unsigned bit = 0; bit < k; ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    b[bit / 8] = static_cast<std::uint8_t>((b[bit / 8] & ~mask) | (a[bit / 8] & mask));
  }
  if (k < bytes * 8) {
    const auto mask = static_cast<std::uint8_t>(0x80 >> (k % 8));
    b[k / 8] = static_cast<std::uint8_t>((b[k / 8] & ~mask) | (~a[k / 8] & mask));
  }
}

std::string invalid_key_message(std::string_view text) {
  try {
    (void)enrich::parse_cryptopan_key(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cryptopan)

BOOST_AUTO_TEST_CASE(ipv4_matches_the_reference_sample_trace) {
  CryptoPan cp(kSampleKey);
  for (const auto& v : kSampleV4) {
    auto a = parse(v.in, false);
    cp.anonymize_v4(a.data());
    BOOST_TEST(format(a.data(), false) == v.out, v.in);
  }
  BOOST_TEST(cp.failures() == 0u);
}

BOOST_AUTO_TEST_CASE(ipv6_matches_the_go_package_and_python_reference) {
  CryptoPan cp(kSampleKey);
  for (const auto& v : kSampleV6) {
    auto a = parse(v.in, true);
    cp.anonymize_v6(a.data());
    BOOST_TEST(format(a.data(), true) == v.out, v.in);
  }
  // yacryptopan's self-test (key bytes 0..31) for both families.
  CryptoPan counting(kCountingKey);
  BOOST_TEST(anonymized(counting, "192.0.2.1", false) == "2.90.93.17");
  BOOST_TEST(anonymized(counting, "2001:db8::1", true) ==
             "dd92:2c44:3fc0:ff1e:7ff9:c7f0:8180:7e00");
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_maps_like_its_ipv4) {
  CryptoPan cp(kSampleKey);
  BOOST_TEST(anonymized(cp, "::ffff:128.11.68.132", true) == "::ffff:135.242.180.132");
  BOOST_TEST(anonymized(cp, "::ffff:64.39.15.238", true) == "::ffff:0.219.7.41");
  // 0.0.0.0 → 120.255.240.1 (cryptopan_ref.py), mapped or not.
  BOOST_TEST(anonymized(cp, "0.0.0.0", false) == "120.255.240.1");
  BOOST_TEST(anonymized(cp, "::ffff:0.0.0.0", true) == "::ffff:120.255.240.1");
  // The same bytes behind another /96 are ordinary IPv6.
  BOOST_TEST(anonymized(cp, "2001:db8::ffff:128.11.68.132", true) ==
             "4401:2bc:603f:d91d:27f:404:6ff7:4404");
  // anonymize() on plain IPv4 is anonymize_v4(); on other IPv6 it is anonymize_v6().
  auto v4 = parse("24.5.0.80", false);
  cp.anonymize(v4.data(), false);
  BOOST_TEST(format(v4.data(), false) == "100.9.15.210");
  BOOST_TEST(anonymized(cp, "2001:db8::1", true) == "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e");
}

BOOST_AUTO_TEST_CASE(common_prefix_length_is_preserved) {
  CryptoPan cp(kSampleKey);
  std::mt19937_64 rng(53);
  for (const unsigned bytes : {4u, 16u}) {
    for (int round = 0; round < 400; ++round) {
      const auto k = static_cast<unsigned>(rng() % (bytes * 8 + 1));
      std::uint8_t a[16], b[16];
      random_pair(rng, bytes, k, a, b);
      BOOST_REQUIRE(common_prefix(a, b, bytes) == k);
      if (bytes == 4) {
        cp.anonymize_v4(a);
        cp.anonymize_v4(b);
      } else {
        cp.anonymize_v6(a);
        cp.anonymize_v6(b);
      }
      BOOST_TEST(common_prefix(a, b, bytes) == k, "width " << bytes * 8 << ", prefix " << k);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_pseudonym_depends_on_both_key_halves) {
  CryptoPan sample(kSampleKey);
  auto aes_changed = kSampleKey;
  aes_changed[0] ^= 1;
  auto pad_changed = kSampleKey;
  pad_changed[31] ^= 1;
  CryptoPan other_aes(aes_changed), other_pad(pad_changed);
  const std::string base = anonymized(sample, "2001:db8::1", true);
  BOOST_TEST(anonymized(other_aes, "2001:db8::1", true) != base);
  BOOST_TEST(anonymized(other_pad, "2001:db8::1", true) != base);
  // Keying is deterministic: a second instance agrees.
  CryptoPan again(kSampleKey);
  BOOST_TEST(anonymized(again, "2001:db8::1", true) == base);
}

BOOST_AUTO_TEST_CASE(key_parses_from_hex_or_raw_bytes) {
  using enrich::parse_cryptopan_key;
  BOOST_TEST(parse_cryptopan_key(kSampleKeyHex) == kSampleKey);
  std::string upper(kSampleKeyHex);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  BOOST_TEST(parse_cryptopan_key(upper) == kSampleKey);
  BOOST_TEST(parse_cryptopan_key(std::string(kSampleKeyHex) + "\n") == kSampleKey);
  BOOST_TEST(parse_cryptopan_key(std::string(kSampleKeyHex) + "\r\n") == kSampleKey);

  const std::string raw(kSampleKey.begin(), kSampleKey.end());
  BOOST_TEST(parse_cryptopan_key(raw) == kSampleKey);
  BOOST_TEST(parse_cryptopan_key(raw + "\n") == kSampleKey);
  // A raw key may itself contain or end in '\n'; only a 33rd byte is taken as the newline.
  std::string with_newline = raw;
  with_newline[5] = '\n';
  with_newline[31] = '\n';
  const auto parsed = parse_cryptopan_key(with_newline);
  BOOST_TEST(std::string(parsed.begin(), parsed.end()) == with_newline);
  BOOST_TEST(parse_cryptopan_key(with_newline + "\n") == parsed);
}

BOOST_AUTO_TEST_CASE(bad_keys_are_rejected_without_echoing_them) {
  const std::string hex(kSampleKeyHex);
  const std::string raw(kSampleKey.begin(), kSampleKey.end());
  for (const std::string& bad : {std::string(), hex.substr(0, 63), hex + "0", raw.substr(0, 31),
                                 raw + "x", raw + "\n\n", hex.substr(0, 32) + hex}) {
    const std::string msg = invalid_key_message(bad);
    BOOST_TEST(msg.find("expected 64 hex digits or 32 raw bytes") != std::string::npos, msg);
    BOOST_TEST(msg.find("got " + std::to_string(bad.size()) + " bytes") != std::string::npos, msg);
  }
  // 64 characters that are not all hex: the position is reported, the character is not.
  std::string bad_hex = hex;
  bad_hex[10] = 'g';
  std::string msg = invalid_key_message(bad_hex);
  BOOST_TEST(msg.find("non-hex character at position 11") != std::string::npos, msg);
  BOOST_TEST(msg.find("5b16") == std::string::npos, msg);
  // 32 hex digits are a 16-byte key, not a raw 32-byte key.
  msg = invalid_key_message(hex.substr(0, 32));
  BOOST_TEST(msg.find("32 hex digits (16 bytes)") != std::string::npos, msg);
  BOOST_TEST(msg.find(hex.substr(0, 8)) == std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(truncation_keeps_the_prefix_bits) {
  using enrich::truncate_address;
  auto v4 = parse("203.0.113.77", false);
  truncate_address(v4.data(), false, 24);
  BOOST_TEST(format(v4.data(), false) == "203.0.113.0");
  v4 = parse("203.0.113.77", false);
  truncate_address(v4.data(), false, 20);
  BOOST_TEST(format(v4.data(), false) == "203.0.112.0");
  v4 = parse("203.0.113.77", false);
  truncate_address(v4.data(), false, 32);
  BOOST_TEST(format(v4.data(), false) == "203.0.113.77");
  truncate_address(v4.data(), false, 40);
  BOOST_TEST(format(v4.data(), false) == "203.0.113.77");
  truncate_address(v4.data(), false, 0);
  BOOST_TEST(format(v4.data(), false) == "0.0.0.0");
  // IPv4 touches only its 4 bytes.
  std::uint8_t guard[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  truncate_address(guard, false, 0);
  BOOST_TEST(guard[4] == 5);
  BOOST_TEST(guard[7] == 8);

  auto v6 = parse("2001:db8:1234:5678:9abc:def0:1234:5678", true);
  truncate_address(v6.data(), true, 56);
  BOOST_TEST(format(v6.data(), true) == "2001:db8:1234:5600::");
  v6 = parse("2001:db8:1234:5678:9abc:def0:1234:5678", true);
  truncate_address(v6.data(), true, 128);
  BOOST_TEST(format(v6.data(), true) == "2001:db8:1234:5678:9abc:def0:1234:5678");
  truncate_address(v6.data(), true, 64);
  BOOST_TEST(format(v6.data(), true) == "2001:db8:1234:5678::");
  truncate_address(v6.data(), true, 0);
  BOOST_TEST(format(v6.data(), true) == "::");
}

BOOST_AUTO_TEST_SUITE_END()

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "config/option_reader.h"
#include "enrich/security_classifier.h"

using namespace stash53;
using enrich::SecurityClassifier;
using enrich::SecurityInput;
using enrich::SecurityOptions;
using enrich::SecurityReason;
using enrich::SecurityVerdict;
namespace bdata = boost::unit_test::data;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
// 2024-03-11 09:00:00 UTC: capture time, far from the wall clock on purpose.
constexpr std::int64_t kT0 = 1'710'147'600 * kSecond;
constexpr std::uint16_t kA = 1, kTxt = 16, kAny = 255, kNull = 10, kPtr = 12, kHttps = 65;
constexpr std::uint8_t kClientA[4] = {10, 1, 2, 3};
constexpr std::uint8_t kClientB[4] = {10, 1, 2, 4};
constexpr std::uint8_t kClientC[4] = {10, 1, 2, 5};
constexpr std::uint8_t kClient6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};

// Fixed hash seed: sketches set the same bits on every run.
SecurityOptions fixed() {
  SecurityOptions o;
  o.hash_seed = 0x5353;
  return o;
}

struct Msg {
  std::string qname;
  std::string rd;  // registered domain
  std::uint16_t qtype = kA;
  std::int64_t ts = kT0;
  const std::uint8_t* client = kClientA;
  bool ipv6 = false;
};

SecurityVerdict query(SecurityClassifier& c, const Msg& m, bool rd = true) {
  SecurityInput in;
  in.recursion_desired = rd;
  in.qname = m.qname;
  in.registered_domain = m.rd;
  in.qtype = m.qtype;
  in.has_question = true;
  in.client = m.client;
  in.ipv6 = m.ipv6;
  in.ts_ns = m.ts;
  return c.classify(in);
}

SecurityVerdict response(SecurityClassifier& c, const Msg& m, std::uint16_t rcode = 0) {
  SecurityInput in;
  in.qname = m.qname;
  in.registered_domain = m.rd;
  in.qtype = m.qtype;
  in.has_question = true;
  in.response = true;
  in.rcode = rcode;
  in.client = m.client;
  in.ipv6 = m.ipv6;
  in.ts_ns = m.ts;
  return c.classify(in);
}

// The reasons as "a,b" for readable failures.
std::string reasons(const SecurityVerdict& v) {
  std::string s;
  v.reasons.for_each([&](SecurityReason r) {
    s += (s.empty() ? "" : ",") + std::string(enrich::security_reason_name(r));
  });
  return s;
}

bool has(const SecurityVerdict& v, SecurityReason r) { return v.reasons.test(r); }

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  while (s.size() < n) s += unit;
  return s.substr(0, n);
}

// Deterministic pseudo-random strings (a small LCG; the values do not matter, only that they
// look like encoder output).
std::string random_string(std::string_view alphabet, std::size_t n, std::uint32_t seed) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 1664525U + 1013904223U;
    s += alphabet[(seed >> 16) % alphabet.size()];
  }
  return s;
}
constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kHex = "0123456789abcdef";

SecurityOptions from_yaml(const std::string& yaml) {
  config::OptionReader o(YAML::Load(yaml), "enrich[0]");
  SecurityOptions opts;
  enrich::read_security_options(o, opts);
  o.finish();
  return opts;
}

std::string config_error(const std::string& yaml) {
  try {
    (void)from_yaml(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

struct SilentCase {
  const char* qname;
  const char* rd;
  std::uint16_t qtype;
};

std::ostream& operator<<(std::ostream& os, const SilentCase& c) {
  return os << c.qname << " type " << c.qtype;
}

// Names that look odd but are ordinary: not one reason may fire, as query or response.
const SilentCase kSilent[] = {
    {"e12345.dscx.akamaiedge.net.", "dscx.akamaiedge.net", kA},
    {"d1abc2defghij.cloudfront.net.", "d1abc2defghij.cloudfront.net", kA},
    {"a1234.g2.akamai.net.", "g2.akamai.net", kA},
    {"myapp-cdn-prod.azureedge.net.", "azureedge.net", kA},
    {"rr3---sn-4g5e6nsz.googlevideo.com.", "googlevideo.com", kA},
    {"my-svc.my-ns.svc.cluster.local.", "cluster.local", kA},
    {"10-0-0-12.default.pod.cluster.local.", "cluster.local", kA},
    {"api.example.com.default.svc.cluster.local.", "cluster.local", kA},
    {"4.3.2.1.zen.spamhaus.org.", "spamhaus.org", kA},
    {"2.0.0.127.zen.spamhaus.org.", "spamhaus.org", kTxt},
    {"4.3.2.1.bl.spamcop.net.", "spamcop.net", kA},
    {"733a48a9cb49651d72fe824ca91e8d00.malware.hash.cymru.com.", "cymru.com", kTxt},
    {"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3.hash.cymru.com.", "cymru.com", kA},
    {"qwzxkvjd.", "", kA},
    {"xkcdqwpzlm.", "", kA},
    {"4.3.2.1.in-addr.arpa.", "1.in-addr.arpa", kPtr},
    {"b.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "2.ip6.arpa",
     kPtr},
    {"_dmarc.example.com.", "example.com", kTxt},
    {"_DMARC.Example.COM.", "example.com", kTxt},
    {"selector1._domainkey.example.com.", "example.com", kTxt},
    {"kl6sfq6vfndb6ffmq5d4jdbvshbmq4a4._domainkey.example.com.", "example.com", kTxt},
    {"example.com.", "example.com", kTxt},  // SPF at the apex
    {"_spf.google.com.", "google.com", kTxt},
    {"_mta-sts.gmail.com.", "gmail.com", kTxt},
    {"_smtp._tls.gmail.com.", "gmail.com", kTxt},
    {"_acme-challenge.www.example.com.", "example.com", kTxt},
    {"_esni.cloudflare.com.", "cloudflare.com", kTxt},
    {"_8443._https.api.example.com.", "example.com", kHttps},
    {"crypto.cloudflare.com.", "cloudflare.com", kHttps},
    {"printer._ipp._tcp.example.com.", "example.com", kTxt},
    {"_googlecast._tcp.local.", "", kPtr},
    {"Living\\032Room\\032TV._airplay._tcp.local.", "", kTxt},
    {"MacBook-Pro-7.local.", "", kAny},  // mDNS probe (RFC 6762 §8.1)
    {"Chromecast-Ultra-acb90f2380b9fe6d95c21455f047abf5._googlecast._tcp.local.", "", kTxt},
    {"this-is-a-long-but-ordinary-hostname.example.com.", "example.com", kA},
    {"very-long-descriptive-subdomain-name-for-testing-purposes.example.net.", "example.net", kA},
    {"documentationanddeveloperresources.example.org.", "example.org", kA},
    {"windows10x64enterprise22h2cumulativeupdate.example.com.", "example.com", kA},
    {"k8s-default-myingres-1a2b3c4d5e-1234567890.eu-west-1.elb.amazonaws.com.", "elb.amazonaws.com",
     kA},
    {"0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com.", "amazonaws.com", kA},
    {"abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws.", "on.aws", kA},
    {"_ldap._tcp.4f7a1c6e-0b2d-4e8f-9a3c-5d6e7f8a9b0c.domains._msdcs.corp.example.com.",
     "example.com", 33},
    {"www.xn--vermgensberatung-pwb.de.", "xn--vermgensberatung-pwb.de", kA},
    {"xn--vermgensberatung-pwb-and-more-words-here.example.", "", kA},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(security_classifier)

BOOST_AUTO_TEST_CASE(reason_names_are_stable) {
  const std::vector<std::string> expected = {"txt-query",  "any-query",          "long-qname",
                                             "long-label", "high-entropy-label", "many-subdomains",
                                             "null-qtype", "private-qtype",      "nxdomain-ratio"};
  BOOST_TEST_REQUIRE(expected.size() == static_cast<std::size_t>(SecurityReason::kCount));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto r = static_cast<SecurityReason>(i);
    BOOST_TEST(enrich::security_reason_name(r) == expected[i]);
    SecurityReason back{};
    BOOST_TEST(enrich::security_reason_from_name(expected[i], back));
    BOOST_TEST((back == r));
  }
  SecurityReason untouched = SecurityReason::AnyQuery;
  BOOST_TEST(!enrich::security_reason_from_name("txt", untouched));
  BOOST_TEST((untouched == SecurityReason::AnyQuery));
}

BOOST_AUTO_TEST_CASE(mitre_techniques_per_reason) {
  BOOST_TEST(enrich::security_reason_technique(SecurityReason::TxtQuery).id == "T1071.004");
  BOOST_TEST(enrich::security_reason_technique(SecurityReason::HighEntropyLabel).tactic ==
             "Command and Control");
  BOOST_TEST(enrich::security_reason_technique(SecurityReason::NxdomainRatio).id == "T1568.002");
  BOOST_TEST(enrich::security_reason_technique(SecurityReason::ManySubdomains).id == "T1048.003");
  BOOST_TEST(enrich::security_reason_technique(SecurityReason::ManySubdomains).tactic ==
             "Exfiltration");
}

BOOST_AUTO_TEST_CASE(txt_and_any_queries_are_the_logzilla_rule) {
  SecurityClassifier c(fixed());
  const Msg txt{"cmd.update-check.net.", "update-check.net", kTxt};
  const auto q = query(c, txt);
  BOOST_TEST(reasons(q) == "txt-query");
  BOOST_TEST(q.security());
  BOOST_TEST(!q.reasons.heuristic());
  BOOST_TEST(q.mitre_technique == "T1071.004");
  BOOST_TEST(q.mitre_technique_name == "Application Layer Protocol: DNS");
  BOOST_TEST(q.mitre_tactic == "Command and Control");
  BOOST_TEST(reasons(response(c, txt)) == "txt-query");  // a response carries the question
  BOOST_TEST(reasons(query(c, {"update-check.net.", "update-check.net", kAny})) == "any-query");
  const auto a = query(c, {"www.example.com.", "example.com", kA});
  BOOST_TEST(!a.security());
  BOOST_TEST(a.mitre_technique.empty());
  BOOST_TEST(c.messages().get() == 4u);
  BOOST_TEST(c.flagged().get() == 3u);
  BOOST_TEST(c.flagged(SecurityReason::TxtQuery).get() == 2u);
  BOOST_TEST(c.flagged(SecurityReason::AnyQuery).get() == 1u);
}

BOOST_AUTO_TEST_CASE(txt_exemptions_are_options) {
  SecurityClassifier c(fixed());
  BOOST_TEST(reasons(query(c, {"_dmarc.example.com.", "example.com", kTxt})).empty());
  BOOST_TEST(reasons(query(c, {"example.com.", "example.com", kTxt})).empty());
  // Only the exact label is exempt, and only the apex of the registered domain.
  BOOST_TEST(reasons(query(c, {"_dmarcx.example.com.", "example.com", kTxt})) == "txt-query");
  BOOST_TEST(reasons(query(c, {"spf.example.com.", "example.com", kTxt})) == "txt-query");
  // Without a registered domain there is no apex.
  BOOST_TEST(reasons(query(c, {"example.com.", "", kTxt})) == "txt-query");

  SecurityOptions strict = fixed();
  strict.txt_exempt_labels.clear();
  strict.txt_exempt_apex = false;
  SecurityClassifier s(strict);
  BOOST_TEST(reasons(query(s, {"_dmarc.example.com.", "example.com", kTxt})) == "txt-query");
  BOOST_TEST(reasons(query(s, {"example.com.", "example.com", kTxt})) == "txt-query");

  SecurityOptions off = fixed();
  off.disabled_reasons = {"txt-query"};
  SecurityClassifier d(off);
  BOOST_TEST(!query(d, {"cmd.update-check.net.", "update-check.net", kTxt}).security());
  BOOST_TEST(reasons(query(d, {"update-check.net.", "update-check.net", kAny})) == "any-query");
}

BOOST_AUTO_TEST_CASE(null_and_private_qtypes) {
  SecurityClassifier c(fixed());
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", kNull})) == "null-qtype");
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", 65280})) == "private-qtype");
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", 65399})) ==
             "private-qtype");  // iodine -T PRIVATE
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", 65534})) == "private-qtype");
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", 65279})).empty());
  BOOST_TEST(reasons(query(c, {"paaaaa.t.example.net.", "example.net", 65535})).empty());
}

BOOST_AUTO_TEST_CASE(long_qname_at_its_threshold) {
  SecurityClassifier c(fixed());
  // Labels of 9 octets: "abcdefghi." ten times is 99 octets without the trailing dot.
  const std::string base = repeat("abcdefghi.", 100) + "example.com.";
  const std::string at = base.substr(base.size() - 101);  // 100 octets + trailing dot
  BOOST_TEST_REQUIRE(at.front() != '.');
  BOOST_TEST(reasons(query(c, {at, "example.com"})).empty());
  const std::string over = "x" + at;  // 101
  BOOST_TEST(reasons(query(c, {over, "example.com"})) == "long-qname");
  // Escapes count as the octets they stand for.
  const std::string escaped = "\\065\\066" + at.substr(2);
  BOOST_TEST(reasons(query(c, {escaped, "example.com"})).empty());

  // A reverse name is as long as the address makes it.
  SecurityOptions o = fixed();
  o.max_qname_length = 60;
  SecurityClassifier r(o);
  const std::string ptr6 =
      "b.a.9.8.7.6.5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
  BOOST_TEST_REQUIRE(ptr6.size() == 73u);  // 32 nibbles
  BOOST_TEST(reasons(query(r, {ptr6, "2.ip6.arpa", kPtr})).empty());
  // Under ip6.arpa, anything but nibbles is judged: reverse zones are delegated to anyone.
  BOOST_TEST(reasons(query(r, {"ab" + ptr6, "2.ip6.arpa", kPtr})) == "long-qname");
}

BOOST_AUTO_TEST_CASE(long_label_at_its_threshold) {
  SecurityClassifier c(fixed());
  const std::string at = repeat("abc", 52) + ".example.com.";
  const std::string over = repeat("abc", 53) + ".example.com.";
  BOOST_TEST(reasons(query(c, {at, "example.com"})).empty());
  BOOST_TEST(reasons(query(c, {over, "example.com"})) == "long-label");
  // Dashed words are readable, however long.
  BOOST_TEST(reasons(query(c, {"very-long-descriptive-subdomain-name-for-testing-purposes.x.com.",
                               "x.com"}))
                 .empty());
  // Octets, not characters: 27 escaped octets and 26 plain ones make 53.
  const std::string escaped =
      repeat("\\200", std::size_t{27} * 4) + repeat("b", 26) + ".example.com.";
  BOOST_TEST(has(query(c, {escaped, "example.com"}), SecurityReason::LongLabel));
  SecurityOptions o = fixed();
  o.max_label_length = 60;
  SecurityClassifier loose(o);
  BOOST_TEST(reasons(query(loose, {over, "example.com"})).empty());
}

BOOST_AUTO_TEST_CASE(encoded_labels) {
  SecurityClassifier c(fixed());
  const auto judged = [&c](const std::string& label) {
    return has(query(c, {label + ".t.example.net.", "example.net"}),
               SecurityReason::HighEntropyLabel);
  };
  // iodine base32 (its alphabet ends in 0-5), RFC 4648 base32, base64, dnscat2 hex.
  BOOST_TEST(judged(random_string("abcdefghijklmnopqrstuvwxyz012345", 50, 1)));
  BOOST_TEST(judged(random_string(kBase32, 40, 2)));
  BOOST_TEST(judged(random_string(kBase32, 33, 3)));
  BOOST_TEST(judged(
      random_string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 45, 4)));
  BOOST_TEST(judged(random_string(kHex, 33, 5)));
  BOOST_TEST(judged(random_string(kHex, 50, 6)));
  // iodine base128: mostly octets above 0x7f, escaped.
  std::string b128;
  for (int i = 0; i < 40; ++i) b128 += "\\" + std::to_string(188 + (i * 7) % 60) + "a";
  BOOST_TEST(judged(b128));
  // 32 octets and less are not judged: MD5s, SES selectors and the like.
  BOOST_TEST(!judged(random_string(kHex, 32, 7)));
  BOOST_TEST(!judged(random_string(kBase32, 32, 8)));
  // Readable, UUIDs, punycode, digits run into words.
  BOOST_TEST(!judged("documentationanddeveloperresourcesportal"));
  BOOST_TEST(!judged("windows10x64enterprise22h2cumulativeupdate"));
  BOOST_TEST(!judged("thequickbrownfoxjumpsoverthelazydogagain"));
  BOOST_TEST(!judged("4f7a1c6e-0b2d-4e8f-9a3c-5d6e7f8a9b0c"));
  BOOST_TEST(!judged("xn--" + random_string(kBase32, 40, 9)));
  BOOST_TEST(!judged(random_string(kBase32, 15, 10) + "-" + random_string(kBase32, 15, 11) + "-" +
                     random_string(kBase32, 15, 12)));  // no run of 16
  // The thresholds are options.
  SecurityOptions o = fixed();
  o.entropy_threshold = 6.5;
  SecurityClassifier strict(o);
  BOOST_TEST(!has(query(strict, {random_string(kBase32, 50, 1) + ".t.example.net.", "example.net"}),
                  SecurityReason::HighEntropyLabel));
  o = fixed();
  o.entropy_min_label_length = 20;
  SecurityClassifier shorter(o);
  BOOST_TEST(has(query(shorter, {random_string(kHex, 24, 13) + ".t.example.net.", "example.net"}),
                 SecurityReason::HighEntropyLabel));
}

BOOST_AUTO_TEST_CASE(many_subdomains_at_its_threshold_in_capture_time) {
  SecurityOptions o = fixed();
  o.subdomain_threshold = 5;
  o.subdomain_window_s = 60;  // half-windows of 30 s
  SecurityClassifier c(o);
  const auto name = [](int i) {
    return random_string(kBase32, 20, static_cast<std::uint32_t>(100 + i)) + ".exfil.example.";
  };
  std::int64_t ts = kT0;
  for (int i = 0; i < 4; ++i) {
    const Msg m{name(i), "exfil.example", kA, ts};
    BOOST_TEST(reasons(query(c, m)).empty(), "query " << i);
    BOOST_TEST(reasons(response(c, m)).empty(), "response " << i);
    // The same subdomain again is not a new one.
    BOOST_TEST(reasons(query(c, m)).empty(), "repeat " << i);
    ts += kSecond;
  }
  const Msg fifth{name(4), "exfil.example", kA, ts};
  const auto v = query(c, fifth);
  BOOST_TEST(reasons(v) == "many-subdomains");
  BOOST_TEST(v.mitre_technique == "T1048.003");
  BOOST_TEST(v.mitre_tactic == "Exfiltration");
  BOOST_TEST(reasons(response(c, fifth)) == "many-subdomains");
  // Other clients and other domains have their own counts.
  BOOST_TEST(reasons(query(c, {name(5), "exfil.example", kA, ts, kClientB})).empty());
  BOOST_TEST(reasons(query(c, {name(5), "exfil.example", kA, ts, kClient6, true})).empty());
  BOOST_TEST(reasons(query(c, {random_string(kBase32, 20, 999) + ".other.example.", "other.example",
                               kA, ts}))
                 .empty());
  // Still inside the window (the previous half counts) ...
  BOOST_TEST(reasons(query(c, {name(6), "exfil.example", kA, ts + 40 * kSecond})) ==
             "many-subdomains");
  // ... and after two quiet windows the count has expired: capture time, not the clock.
  BOOST_TEST(reasons(query(c, {name(7), "exfil.example", kA, ts + 200 * kSecond})).empty());
  // Short subdomains do not count at all.
  SecurityClassifier s(o);
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(reasons(query(s, {"e" + std::to_string(10000 + i) + ".dscx.akamaiedge.net.",
                                 "dscx.akamaiedge.net", kA, kT0 + i}))
                   .empty());
  BOOST_TEST(s.domains_tracked() == 0u);
}

BOOST_AUTO_TEST_CASE(iterative_queries_are_not_counted_by_default) {
  SecurityOptions o = fixed();
  o.subdomain_threshold = 5;
  const auto video = [](int i) {
    return "rr" + std::to_string(i % 5 + 1) + "---sn-" +
           random_string("abcdefghijklmnopqrstuvwxyz0123456789", 8, static_cast<std::uint32_t>(i)) +
           ".googlevideo.com.";
  };
  // A resolver's upstream queries (RD clear) for all its users.
  SecurityClassifier c(o);
  for (int i = 0; i < 50; ++i)
    BOOST_TEST(
        reasons(query(c, {video(i), "googlevideo.com", kA, kT0 + i * kSecond}, false)).empty());
  BOOST_TEST(c.domains_tracked() == 0u);
  // Per-message heuristics still judge them.
  BOOST_TEST(reasons(query(c, {"x.example.net.", "example.net", kNull}, false)) == "null-qtype");
  o.count_iterative = true;
  SecurityClassifier counting(o);
  bool fired = false;
  for (int i = 0; i < 50; ++i)
    fired =
        query(counting, {video(i), "googlevideo.com", kA, kT0 + i * kSecond}, false).security() ||
        fired;
  BOOST_TEST(fired);
}

BOOST_AUTO_TEST_CASE(nxdomain_ratio_at_its_threshold_in_capture_time) {
  SecurityOptions o = fixed();
  o.nxdomain_min_count = 5;
  o.nxdomain_ratio_percent = 50;
  o.nxdomain_window_s = 60;
  SecurityClassifier c(o);
  const auto dga = [](int i) {
    return random_string("abcdefghijklmnopqrstuvwxyz", 12, static_cast<std::uint32_t>(7 + i));
  };
  std::int64_t ts = kT0;
  for (int i = 0; i < 4; ++i) {
    const std::string rd = dga(i) + ".com";
    BOOST_TEST(reasons(query(c, {rd + ".", rd, kA, ts})).empty());
    BOOST_TEST(reasons(response(c, {rd + ".", rd, kA, ts}, 3)).empty(), "nx " << i);
    ts += kSecond;
  }
  const std::string fifth = dga(4) + ".com";
  const auto v = response(c, {fifth + ".", fifth, kA, ts}, 3);
  BOOST_TEST(reasons(v) == "nxdomain-ratio");
  BOOST_TEST(v.mitre_technique == "T1568.002");
  BOOST_TEST(v.mitre_tactic == "Command and Control");
  // During the burst, queries for registered domains that have not resolved are part of it;
  // names under a domain, and domains that resolved, are not.
  const std::string next = dga(5) + ".net";
  BOOST_TEST(reasons(query(c, {next + ".", next, kA, ts})) == "nxdomain-ratio");
  BOOST_TEST(reasons(response(c, {"example.org.", "example.org", kA, ts}, 0)).empty());
  BOOST_TEST(reasons(query(c, {"example.org.", "example.org", kA, ts})).empty());
  BOOST_TEST(reasons(query(c, {"www." + next + ".", next, kA, ts})).empty());
  // After two quiet windows the burst is over.
  const std::string late = dga(6) + ".org";
  BOOST_TEST(reasons(response(c, {late + ".", late, kA, ts + 200 * kSecond}, 3)).empty());
}

BOOST_AUTO_TEST_CASE(nxdomain_ratio_needs_a_share_and_distinct_domains) {
  SecurityOptions o = fixed();
  o.nxdomain_min_count = 5;
  o.nxdomain_ratio_percent = 50;
  SecurityClassifier c(o);
  std::int64_t ts = kT0;
  // Client A: 6 distinct NXDOMAIN among 20 answers (30%): a browser with dead ad domains.
  for (int i = 0; i < 14; ++i)
    BOOST_TEST(reasons(response(c, {"www.site" + std::to_string(i) + ".com.",
                                    "site" + std::to_string(i) + ".com", kA, ts++}))
                   .empty());
  for (int i = 0; i < 6; ++i)
    BOOST_TEST(reasons(response(c,
                                {"dead" + std::to_string(i) + ".com.",
                                 "dead" + std::to_string(i) + ".com", kA, ts++},
                                3))
                   .empty());
  // Client B: the same dead domain 30 times (an IoT device retrying), and search-path
  // expansions under one corporate domain: each counts once.
  for (int i = 0; i < 30; ++i) {
    BOOST_TEST(
        reasons(response(c, {"api.old-vendor.com.", "old-vendor.com", kA, ts++, kClientB}, 3))
            .empty());
    BOOST_TEST(reasons(response(c,
                                {"host" + std::to_string(i) + ".corp.example.com.", "example.com",
                                 kA, ts++, kClientB},
                                3))
                   .empty());
  }
  // Client C: Chrome's probes and other names without a registered domain never count.
  for (int i = 0; i < 30; ++i)
    BOOST_TEST(reasons(response(c,
                                {random_string("abcdefghijklmnopqrstuvwxyz", 10,
                                               static_cast<std::uint32_t>(i)) +
                                     ".",
                                 "", kA, ts++, kClientC},
                                3))
                   .empty());
}

BOOST_AUTO_TEST_CASE(tables_are_bounded_lru) {
  SecurityOptions o = fixed();
  o.nxdomain_min_count = 5;
  o.nxdomain_ratio_percent = 50;
  o.max_clients = 2;
  const auto nx = [](SecurityClassifier& c, const std::uint8_t* client, int i, std::int64_t ts) {
    const std::string rd = "gone" + std::to_string(i) + ".com";
    return response(c, {rd + ".", rd, kA, ts, client}, 3);
  };
  // Client A collects 4 NXDOMAIN; B and C arrive; with room for two, A (least recently used)
  // goes, and its fifth NXDOMAIN starts from nothing.
  SecurityClassifier small(o);
  for (int i = 0; i < 4; ++i) (void)nx(small, kClientA, i, kT0 + i);
  (void)nx(small, kClientB, 0, kT0 + 10);
  (void)nx(small, kClientC, 0, kT0 + 11);
  BOOST_TEST(small.client_evictions().get() == 1u);
  BOOST_TEST(small.clients_tracked() == 2u);
  BOOST_TEST(reasons(nx(small, kClientA, 4, kT0 + 12)).empty());
  BOOST_TEST(small.client_evictions().get() == 2u);
  // With room for three nothing is lost.
  o.max_clients = 3;
  SecurityClassifier roomy(o);
  for (int i = 0; i < 4; ++i) (void)nx(roomy, kClientA, i, kT0 + i);
  (void)nx(roomy, kClientB, 0, kT0 + 10);
  (void)nx(roomy, kClientC, 0, kT0 + 11);
  BOOST_TEST(roomy.client_evictions().get() == 0u);
  BOOST_TEST(reasons(nx(roomy, kClientA, 4, kT0 + 12)) == "nxdomain-ratio");
  // A touched entry is the most recently used: B is evicted instead of A.
  o.max_clients = 2;
  SecurityClassifier touched(o);
  for (int i = 0; i < 4; ++i) (void)nx(touched, kClientA, i, kT0 + i);
  (void)nx(touched, kClientB, 0, kT0 + 10);
  (void)nx(touched, kClientA, 0, kT0 + 11);  // a repeat: touches A
  (void)nx(touched, kClientC, 0, kT0 + 12);  // evicts B
  BOOST_TEST(reasons(nx(touched, kClientA, 4, kT0 + 13)) == "nxdomain-ratio");

  // The (client, domain) table likewise.
  SecurityOptions d = fixed();
  d.max_domains = 3;
  SecurityClassifier domains(d);
  for (int i = 0; i < 10; ++i)
    (void)query(domains, {random_string(kBase32, 20, static_cast<std::uint32_t>(i)) + ".d" +
                              std::to_string(i) + ".example.",
                          "d" + std::to_string(i) + ".example", kA, kT0 + i});
  BOOST_TEST(domains.domains_tracked() == 3u);
  BOOST_TEST(domains.domain_evictions().get() == 7u);
}

BOOST_DATA_TEST_CASE(benign_names_that_look_odd_stay_silent, bdata::make(kSilent), c) {
  SecurityClassifier s(fixed());
  const Msg m{c.qname, c.rd, c.qtype};
  BOOST_TEST(reasons(query(s, m)).empty(), c);
  BOOST_TEST(reasons(response(s, m, 3)).empty(), c);
}

BOOST_AUTO_TEST_CASE(benign_windows_stay_silent) {
  SecurityClassifier c(fixed());
  std::int64_t ts = kT0;
  for (int i = 0; i < 300; ++i) {
    const std::string ip =
        std::to_string(i % 250 + 1) + "." + std::to_string(i / 250 + 7) + ".113.203";
    // A mail server: DNSBLs, listed and not, known and not; IPv6 nibbles too.
    for (const std::string zone : {"zen.spamhaus.org", "rbl.example-dnsbl.net"}) {
      const std::string rd = zone.substr(zone.find('.') + 1);
      BOOST_TEST(reasons(query(c, {ip + "." + zone + ".", rd, kA, ts})).empty());
      BOOST_TEST(reasons(response(c, {ip + "." + zone + ".", rd, kA, ts}, 3)).empty());
    }
    const std::string nibbles = random_string(kHex, 32, static_cast<std::uint32_t>(i));
    std::string rev;
    for (const char n : nibbles) rev = std::string(1, n) + "." + rev;
    BOOST_TEST(
        reasons(response(c, {rev + "rbl.example-dnsbl.net.", "example-dnsbl.net", kA, ts}, 3))
            .empty());
    // A log server resolving addresses.
    BOOST_TEST(
        reasons(response(c, {ip + ".in-addr.arpa.", "203.in-addr.arpa", kPtr, ts, kClientB}, 3))
            .empty());
    // Kubernetes search-path expansion.
    BOOST_TEST(reasons(response(c,
                                {"svc" + std::to_string(i) + ".example.com.svc.cluster.local.",
                                 "cluster.local", kA, ts, kClientC},
                                3))
                   .empty());
    // A resolver following CDN CNAMEs.
    BOOST_TEST(reasons(query(c, {"e" + std::to_string(1000 + i) + ".dscx.akamaiedge.net.",
                                 "dscx.akamaiedge.net", kA, ts, kClient6, true}))
                   .empty());
    ts += kSecond;
  }
}

BOOST_AUTO_TEST_CASE(tunnels_are_caught) {
  SecurityClassifier c(fixed());
  // iodine: NULL, 57-octet base32 labels, a long name.
  const std::string iodine = "0aab" + random_string("abcdefghijklmnopqrstuvwxyz012345", 53, 1) +
                             "." + random_string("abcdefghijklmnopqrstuvwxyz012345", 57, 2) + "." +
                             random_string("abcdefghijklmnopqrstuvwxyz012345", 30, 3) +
                             ".t.cloudsync-io.net.";
  BOOST_TEST(reasons(query(c, {iodine, "cloudsync-io.net", kNull})) ==
             "long-qname,long-label,high-entropy-label,null-qtype");
  // dnscat2: hex in labels of 62, TXT.
  const std::string dnscat =
      random_string(kHex, 62, 4) + "." + random_string(kHex, 40, 5) + ".cdn-telemetry-sync.org.";
  const auto v = query(c, {dnscat, "cdn-telemetry-sync.org", kTxt});
  BOOST_TEST(reasons(v) == "txt-query,long-qname,long-label,high-entropy-label");
  BOOST_TEST(v.mitre_technique == "T1071.004");
}

BOOST_AUTO_TEST_CASE(hostile_input_is_data) {
  SecurityClassifier c(fixed());
  SecurityInput none;
  none.qtype = kTxt;  // no question: nothing to judge
  BOOST_TEST(!c.classify(none).security());
  BOOST_TEST(reasons(query(c, {"", "", kA})).empty());
  BOOST_TEST(reasons(query(c, {".", "", kA})).empty());
  BOOST_TEST(reasons(query(c, {"\\", "", kA})).empty());
  BOOST_TEST(reasons(query(c, {"a\\0", "", kA})).empty());
  BOOST_TEST(reasons(query(c, {"a..b.", "", kA})).empty());
  // A registered domain that is not a suffix of the name is ignored.
  BOOST_TEST(reasons(query(c, {"www.example.com.", "example.org", kA})).empty());
  // Far beyond the limits of a valid name: flagged, not crashed.
  BOOST_TEST(
      has(query(c, {repeat("x", 400) + ".example.", "example", kA}), SecurityReason::LongLabel));
  BOOST_TEST(
      has(query(c, {repeat("a.", 600) + "example.", "example", kA}), SecurityReason::LongQname));
  SecurityInput no_client;
  no_client.qname = "www.example.com.";
  no_client.registered_domain = "example.com";
  no_client.has_question = true;
  no_client.response = true;
  no_client.rcode = 3;
  BOOST_TEST(!c.classify(no_client).security());
}

BOOST_AUTO_TEST_CASE(options_from_config) {
  const auto d = from_yaml("{}");
  BOOST_TEST(d.max_qname_length == SecurityOptions{}.max_qname_length);
  BOOST_TEST(d.exempt_suffixes == SecurityOptions{}.exempt_suffixes);
  const auto o = from_yaml(
      "{disabled_reasons: [any-query], exempt_suffixes: [local, corp.example], "
      "txt_exempt_labels: [_dmarc], txt_exempt_apex: false, max_qname_length: 120, "
      "max_label_length: 60, min_run_length: 20, entropy_min_label_length: 40, "
      "entropy_threshold: 4.5, rare_pair_percent: 40, subdomain_threshold: 50, "
      "subdomain_min_length: 20, subdomain_window_s: 3600, max_domains: 1000, "
      "nxdomain_min_count: 20, nxdomain_ratio_percent: 70, nxdomain_window_s: 600, "
      "max_clients: 2000, count_iterative: true}");
  BOOST_TEST(o.disabled_reasons == std::vector<std::string>{"any-query"});
  BOOST_TEST(o.exempt_suffixes.size() == 2u);
  BOOST_TEST(!o.txt_exempt_apex);
  BOOST_TEST(o.max_qname_length == 120u);
  BOOST_TEST(o.entropy_threshold == 4.5);
  BOOST_TEST(o.subdomain_window_s == 3600u);
  BOOST_TEST(o.max_clients == 2000u);
  BOOST_TEST(o.count_iterative);
  SecurityClassifier c(o);
  BOOST_TEST(!query(c, {"x.example.net.", "example.net", kAny}).security());

  BOOST_TEST(config_error("{disabled_reasons: [txt]}").find("enrich[0].disabled_reasons") !=
             std::string::npos);
  BOOST_TEST(config_error("{disabled_reasons: [txt]}").find("txt-query") != std::string::npos);
  BOOST_TEST(config_error("{max_label_length: 64}").find("max_label_length") != std::string::npos);
  BOOST_TEST(config_error("{entropy_threshold: 9}").find("entropy_threshold") != std::string::npos);
  BOOST_TEST(config_error("{exempt_suffixes: ['']}").find("exempt_suffixes") != std::string::npos);
  BOOST_TEST(config_error("{txt_exempt_labels: [a.b]}").find("txt_exempt_labels") !=
             std::string::npos);
  BOOST_TEST(config_error("{max_clients: 0}").find("max_clients") != std::string::npos);
  BOOST_TEST(config_error("{nxdomain_ratio: 50}").find("unknown key") != std::string::npos);

  SecurityOptions bad;
  bad.subdomain_window_s = 0;
  BOOST_CHECK_THROW(SecurityClassifier{bad}, std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

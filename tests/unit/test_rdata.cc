// RDATA presentation formats, with wire bytes and expected text taken from the RFC of each type.
// Where an RFC gives only the text, the wire bytes are what nsd 4.6.1 served for it (or knsupdate
// 3.2.6 sent, for NSEC3, which nsd does not serve) and the text was checked with kdig 3.2.6;
// where kdig and BIND differ, BIND's form (lib/dns/rdata/*) is expected and the case says so.
// WKS, NXT, APL, TSIG and TKEY: the RDATA was served to dig 9.18.49 (Debian 12) and the text is
// what dig printed, runs of spaces as one (the RFC's text, where it has an example); the bad
// ones are each a message dig rejected as malformed.
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

// Hex digits; spaces between fields are skipped.
DnsBuilder::Bytes hex(std::string_view h) {
  DnsBuilder::Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += h[i] == ' ' ? 1 : 2)
    if (h[i] != ' ')
      out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

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
      // RFC 5155 Appendix A; next hashed owner in upper case as BIND prints it (kdig: lower)
      {"NSEC3 (RFC 5155 App. A)", NSEC3,
       hex("0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b000722010000000290"),
       "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM"},
      {"NSEC3 with no types (RFC 5155 App. A, empty non-terminal)", NSEC3,
       hex("0101000c04aabbccdd14a23cd75bf90cc4f3ba069b979e04ffc8ee891511"),
       "1 1 12 AABBCCDD K8UDEMVP1J2F7EG6JEBPS17VP3N8I58H"},
      {"NSEC3 without salt", NSEC3,
       hex("01000000001417f3df17b2b2adaef615257de4d2020b80ac6c7c0006400000000002"),
       "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG"},
      {"NSEC3PARAM (RFC 5155 App. A)", NSEC3PARAM, hex("0100000c04aabbccdd"), "1 0 12 AABBCCDD"},
      {"NSEC3PARAM without salt", NSEC3PARAM, hex("0100000000"), "1 0 0 -"},
      // RFC 1876 §4 "42 21 54 N 71 06 18 W -24m 30m", in BIND's fixed form (kdig drops zeros)
      {"LOC (RFC 1876 §4)", LOC, hex("0033161389172dd070be15f000988d20"),
       "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m"},
      {"LOC (RFC 1876 §4, second)", LOC, hex("001224138917069070bf2dd800988d20"),
       "42 21 43.952 N 71 5 6.344 W -24.00m 1m 200m 10m"},
      // As named-compilezone printed it in shared/pcaps/.zone-shared.txt
      {"LOC as BIND prints it", LOC, hex("000016138b3cf018810cbce0009895b8"),
       "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"},
      {"LOC at the limits", LOC, hex("009911126cb0270159604e01ffffffff"),
       "89 59 59.999 S 179 59 59.999 W 42849672.95m 90000000m 0.10m 1m"},
      // BIND: versions other than 0 have no text form (totext_loc → unknown_totext)
      {"LOC version 1", LOC, hex("01"), "\\# 1 01"},
      {"TLSA (RFC 6698 §2.3)", TLSA,
       hex("000001d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971"),
       "0 0 1 D2ABDE240D7CD3EE6B4B28C54DF034B97983A1D16E8A410E4561CB106618E971"},
      {"TLSA (RFC 6698 §2.3, SHA-512)", TLSA,
       hex("01010292003ba34942dc74152e2f2c408d29eca5a520e7f2e06bb944f4dca346baf63c1b177615d466f6c4"
           "b71c216a50292bd58c9ebdd2f74e38fe51ffd48c43326cbc"),
       "1 1 2 92003BA34942DC74152E2F2C408D29ECA5A520E7F2E06BB944F4DCA346BAF63C1B177615D466F6C4B71C2"
       "16A50292BD58C9EBDD2F74E38FE51FFD48C43326CBC"},
      {"SMIMEA (RFC 8162 §2, TLSA layout)", SMIMEA,
       hex("0301010dcace6bf80efb599c56e9e561e4d87b6145eaab8f6c8286dbaa7fd5fef8b044"),
       "3 1 1 0DCACE6BF80EFB599C56E9E561E4D87B6145EAAB8F6C8286DBAA7FD5FEF8B044"},
      {"SSHFP (RFC 4255 §3.2)", SSHFP, hex("0201123456789abcdef67890123456789abcdef67890"),
       "2 1 123456789ABCDEF67890123456789ABCDEF67890"},
      {"URI (RFC 7553 §4.4)", URI,
       hex("000a00016674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963"),
       "10 1 \"ftp://ftp1.example.com/public\""},
      {"ZONEMD (RFC 8976 App. A.1)", ZONEMD,
       hex("7848b91c0101c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9a"
           "e5cc27777f98b8e730044c"),
       "2018031900 1 1 C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9"
       "AE5CC27777F98B8E730044C"},
      {"CSYNC (RFC 7477 §2.2)", CSYNC, hex("000000420003000460000008"), "66 3 A NS AAAA"},
      {"IPSECKEY, IPv4 gateway (RFC 4025 §3)", IPSECKEY,
       hex("0a0102c0000226010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801"),
       "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="},
      {"IPSECKEY, no gateway (RFC 4025 §3)", IPSECKEY,
       hex("0a0002010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801"),
       "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="},
      {"IPSECKEY, name gateway (RFC 4025 §3)", IPSECKEY,
       hex("0a0302096d7967617465776179076578616d706c6503636f6d00010351537986ed35533b6064478eeeb27"
           "b5bd74dae149b6e81ba3a0521af82ab7801"),
       "10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="},
      {"IPSECKEY, IPv6 gateway (RFC 4025 §3)", IPSECKEY,
       hex("0a020220010db8000080020000000020000001010351537986ed35533b6064478eeeb27b5bd74dae149b"
           "6e81ba3a0521af82ab7801"),
       "10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="},
      {"IPSECKEY without key", IPSECKEY, hex("0a0102c0000226"), "10 1 2 192.0.2.38"},
      // BIND: gateway types over 3 have no text form (totext_ipseckey → unknown_totext)
      {"IPSECKEY, gateway type 4", IPSECKEY, hex("0a040200"), "\\# 4 0A040200"},
      {"DHCID (RFC 4701 §3.6)", DHCID,
       hex("000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40"),
       "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="},
      // RFC 7043 §3.2 and §4.2; lower case as the RFC and BIND print it (kdig: upper)
      {"EUI48 (RFC 7043 §3.2)", 108, hex("00005e00532a"), "00-00-5e-00-53-2a"},
      {"EUI64 (RFC 7043 §4.2)", 109, hex("00005eef1000002a"), "00-00-5e-ef-10-00-00-2a"},
      // CERT type and algorithm by name, as BIND's dns_cert_totext/dns_secalg_totext (kdig: numbers)
      {"CERT PGP (RFC 4398 §2.1)", CERT, hex("0003000000145d00"), "PGP 0 0 FF0A"},
      {"CERT PKIX with RSASHA256", CERT, hex("000130390830820101"),
       "PKIX 12345 RSASHA256 MIIBAQ=="},
      {"CERT with unnamed type and algorithm", CERT, hex("00090001c8ff"), "9 1 200 /w=="},
      {"OPENPGPKEY (RFC 7929 §2.3)", OPENPGPKEY, hex("99010d0455479b9b010800cb7becb4"),
       "mQENBFVHm5sBCADLe+y0"},
      // RFC 9460 Appendix D test vectors; ipv6hint as inet_ntop prints it; alpn quoted as BIND
      {"HTTPS AliasMode (RFC 9460 D.1)", HTTPS, hex("000003666f6f076578616d706c6503636f6d00"),
       "0 foo.example.com."},
      {"SVCB ServiceMode (RFC 9460 D.2 fig. 3)", SVCB, hex("000100"), "1 ."},
      {"SVCB port (RFC 9460 D.2 fig. 4)", SVCB,
       hex("001003666f6f076578616d706c6503636f6d00000300020035"), "16 foo.example.com. port=53"},
      {"SVCB unknown key (RFC 9460 D.2 fig. 5)", SVCB,
       hex("000103666f6f076578616d706c6503636f6d00029b000568656c6c6f"),
       "1 foo.example.com. key667=\"hello\""},
      {"SVCB unknown key, escaped (RFC 9460 D.2 fig. 6)", SVCB,
       hex("000103666f6f076578616d706c6503636f6d00029b000968656c6c6fd2716f6f"),
       "1 foo.example.com. key667=\"hello\\210qoo\""},
      {"SVCB ipv6hint (RFC 9460 D.2 fig. 7)", SVCB,
       hex("000103666f6f076578616d706c6503636f6d000006002020010db800000000000000000000000120010d"
           "b8000000000000000000530001"),
       "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1"},
      {"SVCB IPv4-embedded ipv6hint (RFC 9460 D.2 fig. 8)", SVCB,
       hex("0001076578616d706c6503636f6d000006001020010db80122034400000000c0000221"),
       "1 example.com. ipv6hint=2001:db8:122:344::c000:221"},
      {"SVCB mandatory, alpn, ipv4hint (RFC 9460 D.2 fig. 9)", SVCB,
       hex("001003666f6f076578616d706c65036f7267000000000400010004000100090268320568332d3139000400"
           "04c0000201"),
       "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1"},
      {"SVCB alpn with escaped comma and backslash (RFC 9460 D.2 fig. 10)", SVCB,
       hex("001003666f6f076578616d706c65036f7267000001000c08665c6f6f2c626172026832"),
       "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\""},
      {"HTTPS with every RFC 9460 key", HTTPS,
       hex("00010000010006026832026833000200000003000220fb00040008c0000201c00002020005000500"
           "43fe0d000006001020010db8000000000000000000000001"),
       "1 . alpn=\"h2,h3\" no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA= "
       "ipv6hint=2001:db8::1"},
      // RFC 9461 §5 and RFC 9540 §4 by name (kdig 3.2 and BIND 9.18 print key7="…" and key8)
      {"SVCB dohpath (RFC 9461 §5)", SVCB,
       hex("000103646f68076578616d706c65036e65740000010003026832000700102f646e732d71756572797b3f64"
           "6e737d"),
       "1 doh.example.net. alpn=\"h2\" dohpath=\"/dns-query{?dns}\""},
      {"SVCB ohttp (RFC 9540 §4)", SVCB, hex("0001000001000302683200080000"), "1 . alpn=\"h2\" ohttp"},
      {"SVCB unknown keys, one empty", SVCB, hex("000100fde80003612262ffff0000"),
       "1 . key65000=\"a\\\"b\" key65535"},
      {"WKS, TCP (RFC 1035 §3.4.2; protocol as a number, as BIND prints it)", WKS,
       hex("c00002010600000540"), "192.0.2.1 6 21 23 25"},
      {"WKS, UDP", WKS, hex("c000020211000000000000040004000000000000000000000040"),
       "192.0.2.2 17 53 69 161"},
      {"WKS without ports", WKS, hex("c000020306"), "192.0.2.3 6"},
      {"WKS up to port 65535", WKS, cat({hex("c00002043281"), DnsBuilder::Bytes(8190, 0), {1}}),
       "192.0.2.4 50 0 7 65535"},
      // RFC 2535 §5.4: "big.foo.tld. NXT medium.foo.tld. A MX SIG NXT"
      {"NXT (RFC 2535 §5.4)", NXT, cat({wire_name("medium.foo.tld."), hex("40010082")}),
       "medium.foo.tld. A MX SIG NXT"},
      {"NXT without types", NXT, wire_name("a.example."), "a.example."},
      // BIND's totext_nxt: types it does not know as bare numbers (NSEC: TYPE54)
      {"NXT with unassigned types", NXT,
       cat({wire_name("a.example."), hex("20000001000002000000000008000001")}),
       "a.example. NS EID 54 UINFO 127"},
      {"NXT of every type 1-127 (BIND 9.18.49's mnemonics)", NXT,
       cat({wire_name("a.example."), hex("7fffffffffffffffffffffffffffffff")}),
       "a.example. A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN "
       "RT NSAP NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME "
       "SINK OPT APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA 54 HIP "
       "NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS DSYNC HHIT BRID 69 70 71 "
       "72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 SPF UINFO "
       "UID GID UNSPEC NID L32 L64 LP EUI48 EUI64 110 111 112 113 114 115 116 117 118 119 120 121 "
       "122 123 124 125 126 127"},
      // RFC 3123 §5, addresses cut to their last non-zero byte (§4); IPv6 as inet_ntop prints it
      {"APL (RFC 3123 §5, foo.example)", 42, hex("00011503c0a82000011c83c0a826"),
       "1:192.168.32.0/21 !1:192.168.38.0/28"},
      {"APL (RFC 3123 §5, 42.example)", 42, hex("00011a03c0a82a00011a04c0a82a4000011904c0a82a80"),
       "1:192.168.42.0/26 1:192.168.42.64/26 1:192.168.42.128/25"},
      {"APL (RFC 3123 §5, _smtp-server._tcp.example)", 42, hex("000120047f00000100011603ac1040"),
       "1:127.0.0.1/32 1:172.16.64.0/22"},
      {"APL (RFC 3123 §5, multicast.example)", 42, hex("00010401e000020801ff"),
       "1:224.0.0.0/4 2:ff00::/8"},
      {"APL with empty addresses and IPv6", 42, hex("00010000000200800002300620010db80001"),
       "1:0.0.0.0/0 !2:::/0 2:2001:db8:1::/48"},
      // BIND: a family other than 1 and 2 has no text form (totext_in_apl → unknown_totext)
      {"APL with an unknown family", 42, hex("00011803c0000200030000"),
       "\\# 11 00011803C0000200030000"},
      // dig ends a TSIG with an empty Other Data with a space: the event does not
      {"TSIG (RFC 8945 §4.2)", TSIG,
       cat({wire_name("hmac-sha256."),
            hex("0000 6553f100 012c 0020 000102030405060708090a0b0c0d0e0f"
                "101112131415161718191a1b1c1d1e1f 1234 0000 0000")}),
       "hmac-sha256. 1700000000 300 32 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 4660 NOERROR "
       "0"},
      {"TSIG BADTIME with other data, 48-bit time", TSIG,
       cat({wire_name("hmac-md5.sig-alg.reg.int."),
            hex("ffffffffffff 0000 0000 0000 0012 0006 00006553f100")}),
       "hmac-md5.sig-alg.reg.int. 281474976710655 0 0 0 BADTIME 6 AABlU/EA"},
      {"TSIG BADSIG", TSIG,
       cat({wire_name("hmac-sha256."),
            hex("0000 6553f100 012c 0010 000102030405060708090a0b0c0d0e0f 1234 0010 0000")}),
       "hmac-sha256. 1700000000 300 16 AAECAwQFBgcICQoLDA0ODw== 4660 BADSIG 0"},
      // BIND's TSIG error names stop at BADTRUNC (22); 11-15 are RESERVEDn
      {"TSIG error 23", TSIG,
       cat({wire_name("hmac-sha256."), hex("0000 6553f100 012c 0000 1234 0017 0000")}),
       "hmac-sha256. 1700000000 300 0 4660 23 0"},
      {"TSIG reserved error", TSIG,
       cat({wire_name("hmac-sha256."), hex("0000 6553f100 012c 0000 1234 000b 0001 01")}),
       "hmac-sha256. 1700000000 300 0 4660 RESERVED11 1 AQ=="},
      // TKEY times are numbers, as BIND prints them (not RRSIG's YYYYMMDDHHMMSS)
      {"TKEY (RFC 2930 §2)", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0003 0000 0003 616263 0000")}),
       "gss-tsig. 1700000000 1700086400 3 NOERROR 3 YWJj 0"},
      {"TKEY BADMODE", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0002 0013 0003 616263 0000")}),
       "gss-tsig. 1700000000 1700086400 2 BADMODE 3 YWJj 0"},
      {"TKEY unnamed error", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0003 03e7 0003 616263 0000")}),
       "gss-tsig. 1700000000 1700086400 3 999 3 YWJj 0"},
      // dig prints two spaces after an empty key: the event one
      {"TKEY without key, with other data", TKEY,
       cat({wire_name("gss-tsig."), hex("00000000 ffffffff 0003 0000 0000 0004 78797a31")}),
       "gss-tsig. 0 4294967295 3 NOERROR 0 4 eHl6MQ=="},
      {"TKEY with key and other data", TKEY,
       cat({wire_name("gss-tsig."),
            hex("00000000 ffffffff 0003 0000 0006 6b65796b6579 0004 78797a31")}),
       "gss-tsig. 0 4294967295 3 NOERROR 6 a2V5a2V5 4 eHl6MQ=="},
  };
}

// RDATA that does not fit its type's layout: reported, whatever was printed.
std::vector<RdataCase> bad_cases() {
  using namespace rrtype;
  return {
      {"MX without its name", MX, {0, 10}, ""},
      {"TXT length past the end", TXT, {9, 'a'}, ""},
      {"AAAA of 4 bytes", AAAA, {1, 2, 3, 4}, ""},
      {"CNAME with trailing bytes", CNAME, {0, 1}, ""},
      {"NSEC3 salt past the end", NSEC3, hex("0100000009aabb"), ""},
      {"NSEC3 with an empty next hashed owner", NSEC3, hex("010000000000"), ""},
      {"NSEC3PARAM with trailing bytes", NSEC3PARAM, hex("010000000000"), ""},
      {"CSYNC without flags", CSYNC, hex("00000042"), ""},
      {"LOC of 15 bytes", LOC, hex("0033161389172dd070be15f000988d"), ""},
      {"LOC size mantissa over 9", LOC, hex("00a3161389172dd070be15f000988d20"), ""},
      {"LOC precision with a zero mantissa", LOC, hex("0033061389172dd070be15f000988d20"), ""},
      {"LOC latitude past the pole", LOC, hex("0033161394d71c0170be15f000988d20"), ""},
      {"LOC longitude past 180 degrees", LOC, hex("0033161389172dd0d0a9a54b00988d20"), ""},
      {"EUI48 of 7 bytes", 108, hex("00005e00532a00"), ""},
      {"EUI64 of 6 bytes", 109, hex("00005e00532a"), ""},
      {"IPSECKEY with a short IPv4 gateway", IPSECKEY, hex("0a0102c00002"), ""},
      {"CERT of 4 bytes", CERT, hex("00030000"), ""},
      {"URI without a target's bytes", URI, hex("000a"), ""},
      {"SSHFP of 1 byte", SSHFP, hex("02"), ""},
      // RFC 9460 §2.2: keys in strictly increasing order, values in their key's format
      {"SVCB keys out of order", SVCB, hex("00010000030002003500010003026832"), ""},
      {"SVCB duplicate key", SVCB, hex("000100000300020035000300020035"), ""},
      {"SVCB value past the end", SVCB, hex("000100000300040035"), ""},
      {"SVCB key without length", SVCB, hex("0001000003"), ""},
      {"SVCB mandatory listing itself (RFC 9460 §8)", SVCB, hex("000100000000020000"), ""},
      {"SVCB mandatory not increasing", SVCB, hex("000100000000040004000100010003026832"), ""},
      {"SVCB mandatory of odd length", SVCB, hex("0001000000000003000100"), ""},
      {"SVCB alpn with an empty id", SVCB, hex("0001000001000400026832"), ""},
      {"SVCB alpn id past the value", SVCB, hex("00010000010003036832"), ""},
      {"SVCB empty alpn", SVCB, hex("00010000010000"), ""},
      {"SVCB no-default-alpn with a value", SVCB, hex("0001000002000161"), ""},
      {"SVCB port of 3 bytes", SVCB, hex("00010000030003003500"), ""},
      {"SVCB ipv4hint of 5 bytes", SVCB, hex("00010000040005c000020100"), ""},
      {"SVCB empty ipv6hint", SVCB, hex("00010000060000"), ""},
      {"SVCB ohttp with a value", SVCB, hex("0001000008000161"), ""},
      // As BIND 9.18's fromwire_* reject them (dig: "malformed message packet", "bad bitmap")
      {"WKS of 4 bytes", WKS, hex("c0000201"), ""},
      {"WKS map ending in a zero byte", WKS, hex("c0000201060100"), ""},
      {"WKS map of 8193 bytes", WKS, cat({hex("c000020106"), DnsBuilder::Bytes(8192, 0), {1}}), ""},
      {"NXT with bit 0 set", NXT, cat({wire_name("a.example."), hex("c0")}), ""},
      {"NXT map of 17 bytes", NXT,
       cat({wire_name("a.example."), hex("40"), DnsBuilder::Bytes(15, 0), {1}}), ""},
      {"NXT map ending in a zero byte", NXT, cat({wire_name("a.example."), hex("4000")}), ""},
      {"NXT name past the end", NXT, hex("01610765"), ""},
      {"APL address with a trailing zero (RFC 3123 §4)", 42, hex("00011804c0000200"), ""},
      {"APL IPv4 address of 5 bytes", 42, hex("00011805c000020001"), ""},
      {"APL IPv6 address of 17 bytes", 42, hex("000218110000000000000000000000000000000001"), ""},
      {"APL IPv4 prefix 33", 42, hex("00012100"), ""},
      {"APL IPv6 prefix 129", 42, hex("0002810120"), ""},
      {"APL address past the end", 42, hex("00012004c00002"), ""},
      {"APL item header cut", 42, hex("00012004c0000201000120"), ""},
      {"APL unknown family with a trailing zero", 42, hex("0003c88400000000"), ""},
      {"TSIG with a trailing byte", TSIG,
       cat({wire_name("hmac-sha256."), hex("0000 6553f100 012c 0002 0102 1234 0000 0000 00")}), ""},
      {"TSIG other data cut", TSIG,
       cat({wire_name("hmac-sha256."), hex("0000 6553f100 012c 0000 1234 0000 0002 01")}), ""},
      {"TSIG MAC past the end", TSIG,
       cat({wire_name("hmac-sha256."), hex("0000 6553f100 012c 0020 00010203040506")}), ""},
      {"TSIG of a name only", TSIG, wire_name("hmac-sha256."), ""},
      {"TKEY cut after the error", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0003 0000")}), ""},
      {"TKEY key past the end", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0003 0000 0003 6162")}), ""},
      {"TKEY with a trailing byte", TKEY,
       cat({wire_name("gss-tsig."), hex("6553f100 65554280 0003 0000 0003 616263 0000 00")}), ""},
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

BOOST_DATA_TEST_CASE(layout_errors_are_reported, boost::unit_test::data::make(bad_cases()), c) {
  Malformed fault{};
  render(c, fault);
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

#pragma once
// DNS mnemonics (IANA DNS parameters registry): RR types, classes, opcodes, rcodes.

#include <array>
#include <cstdint>
#include <string_view>

namespace stash53::decode {

/// Scratch space for a generated mnemonic such as "TYPE65280"; must outlive the returned view.
using MnemonicBuffer = std::array<char, 16>;

/// "A", "AAAA", …; unknown types as RFC 3597 "TYPE<n>".
[[nodiscard]] std::string_view type_name(std::uint16_t type, MnemonicBuffer& buf) noexcept;
/// "IN", "CH", "HS", "NONE", "ANY"; others "CLASS<n>".
[[nodiscard]] std::string_view class_name(std::uint16_t klass, MnemonicBuffer& buf) noexcept;
/// "QUERY", "NOTIFY", …; unassigned ones "RESERVED<n>" as dig prints them.
[[nodiscard]] std::string_view opcode_name(std::uint8_t opcode, MnemonicBuffer& buf) noexcept;
/// 12-bit rcode: "NOERROR", "NXDOMAIN", "BADVERS", …; unassigned "RESERVED<n>".
[[nodiscard]] std::string_view rcode_name(std::uint16_t rcode, MnemonicBuffer& buf) noexcept;
/// Extended DNS Error INFO-CODE (RFC 8914 §5 and the IANA registry); empty when unassigned.
[[nodiscard]] std::string_view ede_name(std::uint16_t code) noexcept;

namespace rrtype {
inline constexpr std::uint16_t A = 1, NS = 2, MD = 3, MF = 4, CNAME = 5, SOA = 6, MB = 7, MG = 8,
                               MR = 9, NULL_ = 10, WKS = 11, PTR = 12, HINFO = 13, MINFO = 14,
                               MX = 15, TXT = 16, RP = 17, AFSDB = 18, RT = 21, SIG = 24, KEY = 25,
                               AAAA = 28, LOC = 29, NXT = 30, SRV = 33, NAPTR = 35, KX = 36,
                               CERT = 37, DNAME = 39, OPT = 41, DS = 43, SSHFP = 44, IPSECKEY = 45,
                               RRSIG = 46, NSEC = 47, DNSKEY = 48, DHCID = 49, NSEC3 = 50,
                               NSEC3PARAM = 51, TLSA = 52, SMIMEA = 53, CDS = 59, CDNSKEY = 60,
                               OPENPGPKEY = 61, CSYNC = 62, ZONEMD = 63, SVCB = 64, HTTPS = 65,
                               SPF = 99, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252,
                               ANY = 255, URI = 256, CAA = 257;
}  // namespace rrtype

}  // namespace stash53::decode

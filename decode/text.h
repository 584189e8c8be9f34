#pragma once
// Appending presentation-format text (RFC 1035 §5.1 escaping, hex, base64, addresses) to a
// string without temporaries, so decoding allocates only when the arena grows.

#include <cstddef>
#include <cstdint>
#include <string>

namespace stash53::decode::text {

/// One label, escaping the characters special in zone files with a backslash (`\.`) and
/// non-printable bytes as `\DDD`, as dig does.
void append_label(std::string& out, const std::uint8_t* p, std::size_t n);
/// A <character-string> in double quotes; `"` and `\` escaped, non-printable bytes as `\DDD`.
void append_quoted(std::string& out, const std::uint8_t* p, std::size_t n);
void append_uint(std::string& out, std::uint64_t v);
/// Upper-case hex, no separators (DS digests, RFC 3597 data).
void append_hex(std::string& out, const std::uint8_t* p, std::size_t n);
/// Lower-case hex, as tools print EDNS option data (NSID, cookies).
void append_hex_lower(std::string& out, const std::uint8_t* p, std::size_t n);
/// Free text (EDE EXTRA-TEXT): printable ASCII as is, `\` and everything else as `\DDD`.
void append_escaped(std::string& out, const std::uint8_t* p, std::size_t n);
/// RFC 4648 base64 with padding, no line breaks.
void append_base64(std::string& out, const std::uint8_t* p, std::size_t n);
/// 4 bytes → dotted quad; 16 bytes → RFC 5952 text.
void append_ipv4(std::string& out, const std::uint8_t* p);
void append_ipv6(std::string& out, const std::uint8_t* p);
/// append_ipv6 when `ipv6`, else append_ipv4.
inline void append_ip(std::string& out, const std::uint8_t* p, bool ipv6) {
  ipv6 ? append_ipv6(out, p) : append_ipv4(out, p);
}
/// RRSIG time: YYYYMMDDHHmmSS in UTC (RFC 4034 §3.2).
void append_dnssec_time(std::string& out, std::uint32_t t);

}  // namespace stash53::decode::text

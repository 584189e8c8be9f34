#include "decode/edns.h"

#include "decode/text.h"

namespace stash53::decode {
namespace {

TextRef hex_of(const std::uint8_t* p, std::size_t n, std::string& text) {
  const auto off = static_cast<std::uint32_t>(text.size());
  text::append_hex_lower(text, p, n);
  return {off, static_cast<std::uint32_t>(text.size() - off)};
}

// How an option's data fits its layout: Broken stops the OPT record there; Flagged keeps the
// option (and reads on) but marks the message bad-edns.
enum class Fit : std::uint8_t { Fits, Flagged, Broken };

// RFC 7871 §6: the source prefix fits the family, and the address is exactly the bytes it
// covers, with the bits past it zero.
bool ecs_consistent(std::uint16_t family, std::uint8_t source, const std::uint8_t* addr,
                    std::size_t len) {
  if (family != 1 && family != 2) return true;  // other families: nothing to check against
  if (source > (family == 1 ? 32 : 128)) return false;
  if (len != (source + 7u) / 8u) return false;
  const auto spare = static_cast<unsigned>(len * 8u - source);  // bits of the last byte past the prefix
  return spare == 0 || (addr[len - 1] & ((1u << spare) - 1u)) == 0;
}

Fit read_option(std::uint16_t code, const std::uint8_t* p, std::size_t n, DnsEvent& ev) {
  Edns& e = ev.edns;
  std::string& t = ev.text;
  switch (code) {
    case edns_option::Nsid: {
      e.has_nsid = true;
      e.nsid_hex = hex_of(p, n, t);
      e.nsid_printable = true;
      for (std::size_t i = 0; i < n; ++i) e.nsid_printable &= p[i] >= 0x20 && p[i] < 0x7f;
      if (e.nsid_printable) {
        const auto off = static_cast<std::uint32_t>(t.size());
        t.append(reinterpret_cast<const char*>(p), n);
        e.nsid_text = {off, static_cast<std::uint32_t>(n)};
      }
      return Fit::Fits;
    }
    case edns_option::ClientSubnet: {
      // RFC 7871 §6: family, source and scope prefix, then only the significant address bytes.
      if (n < 4) return Fit::Broken;
      const std::uint16_t family = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
      const std::size_t addr_len = n - 4, full = family == 1 ? 4 : family == 2 ? 16 : 0;
      if (full != 0 && addr_len > full) return Fit::Broken;
      e.has_ecs = true;
      e.ecs_family = family;
      e.ecs_source = p[2];
      e.ecs_scope = p[3];
      const auto off = static_cast<std::uint32_t>(t.size());
      e.ecs_bytes = {};  // the significant bytes, zero-padded
      for (std::size_t i = 0; i < addr_len && i < 16; ++i) e.ecs_bytes.bytes[i] = p[4 + i];
      if (family == 1 || family == 2)
        text::append_ip(t, e.ecs_bytes.bytes, family == 2);
      else
        text::append_hex_lower(t, p + 4, addr_len);
      e.ecs_address = {off, static_cast<std::uint32_t>(t.size() - off)};
      return ecs_consistent(family, p[2], p + 4, addr_len) ? Fit::Fits : Fit::Flagged;
    }
    case edns_option::Cookie:
      // RFC 7873 §4: an 8-byte client cookie, optionally an 8 to 32-byte server cookie.
      if (n != 8 && (n < 16 || n > 40)) return Fit::Broken;
      e.has_cookie = true;
      e.cookie_client = hex_of(p, 8, t);
      e.cookie_server = hex_of(p + 8, n - 8, t);
      return Fit::Fits;
    case edns_option::ExtendedError: {
      if (n < 2) return Fit::Broken;
      EdnsError ede;
      ede.code = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
      const auto off = static_cast<std::uint32_t>(t.size());
      text::append_escaped(t, p + 2, n - 2);
      ede.text = {off, static_cast<std::uint32_t>(t.size() - off)};
      e.ede.push_back(ede);
      return Fit::Fits;
    }
    case edns_option::Padding:
      e.has_padding = true;
      e.padding = static_cast<std::uint16_t>(n);
      return Fit::Fits;
    case edns_option::Keepalive:
      if (n != 0 && n != 2) return Fit::Broken;
      e.has_keepalive = true;
      e.keepalive_has_timeout = n == 2;
      if (n == 2) e.keepalive = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
      return Fit::Fits;
    default:
      e.other.push_back({code, hex_of(p, n, t)});
      return Fit::Fits;
  }
}

}  // namespace

Malformed parse_opt(const std::uint8_t* rdata, std::size_t len, std::uint16_t klass,
                    std::uint32_t ttl, DnsEvent& ev) noexcept {
  Edns& e = ev.edns;
  e.present = true;
  e.udp_size = klass;
  e.ext_rcode = static_cast<std::uint8_t>(ttl >> 24);
  e.version = static_cast<std::uint8_t>(ttl >> 16);
  e.do_bit = (ttl & 0x8000) != 0;
  std::size_t pos = 0;
  bool flagged = false;
  while (pos < len) {
    if (len - pos < 4) return Malformed::BadEdns;
    const std::uint16_t code = static_cast<std::uint16_t>(rdata[pos] << 8 | rdata[pos + 1]);
    const std::size_t n = static_cast<std::size_t>(rdata[pos + 2] << 8 | rdata[pos + 3]);
    pos += 4;
    if (n > len - pos) return Malformed::BadEdns;
    const Fit fit = read_option(code, rdata + pos, n, ev);
    if (fit == Fit::Broken) return Malformed::BadEdns;
    flagged |= fit == Fit::Flagged;
    pos += n;
  }
  return flagged ? Malformed::BadEdns : Malformed::None;
}

}  // namespace stash53::decode

// RDATA in zone-file presentation format, one layout per RR type (RFC 1035 §3.3 and the RFC
// of each type), printed as dig prints it.
#include "decode/dns_wire.h"

#include <algorithm>

#include "common/bytes.h"
#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::decode {
namespace {

// RFC 4648 §7 base32hex, upper case, no padding, as NSEC3 owner hashes are printed (RFC 5155 §3.3).
void append_base32hex(std::string& out, const std::uint8_t* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = acc << 8 | p[i];
    for (bits += 8; bits >= 5; bits -= 5) out.push_back(kDigits[acc >> (bits - 5) & 31]);
  }
  if (bits > 0) out.push_back(kDigits[acc << (5 - bits) & 31]);
}

// Decimal with leading zeros (LOC seconds and centimetres).
void append_padded(std::string& out, std::uint32_t v, std::size_t width) {
  const std::size_t start = out.size();
  text::append_uint(out, v);
  if (const std::size_t len = out.size() - start; len < width)
    out.insert(start, width - len, '0');
}

// Mnemonic of a value, or the value itself: BIND's dns_mnemonic_totext().
struct Mnemonic {
  std::uint16_t value;
  const char* name;
};
template <std::size_t N>
void append_mnemonic(std::string& out, std::uint32_t v, const Mnemonic (&table)[N]) {
  for (const auto& m : table)
    if (m.value == v) return void(out.append(m.name));
  text::append_uint(out, v);
}
// RFC 4398 §2.1 certificate types and DNSSEC algorithm numbers, as BIND names them in CERT.
constexpr Mnemonic kCertTypes[] = {{1, "PKIX"},   {2, "SPKI"},   {3, "PGP"},    {4, "IPKIX"},
                                   {5, "ISPKI"},  {6, "IPGP"},   {7, "ACPKIX"}, {8, "IACPKIX"},
                                   {253, "URI"},  {254, "OID"}};
constexpr Mnemonic kSecAlgs[] = {
    {1, "RSAMD5"},           {2, "DH"},        {3, "DSA"},          {4, "ECC"},
    {5, "RSASHA1"},          {6, "NSEC3DSA"},  {7, "NSEC3RSASHA1"}, {8, "RSASHA256"},
    {10, "RSASHA512"},       {12, "ECCGOST"},  {13, "ECDSAP256SHA256"},
    {14, "ECDSAP384SHA384"}, {15, "ED25519"},  {16, "ED448"},       {252, "INDIRECT"},
    {253, "PRIVATEDNS"},     {254, "PRIVATEOID"}};
// TSIG and TKEY error names (RFC 8945 §4.2, RFC 2930 §2.6): BIND's dns_tsigrcode_totext(), whose
// table stops at BADTRUNC (so 23 prints as "23", where the header rcode is BADCOOKIE).
constexpr Mnemonic kTsigErrors[] = {
    {0, "NOERROR"},     {1, "FORMERR"},     {2, "SERVFAIL"},    {3, "NXDOMAIN"},
    {4, "NOTIMP"},      {5, "REFUSED"},     {6, "YXDOMAIN"},    {7, "YXRRSET"},
    {8, "NXRRSET"},     {9, "NOTAUTH"},     {10, "NOTZONE"},    {11, "RESERVED11"},
    {12, "RESERVED12"}, {13, "RESERVED13"}, {14, "RESERVED14"}, {15, "RESERVED15"},
    {16, "BADSIG"},     {17, "BADKEY"},     {18, "BADTIME"},    {19, "BADMODE"},
    {20, "BADNAME"},    {21, "BADALG"},     {22, "BADTRUNC"}};
// SvcParamKeys (RFC 9460 §14.3.2, RFC 9461 dohpath, RFC 9540 ohttp), indexed by number.
constexpr const char* kSvcKeys[] = {"mandatory", "alpn",     "no-default-alpn",
                                    "port",      "ipv4hint", "ech",
                                    "ipv6hint",  "dohpath",  "ohttp"};
enum SvcKey : std::uint32_t { Mandatory, Alpn, NoDefaultAlpn, Port, Ipv4Hint, Ech, Ipv6Hint,
                              DohPath, Ohttp };

void append_svc_key(std::string& out, std::uint32_t key) {
  if (key < std::size(kSvcKeys)) return void(out.append(kSvcKeys[key]));
  out.append("key");
  text::append_uint(out, key);
}

// One alpn-id inside the quoted value list: `,` and `\` get the value-list escape (RFC 9460
// Appendix A.1), and that backslash is itself escaped inside quotes, as BIND prints it.
void append_alpn_id(std::string& out, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == ',' || p[i] == '\\') out.append("\\\\");
    if (p[i] == '"' || p[i] == '\\') out.push_back('\\'), out.push_back(static_cast<char>(p[i]));
    else text::append_escaped(out, p + i, 1);
  }
}

// `=value` of one SvcParam as BIND prints it (nothing for an empty value); false when the value
// does not have its key's format (RFC 9460 §7-8, RFC 9540 §4), which makes the RR malformed.
bool append_svc_value(std::string& out, std::uint32_t key, const std::uint8_t* v, std::size_t n) {
  switch (key) {
    case Mandatory:
      if (n == 0 || n % 2) return false;
      for (std::size_t i = 0; i < n; i += 2) {
        const std::uint32_t k = std::uint32_t{v[i]} << 8 | v[i + 1];
        // Strictly increasing, and never "mandatory" itself (§8).
        if (k == Mandatory || (i > 0 && k <= (std::uint32_t{v[i - 2]} << 8 | v[i - 1])))
          return false;
        out.push_back(i ? ',' : '=');
        append_svc_key(out, k);
      }
      return true;
    case Alpn:
      if (n == 0) return false;
      out.append("=\"");
      for (std::size_t i = 0; i < n; i += 1 + v[i]) {
        if (v[i] == 0 || v[i] >= n - i) return false;
        if (i) out.push_back(',');
        append_alpn_id(out, v + i + 1, v[i]);
      }
      out.push_back('"');
      return true;
    case NoDefaultAlpn:
    case Ohttp:
      return n == 0;
    case Port:
      if (n != 2) return false;
      out.push_back('=');
      text::append_uint(out, std::uint32_t{v[0]} << 8 | v[1]);
      return true;
    case Ipv4Hint:
    case Ipv6Hint: {
      const std::size_t width = key == Ipv4Hint ? 4 : 16;
      if (n == 0 || n % width) return false;
      for (std::size_t i = 0; i < n; i += width) {
        out.push_back(i ? ',' : '=');
        if (width == 4) text::append_ipv4(out, v + i);
        else text::append_ipv6(out, v + i);
      }
      return true;
    }
    case Ech:
      if (n) out.push_back('='), text::append_base64(out, v, n);
      return true;
    default:  // dohpath and unknown keys: a quoted string
      if (n) out.push_back('='), text::append_quoted(out, v, n);
      return true;
  }
}

/// Reads the fields of one RDATA in order; any read past its end sets `ok` to false and from
/// then on reads return zeros, so a layout is written as straight-line code checked once.
class RdataReader {
 public:
  RdataReader(WireMessage msg, std::size_t off, std::size_t len, std::string& out)
      : msg_(msg), pos_(off), end_(off + len), out_(out), start_(out.size()) {}

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == end_; }
  std::size_t remaining() const { return end_ - pos_; }

  std::uint32_t u8() { return take(1) ? msg_.data[pos_ - 1] : 0; }
  std::uint32_t u16() {
    return take(2) ? static_cast<std::uint32_t>(msg_.data[pos_ - 2] << 8 | msg_.data[pos_ - 1])
                   : 0;
  }
  std::uint32_t u32() { return take(4) ? be32(msg_.data + pos_ - 4) : 0; }

  // Writers: each appends one field; sp() separates them.
  void number(std::uint64_t v) { text::append_uint(out_, v); }
  void sp() { out_.push_back(' '); }
  void name() {
    std::size_t next = 0;
    if (!ok_ || read_name(msg_, pos_, out_, next, Malformed::BadRdata) != Malformed::None ||
        next > end_) {
      ok_ = false;
      return;
    }
    pos_ = next;
  }
  // A <character-string>: length byte then bytes (RFC 1035 §3.3).
  void char_string() {
    const std::uint32_t n = u8();
    if (take(n)) text::append_quoted(out_, msg_.data + pos_ - n, n);
  }
  void ipv4() {
    if (take(4)) text::append_ipv4(out_, msg_.data + pos_ - 4);
  }
  void ipv6() {
    if (take(16)) text::append_ipv6(out_, msg_.data + pos_ - 16);
  }
  void hex_rest() {
    text::append_hex(out_, msg_.data + pos_, remaining());
    pos_ = end_;
  }
  void quoted_rest() {
    text::append_quoted(out_, msg_.data + pos_, remaining());
    pos_ = end_;
  }
  // CAA tag (RFC 8659 §4.1.1): length-prefixed, at least one character.
  void caa_tag() {
    const std::uint32_t n = u8();
    if (n == 0) ok_ = false;
    else if (take(n)) text::append_label(out_, msg_.data + pos_ - n, n);
  }
  void dnssec_time() { text::append_dnssec_time(out_, u32()); }
  void base64_rest() {
    text::append_base64(out_, msg_.data + pos_, remaining());
    pos_ = end_;
  }
  void type_mnemonic(std::uint16_t type) {
    MnemonicBuffer buf;
    out_.append(type_name(type, buf));
  }
  void str(std::string_view s) { out_.append(s); }
  void mnemonic(std::uint32_t v, const auto& table) { append_mnemonic(out_, v, table); }
  // NSEC3 salt (RFC 5155 §3.3): length-prefixed hex, "-" when empty.
  void salt() {
    const std::uint32_t n = u8();
    if (n == 0) out_.push_back('-');
    else if (take(n)) text::append_hex(out_, msg_.data + pos_ - n, n);
  }
  // NSEC3 next hashed owner name (RFC 5155 §3.3): length-prefixed, never empty, base32hex.
  void next_hashed_owner() {
    const std::uint32_t n = u8();
    if (n == 0) ok_ = false;
    else if (take(n)) append_base32hex(out_, msg_.data + pos_ - n, n);
  }
  // EUI-48/EUI-64 (RFC 7043 §3.2, §4.2): lower-case hex pairs joined by hyphens.
  void eui(std::size_t n) {
    if (!take(n)) return;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out_.push_back('-');
      text::append_hex_lower(out_, msg_.data + pos_ - n + i, 1);
    }
  }
  // LOC size or precision byte (RFC 1876 §2): mantissa and power of ten, in centimetres.
  // Digits over 9, or a zero mantissa in a non-zero byte, are out of range (as BIND rejects).
  void loc_precision(std::uint32_t b) {
    const std::uint32_t mantissa = b >> 4, exponent = b & 15;
    if (b != 0 && (mantissa == 0 || mantissa > 9 || exponent > 9)) ok_ = false;
    std::uint64_t cm = mantissa;
    for (std::uint32_t i = 0; i < exponent; ++i) cm *= 10;
    if (exponent > 1) number(cm / 100);
    else str("0."), append_padded(out_, static_cast<std::uint32_t>(cm), 2);
    out_.push_back('m');
  }
  // LOC latitude/longitude: thousandths of an arc second offset by 2^31 (RFC 1876 §2).
  void loc_angle(std::uint32_t max_degrees, char positive, char negative) {
    const std::uint32_t raw = u32();
    const bool plus = raw >= 0x80000000u;
    const std::uint32_t v = plus ? raw - 0x80000000u : 0x80000000u - raw;
    if (v > max_degrees * 3600000u) ok_ = false;
    number(v / 3600000), sp(), number(v / 60000 % 60), sp(), number(v / 1000 % 60);
    out_.push_back('.'), append_padded(out_, v % 1000, 3), sp();
    out_.push_back(plus ? positive : negative);
  }
  // LOC altitude: centimetres above a base 100 000 m below the WGS 84 spheroid.
  void loc_altitude() {
    const std::uint32_t raw = u32();
    const std::uint32_t cm = raw < 10000000u ? 10000000u - raw : raw - 10000000u;
    if (raw < 10000000u) out_.push_back('-');
    number(cm / 100), out_.push_back('.'), append_padded(out_, cm % 100, 2), out_.push_back('m');
  }
  // SvcParams (RFC 9460 §2.2): keys strictly increasing, each value in its key's format.
  void svc_params() {
    std::uint32_t last = 0;
    for (bool first = true; ok_ && !at_end(); first = false) {
      const std::uint32_t key = u16(), n = u16();
      if (!take(n)) return;
      sp();
      append_svc_key(out_, key);
      if ((!first && key <= last) || !append_svc_value(out_, key, msg_.data + pos_ - n, n))
        ok_ = false;
      last = key;
    }
  }
  // A 16-bit length and that many bytes (TSIG MAC and other data, TKEY key and other data):
  // "length base64", or "0" alone when empty (dig then prints an extra space; the event does not).
  void sized_base64() {
    const std::uint32_t n = u16();
    number(n);
    if (take(n) && n > 0) sp(), text::append_base64(out_, msg_.data + pos_ - n, n);
  }
  // The flat bitmaps of WKS (ports, RFC 1035 §3.4.2) and NXT (types, RFC 2535 §5.2): bit i of
  // the rest of the RDATA stands for number i. Malformed, as BIND 9.18 rejects them: a map over
  // `max` bytes or ending in a zero byte, and an NXT map with bit 0 set (the extended format
  // RFC 2535 reserved and never defined). NXT prints types BIND does not know as bare numbers.
  void flat_bitmap(std::size_t max, bool types) {
    if (!ok_) return;
    const std::uint8_t* bits = msg_.data + pos_;
    const std::size_t n = remaining();
    if (n > max || (n > 0 && (bits[n - 1] == 0 || (types && (bits[0] & 0x80))))) {
      ok_ = false;
      return;
    }
    for (std::uint32_t i = 0; i < n * 8; ++i) {
      if (!(bits[i / 8] & (0x80 >> (i % 8)))) continue;
      sp();
      MnemonicBuffer buf;
      const std::string_view name = types ? type_name(static_cast<std::uint16_t>(i), buf) : "";
      if (name.empty() || name.starts_with("TYPE")) number(i);
      else str(name);
    }
    pos_ = end_;
  }
  // APL items (RFC 3123 §4): `[!]family:address/prefix`, the address re-expanded from the bytes
  // sent (trailing zeros are left off on the wire, so a zero last byte is malformed, as are an
  // address or prefix too long for its family: BIND's checks). False when an item's family is
  // neither IPv4 (1) nor IPv6 (2): BIND has no text form for it.
  bool apl_items() {
    bool known = true;
    while (ok_ && !at_end()) {
      const std::uint32_t family = u16(), prefix = u8(), length = u8(), n = length & 0x7f;
      if (!take(n)) break;
      const std::uint8_t* addr = msg_.data + pos_ - n;
      const std::size_t width = family == 1 ? 4 : family == 2 ? 16 : 0;
      if ((n > 0 && addr[n - 1] == 0) || (width > 0 && (n > width || prefix > width * 8)))
        ok_ = false;
      if (width == 0 || !ok_) {
        known = known && width > 0;
        continue;
      }
      if (out_.size() > start_) sp();
      if (length & 0x80) out_.push_back('!');
      number(family), out_.push_back(':');
      std::uint8_t full[16] = {};
      std::copy(addr, addr + n, full);
      text::append_ip(out_, full, width == 16), out_.push_back('/'), number(prefix);
    }
    return known;
  }
  // Drops what this RDATA wrote, for a layout that finds out late it has no text form.
  void discard() { out_.resize(start_); }
  // RFC 4034 §4.1.2 type bit maps: window, length, bitmap.
  void type_bitmap() {
    while (ok_ && !at_end()) {
      const std::uint32_t window = u8();
      const std::uint32_t n = u8();
      if (n == 0 || n > 32 || !take(n)) {
        ok_ = false;
        return;
      }
      const std::uint8_t* bits = msg_.data + pos_ - n;
      for (std::uint32_t i = 0; i < n * 8; ++i)
        if (bits[i / 8] & (0x80 >> (i % 8))) {
          sp();
          type_mnemonic(static_cast<std::uint16_t>(window << 8 | i));
        }
    }
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || n > end_ - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  WireMessage msg_;
  std::size_t pos_, end_;
  std::string& out_;
  std::size_t start_;
  bool ok_ = true;
};

// Writes the layout of `type`; false, before writing anything, when the type (or this RDATA's
// version or variant) has no text form here: the caller then uses RFC 3597.
bool write_layout(std::uint16_t type, RdataReader& r) {
  using namespace rrtype;
  switch (type) {
    case A:
      r.ipv4();
      return true;
    case AAAA:
      r.ipv6();
      return true;
    case NS: case MD: case MF: case CNAME: case MB: case MG: case MR: case PTR: case DNAME:
      r.name();
      return true;
    case MX: case AFSDB: case RT: case KX:
      r.number(r.u16()), r.sp(), r.name();
      return true;
    case MINFO: case RP:
      r.name(), r.sp(), r.name();
      return true;
    case SOA:
      r.name(), r.sp(), r.name();
      for (int i = 0; i < 5; ++i) r.sp(), r.number(r.u32());
      return true;
    case TXT: case SPF:
      // One or more character-strings (RFC 1035 §3.3.14).
      r.char_string();
      while (r.ok() && !r.at_end()) r.sp(), r.char_string();
      return true;
    case HINFO:
      r.char_string(), r.sp(), r.char_string();
      return true;
    case SRV:
      r.number(r.u16()), r.sp(), r.number(r.u16()), r.sp(), r.number(r.u16()), r.sp(), r.name();
      return true;
    case NAPTR:
      r.number(r.u16()), r.sp(), r.number(r.u16()), r.sp();
      r.char_string(), r.sp(), r.char_string(), r.sp(), r.char_string(), r.sp(), r.name();
      return true;
    case CAA:
      r.number(r.u8()), r.sp(), r.caa_tag(), r.sp(), r.quoted_rest();
      return true;
    case DS: case CDS:
      r.number(r.u16()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.hex_rest();
      return true;
    case DNSKEY: case CDNSKEY: case KEY:
      r.number(r.u16()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(),
          r.base64_rest();
      return true;
    case RRSIG: case SIG:
      // RFC 4034 §3.2: covered type, algorithm, labels, original TTL, expiration, inception,
      // key tag, signer, signature.
      r.type_mnemonic(static_cast<std::uint16_t>(r.u16())), r.sp();
      r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u32()), r.sp();
      r.dnssec_time(), r.sp(), r.dnssec_time(), r.sp();
      r.number(r.u16()), r.sp(), r.name(), r.sp(), r.base64_rest();
      return true;
    case NSEC:
      r.name();
      r.type_bitmap();
      return true;
    case NSEC3:  // RFC 5155 §3.3: hash algorithm, flags, iterations, salt, next owner, types
      r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u16()), r.sp(), r.salt();
      r.sp(), r.next_hashed_owner();
      r.type_bitmap();
      return true;
    case NSEC3PARAM:  // RFC 5155 §4.3
      r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u16()), r.sp(), r.salt();
      return true;
    case CSYNC:  // RFC 7477 §2.1.2: SOA serial, flags, types
      r.number(r.u32()), r.sp(), r.number(r.u16());
      r.type_bitmap();
      return true;
    case TLSA: case SMIMEA:  // RFC 6698 §2.2, RFC 8162 §2: usage, selector, matching type, data
      r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.hex_rest();
      return true;
    case SSHFP:  // RFC 4255 §3.2: algorithm, fingerprint type, fingerprint
      r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.hex_rest();
      return true;
    case ZONEMD:  // RFC 8976 §2.3: serial, scheme, hash algorithm, digest
      r.number(r.u32()), r.sp(), r.number(r.u8()), r.sp(), r.number(r.u8()), r.sp(), r.hex_rest();
      return true;
    case URI:  // RFC 7553 §4.5: priority, weight, target as one quoted string
      r.number(r.u16()), r.sp(), r.number(r.u16()), r.sp(), r.quoted_rest();
      return true;
    case CERT:  // RFC 4398 §2.2: type and algorithm as BIND names them
      r.mnemonic(r.u16(), kCertTypes), r.sp(), r.number(r.u16()), r.sp();
      r.mnemonic(r.u8(), kSecAlgs), r.sp(), r.base64_rest();
      return true;
    case DHCID: case OPENPGPKEY:  // RFC 4701 §3.4, RFC 7929 §2.2
      r.base64_rest();
      return true;
    case 108:  // EUI48
      r.eui(6);
      return true;
    case 109:  // EUI64
      r.eui(8);
      return true;
    case IPSECKEY: {  // RFC 4025 §2: precedence, gateway type, algorithm, gateway, key
      const std::uint32_t precedence = r.u8(), gateway = r.u8();
      if (gateway > 3) return false;  // no text form: RFC 3597, as BIND prints it
      r.number(precedence), r.sp(), r.number(gateway), r.sp(), r.number(r.u8()), r.sp();
      if (gateway == 0) r.str(".");
      else if (gateway == 1) r.ipv4();
      else if (gateway == 2) r.ipv6();
      else r.name();
      if (!r.at_end()) r.sp(), r.base64_rest();
      return true;
    }
    case LOC: {  // RFC 1876 §2; text order differs from wire order
      if (r.u8() != 0) return false;  // only version 0 has a text form; RFC 3597, as BIND does
      const std::uint32_t size = r.u8(), horizontal = r.u8(), vertical = r.u8();
      r.loc_angle(90, 'N', 'S'), r.sp(), r.loc_angle(180, 'E', 'W'), r.sp(), r.loc_altitude();
      for (const std::uint32_t b : {size, horizontal, vertical}) r.sp(), r.loc_precision(b);
      return true;
    }
    case WKS:  // RFC 1035 §3.4.2: address, protocol number (as BIND prints it), port bitmap
      r.ipv4(), r.sp(), r.number(r.u8());
      r.flat_bitmap(8192, false);
      return true;
    case NXT:  // RFC 2535 §5.2: next name, type bitmap of types 1-127
      r.name();
      r.flat_bitmap(16, true);
      return true;
    case 42:  // APL (RFC 3123 §4); another family than IPv4/IPv6: RFC 3597, as BIND prints it
      if (r.apl_items() || !r.ok()) return true;
      r.discard();
      return false;
    case TSIG: {  // RFC 8945 §4.2: algorithm, time signed (48 bits), fudge, MAC, original ID,
                  // error, other data
      r.name(), r.sp();
      const std::uint64_t high = r.u16();
      r.number(high << 32 | r.u32()), r.sp(), r.number(r.u16()), r.sp(), r.sized_base64();
      r.sp(), r.number(r.u16()), r.sp(), r.mnemonic(r.u16(), kTsigErrors), r.sp(), r.sized_base64();
      return true;
    }
    case TKEY:  // RFC 2930 §2: algorithm, inception, expiration (numbers, as BIND prints them),
                // mode, error, key data, other data
      r.name(), r.sp(), r.number(r.u32()), r.sp(), r.number(r.u32()), r.sp(), r.number(r.u16());
      r.sp(), r.mnemonic(r.u16(), kTsigErrors), r.sp(), r.sized_base64(), r.sp(), r.sized_base64();
      return true;
    case SVCB: case HTTPS:  // RFC 9460 §2.2: priority, target, SvcParams
      r.number(r.u16()), r.sp(), r.name();
      r.svc_params();
      return true;
    default:
      return false;
  }
}

}  // namespace

void append_generic_rdata(const std::uint8_t* p, std::size_t len, std::string& out) {
  out.append("\\# ");
  text::append_uint(out, len);
  if (len > 0) {
    out.push_back(' ');
    text::append_hex(out, p, len);
  }
}

Malformed append_rdata(WireMessage msg, std::size_t off, std::size_t len, std::uint16_t type,
                       std::string& out) noexcept {
  // Empty RDATA is legal in dynamic updates (RFC 2136 §2.5: class ANY/NONE deletions) and
  // prints as nothing, as dig shows those records.
  if (len == 0) return Malformed::None;
  RdataReader r(msg, off, len, out);
  if (!write_layout(type, r)) {
    append_generic_rdata(msg.data + off, len, out);
    return Malformed::None;
  }
  // Trailing bytes the layout does not explain are as wrong as missing ones.
  return r.ok() && r.at_end() ? Malformed::None : Malformed::BadRdata;
}

}  // namespace stash53::decode

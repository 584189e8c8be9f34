// RDATA in zone-file presentation format, one layout per RR type (RFC 1035 §3.3 and the RFC
// of each type), printed as dig prints it.
#include "decode/dns_wire.h"
#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::decode {
namespace {

/// Reads the fields of one RDATA in order; any read past its end sets `ok` to false and from
/// then on reads return zeros, so a layout is written as straight-line code checked once.
class RdataReader {
 public:
  RdataReader(WireMessage msg, std::size_t off, std::size_t len, std::string& out)
      : msg_(msg), pos_(off), end_(off + len), out_(out) {}

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
  static std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
  }
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
  bool ok_ = true;
};

// Writes the layout of `type`; false when the type has no layout here (caller uses RFC 3597).
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

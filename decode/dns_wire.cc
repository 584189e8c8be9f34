#include "decode/dns_wire.h"

#include <algorithm>

#include "common/bytes.h"
#include "decode/edns.h"
#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::decode {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4
// A name has at most 127 labels, so a walk that needs more pointers than that is a loop.
constexpr int kMaxPointers = 127;

TextRef append_name(WireMessage msg, std::size_t& pos, std::string& text, Malformed truncated_as,
                    Malformed& fault) noexcept {
  const auto off = static_cast<std::uint32_t>(text.size());
  std::size_t next = 0;
  fault = read_name(msg, pos, text, next, truncated_as);
  if (fault == Malformed::None) pos = next;
  return {off, static_cast<std::uint32_t>(text.size() - off)};
}

// Reads the RRs of one section; false (with ev.malformed set) when the section is cut short.
bool parse_section(WireMessage msg, std::size_t& pos, std::uint16_t count,
                   std::vector<Record>& out, Malformed truncated_as, bool mdns,
                   DnsEvent& ev) noexcept {
  for (std::uint16_t i = 0; i < count; ++i) {
    Record rr;
    Malformed fault = Malformed::None;
    const std::size_t name_start = ev.text.size();
    rr.name = append_name(msg, pos, ev.text, truncated_as, fault);
    if (fault != Malformed::None || pos + 10 > msg.size) {
      ev.text.resize(name_start);
      ev.malformed = fault != Malformed::None ? fault : truncated_as;
      return false;
    }
    const std::uint8_t* fixed = msg.data + pos;
    rr.type = be16(fixed);
    rr.klass = be16(fixed + 2);
    rr.ttl = be32(fixed + 4);
    const std::size_t rdlen = be16(fixed + 8);
    pos += 10;
    if (pos + rdlen > msg.size) {  // the message ends inside this record
      ev.text.resize(name_start);
      ev.malformed = truncated_as;
      return false;
    }
    if (rr.type == rrtype::OPT) {
      ev.text.resize(name_start);
      if (parse_opt(msg.data + pos, rdlen, rr.klass, rr.ttl, ev) != Malformed::None &&
          ev.malformed == Malformed::None)
        ev.malformed = Malformed::BadEdns;
      pos += rdlen;
      continue;
    }
    // mDNS reuses the top bit of the class as the cache-flush bit (RFC 6762 §10.2).
    if (mdns && (rr.klass & 0x8000)) {
      rr.cache_flush = true;
      rr.klass &= 0x7FFF;
    }
    const auto data_off = static_cast<std::uint32_t>(ev.text.size());
    if (append_rdata(msg, pos, rdlen, rr.type, ev.text) != Malformed::None) {
      // Keep the record, in generic form, and flag the message.
      ev.text.resize(data_off);
      append_generic_rdata(msg.data + pos, rdlen, ev.text);
      if (ev.malformed == Malformed::None) ev.malformed = Malformed::BadRdata;
    }
    rr.data = {data_off, static_cast<std::uint32_t>(ev.text.size() - data_off)};
    pos += rdlen;
    out.push_back(rr);
  }
  return true;
}

}  // namespace

Malformed read_name(WireMessage msg, std::size_t pos, std::string& out, std::size_t& next,
                    Malformed truncated_as) noexcept {
  const std::size_t start = out.size();
  std::size_t wire_len = 1;  // the root label
  bool jumped = false;
  // Every target visited, to tell a loop (a → b → a, even through labels) from a long name.
  std::uint16_t visited[kMaxPointers];
  int pointers = 0;
  for (;;) {
    if (pos >= msg.size) return truncated_as;
    const std::uint8_t len = msg.data[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size) return truncated_as;
      const std::size_t target = (len & 0x3Fu) << 8 | msg.data[pos + 1];
      if (!jumped) next = pos + 2;
      jumped = true;
      if (target >= msg.size) return Malformed::BadPointer;
      for (int i = 0; i < pointers; ++i)
        if (visited[i] == target) return Malformed::CompressionLoop;
      if (pointers == kMaxPointers) return Malformed::CompressionLoop;
      visited[pointers++] = static_cast<std::uint16_t>(target);
      pos = target;
      continue;
    }
    if (len & 0xC0) return Malformed::BadLabelType;  // 0x40 extended, 0x80 reserved
    if (len == 0) {
      if (!jumped) next = pos + 1;
      if (out.size() == start) out.push_back('.');
      return Malformed::None;
    }
    wire_len += len + 1u;
    if (wire_len > kMaxNameWire) return Malformed::NameTooLong;
    if (pos + 1 + len > msg.size) return truncated_as;
    text::append_label(out, msg.data + pos + 1, len);
    out.push_back('.');
    pos += 1u + len;
  }
}

void parse_message(std::span<const std::uint8_t> bytes, DnsEvent& ev, bool mdns) noexcept {
  const WireMessage msg{bytes.data(), bytes.size()};
  // A cut header still yields the fields it holds (hdr.size says which): pad with zeros.
  std::uint8_t h[kHeaderSize] = {};
  std::copy_n(msg.data, std::min(msg.size, kHeaderSize), h);
  auto& hdr = ev.hdr;
  hdr.size = static_cast<std::uint8_t>(std::min(msg.size, kHeaderSize));
  hdr.id = be16(h);
  hdr.qr = h[2] & 0x80;
  hdr.opcode = static_cast<std::uint8_t>(h[2] >> 3 & 0x0F);
  hdr.aa = h[2] & 0x04;
  hdr.tc = h[2] & 0x02;
  hdr.rd = h[2] & 0x01;
  hdr.ra = h[3] & 0x80;
  hdr.z = h[3] & 0x40;
  hdr.ad = h[3] & 0x20;
  hdr.cd = h[3] & 0x10;
  hdr.rcode = h[3] & 0x0F;
  hdr.qdcount = be16(h + 4);
  hdr.ancount = be16(h + 6);
  hdr.nscount = be16(h + 8);
  hdr.arcount = be16(h + 10);
  if (hdr.size < kHeaderSize) {
    ev.malformed = Malformed::TruncatedHeader;
    return;
  }

  std::size_t pos = kHeaderSize;
  for (std::uint16_t i = 0; i < hdr.qdcount; ++i) {
    const std::size_t name_start = ev.text.size();
    std::size_t next = 0;  // where the name ends on the wire, set at its first pointer
    Malformed fault = read_name(msg, pos, ev.text, next, Malformed::TruncatedQuestion);
    const TextRef name{static_cast<std::uint32_t>(name_start),
                       static_cast<std::uint32_t>(ev.text.size() - name_start)};
    if (fault == Malformed::None) {
      pos = next;
      if (pos + 4 > msg.size) fault = Malformed::TruncatedQuestion;
    }
    if (fault != Malformed::None) {
      ev.text.resize(name_start);
      ev.malformed = fault;
      // A name that ends in a pointer into a loop still says where it ends on the wire: the
      // type and class after that pointer are readable.
      if (i == 0 && fault == Malformed::CompressionLoop && next != 0 && next + 4 <= msg.size) {
        ev.question_type_only = true;
        ev.qtype = be16(msg.data + next);
        ev.qclass = be16(msg.data + next + 2);
      }
      return;
    }
    Question q{name, be16(msg.data + pos), be16(msg.data + pos + 2), false};
    if (mdns && (q.klass & 0x8000)) {  // RFC 6762 §5.4: the unicast-response bit
      q.qu = true;
      q.klass &= 0x7FFF;
    }
    ev.questions.push_back(q);
    if (i == 0) {
      ev.has_question = true;
      ev.qname = q.name;
      ev.qtype = q.type;
      ev.qclass = q.klass;
      ev.qu = q.qu;
    }
    pos += 4;
  }
  if (!parse_section(msg, pos, hdr.ancount, ev.answers, Malformed::TruncatedAnswer, mdns, ev)) return;
  if (!parse_section(msg, pos, hdr.nscount, ev.authorities, Malformed::TruncatedAuthority, mdns, ev))
    return;
  (void)parse_section(msg, pos, hdr.arcount, ev.additionals, Malformed::TruncatedAdditional, mdns, ev);
}

}  // namespace stash53::decode

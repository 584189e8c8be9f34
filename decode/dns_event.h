#pragma once
// The event: one plain struct per DNS message, refilled in place by the pipeline thread so that
// nothing is allocated per packet once its buffers have grown to the traffic's size.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stash53::decode {

/// Why a message (or a packet) could not be decoded cleanly. Names are stable: they appear in
/// events (`malformed`) and in counters.
enum class Malformed : std::uint8_t {
  None,
  TruncatedHeader,
  TruncatedQuestion,
  TruncatedAnswer,
  TruncatedAuthority,
  TruncatedAdditional,
  BadLabelType,
  CompressionLoop,
  BadPointer,
  NameTooLong,
  BadRdata,
  kCount
};
[[nodiscard]] std::string_view malformed_name(Malformed m) noexcept;

enum class Transport : std::uint8_t { Udp, Tcp };

/// An IPv4 or IPv6 address in network byte order (IPv4 in the first 4 bytes).
struct IpAddress {
  std::uint8_t bytes[16] = {};
};

struct NetInfo {
  bool ipv6 = false;
  Transport transport = Transport::Udp;
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;
};

struct DnsHeader {
  std::uint16_t id = 0;
  bool qr = false;
  std::uint8_t opcode = 0;
  std::uint8_t rcode = 0;  // 4-bit header rcode
  bool aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

/// A slice of DnsEvent::text, where every decoded name and RDATA string lives.
struct TextRef {
  std::uint32_t off = 0, len = 0;
};

struct Record {
  TextRef name;  // presentation format, trailing dot
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  TextRef data;  // RDATA in zone-file presentation format
};

/// The OPT pseudo-record (RFC 6891).
struct Edns {
  bool present = false;
  std::uint16_t udp_size = 0;
  std::uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit rcode
  std::uint8_t version = 0;
  bool do_bit = false;
};

struct DnsEvent {
  std::int64_t ts_ns = 0;  // capture time from the packet header
  NetInfo net;
  DnsHeader hdr;
  bool has_question = false;
  TextRef qname;
  std::uint16_t qtype = 0, qclass = 0;
  std::vector<Record> answers, authorities, additionals;
  Edns edns;
  Malformed malformed = Malformed::None;
  std::string text;  // arena for names and RDATA of this message

  // Enrichment blocks, each filled by one enricher.
  std::string_view rcode_name;  // enrich/rcode: static string
  TextRef tld;                  // enrich/tld: lower-cased last label of qname
  bool has_tld = false;
  std::string_view nsid;        // enrich/nsid: the sensor label, owned by the enricher

  [[nodiscard]] std::string_view view(TextRef r) const noexcept {
    return std::string_view(text).substr(r.off, r.len);
  }
  /// The full 12-bit rcode: header rcode plus the OPT extended bits (RFC 6891 §6.1.3).
  [[nodiscard]] std::uint16_t rcode() const noexcept {
    return static_cast<std::uint16_t>(edns.ext_rcode << 4 | hdr.rcode);
  }
  /// Empties the event but keeps the capacity of its buffers.
  void clear() noexcept {
    ts_ns = 0;
    net = {};
    hdr = {};
    has_question = false;
    qname = {};
    qtype = qclass = 0;
    answers.clear();
    authorities.clear();
    additionals.clear();
    edns = {};
    malformed = Malformed::None;
    text.clear();
    rcode_name = {};
    tld = {};
    has_tld = false;
    nsid = {};
  }
};

}  // namespace stash53::decode

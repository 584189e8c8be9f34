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
  BadEdns,  // an OPT option whose length does not fit its layout
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
  std::uint8_t size = 0;  // header bytes present: 12, or fewer in a truncated message
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
  bool cache_flush = false;  // mDNS (RFC 6762 §10.2): top bit of the class
};

struct EdnsError {  // Extended DNS Error, RFC 8914
  std::uint16_t code = 0;
  TextRef text;  // EXTRA-TEXT, escaped
};

struct EdnsOption {  // an option stash53 has no layout for
  std::uint16_t code = 0;
  TextRef hex;
};

/// The OPT pseudo-record (RFC 6891) and its options.
struct Edns {
  bool present = false;
  std::uint16_t udp_size = 0;
  std::uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit rcode
  std::uint8_t version = 0;
  bool do_bit = false;

  bool has_nsid = false;  // RFC 5001; empty in a request
  TextRef nsid_hex;
  bool nsid_printable = false;
  TextRef nsid_text;
  bool has_ecs = false;  // Client Subnet, RFC 7871
  std::uint16_t ecs_family = 0;
  std::uint8_t ecs_source = 0, ecs_scope = 0;
  TextRef ecs_address;
  bool has_cookie = false;  // RFC 7873
  TextRef cookie_client, cookie_server;
  std::vector<EdnsError> ede;
  bool has_padding = false;  // RFC 7830
  std::uint16_t padding = 0;
  bool has_keepalive = false;  // RFC 7828; the timeout is optional
  bool keepalive_has_timeout = false;
  std::uint16_t keepalive = 0;
  std::vector<EdnsOption> other;

  /// Empties it but keeps the capacity of the lists.
  void clear() noexcept {
    auto keep_ede = std::move(ede);
    auto keep_other = std::move(other);
    *this = {};
    keep_ede.clear();
    keep_other.clear();
    ede = std::move(keep_ede);
    other = std::move(keep_other);
  }
};

struct DnsEvent {
  std::int64_t ts_ns = 0;  // capture time from the packet header
  NetInfo net;
  DnsHeader hdr;
  bool has_question = false;
  TextRef qname;
  std::uint16_t qtype = 0, qclass = 0;
  bool qu = false;  // mDNS unicast-response bit (RFC 6762 §5.4), cleared from qclass
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
    qu = false;
    edns.clear();
    malformed = Malformed::None;
    text.clear();
    rcode_name = {};
    tld = {};
    has_tld = false;
    nsid = {};
  }
};

}  // namespace stash53::decode

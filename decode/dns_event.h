#pragma once
// The event: one plain struct per DNS message, refilled in place by the pipeline thread so that
// nothing is allocated per packet once its buffers have grown to the traffic's size.

#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace stash53::capture::dnsmasq {
struct DnsQueryEvent;
struct DhcpEvent;
struct InfoEvent;
}  // namespace stash53::capture::dnsmasq

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
  BadEdns,  // an OPT option that does not fit its layout, or an ECS option against RFC 7871 §6
  kCount
};
[[nodiscard]] std::string_view malformed_name(Malformed m) noexcept;

enum class Transport : std::uint8_t { Udp, Tcp };
/// Which protocol of the DNS message format, by port: mDNS (RFC 6762) on 5353, LLMNR
/// (RFC 4795) on 5355, DNS otherwise.
enum class Proto : std::uint8_t { Dns, Mdns, Llmnr };

/// An IPv4 or IPv6 address in network byte order (IPv4 in the first 4 bytes).
struct IpAddress {
  std::uint8_t bytes[16] = {};
};

/// True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), 16 bytes.
[[nodiscard]] inline bool is_ipv4_mapped(const std::uint8_t* a) noexcept {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, sizeof kPrefix) == 0;
}

/// How mirrored traffic reached the sensor: the outermost encapsulation of the packet.
enum class TunnelType : std::uint8_t { None, Vxlan, Geneve, Gre, Erspan2, Erspan3, IpInIp, Ipv6InIp };
[[nodiscard]] std::string_view tunnel_type_name(TunnelType t) noexcept;

struct Tunnel {
  TunnelType type = TunnelType::None;
  bool ipv6 = false;    // the outer IP header's family
  IpAddress src, dst;   // the outer addresses
  bool has_id = false;
  std::uint32_t id = 0;     // VXLAN/Geneve VNI, GRE key, ERSPAN session ID
  std::uint8_t depth = 0;   // how many tunnels were nested (1: one)
};

struct NetInfo {
  bool ipv6 = false;
  Transport transport = Transport::Udp;
  IpAddress src, dst;  // of the innermost packet: the DNS message's own
  std::uint16_t sport = 0, dport = 0;
  Tunnel tunnel;  // type None: not tunnelled
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

struct Question {
  TextRef name;  // presentation format, trailing dot
  std::uint16_t type = 0;
  std::uint16_t klass = 0;  // for mDNS without the unicast-response bit
  bool qu = false;          // mDNS (RFC 6762 §5.4): that bit
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
  TextRef ecs_address;   // as text; for family 1 and 2 also as bytes (zero-padded):
  IpAddress ecs_bytes;   // lookups and anonymisation use them directly
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

/// What enrichers attach to an event: one value per field slot (event/fields.h assigns the
/// slots and knows each one's type), text kept in the event's arena. Empty when cleared.
class FieldValues {
 public:
  static constexpr std::size_t kMaxSlots = 128;
  struct Value {
    TextRef text;  // text (a Number's decimal text), or a list of texts separated by '\0'
    std::uint64_t number = 0;
  };
  [[nodiscard]] bool has(std::size_t slot) const noexcept {
    return (set_[slot / 64] >> (slot % 64) & 1) != 0;
  }
  [[nodiscard]] const Value& get(std::size_t slot) const noexcept { return values_[slot]; }
  /// Marks `slot` present and returns its value to fill.
  Value& set(std::size_t slot) {
    if (slot >= values_.size()) values_.resize(slot + 1);
    set_[slot / 64] |= std::uint64_t{1} << (slot % 64);
    return values_[slot];
  }
  [[nodiscard]] bool empty() const noexcept { return (set_[0] | set_[1]) == 0; }
  void clear() noexcept { set_[0] = set_[1] = 0; }

 private:
  std::uint64_t set_[2] = {};
  std::vector<Value> values_;  // grows to the highest slot used, then keeps its size
};

/// Where an event came from: a captured frame, a server's dnstap, or a dnsmasq log.
enum class EventSource : std::uint8_t { Pcap, Dnstap, Dnsmasq };

/// What a dnstap message (dnstap.proto, 2022 revision) says beside the DNS message: the
/// server's own view. Enum values are dnstap.proto's.
struct Dnstap {
  std::uint8_t type = 0;      // Message.Type: 1 AUTH_QUERY … 14 UPDATE_RESPONSE
  std::uint8_t protocol = 0;  // SocketProtocol: 1 UDP, 2 TCP, 3 DOT, 4 DOH, 5/6 DNSCrypt, 7 DOQ; 0 absent
  bool ipv6 = false;          // socket_family
  bool has_query_address = false, has_response_address = false;
  bool has_query_port = false, has_response_port = false;
  IpAddress query_address, response_address;  // the query's sender, the server
  std::uint16_t query_port = 0, response_port = 0;
  std::int64_t query_time_ns = -1, response_time_ns = -1;  // -1: absent
  TextRef identity, version, query_zone;  // empty: absent (query_zone in wire format decoded)
};

/// dnstap.proto's names: `AUTH_QUERY` … `UPDATE_RESPONSE`; `unknown` else.
[[nodiscard]] inline std::string_view dnstap_type_name(std::uint8_t type) noexcept {
  static constexpr std::string_view kNames[] = {
      "unknown",           "AUTH_QUERY",      "AUTH_RESPONSE",   "RESOLVER_QUERY",
      "RESOLVER_RESPONSE", "CLIENT_QUERY",    "CLIENT_RESPONSE", "FORWARDER_QUERY",
      "FORWARDER_RESPONSE", "STUB_QUERY",     "STUB_RESPONSE",   "TOOL_QUERY",
      "TOOL_RESPONSE",     "UPDATE_QUERY",    "UPDATE_RESPONSE"};
  return type < std::size(kNames) ? kNames[type] : kNames[0];
}
/// SocketProtocol: `udp`, `tcp`, `dot`, `doh` (and the later revision's DNSCrypt and DoQ).
[[nodiscard]] inline std::string_view dnstap_protocol_name(std::uint8_t protocol) noexcept {
  static constexpr std::string_view kNames[] = {"unknown", "udp", "tcp", "dot", "doh",
                                                "dnscrypt-udp", "dnscrypt-tcp", "doq"};
  return protocol < std::size(kNames) ? kNames[protocol] : kNames[0];
}

/// What an event must be reported as, whatever the alert's source (a DHCP NAK, a TXT query…).
enum class Alert : std::uint8_t { None, DhcpNak, DhcpPoolExhausted, TxtQuery, AnyQuery, ServiceError };
[[nodiscard]] std::string_view alert_name(Alert a) noexcept;

struct DnsEvent {
  std::int64_t ts_ns = 0;  // capture time from the packet header, or the dnstap message's time
  EventSource source = EventSource::Pcap;
  Dnstap dnstap;  // source Dnstap only
  // Source Dnsmasq: the joined log event, one of the three (a query with its answers, a DHCP
  // message, a log line), valid while the event is handed on; never held (the transaction
  // table passes such events through).
  const capture::dnsmasq::DnsQueryEvent* dnsmasq_query = nullptr;
  const capture::dnsmasq::DhcpEvent* dhcp = nullptr;
  const capture::dnsmasq::InfoEvent* log_line = nullptr;
  bool has_client = true;  // dnsmasq: false when the log names no client address
  Alert alert = Alert::None;
  NetInfo net;
  DnsHeader hdr;
  Proto proto = Proto::Dns;
  bool has_question = false;
  // qtype and qclass read past a first question name that ends in a pointer loop (qname lost).
  bool question_type_only = false;
  TextRef qname;
  std::uint16_t qtype = 0, qclass = 0;
  bool qu = false;  // mDNS unicast-response bit (RFC 6762 §5.4), cleared from qclass
  std::vector<Question> questions;  // every question; the first is also qname, qtype, qclass
  std::vector<Record> answers, authorities, additionals;
  Edns edns;
  Malformed malformed = Malformed::None;
  std::string text;  // arena for names and RDATA of this message

  FieldValues values;  // what the enrichers added (event/fields.h)

  [[nodiscard]] std::string_view view(TextRef r) const noexcept {
    return std::string_view(text).substr(r.off, r.len);
  }
  /// Appends `s` to the arena. `s` may itself lie in the arena.
  TextRef add_text(std::string_view s) {
    const auto off = static_cast<std::uint32_t>(text.size());
    if (s.data() >= text.data() && s.data() < text.data() + text.size())
      text.append(text, static_cast<std::size_t>(s.data() - text.data()), s.size());  // by index
    else
      text.append(s);
    return {off, static_cast<std::uint32_t>(s.size())};
  }
  /// The client's address: a query's source, a response's destination.
  [[nodiscard]] const IpAddress& client() const noexcept { return hdr.qr ? net.dst : net.src; }
  [[nodiscard]] const IpAddress& server() const noexcept { return hdr.qr ? net.src : net.dst; }
  /// The full 12-bit rcode: header rcode plus the OPT extended bits (RFC 6891 §6.1.3).
  [[nodiscard]] std::uint16_t rcode() const noexcept {
    return static_cast<std::uint16_t>(edns.ext_rcode << 4 | hdr.rcode);
  }
  /// Empties the event but keeps the capacity of its buffers.
  void clear() noexcept {
    ts_ns = 0;
    source = EventSource::Pcap;
    dnstap = {};
    dnsmasq_query = nullptr;
    dhcp = nullptr;
    log_line = nullptr;
    has_client = true;
    alert = Alert::None;
    net = {};
    hdr = {};
    proto = Proto::Dns;
    has_question = false;
    question_type_only = false;
    qname = {};
    qtype = qclass = 0;
    questions.clear();
    answers.clear();
    authorities.clear();
    additionals.clear();
    qu = false;
    edns.clear();
    malformed = Malformed::None;
    text.clear();
    values.clear();
  }
};

}  // namespace stash53::decode

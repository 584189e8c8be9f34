#pragma once
// dnsmasq's log records → events: one per DNS query (its forwarded and answer lines joined by
// the log-queries=extra serial), one per DHCP/DHCPv6/RA message line (with the --log-dhcp
// detail lines of its xid), one per info or unknown line.
//
// When is a query complete? dnsmasq writes no end marker. A query is held until the log time
// (the latest line time seen, any pid) is more than `dns_timeout_ns` past its query line — by
// default 10 s, dnsmasq's own TIMEOUT for a forwarded query (config.h), after which no reply
// is logged for it — or until `max_held_queries` are held (oldest out first, counted), or
// flush(). The key is (pid, serial): TCP queries are served by forked children whose serials
// overlap the parent's.
//
// Without `=extra` (no serial): each query line starts an event; a forwarded or answer line
// joins the latest open query of its pid, among the last 64 serial-less ones, whose qname it
// names (for PTR, the address whose reverse name was asked), else the query its pid's previous
// answer joined if that was a <CNAME> (the rest of a chain), else it is an orphan. Best
// effort: concurrent queries for one name can be mixed up.
//
// When is a DHCP message complete? dnsmasq handles one DHCP packet at a time per process and
// logs its reply's details right after the message line. The client-side details (available
// range, vendor class, client provides name, client MAC) come first and are kept until the
// next message line of their (pid, xid), which they join (the ICMP ping check can put seconds
// and DNS lines in between). The server-side details (tags, requested options, next server,
// sent options …) join the message line they follow; `tags:` is logged before the reply line,
// so it lands on the client's message. A message event is complete at the next message or
// client-side detail of its (pid, xid), at any DHCP or RA line of the same pid with another
// (or no) xid, when the log time is `dhcp_timeout_ns` past its last line, at `max_held_dhcp`,
// or at flush(). Details that never get a message line become an event with
// an empty message_type (counted as orphan_dhcp_details).
//
// Events are emitted as they complete, so DNS events can leave in another order than their
// query lines came.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "capture/dnsmasq/log_line.h"
#include "common/counter.h"

namespace stash53::capture::dnsmasq {

/// One answer line of a query, in log order.
struct DnsAnswerLine {
  std::string source;  // reply, cached, config, DHCP, /path/hosts, validation, ipset add …
  std::string name;    // the record's owner: differs from the qname along a CNAME chain
  AnswerKind kind = AnswerKind::Text;
  std::string value;  // address, NXDOMAIN, <CNAME>, TXT text …
  std::string extra;  // DNSSEC signed, EDE: …, the ipset name
};

struct DnsUpstream {
  std::string via;     // forwarded, or dnssec-query[DS] / dnssec-query[DNSKEY]
  std::string server;  // addr or addr#port
};

/// rcode-like outcome of the answers (validation, duplicate and set lines don't count).
enum class Outcome : std::uint8_t { None, NoError, NxDomain, NoData, ServFail, Refused, NotImp };
/// NOERROR, NXDOMAIN, NODATA, SERVFAIL, REFUSED, NOTIMP; empty for None (no answer logged).
[[nodiscard]] std::string_view outcome_name(Outcome outcome) noexcept;

struct DnsQueryEvent {
  std::int64_t time_ns = 0;  // the query line's (or the first line's, for an orphan)
  std::int64_t pid = -1;
  std::string host;  // syslog host, if the line had one
  bool has_serial = false;
  std::uint32_t serial = 0;
  bool has_query = true;  // false: lines whose query line we never saw (orphan_answers)
  std::string client;     // with =extra
  std::uint16_t client_port = 0;
  std::string from;    // the query line's `from` address
  std::string source;  // query, auth
  std::string qname, qtype;
  std::vector<DnsUpstream> upstreams;
  std::vector<DnsAnswerLine> answers;
  Outcome outcome = Outcome::None;
  std::string answered_by;  // source of the first answer that decided the outcome
};

struct DhcpOption {
  int number = -1;
  std::string name, value;  // dnsmasq's option name and text (`lease-time`, `2m`)
  bool nested = false;      // DHCPv6 `nest size:` (inside ia-na, iaaddr …)
};

struct DhcpEvent {
  std::int64_t time_ns = 0;  // the message line's
  std::int64_t pid = -1;
  std::string host;
  bool has_xid = false;
  std::uint32_t xid = 0;
  Format format = Format::DhcpDetail;  // Dhcp4Message, Dhcp6Message, Ra…; DhcpDetail: orphans
  std::string message_type;  // DHCPACK, DHCPSOLICIT, RTR-ADVERT …; empty for orphan details
  std::string iface, ip;     // ip: the address logged (v4, v6, or the RA prefix)
  std::string mac;           // v4 chaddr, RTR-SOLICIT source, or v6 `client MAC address`
  std::string duid;          // v6 client DUID
  std::string hostname;      // DHCPACK/ADVERTISE/REPLY's trailing name
  std::string reason;        // trailing text that is not a hostname: wrong network, ignored …
  std::string vendor_class, user_class, client_name, available;
  std::string requested_options;  // the `requested options:` lines, concatenated
  std::string tags, next_server;
  bool broadcast = false;
  std::optional<std::uint32_t> lease_time_s;  // option 51 (v4), iaaddr VL (v6)
  std::string lease_time_text;                // dnsmasq's text for it: `2m`, `3600`
  std::vector<DhcpOption> sent;               // the server's options, in log order
  std::vector<std::string> details;           // other detail lines (bootfile name …), as logged
};

/// An info or unknown line.
struct InfoEvent {
  std::int64_t time_ns = 0;
  std::int64_t pid = -1;
  std::string host, tag;
  Format format = Format::Unknown;
  int severity = -1;  // the line's <PRI> severity, else what dnsmasq logs it with, else -1
  std::string text;   // at most kMaxInfoText bytes of the message
};
inline constexpr std::size_t kMaxInfoText = 4096;

using Event = std::variant<DnsQueryEvent, DhcpEvent, InfoEvent>;

struct JoinerOptions {
  LogClock clock;
  std::int64_t dns_timeout_ns = 10'000'000'000;
  std::int64_t dhcp_timeout_ns = 10'000'000'000;
  std::size_t max_held_queries = 10000;
  std::size_t max_held_dhcp = 1000;
};

/// Written by the joiner's thread, readable from any.
struct JoinerCounters {
  std::array<Counter, static_cast<std::size_t>(Format::kCount)> lines;  // per Format
  Counter other_programs;       // syslog lines of programs other than dnsmasq*, skipped
  Counter evicted_queries;      // completed early because max_held_queries was reached
  Counter orphan_answers;       // forwarded/answer lines without their query line
  Counter evicted_dhcp;         // completed early because max_held_dhcp was reached
  Counter orphan_dhcp_details;  // detail lines that no message line took
  [[nodiscard]] std::uint64_t lines_of(Format f) const noexcept {
    return lines[static_cast<std::size_t>(f)].get();
  }
};

/// Turns lines into events. One thread; not thread safe.
class Joiner {
 public:
  /// Receives each completed event; must not throw.
  using Sink = std::function<void(Event&&)>;
  Joiner(const JoinerOptions& options, Sink sink);

  /// One line (with or without its newline). `arrival_ns` stands in for the time of lines
  /// without one (stdin): pass the wall clock there, or timeouts only follow other lines.
  /// Never throws on any input.
  void feed(std::string_view line, std::int64_t arrival_ns = 0) noexcept;
  /// Completes everything held (end of input).
  void flush() noexcept;
  /// Moves the log time on to `now_ns` (a quiet live log: the time since its last line, added
  /// to that line's time), completing what timed out.
  void advance(std::int64_t now_ns) noexcept;
  /// The latest line time seen.
  [[nodiscard]] std::int64_t log_time_ns() const noexcept { return now_ns_; }

  [[nodiscard]] const JoinerCounters& counters() const noexcept { return counters_; }

 private:
  struct Key {
    std::int64_t pid;
    std::uint64_t id;  // serial or xid; bit 32 set: a synthetic id (no serial logged)
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return std::hash<std::uint64_t>{}(k.id * 0x9e3779b97f4a7c15ull ^
                                        static_cast<std::uint64_t>(k.pid));
    }
  };
  struct HeldQuery {
    DnsQueryEvent ev;
    std::uint64_t seq;
  };
  struct HeldDhcp {
    std::optional<DhcpEvent> open;   // the last message line, taking server-side details
    std::optional<DhcpEvent> draft;  // client-side details waiting for their message line
    std::int64_t last_ns = 0;
  };
  struct LineInfo {
    std::int64_t time_ns;
    std::int64_t pid;
    std::string_view host, tag;
    int severity;
  };

  void on_dns(const QueryTag& tag, const Record& rec, const LineInfo& li);
  void on_dhcp_message(const DhcpMessage& m, const LineInfo& li);
  void on_dhcp_detail(const DhcpDetail& d, const LineInfo& li);
  HeldQuery* find_query(const Key& key);
  HeldQuery* match_no_serial(std::int64_t pid, std::string_view name);
  HeldQuery& open_query(const Key& key, const LineInfo& li);
  void complete_query(const Key& key);
  void complete_dhcp(std::int64_t pid, std::uint64_t xid, bool drafts_too);
  void end_other_xid(std::int64_t pid, std::uint64_t xid);
  void expire(std::int64_t now_ns);
  void emit(DhcpEvent&& ev);

  JoinerOptions options_;
  Sink sink_;
  JoinerCounters counters_;
  std::int64_t now_ns_ = 0;  // latest line time seen
  std::int64_t last_dhcp_scan_ns_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t synthetic_ = 0;
  std::unordered_map<Key, HeldQuery, KeyHash> queries_;
  std::deque<std::pair<Key, std::uint64_t>> query_order_;  // (key, seq), oldest first
  std::deque<std::pair<Key, std::uint64_t>> no_serial_;    // the last 64 serial-less queries
  std::unordered_map<std::int64_t, Key> chain_;            // pid → query its last CNAME joined
  std::unordered_map<Key, HeldDhcp, KeyHash> dhcp_;
  std::unordered_map<std::int64_t, std::uint64_t> dhcp_xid_;  // pid → xid of its last DHCP line
};

}  // namespace stash53::capture::dnsmasq

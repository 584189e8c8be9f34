#pragma once
// One dnsmasq (2.90) log line: its prefix (dnsmasq's own log file, a syslog file, RFC 3164 or
// RFC 5424 wire lines, or none at all on stdin) and its message, typed after the printf formats
// of dnsmasq's source (cache.c log_query, rfc2131.c log_packet/log_options, rfc3315.c
// log6_packet/log6_opts, radv.c, dnsmasq.c). Hand parsing over string_view: no Debian library
// knows this grammar, and std::regex would cost more per line than the rest of the pipeline.

#include <cstdint>
#include <string_view>
#include <variant>

namespace stash53::capture::dnsmasq {

/// How a line was framed.
enum class PrefixForm : std::uint8_t {
  None,         // the bare message (--log-facility=-, stdin), or a prefix we cannot read
  File,         // `Nov 23 18:58:12 dnsmasq[27095]: ` (--log-facility=/path)
  Traditional,  // `Nov 23 18:58:32 vm dnsmasq-dhcp[27636]: ` (rsyslog's /var/log/syslog)
  Rfc3164,      // `<134>` + traditional
  Rfc5424,      // `<134>1 2026-11-23T18:58:32.301684+00:00 vm dnsmasq 27636 - - `
};
[[nodiscard]] std::string_view prefix_form_name(PrefixForm form) noexcept;

/// What the forms without year and zone (file, traditional, RFC 3164) need to become UTC.
struct LogClock {
  std::int64_t reference_ns = 0;  // UTC, near the log's times (file mtime, or now when following)
  std::int32_t utc_offset_s = 0;  // the log's local time minus UTC
};

/// A line's prefix. Views point into the line.
struct Prefix {
  PrefixForm form = PrefixForm::None;
  bool has_time = false;
  std::int64_t time_ns = 0;  // UTC
  std::string_view host;     // empty in the file form and for RFC 5424's NILVALUE
  std::string_view tag;      // `dnsmasq`, `dnsmasq-dhcp`, `dnsmasq-tftp`, `dnsmasq-script`
  std::int64_t pid = -1;     // -1: not given
  int facility = -1;         // from <PRI>, else -1
  int severity = -1;         // from <PRI> (0 emerg … 7 debug), else -1
};

struct Line {
  Prefix prefix;
  std::string_view message;  // after the prefix (and an RFC 5424 BOM); trailing spaces kept
};

/// Splits one line (a trailing CR/LF is ignored). A line whose prefix does not parse is all
/// message, form None. A year-less time takes the year that puts it nearest clock.reference_ns,
/// so December lines read in January get last year. Never throws.
[[nodiscard]] Line parse_line(std::string_view line, const LogClock& clock) noexcept;

/// The names of ../shared/dnsmasq/formats.txt (dns.query … info.exit), and names for what its
/// samples lack. Counters are kept per Format.
enum class Format : std::uint8_t {
  DnsQuery,
  DnsForwarded,
  DnsAnswer,
  Dhcp4Message,
  Dhcp6Message,
  RaSolicit,
  RaAdvert,
  RaSlaac,  // SLAAC-CONFIRM (slaac.c)
  DhcpDetail,
  InfoStarted,
  InfoCompile,
  InfoRange,
  InfoSockets,
  InfoNameserver,
  InfoLocal,
  InfoRead,
  InfoExit,
  InfoStats,    // SIGUSR1 dump: cache size, queries forwarded, server … queries sent
  InfoWarning,  // known LOG_WARNING messages (no address range available …)
  InfoError,    // known LOG_ERR/LOG_CRIT messages (failed to …, FAILED to start up)
  InfoScript,   // tag dnsmasq-script: the lease script's output
  InfoTftp,     // tag dnsmasq-tftp
  InfoOther,    // other known informational messages (cleared cache, DBus, DNSSEC …)
  Unknown,
  kCount,
};
[[nodiscard]] std::string_view format_name(Format format) noexcept;

/// `log-queries=extra` puts `<serial> <client>/<port> ` first; F_NOEXTRA lines (DNSSEC
/// queries, validation) keep the serial only; without `=extra` neither is there.
struct QueryTag {
  bool has_serial = false;
  std::uint32_t serial = 0;  // per process: key it with the pid
  std::string_view client;   // empty when not logged
  std::uint16_t port = 0;
};

/// `query[A] host.example from 198.51.100.50` (also `auth[A]`, `query[type=65]`).
struct DnsQuery {
  QueryTag tag;
  std::string_view source;  // query, auth
  std::string_view qtype;   // the mnemonic between the brackets: A, AAAA, type=65
  std::string_view name;
  std::string_view from;
};

/// `forwarded host.example to 127.0.0.1#5353`, `dnssec-query[DS] example to 127.0.0.1#5353`.
struct DnsForwarded {
  QueryTag tag;
  std::string_view source;  // forwarded, dnssec-query[DS], …
  std::string_view name;
  std::string_view server;  // addr, or addr#port when the port is not 53
};

enum class AnswerKind : std::uint8_t {
  Ipv4,
  Ipv6,
  Nxdomain,
  Nodata,
  NodataIpv4,
  NodataIpv6,
  Type,        // <CNAME>, <MX>, <type=65>: dnsmasq did not print the data
  Rcode,       // SERVFAIL, REFUSED, not implemented
  Text,        // a name (PTR, F_REVERSE), TXT text, DNSKEY keytag …
  Validation,  // `validation x is SECURE|INSECURE|BOGUS|…`
  Duplicate,   // `reply query is duplicate`: a repeat of another client's query
  SetAdd,      // `ipset add <set> <addr> <name>`, `nftset add …`
};
[[nodiscard]] std::string_view answer_kind_name(AnswerKind kind) noexcept;

/// `<source> <name> is <value>[ (DNSSEC signed)| (EDE: …)]`. Sources (cache.c log_query):
/// reply, cached, cached-stale, config, DHCP, auth, validation, a hosts file path (or
/// `<unknown>`), ipset add, nftset add.
struct DnsAnswer {
  QueryTag tag;
  std::string_view source;
  std::string_view name;  // may differ from the qname (CNAME chain; the address for PTR)
  AnswerKind kind = AnswerKind::Text;
  std::string_view value;
  std::string_view extra;  // `DNSSEC signed`, `EDE: …`, or the set name of SetAdd
};

/// A DHCPv4, DHCPv6 or router-advertisement message line:
/// `[<xid> ]TYPE(iface) [address ]client[ text]` (rfc2131.c log_packet, rfc3315.c log6_packet),
/// `RTR-SOLICIT(iface) mac`, `RTR-ADVERT(iface) prefix` (radv.c), `SLAAC-CONFIRM(iface) addr
/// name` (slaac.c).
struct DhcpMessage {
  Format format = Format::Dhcp4Message;  // Dhcp4Message, Dhcp6Message, RaSolicit, RaAdvert, RaSlaac
  bool has_xid = false;                  // only with --log-dhcp
  std::uint32_t xid = 0;
  std::string_view type;  // DHCPDISCOVER, DHCPSOLICIT, RTR-ADVERT …
  std::string_view iface;
  std::string_view address;  // IPv4 (v4), IPv6 (v6, SLAAC), prefix (RTR-ADVERT); may be empty
  std::string_view client;   // MAC (v4, RTR-SOLICIT) or DUID (v6); may be empty
  std::string_view text;     // hostname or reason (`no address available`, `wrong network` …)
};

/// The `<xid> …` lines of --log-dhcp besides the message lines.
enum class DetailKind : std::uint8_t {
  // Logged while reading the client's packet, before its message line.
  AvailableRange,   // available DHCP range: a -- b
  AvailableSubnet,  // available DHCP subnet: a/mask, available DHCPv6 subnet: a/len
  VendorClass,      // vendor class: text (v4) or enterprise number (v6)
  UserClass,
  ClientName,   // client provides name: x
  ClientMac,    // client MAC address: m (v6)
  NoClientMac,  // cannot determine client MAC address (v6)
  // Logged while building the reply, after the message line they follow.
  Tags,
  RequestedOptions,  // one list, split over lines past 40 characters
  NextServer,
  BroadcastResponse,
  BootfileName,
  ServerName,
  SentOption,    // sent size: N option: N name  value
  NestedOption,  // nest size: … (v6, inside ia-na/ia-ta/iaaddr)
  Other,         // an `<xid> text` line of tag dnsmasq-dhcp we have no name for
};
[[nodiscard]] std::string_view detail_kind_name(DetailKind kind) noexcept;
/// True for the kinds logged before the client's message line.
[[nodiscard]] bool is_client_side(DetailKind kind) noexcept;

struct DhcpDetail {
  std::uint32_t xid = 0;
  DetailKind kind = DetailKind::Other;
  std::string_view value;        // after the label; for Other, the whole text after the xid
  int option = -1;               // SentOption, NestedOption
  std::string_view option_name;  // SentOption, NestedOption: lease-time, ia-na, iaaddr …
};

/// Start-up, shutdown, statistics, warnings and errors: no xid, no serial.
struct Info {
  Format format = Format::InfoOther;
  int severity = -1;  // syslog severity dnsmasq's source gives the message; -1 if not known
  std::string_view text;
};

/// A message we have no grammar for; the caller counts it and logs it at debug level.
struct Unknown {
  std::string_view text;
};

using Record =
    std::variant<DnsQuery, DnsForwarded, DnsAnswer, DhcpMessage, DhcpDetail, Info, Unknown>;

/// Types one message. `tag` (from the prefix, may be empty) only decides what an otherwise
/// unknown message of dnsmasq-dhcp, -tftp or -script is. Views point into `message`. Linear in
/// the message's length; never throws.
[[nodiscard]] Record classify(std::string_view message, std::string_view tag = {}) noexcept;

/// The counter name a record counts under.
[[nodiscard]] Format format_of(const Record& record) noexcept;

/// dnsmasq's prettyprint_time text (`2m`, `1h30m`, `1d`, `45s`, `infinite`) in seconds;
/// infinite is 0xffffffff as in dnsmasq. False if `text` is not of that form.
[[nodiscard]] bool parse_duration(std::string_view text, std::uint32_t& seconds) noexcept;

}  // namespace stash53::capture::dnsmasq

#include "capture/dnsmasq/log_line.h"

#include <arpa/inet.h>

#include <cstring>
#include <iterator>
#include <optional>

namespace stash53::capture::dnsmasq {

namespace {

using sv = std::string_view;

bool consume(sv& s, sv prefix) noexcept {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// The text up to the next space; the space is consumed, so "a  b" gives "a" then "" then "b".
sv take_token(sv& s) noexcept {
  const auto sp = s.find(' ');
  if (sp == sv::npos) {
    const sv t = s;
    s = {};
    return t;
  }
  const sv t = s.substr(0, sp);
  s.remove_prefix(sp + 1);
  return t;
}

sv trim_right(sv s) noexcept {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool parse_u64(sv s, std::uint64_t max, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

bool parse_u32(sv s, std::uint32_t& out) noexcept {
  std::uint64_t v = 0;
  if (!parse_u64(s, 0xffffffffu, v)) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

// inet_pton wants a terminated string; addresses are short, so a stack copy does.
bool parses_as(int family, sv s) noexcept {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char out[16];
  return inet_pton(family, buf, out) == 1;
}
bool is_ipv4(sv s) noexcept { return parses_as(AF_INET, s); }
bool is_ipv6(sv s) noexcept { return parses_as(AF_INET6, s); }

// --- time -----------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
// Date Algorithms", days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The year of a day count (the same paper's civil_from_days, year only).
std::int64_t year_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

constexpr std::int64_t kNs = 1'000'000'000;
// Times in int64 nanoseconds reach 2262; a line claiming a later (or pre-1678) year is garbage.
constexpr std::int64_t kMaxSecs = 9'000'000'000;

bool to_ns(std::int64_t secs, std::int64_t frac, std::int64_t& ns) noexcept {
  if (secs > kMaxSecs || secs < -kMaxSecs) return false;
  ns = secs * kNs + frac;
  return true;
}

bool two_digits(sv s, std::size_t at, unsigned& out) noexcept {
  if (s.size() < at + 2 || !is_digit(s[at]) || !is_digit(s[at + 1])) return false;
  out = static_cast<unsigned>((s[at] - '0') * 10 + (s[at + 1] - '0'));
  return true;
}

// `hh:mm:ss` at the start of s, as seconds of the day.
bool parse_hms(sv s, std::int64_t& secs) noexcept {
  unsigned h = 0, m = 0, sec = 0;
  if (s.size() < 8 || !two_digits(s, 0, h) || s[2] != ':' || !two_digits(s, 3, m) || s[5] != ':' ||
      !two_digits(s, 6, sec) || h > 23 || m > 59 || sec > 60)
    return false;
  secs = h * 3600 + m * 60 + sec;
  return true;
}

// `Nov 23 18:58:12 ` (day space-padded): syslog's and dnsmasq's own strftime("%b %e %T").
bool parse_bsd_time(sv& s, const LogClock& clock, std::int64_t& ns) noexcept {
  static constexpr sv kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 16 || s[3] != ' ' || s[6] != ' ' || s[15] != ' ') return false;
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (s.substr(0, 3) == kMonths[i]) month = i + 1;
  unsigned day = 0;
  if (s[4] == ' ' && is_digit(s[5]))
    day = static_cast<unsigned>(s[5] - '0');
  else if (!two_digits(s, 4, day))
    return false;
  std::int64_t secs = 0;
  if (month == 0 || day == 0 || day > 31 || !parse_hms(s.substr(7, 8), secs)) return false;
  // No year in the line: of the years around the reference, take the one whose time lies
  // nearest to it (a December line read in January is last year's).
  const std::int64_t ref_s = clock.reference_ns / kNs;
  const std::int64_t ref_year = year_from_days((ref_s + clock.utc_offset_s) / 86400);
  std::int64_t best = 0;
  bool found = false;
  for (std::int64_t y = ref_year - 1; y <= ref_year + 1; ++y) {
    if (day > days_in_month(y, month)) continue;  // Feb 29 outside leap years
    const std::int64_t t = days_from_civil(y, month, day) * 86400 + secs - clock.utc_offset_s;
    const std::int64_t dist = t > ref_s ? t - ref_s : ref_s - t;
    const std::int64_t best_dist = best > ref_s ? best - ref_s : ref_s - best;
    if (!found || dist < best_dist) {
      best = t;
      found = true;
    }
  }
  if (!found || !to_ns(best, 0, ns)) return false;
  s.remove_prefix(16);
  return true;
}

// RFC 5424 §6.2.3 (RFC 3339 with `T` and a numeric or `Z` offset): 2026-11-23T18:58:32.301684
// +00:00. TIME-SECFRAC has at most 6 digits; we take up to 9.
bool parse_rfc3339(sv s, std::int64_t& ns) noexcept {
  unsigned c = 0, yy = 0, mo = 0, d = 0;
  if (!two_digits(s, 0, c) || !two_digits(s, 2, yy) || s.size() < 19 || s[4] != '-' ||
      !two_digits(s, 5, mo) || s[7] != '-' || !two_digits(s, 8, d) ||
      (s[10] != 'T' && s[10] != 't'))
    return false;
  const std::int64_t year = c * 100 + yy;
  std::int64_t secs = 0;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(year, mo) || !parse_hms(s.substr(11), secs))
    return false;
  s.remove_prefix(19);
  std::int64_t frac = 0;
  if (consume(s, ".")) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0 || n > 9) return false;
    for (std::size_t i = 0; i < 9; ++i) frac = frac * 10 + (i < n ? s[i] - '0' : 0);
    s.remove_prefix(n);
  }
  std::int64_t offset = 0;
  if (s != "Z" && s != "z") {
    unsigned oh = 0, om = 0;
    if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || !two_digits(s, 1, oh) || s[3] != ':' ||
        !two_digits(s, 4, om) || oh > 23 || om > 59)
      return false;
    offset = (s[0] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  }
  return to_ns(days_from_civil(year, mo, d) * 86400 + secs - offset, frac, ns);
}

// --- prefix ---------------------------------------------------------------------------------

// `dnsmasq-dhcp[27636]:` or `dnsmasq:` (the colon already checked by the caller).
bool parse_tag(sv t, Prefix& p) noexcept {
  t.remove_suffix(1);
  sv name = t;
  std::uint64_t pid = 0;
  const auto lb = t.find('[');
  if (lb != sv::npos) {
    if (t.back() != ']' || !parse_u64(t.substr(lb + 1, t.size() - lb - 2), 0x7fffffff, pid))
      return false;
    name = t.substr(0, lb);
  }
  if (name.empty()) return false;
  for (const char ch : name)
    if (!(is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' ||
          ch == '_' || ch == '.' || ch == '/'))
      return false;
  p.tag = name;
  p.pid = lb == sv::npos ? -1 : static_cast<std::int64_t>(pid);
  return true;
}

// After the timestamp: `tag[pid]: msg` (dnsmasq's file) or `host tag[pid]: msg` (syslog).
bool parse_bsd(sv s, const LogClock& clock, Prefix& p, sv& message) noexcept {
  if (!parse_bsd_time(s, clock, p.time_ns)) return false;
  p.has_time = true;
  sv t = take_token(s);
  if (!t.ends_with(':') || !parse_tag(t, p)) {
    p.host = t;
    t = take_token(s);
    if (p.host.empty() || !t.ends_with(':') || !parse_tag(t, p)) return false;
  }
  p.form = p.host.empty() ? PrefixForm::File : PrefixForm::Traditional;
  message = s;
  return true;
}

// `TIMESTAMP HOST APP PROCID MSGID SD [MSG]` (RFC 5424 §6), after `<PRI>1 `.
bool parse_rfc5424(sv s, Prefix& p, sv& message) noexcept {
  const sv ts = take_token(s), host = take_token(s), app = take_token(s), procid = take_token(s);
  const sv msgid = take_token(s);
  if (ts.empty() || host.empty() || app.empty() || procid.empty() || msgid.empty() || s.empty())
    return false;
  if (ts != "-") {
    if (!parse_rfc3339(ts, p.time_ns)) return false;
    p.has_time = true;
  }
  if (host != "-") p.host = host;
  if (app != "-") p.tag = app;
  std::uint64_t pid = 0;
  if (parse_u64(procid, 0x7fffffff, pid)) p.pid = static_cast<std::int64_t>(pid);
  // STRUCTURED-DATA: "-" or [id param="value"]…, where a value escapes ", \ and ].
  if (!consume(s, "-")) {
    while (!s.empty() && s[0] == '[') {
      std::size_t i = 1;
      bool quoted = false;
      for (; i < s.size(); ++i) {
        if (quoted && s[i] == '\\')
          ++i;
        else if (s[i] == '"')
          quoted = !quoted;
        else if (!quoted && s[i] == ']')
          break;
      }
      if (i >= s.size()) return false;
      s.remove_prefix(i + 1);
    }
  }
  if (!s.empty() && !consume(s, " ")) return false;
  consume(s, "\xEF\xBB\xBF");  // §6.4: MSG may start with a UTF-8 BOM
  p.form = PrefixForm::Rfc5424;
  message = s;
  return true;
}

// --- messages -------------------------------------------------------------------------------

// `198.51.100.50/41777`, `2001:db8:64::c1/55511` (util.c prettyprint_addr, maybe with %scope).
bool parse_client(sv t, QueryTag& tag) noexcept {
  const auto slash = t.rfind('/');
  if (slash == sv::npos || slash == 0) return false;
  sv addr = t.substr(0, slash);
  std::uint64_t port = 0;
  if (!parse_u64(t.substr(slash + 1), 0xffff, port)) return false;
  const sv bare = addr.substr(0, addr.find('%'));
  if (!is_ipv4(bare) && !is_ipv6(bare)) return false;
  tag.client = addr;
  tag.port = static_cast<std::uint16_t>(port);
  return true;
}

// cache.c log_query's sources for `<source> <name> is <value>`.
bool is_answer_source(sv s) noexcept {
  return s == "reply" || s == "cached" || s == "cached-stale" || s == "config" || s == "DHCP" ||
         s == "auth" || s == "validation" || s == "<unknown>" || s.starts_with('/');
}

AnswerKind answer_kind(sv source, sv name, sv value) noexcept {
  if (source == "validation") return AnswerKind::Validation;
  if (source == "reply" && name == "query" && value == "duplicate") return AnswerKind::Duplicate;
  if (value == "NXDOMAIN") return AnswerKind::Nxdomain;
  if (value == "NODATA") return AnswerKind::Nodata;
  if (value == "NODATA-IPv4") return AnswerKind::NodataIpv4;
  if (value == "NODATA-IPv6") return AnswerKind::NodataIpv6;
  if (value == "SERVFAIL" || value == "REFUSED" || value == "not implemented")
    return AnswerKind::Rcode;
  if (value.size() > 2 && value.front() == '<' && value.back() == '>') return AnswerKind::Type;
  if (is_ipv4(value)) return AnswerKind::Ipv4;
  if (is_ipv6(value)) return AnswerKind::Ipv6;
  return AnswerKind::Text;
}

std::optional<Record> parse_dns(sv s, const QueryTag& tag) noexcept {
  sv t = s;
  const sv first = take_token(t);
  if (first.empty()) return std::nullopt;
  // `query[A] name from client`, `auth[A] …`, and F_DNSSEC's `dnssec-query[DS] name to server`.
  if (const auto lb = first.find('['); lb != sv::npos && lb > 0 && first.back() == ']') {
    const sv qtype = first.substr(lb + 1, first.size() - lb - 2);
    const sv name = take_token(t), verb = take_token(t);
    if (qtype.empty() || name.empty() || t.empty()) return std::nullopt;
    if (verb == "from") return DnsQuery{tag, first.substr(0, lb), qtype, name, t};
    if (verb == "to") return DnsForwarded{tag, first, name, t};
    return std::nullopt;
  }
  if (first == "forwarded") {
    const sv name = take_token(t), verb = take_token(t);
    if (name.empty() || verb != "to" || t.empty()) return std::nullopt;
    return DnsForwarded{tag, first, name, t};
  }
  // F_IPSET: `ipset add <set> <addr> <name>` (source, then name and dest swapped).
  if ((first == "ipset" || first == "nftset") && consume(t, "add ")) {
    const sv set = take_token(t), addr = take_token(t);
    if (set.empty() || addr.empty() || t.empty()) return std::nullopt;
    return DnsAnswer{tag, s.substr(0, first.size() + 4), t, AnswerKind::SetAdd, addr, set};
  }
  const auto is = s.find(" is ");
  if (is == sv::npos) return std::nullopt;
  const sv left = s.substr(0, is);
  const auto sp = left.rfind(' ');
  if (sp == sv::npos) return std::nullopt;
  const sv source = left.substr(0, sp), name = left.substr(sp + 1);
  if (name.empty() || !is_answer_source(source)) return std::nullopt;
  sv value = s.substr(is + 4);
  sv extra;
  if (value.ends_with(" (DNSSEC signed)")) {
    extra = value.substr(value.size() - 14, 13);
    value.remove_suffix(16);
  } else if (const auto ede = value.rfind(" (EDE: "); ede != sv::npos && value.ends_with(')')) {
    extra = value.substr(ede + 2, value.size() - ede - 3);
    value = value.substr(0, ede);
  }
  return DnsAnswer{tag, source, name, answer_kind(source, name, value), value, extra};
}

enum class Family : std::uint8_t { V4, V6, Either, RaSolicit, RaAdvert, Slaac };

struct MessageType {
  sv name;
  Family family;
};

// Every type string log_packet (rfc2131.c), log6_packet (rfc3315.c), radv.c and slaac.c print.
constexpr MessageType kMessageTypes[] = {
    {"DHCPDISCOVER", Family::V4},
    {"DHCPOFFER", Family::V4},
    {"DHCPACK", Family::V4},
    {"DHCPNAK", Family::V4},
    {"DHCPINFORM", Family::V4},
    {"BOOTP", Family::V4},
    {"PXE", Family::V4},
    {"NOANSWER", Family::V4},
    {"DHCPREQUEST", Family::Either},
    {"DHCPRELEASE", Family::Either},
    {"DHCPDECLINE", Family::Either},
    {"DHCPSOLICIT", Family::V6},
    {"DHCPADVERTISE", Family::V6},
    {"DHCPREPLY", Family::V6},
    {"DHCPCONFIRM", Family::V6},
    {"DHCPRENEW", Family::V6},
    {"DHCPREBIND", Family::V6},
    {"DHCPINFORMATION-REQUEST", Family::V6},
    {"RTR-SOLICIT", Family::RaSolicit},
    {"RTR-ADVERT", Family::RaAdvert},
    {"SLAAC-CONFIRM", Family::Slaac},
};

// `TYPE(iface)[ rest]`, the xid (if any) already taken off.
std::optional<DhcpMessage> parse_dhcp_message(sv s, bool has_xid, std::uint32_t xid) noexcept {
  const auto lp = s.find('(');
  if (lp == sv::npos) return std::nullopt;
  const sv type = s.substr(0, lp);
  const MessageType* mt = nullptr;
  for (const auto& m : kMessageTypes)
    if (m.name == type) mt = &m;
  const auto rp = s.find(')', lp);
  if (mt == nullptr || rp == sv::npos) return std::nullopt;
  DhcpMessage out;
  out.has_xid = has_xid;
  out.xid = xid;
  out.type = type;
  out.iface = s.substr(lp + 1, rp - lp - 1);
  sv rest = s.substr(rp + 1);
  if (!rest.empty() && !consume(rest, " ")) return std::nullopt;
  switch (mt->family) {
    case Family::RaSolicit:  // radv.c: "RTR-SOLICIT(%s) %s", the MAC empty if not sent
      out.format = Format::RaSolicit;
      out.client = trim_right(rest);
      return out;
    case Family::RaAdvert:  // radv.c: "RTR-ADVERT(%s) %s", the prefix
      out.format = Format::RaAdvert;
      out.address = trim_right(rest);
      return out;
    case Family::Slaac:  // slaac.c: "SLAAC-CONFIRM(%s) %s %s", address and hostname
      out.format = Format::RaSlaac;
      out.address = take_token(rest);
      out.text = trim_right(rest);
      return out;
    default:
      break;
  }
  // log_packet: "%s(%s) %s%s%s %s%s" = [addr ]mac string/err; log6_packet:
  // "%s(%s) %s%s %s" = [addr ]duid string. A DUID starts with its type, 00:01…00:04, which
  // inet_ntop never prints ("00" has a leading zero), so it is never taken for an address.
  const sv a = take_token(rest);
  const bool v4 = is_ipv4(a);
  const bool v6 = !v4 && is_ipv6(a) && !a.starts_with("00:");
  if (v4 || v6) {
    out.address = a;
    out.client = take_token(rest);
  } else {
    out.client = a;
  }
  out.text = trim_right(rest);
  const bool is_v4 = mt->family == Family::V4 || (mt->family == Family::Either && v4);
  out.format = is_v4 ? Format::Dhcp4Message : Format::Dhcp6Message;
  return out;
}

struct DetailLabel {
  sv label;
  DetailKind kind;
};

// rfc2131.c, rfc3315.c and dhcp-common.c (log_tags): `"%u <label>%s"`.
constexpr DetailLabel kDetailLabels[] = {
    {"available DHCP range: ", DetailKind::AvailableRange},
    {"available DHCP subnet: ", DetailKind::AvailableSubnet},
    {"available DHCPv6 subnet: ", DetailKind::AvailableSubnet},
    {"vendor class: ", DetailKind::VendorClass},
    {"user class: ", DetailKind::UserClass},
    {"client provides name: ", DetailKind::ClientName},
    {"client MAC address: ", DetailKind::ClientMac},
    {"cannot determine client MAC address", DetailKind::NoClientMac},
    {"tags: ", DetailKind::Tags},
    {"requested options: ", DetailKind::RequestedOptions},
    {"next server: ", DetailKind::NextServer},
    {"broadcast response", DetailKind::BroadcastResponse},
    {"bootfile name: ", DetailKind::BootfileName},
    {"server name: ", DetailKind::ServerName},
};

// log_options / log6_opts: "%u sent size:%3d option:%3d %s  %s" (v6 also "nest size:").
std::optional<DhcpDetail> parse_option_line(sv s, std::uint32_t xid) noexcept {
  DhcpDetail d;
  d.xid = xid;
  if (consume(s, "nest size:"))
    d.kind = DetailKind::NestedOption;
  else if (consume(s, "sent size:"))
    d.kind = DetailKind::SentOption;
  else
    return std::nullopt;
  const auto digits = [&s]() {
    while (consume(s, " ")) {
    }
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    const sv t = s.substr(0, n);
    s.remove_prefix(n);
    return t;
  };
  std::uint64_t option = 0;
  if (digits().empty() || !consume(s, " option:") || !parse_u64(digits(), 0xffff, option))
    return std::nullopt;
  d.option = static_cast<int>(option);
  if (!s.empty() && !consume(s, " ")) return std::nullopt;
  const auto gap = s.find("  ");
  d.option_name = s.substr(0, gap);
  if (gap != sv::npos) d.value = s.substr(gap + 2);
  return d;
}

std::optional<DhcpDetail> parse_dhcp_detail(sv s, std::uint32_t xid) noexcept {
  for (const auto& l : kDetailLabels) {
    if (!s.starts_with(l.label)) continue;
    const sv value = s.substr(l.label.size());
    // The labels without a value are whole lines.
    if (!l.label.ends_with(' ') && !trim_right(value).empty()) continue;
    return DhcpDetail{xid, l.kind, value, -1, {}};
  }
  return parse_option_line(s, xid);
}

struct InfoRule {
  sv prefix;
  Format format;
  int severity;  // the LOG_* dnsmasq's source logs it with
};

// Start-up (dnsmasq.c, dhcp-common.c log_context, network.c, option.c), shutdown, the SIGUSR1
// dump (cache.c dump_cache), warnings and errors; the first matching prefix wins.
constexpr InfoRule kInfoRules[] = {
    {"started, version ", Format::InfoStarted, 6},
    {"compile time options: ", Format::InfoCompile, 6},
    {"DHCP, IP range ", Format::InfoRange, 6},
    {"DHCPv6, IP range ", Format::InfoRange, 6},
    {"DHCP, static leases only on ", Format::InfoRange, 6},
    {"DHCPv6, static leases only on ", Format::InfoRange, 6},
    {"DHCP, proxy on subnet ", Format::InfoRange, 6},
    {"DHCPv6, proxy on subnet ", Format::InfoRange, 6},
    {"DHCP stateless on ", Format::InfoRange, 6},
    {"DHCPv6 stateless on ", Format::InfoRange, 6},
    {"DHCPv4-derived IPv6 names on ", Format::InfoRange, 6},
    {"router advertisement on ", Format::InfoRange, 6},
    {"IPv6 router advertisement enabled", Format::InfoRange, 6},
    {"DHCP, sockets bound exclusively to interface ", Format::InfoSockets, 6},
    {"using nameserver ", Format::InfoNameserver, 6},
    {"using standard nameservers for ", Format::InfoNameserver, 6},
    {"using only locally-known addresses for ", Format::InfoLocal, 6},
    {"read ", Format::InfoRead, 6},
    {"reading ", Format::InfoRead, 6},
    {"exiting on receipt of SIGTERM", Format::InfoExit, 6},
    {"FAILED to start up", Format::InfoError, 2},
    {"failed to access ", Format::InfoWarning, 4},
    {"failed to ", Format::InfoError, 3},
    {"cannot send DHCP/BOOTP option ", Format::InfoWarning, 4},
    {"cannot ", Format::InfoError, 3},
    {"DBus error: ", Format::InfoError, 3},
    {"UBus error: ", Format::InfoError, 3},
    {"error binding DHCP socket to device ", Format::InfoError, 3},
    {"PXE BIS not supported", Format::InfoError, 3},
    {"PXE menu too large", Format::InfoError, 3},
    {"warning: ", Format::InfoWarning, 4},
    {"LOUD WARNING", Format::InfoWarning, 4},
    {"no address range available for DHCP", Format::InfoWarning, 4},  // and DHCPv6
    {"DHCP packet received on ", Format::InfoWarning, 4},
    {"Maximum number of concurrent DNS queries", Format::InfoWarning, 4},
    {"disabling DHCP static address ", Format::InfoWarning, 4},
    {"not using configured address ", Format::InfoWarning, 4},
    {"no servers found in ", Format::InfoWarning, 4},
    {"ignoring nameserver ", Format::InfoWarning, 4},
    {"possible DNS-rebind attack detected", Format::InfoWarning, 4},
    {"overflow: ", Format::InfoWarning, 4},  // log.c: log entries lost
    {"script process killed by signal ", Format::InfoWarning, 4},
    {"script process exited with status ", Format::InfoWarning, 4},
    {"restricting maximum simultaneous TFTP transfers", Format::InfoWarning, 4},
    {"setting --bind-interfaces option because of OS limitations", Format::InfoWarning, 4},
    {"time ", Format::InfoStats, 6},
    {"cache size ", Format::InfoStats, 6},
    {"queries forwarded ", Format::InfoStats, 6},
    {"queries for authoritative zones ", Format::InfoStats, 6},
    {"pool memory in use ", Format::InfoStats, 6},
    {"server ", Format::InfoStats, 6},
    {"DNSSEC per-query subqueries", Format::InfoStats, 6},
    {"cleared cache", Format::InfoOther, 6},
    {"asynchronous logging enabled", Format::InfoOther, 6},
    {"DBus support enabled", Format::InfoOther, 6},
    {"connected to system DBus", Format::InfoOther, 6},
    {"DNSSEC validation enabled", Format::InfoOther, 6},
    {"DNSSEC signature timestamps not checked", Format::InfoOther, 6},
    {"now checking DNSSEC signature timestamps", Format::InfoOther, 6},
    {"configured with trust anchor for ", Format::InfoOther, 6},
    {"DNS service limited to local subnets", Format::InfoOther, 6},
    {"abandoning lease to ", Format::InfoOther, 6},
    {"TFTP ", Format::InfoOther, 6},
};

std::optional<Info> parse_info(sv s) noexcept {
  // "using %d more nameservers", "using %d more local addresses", and "nameserver %s refused
  // to do a recursive query" carry a value before their fixed text.
  if (s.starts_with("using ") && s.ends_with(" more local addresses"))
    return Info{Format::InfoLocal, 6, s};
  if (s.starts_with("using ") && s.ends_with(" more nameservers"))
    return Info{Format::InfoNameserver, 6, s};
  if (s.starts_with("nameserver ") && s.ends_with(" refused to do a recursive query"))
    return Info{Format::InfoWarning, 4, s};
  for (const auto& r : kInfoRules)
    if (s.starts_with(r.prefix)) return Info{r.format, r.severity, s};
  return std::nullopt;
}

constexpr sv kFormatNames[] = {
    "dns.query",    "dns.forwarded", "dns.answer",   "dhcp4.message",   "dhcp6.message",
    "ra.solicit",   "ra.advert",     "ra.slaac",     "dhcp.detail",     "info.started",
    "info.compile", "info.range",    "info.sockets", "info.nameserver", "info.local",
    "info.read",    "info.exit",     "info.stats",   "info.warning",    "info.error",
    "info.script",  "info.tftp",     "info.other",   "unknown",
};
static_assert(std::size(kFormatNames) == static_cast<std::size_t>(Format::kCount));

constexpr sv kPrefixFormNames[] = {"none", "file", "traditional", "rfc3164", "rfc5424"};
static_assert(std::size(kPrefixFormNames) == static_cast<std::size_t>(PrefixForm::Rfc5424) + 1);

constexpr sv kAnswerKindNames[] = {
    "IPv4", "IPv6",  "NXDOMAIN", "NODATA",     "NODATA-IPv4", "NODATA-IPv6",
    "type", "rcode", "text",     "validation", "duplicate",   "set",
};
static_assert(std::size(kAnswerKindNames) == static_cast<std::size_t>(AnswerKind::SetAdd) + 1);

constexpr sv kDetailKindNames[] = {
    "available range",
    "available subnet",
    "vendor class",
    "user class",
    "client provides name",
    "client MAC address",
    "cannot determine client MAC address",
    "tags",
    "requested options",
    "next server",
    "broadcast response",
    "bootfile name",
    "server name",
    "sent option",
    "nested option",
    "other",
};
static_assert(std::size(kDetailKindNames) == static_cast<std::size_t>(DetailKind::Other) + 1);

template <std::size_t N, class Enum>
sv name_of(const sv (&names)[N], Enum e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : sv{};
}

// No dnsmasq message starts with a space, but a relay may add one: rsyslog's RFC 5424 forward
// template writes "- -  msg" for a message it took from /dev/log as " msg".
sv without_leading_spaces(sv m) {
  while (!m.empty() && m.front() == ' ') m.remove_prefix(1);
  return m;
}

}  // namespace

std::string_view prefix_form_name(PrefixForm form) noexcept {
  return name_of(kPrefixFormNames, form);
}
std::string_view format_name(Format format) noexcept { return name_of(kFormatNames, format); }
std::string_view answer_kind_name(AnswerKind kind) noexcept {
  return name_of(kAnswerKindNames, kind);
}
std::string_view detail_kind_name(DetailKind kind) noexcept {
  return name_of(kDetailKindNames, kind);
}

bool is_client_side(DetailKind kind) noexcept { return kind <= DetailKind::NoClientMac; }

Line parse_line(std::string_view line, const LogClock& clock) noexcept {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  Line out;
  out.message = line;
  Prefix p;
  sv message;
  sv s = line;
  if (consume(s, "<")) {
    // RFC 5424 §6.2.1 / RFC 3164 §4.1.1: PRI is 1-3 digits, at most 191.
    const auto gt = s.find('>');
    std::uint64_t pri = 0;
    if (gt == sv::npos || gt > 3 || !parse_u64(s.substr(0, gt), 191, pri)) return out;
    s.remove_prefix(gt + 1);
    p.facility = static_cast<int>(pri / 8);
    p.severity = static_cast<int>(pri % 8);
    sv after_version = s;
    // Each attempt on its own copy: a failed one leaves fields half set.
    if (Prefix q = p; consume(after_version, "1 ") && parse_rfc5424(after_version, q, message)) {
      out.prefix = q;
    } else if (q = p; parse_bsd(s, clock, q, message)) {
      q.form = PrefixForm::Rfc3164;
      out.prefix = q;
    } else {
      return out;
    }
    out.message = without_leading_spaces(message);
    return out;
  }
  if (parse_bsd(s, clock, p, message)) {
    out.prefix = p;
    out.message = without_leading_spaces(message);
  }
  return out;
}

Record classify(std::string_view m, std::string_view tag) noexcept {
  if (tag == "dnsmasq-script") return Info{Format::InfoScript, 7, m};  // MS_SCRIPT | LOG_DEBUG
  // A leading number is a DHCP xid (--log-dhcp) or a DNS serial (--log-queries=extra).
  sv body = m;
  std::uint32_t number = 0;
  sv rest = m;
  const bool has_number = parse_u32(take_token(rest), number) && !rest.empty();
  if (has_number) body = rest;
  if (auto msg = parse_dhcp_message(body, has_number, number)) return *msg;
  if (has_number)
    if (auto detail = parse_dhcp_detail(body, number)) return *detail;
  QueryTag qt;
  sv dns = m;
  if (has_number) {
    qt.has_serial = true;
    qt.serial = number;
    dns = body;
    sv after = dns;
    if (parse_client(take_token(after), qt)) dns = after;
  }
  if (auto rec = parse_dns(dns, qt)) return *rec;
  if (has_number && tag == "dnsmasq-dhcp")
    return DhcpDetail{number, DetailKind::Other, body, -1, {}};
  if (!has_number)
    if (auto info = parse_info(m)) return *info;
  if (tag == "dnsmasq-tftp") return Info{Format::InfoTftp, -1, m};
  return Unknown{m};
}

Format format_of(const Record& record) noexcept {
  struct Visitor {
    Format operator()(const DnsQuery&) const noexcept { return Format::DnsQuery; }
    Format operator()(const DnsForwarded&) const noexcept { return Format::DnsForwarded; }
    Format operator()(const DnsAnswer&) const noexcept { return Format::DnsAnswer; }
    Format operator()(const DhcpMessage& m) const noexcept { return m.format; }
    Format operator()(const DhcpDetail&) const noexcept { return Format::DhcpDetail; }
    Format operator()(const Info& i) const noexcept { return i.format; }
    Format operator()(const Unknown&) const noexcept { return Format::Unknown; }
  };
  return std::visit(Visitor{}, record);
}

bool parse_duration(std::string_view text, std::uint32_t& seconds) noexcept {
  if (text == "infinite") {
    seconds = 0xffffffffu;
    return true;
  }
  if (text.empty()) return false;
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::size_t n = 0;
    while (n < text.size() && is_digit(text[n])) ++n;
    std::uint64_t v = 0;
    if (n == text.size() || !parse_u64(text.substr(0, n), 0xffffffffu, v)) return false;
    std::uint64_t unit = 0;
    switch (text[n]) {
      case 'd':
        unit = 86400;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      case 's':
        unit = 1;
        break;
      default:
        return false;
    }
    total += v * unit;
    if (total > 0xffffffffu) return false;
    text.remove_prefix(n + 1);
  }
  seconds = static_cast<std::uint32_t>(total);
  return true;
}

}  // namespace stash53::capture::dnsmasq

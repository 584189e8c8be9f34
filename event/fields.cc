#include "event/fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>

#include "capture/dnsmasq/joiner.h"
#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::event {

void write_address(EventWriter& w, const decode::IpAddress& a, bool ipv6, std::string& scratch) {
  scratch.clear();
  decode::text::append_ip(scratch, a.bytes, ipv6);
  w.plain(scratch);
}

void write_timestamp(EventWriter& w, std::int64_t ts_ns, WriteContext& c) {
  std::int64_t sec = ts_ns / 1'000'000'000;
  std::int64_t ns = ts_ns % 1'000'000'000;
  if (ns < 0) ns += 1'000'000'000, --sec;
  if (sec != c.cached_second) {
    const std::time_t t = sec;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(c.date_prefix, sizeof c.date_prefix, "%Y-%m-%dT%H:%M:%S.", &tm);
    c.cached_second = sec;
  }
  char buf[32];
  auto usec = static_cast<unsigned>(ns / 1000);
  std::size_t len = std::char_traits<char>::length(c.date_prefix);
  std::char_traits<char>::copy(buf, c.date_prefix, len);
  for (int i = 5; i >= 0; --i, usec /= 10)
    buf[len + static_cast<std::size_t>(i)] = static_cast<char>('0' + usec % 10);
  len += 6;
  buf[len++] = 'Z';
  w.plain({buf, len});
}

void append_zone_line(std::string& s, const decode::DnsEvent& ev, const decode::Record& rr) {
  decode::MnemonicBuffer buf;
  s += ev.view(rr.name);
  s += ' ';
  decode::text::append_uint(s, rr.ttl);
  s += ' ';
  s += decode::class_name(rr.klass, buf);
  s += ' ';
  s += decode::type_name(rr.type, buf);
  if (rr.data.len > 0) s += ' ';
  s += ev.view(rr.data);
}

namespace {

using decode::DnsEvent;
using W = EventWriter;
using Ctx = WriteContext;

void write_records(W& w, const DnsEvent& ev, const std::vector<decode::Record>& records, Ctx& c) {
  decode::MnemonicBuffer buf;
  w.StartArray();
  for (const auto& rr : records) {
    w.StartObject();
    key<"name">(w), w.text(ev.view(rr.name));
    key<"type">(w), w.plain(decode::type_name(rr.type, buf));
    key<"class">(w), w.plain(decode::class_name(rr.klass, buf));
    key<"ttl">(w), w.Uint(rr.ttl);
    key<"data">(w), w.text(ev.view(rr.data));
    if (rr.cache_flush) key<"cache_flush">(w), w.Bool(true);
    if (c.rrprint) {
      c.scratch.clear();
      append_zone_line(c.scratch, ev, rr);
      key<"rr">(w), w.text(c.scratch);
    }
    w.EndObject();
  }
  w.EndArray();
}

void write_questions(W& w, const DnsEvent& ev) {
  decode::MnemonicBuffer buf;
  w.StartArray();
  for (const auto& q : ev.questions) {
    w.StartObject();
    key<"name">(w), w.text(ev.view(q.name));
    key<"type">(w), w.plain(decode::type_name(q.type, buf));
    key<"class">(w), w.plain(decode::class_name(q.klass, buf));
    if (q.qu) key<"qu">(w), w.Bool(true);
    w.EndObject();
  }
  w.EndArray();
}

// The members of `flags` for DNS: the text of each of the 64 combinations, made once.
std::string_view dns_flags(const decode::DnsHeader& h) {
  static const auto kTexts = [] {
    std::array<std::string, 64> t;
    for (unsigned bits = 0; bits < 64; ++bits) {
      static constexpr const char* kNames[] = {"aa", "tc", "rd", "ra", "ad", "cd"};
      for (unsigned i = 0; i < 6; ++i)
        t[bits] += fmt::format("{}\"{}\":{}", i ? "," : "", kNames[i], (bits >> i & 1) ? "true" : "false");
    }
    return t;
  }();
  const unsigned bits = unsigned{h.aa} | unsigned{h.tc} << 1 | unsigned{h.rd} << 2 |
                        unsigned{h.ra} << 3 | unsigned{h.ad} << 4 | unsigned{h.cd} << 5;
  return kTexts[bits];
}

// The TSIG record (RFC 8945 §4.2: the last additional record), or null.
const decode::Record* tsig_of(const DnsEvent& ev) {
  return !ev.additionals.empty() && ev.additionals.back().type == 250 ? &ev.additionals.back()
                                                                      : nullptr;
}

void write_edns(W& w, const DnsEvent& ev) {
  const auto& e = ev.edns;
  w.StartObject();
  key<"udp_size">(w), w.Uint(e.udp_size);
  key<"version">(w), w.Uint(e.version);
  key<"do">(w), w.Bool(e.do_bit);
  key<"ext_rcode">(w), w.Uint(e.ext_rcode);
  if (e.has_nsid) {
    if (e.nsid_printable) key<"nsid">(w), w.text(ev.view(e.nsid_text));
    key<"nsid_hex">(w), w.text(ev.view(e.nsid_hex));
  }
  if (e.has_ecs) {
    key<"ecs">(w);
    w.StartObject();
    key<"family">(w), w.Uint(e.ecs_family);
    key<"source_prefix">(w), w.Uint(e.ecs_source);
    key<"scope_prefix">(w), w.Uint(e.ecs_scope);
    key<"address">(w), w.text(ev.view(e.ecs_address));
    w.EndObject();
  }
  if (e.has_cookie) {
    key<"cookie">(w);
    w.StartObject();
    key<"client">(w), w.text(ev.view(e.cookie_client));
    if (e.cookie_server.len > 0) key<"server">(w), w.text(ev.view(e.cookie_server));
    w.EndObject();
  }
  if (!e.ede.empty()) {
    key<"ede">(w);
    w.StartArray();
    for (const auto& x : e.ede) {
      w.StartObject();
      key<"code">(w), w.Uint(x.code);
      if (const auto name = decode::ede_name(x.code); !name.empty()) key<"name">(w), w.text(name);
      if (x.text.len > 0) key<"text">(w), w.text(ev.view(x.text));
      w.EndObject();
    }
    w.EndArray();
  }
  if (e.has_padding) key<"padding">(w), w.Uint(e.padding);
  if (e.has_keepalive) {
    key<"keepalive">(w);
    if (e.keepalive_has_timeout)
      w.Uint(e.keepalive);
    else
      w.Null();
  }
  if (!e.other.empty()) {
    key<"options">(w);
    w.StartArray();
    for (const auto& o : e.other) {
      w.StartObject();
      key<"code">(w), w.Uint(o.code);
      key<"hex">(w), w.text(ev.view(o.hex));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

// Presence rules shared by writer and text: a cut header gives only the fields it holds
// (RFC 1035 §4.1.1 layout): id from 2 bytes, flags and codes from 4, then each count.
bool has_id(const DnsEvent& ev) { return ev.hdr.size >= 2; }
bool has_codes(const DnsEvent& ev) { return ev.hdr.size >= 4; }
// A dnsmasq query has no header, but its answer lines tell the outcome.
bool has_rcode(const DnsEvent& ev) {
  return has_codes(ev) || (ev.dnsmasq_query != nullptr &&
                           ev.dnsmasq_query->outcome != capture::dnsmasq::Outcome::None);
}

std::string_view proto_name(decode::Proto p) {
  return p == decode::Proto::Mdns ? "mdns" : p == decode::Proto::Llmnr ? "llmnr" : "dns";
}
bool has_sections(const DnsEvent& ev) { return ev.hdr.size >= 12; }
// UPDATE (RFC 2136 §2.2) names its sections zone, prerequisites, updates.
constexpr std::uint8_t kOpcodeUpdate = 5;
bool is_update(const DnsEvent& ev) { return ev.hdr.opcode == kOpcodeUpdate; }
bool has_query_sections(const DnsEvent& ev) { return has_sections(ev) && !is_update(ev); }
bool has_update_sections(const DnsEvent& ev) { return has_sections(ev) && is_update(ev); }

// A dnstap message may lack an address or port (Unbound 1.17 leaves out query_port over TCP):
// then the event lacks it too. Odd dnstap types are queries, sent by the query side.
bool dnstap_query_sent(const DnsEvent& ev) { return (ev.dnstap.type & 1) != 0; }
// A dnsmasq log names the client of a query (with log-queries=extra), never the server.
bool dnsmasq(const DnsEvent& ev) { return ev.source == decode::EventSource::Dnsmasq; }
bool has_src_addr(const DnsEvent& ev) {
  const auto& t = ev.dnstap;
  if (dnsmasq(ev)) return ev.has_client;
  return ev.source != decode::EventSource::Dnstap ||
         (dnstap_query_sent(ev) ? t.has_query_address : t.has_response_address);
}
bool has_dst_addr(const DnsEvent& ev) {
  const auto& t = ev.dnstap;
  return !dnsmasq(ev) && (ev.source != decode::EventSource::Dnstap ||
                          (dnstap_query_sent(ev) ? t.has_response_address : t.has_query_address));
}
bool has_src_port(const DnsEvent& ev) {
  const auto& t = ev.dnstap;
  if (dnsmasq(ev)) return ev.has_client && ev.net.sport != 0;
  return ev.source != decode::EventSource::Dnstap ||
         (dnstap_query_sent(ev) ? t.has_query_port : t.has_response_port);
}
bool has_dst_port(const DnsEvent& ev) {
  const auto& t = ev.dnstap;
  return !dnsmasq(ev) && (ev.source != decode::EventSource::Dnstap ||
                          (dnstap_query_sent(ev) ? t.has_response_port : t.has_query_port));
}
bool has_family(const DnsEvent& ev) { return !dnsmasq(ev) || ev.has_client; }

std::string_view source_name(decode::EventSource s) {
  return s == decode::EventSource::Dnstap ? "dnstap" : s == decode::EventSource::Dnsmasq ? "dnsmasq" : "pcap";
}

// --- dnsmasq's log events: what the log says, as it says it.
namespace dm = capture::dnsmasq;

void write_opt_text(W& w, std::string_view k, std::string_view v) {
  if (v.empty()) return;
  w.text_key(k);
  w.text(v);
}

void write_dnsmasq_query(W& w, const dm::DnsQueryEvent& q) {
  w.StartObject();
  if (q.pid >= 0) key<"pid">(w), w.Int64(q.pid);
  write_opt_text(w, "host", q.host);
  if (q.has_serial) key<"serial">(w), w.Uint(q.serial);
  if (!q.has_query) key<"orphan">(w), w.Bool(true);
  write_opt_text(w, "from", q.from);
  if (q.source != "query") write_opt_text(w, "kind", q.source);
  key<"upstreams">(w), w.StartArray();
  for (const auto& u : q.upstreams) {
    w.StartObject();
    write_opt_text(w, "via", u.via);
    write_opt_text(w, "server", u.server);
    w.EndObject();
  }
  w.EndArray();
  key<"answers">(w), w.StartArray();
  for (const auto& a : q.answers) {
    w.StartObject();
    write_opt_text(w, "source", a.source);
    write_opt_text(w, "name", a.name);
    key<"kind">(w), w.plain(dm::answer_kind_name(a.kind));
    write_opt_text(w, "value", a.value);
    write_opt_text(w, "extra", a.extra);
    w.EndObject();
  }
  w.EndArray();
  write_opt_text(w, "outcome", dm::outcome_name(q.outcome));
  write_opt_text(w, "answered_by", q.answered_by);
  w.EndObject();
}

void write_dhcp(W& w, const dm::DhcpEvent& d) {
  w.StartObject();
  write_opt_text(w, "message_type", d.message_type);
  if (d.has_xid) key<"xid">(w), w.Uint(d.xid);
  if (d.pid >= 0) key<"pid">(w), w.Int64(d.pid);
  write_opt_text(w, "host", d.host);
  write_opt_text(w, "interface", d.iface);
  write_opt_text(w, "ip", d.ip);
  write_opt_text(w, "mac", d.mac);
  write_opt_text(w, "duid", d.duid);
  write_opt_text(w, "hostname", d.hostname);
  write_opt_text(w, "reason", d.reason);
  write_opt_text(w, "vendor_class", d.vendor_class);
  write_opt_text(w, "user_class", d.user_class);
  write_opt_text(w, "client_name", d.client_name);
  write_opt_text(w, "available", d.available);
  write_opt_text(w, "requested_options", d.requested_options);
  write_opt_text(w, "tags", d.tags);
  write_opt_text(w, "next_server", d.next_server);
  if (d.broadcast) key<"broadcast">(w), w.Bool(true);
  if (d.lease_time_s) key<"lease_time">(w), w.Uint(*d.lease_time_s);
  write_opt_text(w, "lease_time_text", d.lease_time_text);
  if (!d.sent.empty()) {
    key<"sent">(w), w.StartArray();
    for (const auto& o : d.sent) {
      w.StartObject();
      if (o.number >= 0) key<"option">(w), w.Int(o.number);
      write_opt_text(w, "name", o.name);
      write_opt_text(w, "value", o.value);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!d.details.empty()) {
    key<"details">(w), w.StartArray();
    for (const auto& x : d.details) w.text(x);
    w.EndArray();
  }
  w.EndObject();
}

void write_log(W& w, const dm::InfoEvent& l) {
  w.StartObject();
  if (l.pid >= 0) key<"pid">(w), w.Int64(l.pid);
  write_opt_text(w, "host", l.host);
  write_opt_text(w, "tag", l.tag);
  key<"format">(w), w.plain(dm::format_name(l.format));
  if (l.severity >= 0) key<"severity">(w), w.Int(l.severity);
  key<"text">(w), w.text(l.text);
  w.EndObject();
}

void write_dnstap(W& w, const DnsEvent& ev, Ctx& c) {
  const auto& t = ev.dnstap;
  w.StartObject();
  if (t.identity.len > 0) key<"identity">(w), w.text(ev.view(t.identity));
  if (t.version.len > 0) key<"version">(w), w.text(ev.view(t.version));
  key<"type">(w), w.plain(decode::dnstap_type_name(t.type));
  if (t.protocol != 0) key<"protocol">(w), w.plain(decode::dnstap_protocol_name(t.protocol));
  if (t.has_query_address) key<"query_address">(w), write_address(w, t.query_address, t.ipv6, c.scratch);
  if (t.has_query_port) key<"query_port">(w), w.Uint(t.query_port);
  if (t.has_response_address)
    key<"response_address">(w), write_address(w, t.response_address, t.ipv6, c.scratch);
  if (t.has_response_port) key<"response_port">(w), w.Uint(t.response_port);
  if (t.query_time_ns >= 0) key<"query_time">(w), write_timestamp(w, t.query_time_ns, c);
  if (t.response_time_ns >= 0) key<"response_time">(w), write_timestamp(w, t.response_time_ns, c);
  if (t.query_time_ns >= 0 && t.response_time_ns >= t.query_time_ns)
    key<"latency_us">(w), w.Uint64(static_cast<std::uint64_t>(t.response_time_ns - t.query_time_ns) / 1000);
  if (t.query_zone.len > 0) key<"query_zone">(w), w.text(ev.view(t.query_zone));
  w.EndObject();
}

bool text_of(std::string& out, std::string_view s) {
  out += s;
  return true;
}
bool uint_text(std::string& out, std::uint64_t v) {
  decode::text::append_uint(out, v);
  return true;
}

// Each decoded field: name, type, help, closed set of values, writer, text.
#define STASH53_WRITE(...) [](W & w, const DnsEvent& ev, Ctx& c) { (void)ev, (void)c, (void)w; __VA_ARGS__; }
#define STASH53_TEXT(...) [](const DnsEvent& ev, std::string& out) -> bool { (void)ev, (void)out; __VA_ARGS__; }

void add_core_fields(Catalogue& cat) {
  int rank = 0;
  auto add = [&](const char* name, FieldType type, const char* help, std::vector<std::string> values,
                 void (*write)(W&, const DnsEvent&, Ctx&),
                 bool (*text)(const DnsEvent&, std::string&), int at = 0) {
    rank += 100;  // `n` is 200, `s_addr` 300: rank::kSensor goes between them
    if (rank >= rank::kEnrichment) throw std::logic_error("field catalogue: raise rank::kEnrichment");
    Field f;
    f.name = name, f.type = type, f.help = help, f.values = std::move(values);
    f.rank = at != 0 ? at : rank;
    f.write = write, f.text = text;
    cat.add(std::move(f));
  };
  add("@timestamp", FieldType::String,
      "capture time from the packet header (never the wall clock), RFC 3339 UTC with microseconds; "
      "Logstash's `json` codec adopts it as the event time",
      {}, STASH53_WRITE(key<"@timestamp">(w); write_timestamp(w, ev.ts_ns, c)), nullptr);
  add("n", FieldType::Integer,
      "sequence number of the documents of this output stream (one per mode and format), from 1: a consumer sees gaps", {},
      STASH53_WRITE(if (!c.nested) key<"n">(w), w.Uint64(c.n)), nullptr);
  add("source", FieldType::String,
      "where the event came from: `pcap` (a captured packet), `dnstap` (the server's own copy) "
      "or `dnsmasq` (its log: a query with its answers, a DHCP message or a log line)",
      {"pcap", "dnstap", "dnsmasq"}, STASH53_WRITE(key<"source">(w); w.plain(source_name(ev.source))),
      STASH53_TEXT(return text_of(out, source_name(ev.source))));
  add("s_addr", FieldType::String,
      "the packet's source address (dnstap: the message's sender, absent when the server left it out)", {},
      STASH53_WRITE(if (has_src_addr(ev)) key<"s_addr">(w), write_address(w, ev.net.src, ev.net.ipv6, c.scratch)),
      STASH53_TEXT(if (!has_src_addr(ev)) return false;
                   decode::text::append_ip(out, ev.net.src.bytes, ev.net.ipv6); return true));
  add("s_port", FieldType::Integer, "the packet's source port", {},
      STASH53_WRITE(if (has_src_port(ev)) key<"s_port">(w), w.Uint(ev.net.sport)),
      STASH53_TEXT(return has_src_port(ev) && uint_text(out, ev.net.sport)));
  add("d_addr", FieldType::String, "the packet's destination address", {},
      STASH53_WRITE(if (has_dst_addr(ev)) key<"d_addr">(w), write_address(w, ev.net.dst, ev.net.ipv6, c.scratch)),
      STASH53_TEXT(if (!has_dst_addr(ev)) return false;
                   decode::text::append_ip(out, ev.net.dst.bytes, ev.net.ipv6); return true));
  add("d_port", FieldType::Integer, "the packet's destination port", {},
      STASH53_WRITE(if (has_dst_port(ev)) key<"d_port">(w), w.Uint(ev.net.dport)),
      STASH53_TEXT(return has_dst_port(ev) && uint_text(out, ev.net.dport)));
  add("ipv6", FieldType::Boolean, "true for IPv6", {"true", "false"},
      STASH53_WRITE(if (has_family(ev)) key<"ipv6">(w), w.Bool(ev.net.ipv6)),
      STASH53_TEXT(return has_family(ev) && text_of(out, ev.net.ipv6 ? "true" : "false")));
  add("transport", FieldType::String, "`udp` or `tcp` (not for dnsmasq logs)", {"udp", "tcp"},
      STASH53_WRITE(if (!dnsmasq(ev)) key<"transport">(w), w.plain(ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp")),
      STASH53_TEXT(return !dnsmasq(ev) && text_of(out, ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp")));
  add("proto", FieldType::String,
      "`dns`, `mdns` (port 5353, RFC 6762) or `llmnr` (port 5355, RFC 4795), by port (not for dnsmasq logs)",
      {"dns", "mdns", "llmnr"},
      STASH53_WRITE(if (!dnsmasq(ev)) key<"proto">(w), w.plain(proto_name(ev.proto))),
      STASH53_TEXT(return !dnsmasq(ev) && text_of(out, proto_name(ev.proto))));
  add("tunnel", FieldType::Object,
      "present when the packet came through a tunnel (cloud traffic mirroring): `type` (`vxlan`, "
      "`geneve`, `gre`, `erspan2`, `erspan3`, `ip-in-ip`, `ipv6-in-ip`; the outermost), `s_addr` "
      "and `d_addr` of the outer IP header, `id` (VXLAN/Geneve VNI, GRE key, ERSPAN session) when "
      "it has one, `depth` (tunnels nested); the addresses and ports above are the inner packet's",
      {},
      STASH53_WRITE(const auto& t = ev.net.tunnel; if (t.type == decode::TunnelType::None) return;
                    key<"tunnel">(w); w.StartObject();
                    key<"type">(w), w.plain(decode::tunnel_type_name(t.type));
                    key<"s_addr">(w), write_address(w, t.src, t.ipv6, c.scratch);
                    key<"d_addr">(w), write_address(w, t.dst, t.ipv6, c.scratch);
                    if (t.has_id) key<"id">(w), w.Uint(t.id);
                    key<"depth">(w), w.Uint(t.depth); w.EndObject()),
      nullptr);
  add("dnstap", FieldType::Object,
      "`source: dnstap` only, the server's view: `identity`, `version`, `type` (`AUTH_QUERY`, "
      "`CLIENT_RESPONSE`, … `UPDATE_RESPONSE`), `protocol` (`udp`, `tcp`, `dot`, `doh`, "
      "`dnscrypt-udp`, `dnscrypt-tcp`, `doq`), `query_address`, `query_port` (the query's "
      "sender), `response_address`, `response_port` (the server), `query_time`, "
      "`response_time`, `latency_us` (when a message carries both times), `query_zone`; each "
      "absent when the server left it out. `@timestamp` is the message's own time",
      {}, STASH53_WRITE(if (ev.source == decode::EventSource::Dnstap) key<"dnstap">(w), write_dnstap(w, ev, c)),
      nullptr);
  add("alert", FieldType::String,
      "present when the event is one an operator must be told of: `dhcp-nak`, "
      "`dhcp-pool-exhausted` (dnsmasq: `no address available`), `service-error` (dnsmasq logged "
      "at syslog severity 3 or worse), `txt-query`, `any-query` (the `security` enricher's "
      "LogZilla rule, MITRE T1071.004)",
      {"dhcp-nak", "dhcp-pool-exhausted", "service-error", "txt-query", "any-query"},
      STASH53_WRITE(if (ev.alert != decode::Alert::None) key<"alert">(w), w.plain(decode::alert_name(ev.alert))),
      STASH53_TEXT(return ev.alert != decode::Alert::None && text_of(out, decode::alert_name(ev.alert))));
  add("dnsmasq", FieldType::Object,
      "`source: dnsmasq`, a query: its log lines joined by (pid, serial): `pid`, `host` (syslog), "
      "`serial`, `orphan` (answer lines whose query line was not seen), `from`, `kind` (`auth` "
      "for authoritative queries), `upstreams` `[{via, server}]` (`forwarded`, "
      "`dnssec-query[DS]`…), `answers` `[{source, name, kind, value, extra}]` as logged (source "
      "`reply`, `cached`, `config`, `DHCP`, a hosts file…; kind `IPv4`, `IPv6`, `NXDOMAIN`, "
      "`NODATA`, `NODATA-IPv4`, `NODATA-IPv6`, `type` (dnsmasq printed `<CNAME>`…), `rcode`, "
      "`text`, `validation`, `duplicate`, `set`), `outcome` (`NOERROR`, `NXDOMAIN`, `NODATA`, …; also as `rcode`), "
      "`answered_by`; `qname`, `qtype` and `s_addr`/`s_port` (the client, with "
      "log-queries=extra) are set from them",
      {}, STASH53_WRITE(if (ev.dnsmasq_query != nullptr) key<"dnsmasq">(w), write_dnsmasq_query(w, *ev.dnsmasq_query)),
      nullptr);
  add("dhcp", FieldType::Object,
      "`source: dnsmasq`, a DHCP, DHCPv6 or router-advertisement message line with the "
      "log-dhcp detail lines of its xid: `message_type` (`DHCPDISCOVER`, `DHCPACK`, "
      "`DHCPSOLICIT`, `RTR-ADVERT`, …), `xid`, `pid`, `host`, `interface`, `ip`, `mac`, `duid`, "
      "`hostname`, `reason` (`no address available`, `wrong network`, …), `vendor_class`, "
      "`user_class`, `client_name`, `available`, `requested_options`, `tags`, `next_server`, "
      "`broadcast`, `lease_time` (s) and `lease_time_text`, `sent` `[{option, name, value}]`, "
      "`details` (other detail lines)",
      {}, STASH53_WRITE(if (ev.dhcp != nullptr) key<"dhcp">(w), write_dhcp(w, *ev.dhcp)), nullptr);
  add("log", FieldType::Object,
      "`source: dnsmasq`, any other line: `pid`, `host`, `tag`, `format` (`info.started`, "
      "`info.nameserver`, …, `unknown` for a line stash53 has no grammar for), `severity` "
      "(syslog, when known), `text`",
      {}, STASH53_WRITE(if (ev.log_line != nullptr) key<"log">(w), write_log(w, *ev.log_line)), nullptr);
  add("id", FieldType::Integer, "DNS message ID", {},
      STASH53_WRITE(if (has_id(ev)) key<"id">(w), w.Uint(ev.hdr.id)),
      STASH53_TEXT(return has_id(ev) && uint_text(out, ev.hdr.id)));
  add("msg_type", FieldType::String, "`query` or `response` (the QR bit)", {"query", "response"},
      STASH53_WRITE(if (has_codes(ev)) key<"msg_type">(w), w.plain(ev.hdr.qr ? "response" : "query")),
      STASH53_TEXT(return has_codes(ev) && text_of(out, ev.hdr.qr ? "response" : "query")));
  add("opcode", FieldType::String,
      "`QUERY`, `IQUERY`, `STATUS`, `NOTIFY`, `UPDATE`, `DSO`, else `RESERVEDn`", {},
      STASH53_WRITE(decode::MnemonicBuffer buf;
                    if (has_codes(ev)) key<"opcode">(w), w.plain(decode::opcode_name(ev.hdr.opcode, buf))),
      STASH53_TEXT(decode::MnemonicBuffer buf;
                   return has_codes(ev) && text_of(out, decode::opcode_name(ev.hdr.opcode, buf))));
  add("rcode", FieldType::String,
      "name of the 12-bit rcode (header + EDNS extended bits): `NOERROR`, `NXDOMAIN`, `BADVERS`, "
      "…; for a dnsmasq query, its logged outcome (NODATA is `NOERROR`)",
      {},
      STASH53_WRITE(decode::MnemonicBuffer buf;
                    if (has_rcode(ev)) key<"rcode">(w), w.plain(decode::rcode_name(ev.rcode(), buf))),
      STASH53_TEXT(decode::MnemonicBuffer buf;
                   return has_rcode(ev) && text_of(out, decode::rcode_name(ev.rcode(), buf))));
  add("error", FieldType::Boolean, "true when the rcode is not NOERROR", {"true", "false"},
      STASH53_WRITE(if (has_rcode(ev)) key<"error">(w), w.Bool(ev.rcode() != 0)),
      STASH53_TEXT(return has_rcode(ev) && text_of(out, ev.rcode() != 0 ? "true" : "false")));
  add("flags", FieldType::Object,
      "booleans `aa tc rd ra ad cd`; for LLMNR its own bits (RFC 4795 §2.1.1): `c` (conflict, "
      "where DNS has AA), `tc`, `t` (tentative, where DNS has RD)", {},
      STASH53_WRITE(if (!has_codes(ev)) return; const auto& h = ev.hdr; key<"flags">(w);
                    w.StartObject();
                    if (ev.proto == decode::Proto::Llmnr) {
                      key<"c">(w), w.Bool(h.aa); key<"tc">(w), w.Bool(h.tc);
                      key<"t">(w), w.Bool(h.rd);
                    } else {
                      w.raw(dns_flags(h));
                    } w.EndObject()),
      nullptr);
  add("qname", FieldType::String,
      "the first question's name, presentation format with trailing dot (`.` for the root), case "
      "as on the wire (0x20 randomisation stays visible), `\\.` and `\\DDD` escapes as dig prints them",
      {}, STASH53_WRITE(if (ev.has_question) key<"qname">(w), w.text(ev.view(ev.qname))),
      STASH53_TEXT(return ev.has_question && text_of(out, ev.view(ev.qname))));
  add("qtype", FieldType::String,
      "mnemonic; unknown values as RFC 3597 `TYPE65280`. Also when the first question's name "
      "ends in a pointer loop (`malformed: compression-loop`, no `qname`): the type and class "
      "after its first pointer", {},
      STASH53_WRITE(decode::MnemonicBuffer buf;
                    if (ev.has_question || ev.question_type_only)
                        key<"qtype">(w), w.plain(decode::type_name(ev.qtype, buf))),
      STASH53_TEXT(decode::MnemonicBuffer buf;
                   return (ev.has_question || ev.question_type_only) &&
                          text_of(out, decode::type_name(ev.qtype, buf))));
  add("qclass", FieldType::String, "mnemonic; unknown values as RFC 3597 `CLASS7`", {},
      STASH53_WRITE(decode::MnemonicBuffer buf;
                    if (ev.has_question || ev.question_type_only)
                        key<"qclass">(w), w.plain(decode::class_name(ev.qclass, buf))),
      STASH53_TEXT(decode::MnemonicBuffer buf;
                   return (ev.has_question || ev.question_type_only) &&
                          text_of(out, decode::class_name(ev.qclass, buf))));
  add("qu", FieldType::Boolean,
      "mDNS (port 5353) only: true when the question asks for a unicast response; `qclass` is "
      "given without that bit",
      {"true"}, STASH53_WRITE(if (ev.has_question && ev.qu) key<"qu">(w), w.Bool(true)),
      STASH53_TEXT(return ev.has_question && ev.qu && text_of(out, "true")));
  add("questions", FieldType::Array,
      "every question, `[{name, type, class}]` (plus `qu: true` for an mDNS question asking for "
      "a unicast response); `qname`, `qtype`, `qclass` are the first one's. Not in UPDATE "
      "messages, which have `zone`",
      {}, STASH53_WRITE(if (has_query_sections(ev)) key<"questions">(w), write_questions(w, ev)),
      nullptr);
  add("zone", FieldType::Array,
      "UPDATE (RFC 2136) only: its zone section, as `questions`; `qname` is the zone's name", {},
      STASH53_WRITE(if (has_update_sections(ev)) key<"zone">(w), write_questions(w, ev)), nullptr);
  add("qdcount", FieldType::Integer, "header count, as on the wire (it may lie; see `malformed`)", {},
      STASH53_WRITE(if (ev.hdr.size >= 6) key<"qdcount">(w), w.Uint(ev.hdr.qdcount)),
      STASH53_TEXT(return ev.hdr.size >= 6 && uint_text(out, ev.hdr.qdcount)));
  add("ancount", FieldType::Integer, "header count, as on the wire", {},
      STASH53_WRITE(if (ev.hdr.size >= 8) key<"ancount">(w), w.Uint(ev.hdr.ancount)),
      STASH53_TEXT(return ev.hdr.size >= 8 && uint_text(out, ev.hdr.ancount)));
  add("nscount", FieldType::Integer, "header count, as on the wire", {},
      STASH53_WRITE(if (ev.hdr.size >= 10) key<"nscount">(w), w.Uint(ev.hdr.nscount)),
      STASH53_TEXT(return ev.hdr.size >= 10 && uint_text(out, ev.hdr.nscount)));
  add("arcount", FieldType::Integer, "header count, as on the wire", {},
      STASH53_WRITE(if (has_sections(ev)) key<"arcount">(w), w.Uint(ev.hdr.arcount)),
      STASH53_TEXT(return has_sections(ev) && uint_text(out, ev.hdr.arcount)));
  constexpr const char* kRecords =
      "array of `{name, type, class, ttl, data}` (plus `cache_flush: true` for mDNS records with "
      "that bit, and `rr`, the zone-file line, with `decode.rrprint: true`), `data` in zone-file "
      "presentation format as dig prints it (`10 mx1.example.org.`, `\"v=spf1 -all\"`, RFC 3597 "
      "`\\# 4 0A000001` for types without a layout). The OPT record is not listed; it is `edns`";
  add("answers", FieldType::Array, kRecords, {},
      STASH53_WRITE(if (has_query_sections(ev)) key<"answers">(w), write_records(w, ev, ev.answers, c)),
      nullptr);
  add("authorities", FieldType::Array, "as `answers`", {},
      STASH53_WRITE(if (has_query_sections(ev)) key<"authorities">(w),
                    write_records(w, ev, ev.authorities, c)),
      nullptr);
  add("prerequisites", FieldType::Array,
      "UPDATE only, in place of `answers`: the prerequisite section as `answers`, classes as on "
      "the wire (`ANY`, `NONE`: RFC 2136 §2.4)", {},
      STASH53_WRITE(if (has_update_sections(ev)) key<"prerequisites">(w),
                    write_records(w, ev, ev.answers, c)),
      nullptr);
  add("updates", FieldType::Array,
      "UPDATE only, in place of `authorities`: the update section as `answers` (class `ANY` or "
      "`NONE` deletes: RFC 2136 §2.5)", {},
      STASH53_WRITE(if (has_update_sections(ev)) key<"updates">(w),
                    write_records(w, ev, ev.authorities, c)),
      nullptr);
  add("additionals", FieldType::Array, "as `answers`", {},
      STASH53_WRITE(if (has_sections(ev)) key<"additionals">(w), write_records(w, ev, ev.additionals, c)),
      nullptr);
  add("tsig", FieldType::String,
      "the name of the TSIG key (RFC 8945) when the message is signed: the owner of its last "
      "additional record; the record itself is in `additionals`", {},
      STASH53_WRITE(if (const auto* t = tsig_of(ev)) key<"tsig">(w), w.text(ev.view(t->name))),
      STASH53_TEXT(const auto* t = tsig_of(ev); return t != nullptr && text_of(out, ev.view(t->name))));
  add("edns", FieldType::Object,
      "present when the message has an OPT record: `udp_size`, `version`, `do`, `ext_rcode`, and "
      "per option present: `nsid` (text, when printable) and `nsid_hex` (both `\"\"` for an NSID "
      "request), `ecs` `{family, source_prefix, scope_prefix, address}`, `cookie` `{client, "
      "server}` (hex), `ede` `[{code, name, text}]`, `padding` (length), `keepalive` (units of "
      "100 ms, `null` without a timeout), `options` `[{code, hex}]` for any other option",
      {}, STASH53_WRITE(if (has_sections(ev) && ev.edns.present) key<"edns">(w), write_edns(w, ev)),
      nullptr);
  add("malformed", FieldType::String,
      "absent when the message decoded cleanly; else the reason: `truncated-header`, "
      "`truncated-question`, `truncated-answer`, `truncated-authority`, `truncated-additional`, "
      "`bad-label-type`, `compression-loop`, `bad-pointer`, `name-too-long`, `bad-rdata` (a record "
      "whose RDATA does not fit its type; it is kept in RFC 3597 form), `bad-edns` (an OPT option "
      "that does not fit its layout, or a Client Subnet option against RFC 7871 §6: a prefix too "
      "long for its family, address bytes that do not match it; that option is kept). Every field decoded before the fault is kept; a cut header "
      "keeps the fields whose bytes arrived (`id` from 2 bytes, `msg_type` … `flags` from 4, then "
      "each count), without record arrays",
      {},
      STASH53_WRITE(if (ev.malformed != decode::Malformed::None) key<"malformed">(w),
                    w.plain(decode::malformed_name(ev.malformed))),
      STASH53_TEXT(return ev.malformed != decode::Malformed::None &&
                          text_of(out, decode::malformed_name(ev.malformed))),
      rank::kLast);
}

#undef STASH53_WRITE
#undef STASH53_TEXT

}  // namespace

std::string_view field_type_name(FieldType t) noexcept {
  switch (t) {
    case FieldType::String: return "string";
    case FieldType::Integer: return "integer";
    case FieldType::Number: return "number";
    case FieldType::Boolean: return "boolean";
    case FieldType::StringList: return "list of strings";
    case FieldType::Object: return "object";
    case FieldType::Array: return "array";
  }
  return "?";
}

Catalogue& Catalogue::instance() {
  // Function-local, so enrichers' fields registering from other files' static initialisers find
  // it constructed, with the decoded fields already in.
  static Catalogue* cat = [] {
    auto* c = new Catalogue;  // never destroyed: fields are read until the process ends
    add_core_fields(*c);
    return c;
  }();
  return *cat;
}

std::size_t Catalogue::add(Field f) {
  if (sealed_) throw std::logic_error("field catalogue: '" + f.name + "' added after first use");
  if (find(f.name) != nullptr) throw std::logic_error("field catalogue: '" + f.name + "' twice");
  if (f.write == nullptr && f.slot < 0) {
    if (slots_ >= decode::FieldValues::kMaxSlots)
      throw std::logic_error("field catalogue: more than kMaxSlots enricher fields");
    f.slot = static_cast<int>(slots_++);
  }
  fields_.push_back(std::move(f));
  return fields_.size() - 1;
}

const Field* Catalogue::find(std::string_view name) const {
  for (const auto& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}

void Catalogue::seal() const {
  // The pipeline's workers may be the first users, all at once.
  if (sealed_.load(std::memory_order_acquire)) return;
  std::call_once(seal_once_, [this] { build_entries(); });
}

void Catalogue::build_entries() const {
  for (const auto& f : fields_) ordered_.push_back(&f);
  std::stable_sort(ordered_.begin(), ordered_.end(),
                   [](const Field* a, const Field* b) { return a->rank < b->rank; });
  auto quoted = [](std::string_view key) { return fmt::format("\"{}\"", key); };
  for (const Field* f : ordered_) {
    Entry e{f->write, f->slot, f, {}, {}, {}};
    std::string_view name = f->name;
    for (std::size_t dot; (dot = name.find('.')) != std::string_view::npos; name.remove_prefix(dot + 1))
      e.parents.push_back(quoted(name.substr(0, dot)));
    e.quoted_leaf = quoted(name);
    e.quoted_name = quoted(f->name);
    entries_.push_back(std::move(e));
  }
  sealed_.store(true, std::memory_order_release);
}

const std::vector<const Field*>& Catalogue::ordered() const {
  seal();
  return ordered_;
}

std::string Catalogue::text_field_names() const {
  std::string names;
  for (const Field* f : ordered())
    if (f->has_text()) names += (names.empty() ? "" : ", ") + f->name;
  return names;
}

std::string Catalogue::markdown_table() const {
  std::string out = "| field | type | meaning |\n| --- | --- | --- |\n";
  for (const Field* f : ordered())
    out += fmt::format("| `{}` | {} | {} |\n", f->name, field_type_name(f->type), f->help);
  return out;
}

bool Field::append_text(const decode::DnsEvent& ev, std::string& out) const {
  if (text != nullptr) return text(ev, out);
  if (slot < 0 || !ev.values.has(static_cast<std::size_t>(slot))) return false;
  const auto& v = ev.values.get(static_cast<std::size_t>(slot));
  switch (type) {
    case FieldType::String: out += ev.view(v.text); break;
    case FieldType::StringList: {
      const auto start = out.size();
      out += ev.view(v.text);
      std::replace(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '\0', ',');
      break;
    }
    case FieldType::Integer: decode::text::append_uint(out, v.number); break;
    case FieldType::Number: out += ev.view(v.text); break;
    case FieldType::Boolean: out += v.number != 0 ? "true" : "false"; break;
    case FieldType::Object:
    case FieldType::Array: return false;
  }
  return true;
}

void Catalogue::write(EventWriter& w, const decode::DnsEvent& ev, WriteContext& ctx) const {
  seal();
  w.StartObject();
  std::size_t open = 0;  // blocks of entries_[last] that are open
  const Entry* last = nullptr;
  for (const Entry& e : entries_) {
    if (e.write != nullptr) {
      for (; open > 0; --open) w.EndObject();
      e.write(w, ev, ctx);
      continue;
    }
    if (!ev.values.has(static_cast<std::size_t>(e.slot))) continue;
    const Field& f = *e.field;
    // Close the blocks the previous field was in that this one is not, open the new ones.
    std::size_t common = 0;
    if (last != nullptr)
      while (common < open && common < e.parents.size() && last->parents[common] == e.parents[common])
        ++common;
    for (; open > common; --open) w.EndObject();
    for (; open < e.parents.size(); ++open) {
      w.quoted_key(e.parents[open]);
      w.StartObject();
    }
    last = &e;
    w.quoted_key(e.quoted_leaf);
    write_value(w, f, ev);
  }
  for (; open > 0; --open) w.EndObject();
  w.EndObject();
}

bool Catalogue::write_value(EventWriter& w, const Field& f, const decode::DnsEvent& ev) const {
  if (f.slot < 0 || !ev.values.has(static_cast<std::size_t>(f.slot))) return false;
  const auto& v = ev.values.get(static_cast<std::size_t>(f.slot));
  switch (f.type) {
    case FieldType::String: w.text(ev.view(v.text)); break;
    case FieldType::StringList: {
      w.StartArray();
      std::string_view items = ev.view(v.text);
      for (std::size_t end; !items.empty(); items.remove_prefix(std::min(items.size(), end + 1))) {
        end = std::min(items.find('\0'), items.size());
        w.text(items.substr(0, end));
      }
      w.EndArray();
      break;
    }
    case FieldType::Integer: w.Uint64(v.number); break;
    case FieldType::Number: {
      const std::string_view t = ev.view(v.text);
      w.raw(t);
      break;
    }
    case FieldType::Boolean: w.Bool(v.number != 0); break;
    case FieldType::Object:
    case FieldType::Array: w.Null(); break;
  }
  return true;
}

void Catalogue::write_flat(EventWriter& w, const decode::DnsEvent& ev, WriteContext& ctx) const {
  seal();
  auto& s = ctx.scratch;
  for (const Entry& e : entries_) {
    const Field& f = *e.field;
    s.clear();
    if (!f.has_text() || !f.append_text(ev, s)) continue;
    w.quoted_key(e.quoted_name);
    switch (f.type) {
      case FieldType::Integer:
      case FieldType::Number: w.raw(s); break;
      case FieldType::Boolean: w.Bool(s == "true"); break;
      default: w.text(s); break;
    }
  }
}

ValueField::ValueField(std::string name, FieldType type, int rank, std::string help,
                       std::vector<std::string> values) {
  Field f;
  f.name = std::move(name), f.type = type, f.rank = rank, f.help = std::move(help);
  f.values = std::move(values);
  auto& cat = Catalogue::instance();
  slot_ = static_cast<std::size_t>(cat.at(cat.add(std::move(f))).slot);
}

void ValueField::set_text(decode::DnsEvent& ev, std::string_view s) const {
  const auto ref = ev.add_text(s);  // before set(): the arena may move, the slot may be new
  ev.values.set(slot_).text = ref;
}

void ValueField::set_real(decode::DnsEvent& ev, double v) const {
  char buf[32];
  const auto end = fmt::format_to_n(buf, sizeof buf, "{}", v).out;
  set_text(ev, {buf, static_cast<std::size_t>(end - buf)});
}

void ValueField::add_item(decode::DnsEvent& ev, std::string_view item) const {
  if (!has(ev)) return set_text(ev, item);
  // Items of one list are appended together, so the list stays one slice of the arena.
  auto& v = ev.values.set(slot_);
  if (v.text.off + v.text.len != ev.text.size()) v.text = ev.add_text(ev.view(v.text));
  ev.text += '\0';
  ev.text += item;
  v.text.len += static_cast<std::uint32_t>(item.size() + 1);
}

}  // namespace stash53::event

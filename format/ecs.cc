// `ecs`: Elastic Common Schema 8 documents, for Kibana's and Elastic Security's DNS views.
// ECS fields where ECS has them, the rest under `stash53.*` (ECS's place for custom fields).
// Message: one document per message (`dns.type` query or answer); transaction: one per
// exchange, with `event.duration` in nanoseconds.
#include <openssl/evp.h>

#include <algorithm>

#include "capture/dnsmasq/joiner.h"
#include "decode/mnemonics.h"
#include "decode/text.h"
#include "format/format.h"

namespace stash53::format {
namespace {

using event::key;
using event::EventWriter;
using decode::DnsEvent;

constexpr const char* kEcsVersion = "8.11.0";

// A block of GeoIP fields of one endpoint (`geoip`, `server_geoip`), looked up once.
struct GeoFields {
  const event::Field *country_code, *country, *city, *lat, *lon, *asn, *as_org;
  explicit GeoFields(const std::string& block) {
    const auto& c = event::Catalogue::instance();
    country_code = c.find(block + ".country_code"), country = c.find(block + ".country");
    city = c.find(block + ".city"), lat = c.find(block + ".location.lat");
    lon = c.find(block + ".location.lon"), asn = c.find(block + ".asn"), as_org = c.find(block + ".as_org");
  }
};

bool has(const event::Field* f, const DnsEvent& ev) {
  return f != nullptr && f->slot >= 0 && ev.values.has(static_cast<std::size_t>(f->slot));
}

class EcsFormat final : public Format {
 public:
  explicit EcsFormat(const FormatOptions& o) : rrprint_(o.rrprint) {
    const auto& c = event::Catalogue::instance();
    registered_ = c.find("registered_domain"), suffix_ = c.find("public_suffix");
    nsid_ = c.find("nsid"), server_id_ = c.find("server_id"), class_ = c.find("event_class");
    reasons_ = c.find("security_reasons"), technique_ = c.find("mitre_technique");
    tactic_ = c.find("mitre_tactic");
    for (const char* name : {"source", "dnstap", "dnsmasq", "dhcp", "log", "alert", "edns", "zone",
                             "prerequisites", "updates", "tsig", "tunnel", "malformed"})
      custom_.push_back(c.find(name));
    questions_ = c.find("questions"), authorities_ = c.find("authorities");
    additionals_ = c.find("additionals");
  }

  void message(const DnsEvent& ev, Documents& out) override {
    auto& w = begin(ev, ev.ts_ns, out);
    if (ev.source == decode::EventSource::Dnsmasq) {
      write_log_event(w, ev, out);
    } else {
      // A query goes from the client; a cut header (no QR bit) counts as one.
      write_network(w, ev, ev.net.src, ev.net.sport, ev.net.dst, ev.net.dport, !ev.hdr.qr, out);
      write_dns(w, ev.hdr.qr ? nullptr : &ev, ev.hdr.qr ? &ev : nullptr, out);
    }
    write_observer_threat(w, ev);
    key<"stash53">(w), w.StartObject();
    write_custom(w, ev, out);
    w.EndObject();
    w.EndObject();
    out.end();
  }

  void exchange(const correlate::Exchange& x, Documents& out) override {
    const DnsEvent& first = x.first();
    auto& w = begin(first, first.ts_ns, out, &x);
    // source and destination as the exchange runs: from the client to the server.
    const auto& n = first.net;
    if (first.source == decode::EventSource::Dnsmasq)
      write_log_event(w, first, out);
    else if (first.hdr.qr)
      write_network(w, first, n.dst, n.dport, n.src, n.sport, true, out);
    else
      write_network(w, first, n.src, n.sport, n.dst, n.dport, true, out);
    if (first.source != decode::EventSource::Dnsmasq) write_dns(w, x.query, x.response, out);
    write_observer_threat(w, x.primary());
    key<"stash53">(w), w.StartObject();
    key<"status">(w), w.plain(correlate::status_name(x.status));
    if (x.query != nullptr) key<"retransmissions">(w), w.Uint(x.retransmissions);
    if (x.evicted) key<"evicted">(w), w.Bool(true);
    if (x.query != nullptr) {
      key<"query">(w), w.StartObject();
      write_custom(w, *x.query, out);
      w.EndObject();
    }
    if (x.response != nullptr) {
      key<"response">(w), w.StartObject();
      write_custom(w, *x.response, out);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    out.end();
  }

 private:
  EventWriter& begin(const DnsEvent& ev, std::int64_t ts_ns, Documents& out,
                     const correlate::Exchange* x = nullptr) {
    auto& ctx = out.context();
    ctx.rrprint = rrprint_;
    auto& w = out.begin();
    w.StartObject();
    key<"@timestamp">(w), event::write_timestamp(w, ts_ns, ctx);
    key<"ecs">(w), w.StartObject(), key<"version">(w), w.plain(kEcsVersion), w.EndObject();
    key<"event">(w), w.StartObject();
    const bool alert = (has(class_, ev) && text(class_, ev) == "security") || ev.alert != decode::Alert::None;
    key<"kind">(w), w.plain(alert ? "alert" : "event");
    // A dnsmasq log line is about the process; a DHCP message, network but no protocol trace.
    const bool line = ev.log_line != nullptr, info = line || ev.dhcp != nullptr;
    key<"category">(w), w.StartArray(), w.plain(line ? "process" : "network"), w.EndArray();
    key<"type">(w), w.StartArray(), w.plain(info ? "info" : "protocol"), w.EndArray();
    key<"dataset">(w), w.plain(x != nullptr ? "stash53.transaction" : "stash53.message");
    key<"sequence">(w), w.Uint64(ctx.n);
    if (x != nullptr) {
      if (x->query != nullptr) key<"start">(w), event::write_timestamp(w, x->query->ts_ns, ctx);
      if (x->response != nullptr) key<"end">(w), event::write_timestamp(w, x->response->ts_ns, ctx);
      if (x->status == correlate::Status::Answered) key<"duration">(w), w.Int64(x->latency_ns());
    }
    w.EndObject();
    return w;
  }

  void write_network(EventWriter& w, const DnsEvent& ev, const decode::IpAddress& src,
                     std::uint16_t sport, const decode::IpAddress& dst, std::uint16_t dport,
                     bool src_is_client, Documents& out) {
    auto& s = out.context().scratch;
    const bool tcp = ev.net.transport == decode::Transport::Tcp;
    key<"network">(w), w.StartObject();
    key<"type">(w), w.plain(ev.net.ipv6 ? "ipv6" : "ipv4");
    key<"transport">(w), w.plain(tcp ? "tcp" : "udp");
    key<"protocol">(w), w.plain(ev.proto == decode::Proto::Mdns    ? "mdns"
                                : ev.proto == decode::Proto::Llmnr ? "llmnr"
                                                                   : "dns");
    s.clear();
    community_id(s, ev.net.ipv6, src, sport, dst, dport, tcp);
    key<"community_id">(w), w.plain(s);
    w.EndObject();
    // The client's GeoIP block is `geoip`, the server's `server_geoip`.
    endpoint<"source">(w, ev, src, sport, src_is_client ? client_geo_ : server_geo_, s);
    endpoint<"destination">(w, ev, dst, dport, src_is_client ? server_geo_ : client_geo_, s);
    endpoint<"client">(w, ev, src_is_client ? src : dst, src_is_client ? sport : dport, client_geo_, s);
    endpoint<"server">(w, ev, src_is_client ? dst : src, src_is_client ? dport : sport, server_geo_, s);
  }

  template <event::QuotedKey K>
  void endpoint(EventWriter& w, const DnsEvent& ev, const decode::IpAddress& a, std::uint16_t port,
                const GeoFields& g, std::string& s) {
    key<K>(w), w.StartObject();
    key<"ip">(w), event::write_address(w, a, ev.net.ipv6, s);
    key<"port">(w), w.Uint(port);
    const auto& cat = event::Catalogue::instance();
    if (has(g.country_code, ev) || has(g.city, ev) || has(g.lat, ev)) {
      key<"geo">(w), w.StartObject();
      if (has(g.country_code, ev)) key<"country_iso_code">(w), cat.write_value(w, *g.country_code, ev);
      if (has(g.country, ev)) key<"country_name">(w), cat.write_value(w, *g.country, ev);
      if (has(g.city, ev)) key<"city_name">(w), cat.write_value(w, *g.city, ev);
      if (has(g.lat, ev) && has(g.lon, ev)) {
        key<"location">(w), w.StartObject();
        key<"lat">(w), cat.write_value(w, *g.lat, ev);
        key<"lon">(w), cat.write_value(w, *g.lon, ev);
        w.EndObject();
      }
      w.EndObject();
    }
    if (has(g.asn, ev) || has(g.as_org, ev)) {
      key<"as">(w), w.StartObject();
      if (has(g.asn, ev)) key<"number">(w), cat.write_value(w, *g.asn, ev);
      if (has(g.as_org, ev)) {
        key<"organization">(w), w.StartObject();
        key<"name">(w), cat.write_value(w, *g.as_org, ev);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
  }

  void write_dns(EventWriter& w, const DnsEvent* query, const DnsEvent* response, Documents& out) {
    const DnsEvent& q = query != nullptr ? *query : *response;  // the question's message
    const DnsEvent& m = response != nullptr ? *response : *query;  // the flags' and codes'
    auto& s = out.context().scratch;
    decode::MnemonicBuffer buf;
    key<"dns">(w), w.StartObject();
    if (m.hdr.size >= 2) {
      s.clear();
      decode::text::append_uint(s, m.hdr.id);
      key<"id">(w), w.plain(s);  // a keyword in ECS
    }
    if (m.hdr.size >= 4) {
      key<"op_code">(w), w.plain(decode::opcode_name(m.hdr.opcode, buf));
      key<"type">(w), w.plain(response != nullptr ? "answer" : "query");
      key<"header_flags">(w), w.StartArray();
      const auto& h = m.hdr;
      const bool llmnr = m.proto == decode::Proto::Llmnr;
      if (h.aa) w.plain(llmnr ? "C" : "AA");
      if (h.tc) w.plain("TC");
      if (h.rd) w.plain(llmnr ? "T" : "RD");
      if (h.ra && !llmnr) w.plain("RA");
      if (h.ad && !llmnr) w.plain("AD");
      if (h.cd && !llmnr) w.plain("CD");
      if (m.edns.present && m.edns.do_bit) w.plain("DO");
      w.EndArray();
      if (response != nullptr) key<"response_code">(w), w.plain(decode::rcode_name(m.rcode(), buf));
    }
    if (q.has_question) write_question(w, q, s);
    // (An UPDATE's second section is its prerequisites: under stash53.*.)
    if (response != nullptr && !response->answers.empty() && response->hdr.opcode != 5) {
      key<"answers">(w), w.StartArray();
      for (const auto& rr : response->answers) {
        w.StartObject();
        key<"name">(w), w.text(without_dot(response->view(rr.name)));
        key<"type">(w), w.plain(decode::type_name(rr.type, buf));
        key<"class">(w), w.plain(decode::class_name(rr.klass, buf));
        key<"ttl">(w), w.Uint(rr.ttl);
        key<"data">(w), w.text(response->view(rr.data));
        w.EndObject();
      }
      w.EndArray();
      // An `ip` field: only the A and AAAA records that decoded to an address (a bad one is
      // kept in RFC 3597 form, `\# 5 C633640A00`, which Elasticsearch would refuse).
      auto is_address = [&](const decode::Record& rr) {
        return (rr.type == 1 || rr.type == 28) && rr.data.len > 0 && response->view(rr.data)[0] != '\\';
      };
      if (std::any_of(response->answers.begin(), response->answers.end(), is_address)) {
        key<"resolved_ip">(w), w.StartArray();
        for (const auto& rr : response->answers)
          if (is_address(rr)) w.plain(response->view(rr.data));
        w.EndArray();
      }
    }
    w.EndObject();
  }

  void write_question(EventWriter& w, const DnsEvent& ev, std::string& s) {
    decode::MnemonicBuffer buf;
    const std::string_view name = without_dot(ev.view(ev.qname));
    key<"question">(w), w.StartObject();
    key<"name">(w), w.text(name);
    key<"type">(w), w.plain(decode::type_name(ev.qtype, buf));
    key<"class">(w), w.plain(decode::class_name(ev.qclass, buf));
    if (has(registered_, ev)) {
      const std::string registered(text(registered_, ev));
      key<"registered_domain">(w), w.text(registered);
      // The labels above the registered domain, as the query spelled them.
      if (name.size() > registered.size() + 1 && name[name.size() - registered.size() - 1] == '.') {
        s.assign(name.substr(0, name.size() - registered.size() - 1));
        key<"subdomain">(w), w.text(s);
      }
    }
    if (has(suffix_, ev)) key<"top_level_domain">(w), event::Catalogue::instance().write_value(w, *suffix_, ev);
    w.EndObject();
  }

  void write_observer_threat(EventWriter& w, const DnsEvent& ev) {
    const auto& cat = event::Catalogue::instance();
    key<"observer">(w), w.StartObject();
    key<"type">(w), w.plain("sensor");
    key<"vendor">(w), w.plain("stash53");
    key<"product">(w), w.plain("stash53");
    if (has(nsid_, ev)) key<"name">(w), cat.write_value(w, *nsid_, ev);
    w.EndObject();
    if (has(technique_, ev)) {
      key<"threat">(w), w.StartObject();
      key<"framework">(w), w.plain("MITRE ATT&CK");
      key<"technique">(w), w.StartObject();
      key<"id">(w), w.StartArray(), cat.write_value(w, *technique_, ev), w.EndArray();
      w.EndObject();
      if (has(tactic_, ev)) {
        key<"tactic">(w), w.StartObject();
        key<"name">(w), w.StartArray(), cat.write_value(w, *tactic_, ev), w.EndArray();
        w.EndObject();
      }
      w.EndObject();
    }
  }

  // A dnsmasq log event: the client it names (as source and client), the question, its outcome
  // and the addresses it answered; the log's own details go under stash53.*.
  void write_log_event(EventWriter& w, const DnsEvent& ev, Documents& out) {
    auto& s = out.context().scratch;
    if (ev.has_client && ev.dhcp == nullptr && ev.log_line == nullptr) {
      key<"network">(w), w.StartObject();
      key<"type">(w), w.plain(ev.net.ipv6 ? "ipv6" : "ipv4");
      key<"protocol">(w), w.plain("dns");
      w.EndObject();
      endpoint<"source">(w, ev, ev.net.src, ev.net.sport, client_geo_, s);
      endpoint<"client">(w, ev, ev.net.src, ev.net.sport, client_geo_, s);
    }
    const auto* q = ev.dnsmasq_query;
    if (q == nullptr) return;
    decode::MnemonicBuffer buf;
    key<"dns">(w), w.StartObject();
    const bool answered = q->outcome != capture::dnsmasq::Outcome::None;
    key<"type">(w), w.plain(answered ? "answer" : "query");
    if (answered) key<"response_code">(w), w.plain(decode::rcode_name(ev.rcode(), buf));
    if (ev.has_question) write_question(w, ev, s);
    bool any = false;
    for (const auto& a : q->answers)
      if (a.kind == capture::dnsmasq::AnswerKind::Ipv4 || a.kind == capture::dnsmasq::AnswerKind::Ipv6) {
        if (!any) key<"resolved_ip">(w), w.StartArray(), any = true;
        w.text(a.value);
      }
    if (any) w.EndArray();
    w.EndObject();
  }

  // What ECS has no field for, under stash53.*: the message's own details.
  void write_custom(EventWriter& w, const DnsEvent& ev, Documents& out) {
    const auto& cat = event::Catalogue::instance();
    auto& ctx = out.context();
    if (ev.source != decode::EventSource::Dnsmasq) key<"msg_type">(w), w.plain(ev.hdr.qr ? "response" : "query");
    // Each of these writes itself when the message has it (zone … updates: UPDATE only).
    for (const event::Field* f : custom_) f->write(w, ev, ctx);
    if (ev.questions.size() > 1) questions_->write(w, ev, ctx);  // ECS has one dns.question
    if (!ev.authorities.empty()) authorities_->write(w, ev, ctx);
    if (!ev.additionals.empty()) additionals_->write(w, ev, ctx);
    if (has(server_id_, ev)) key<"server_id">(w), cat.write_value(w, *server_id_, ev);
    if (has(class_, ev)) key<"event_class">(w), cat.write_value(w, *class_, ev);
    if (has(reasons_, ev)) key<"security_reasons">(w), cat.write_value(w, *reasons_, ev);
  }

  // Community ID v1 (https://github.com/corelight/community-id-spec): SHA-1 over seed 0, the
  // ordered endpoints, protocol and ports, base64. OpenSSL does the hash; no library does the
  // tuple, so it is here.
  static void community_id(std::string& out, bool ipv6, const decode::IpAddress& a, std::uint16_t ap,
                           const decode::IpAddress& b, std::uint16_t bp, bool tcp) {
    const std::size_t len = ipv6 ? 16 : 4;
    const int order = std::memcmp(a.bytes, b.bytes, len);
    const bool swap = order > 0 || (order == 0 && ap > bp);
    const auto& x = swap ? b : a;
    const auto& y = swap ? a : b;
    const std::uint16_t xp = swap ? bp : ap, yp = swap ? ap : bp;
    std::uint8_t buf[2 + 16 + 16 + 2 + 4];
    std::size_t n = 0;
    buf[n++] = 0, buf[n++] = 0;  // seed
    std::memcpy(buf + n, x.bytes, len), n += len;
    std::memcpy(buf + n, y.bytes, len), n += len;
    buf[n++] = tcp ? 6 : 17, buf[n++] = 0;
    buf[n++] = static_cast<std::uint8_t>(xp >> 8), buf[n++] = static_cast<std::uint8_t>(xp);
    buf[n++] = static_cast<std::uint8_t>(yp >> 8), buf[n++] = static_cast<std::uint8_t>(yp);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_Digest(buf, n, digest, &digest_len, EVP_sha1(), nullptr);
    out += "1:";
    decode::text::append_base64(out, digest, digest_len);
  }

  static std::string_view without_dot(std::string_view name) {
    // ECS names carry no trailing dot ("www.example.com"); the root stays ".".
    if (name.size() > 1 && name.back() == '.' && name[name.size() - 2] != '\\') name.remove_suffix(1);
    return name;
  }

  std::string_view text(const event::Field* f, const DnsEvent& ev) {
    scratch_.clear();
    (void)f->append_text(ev, scratch_);
    return scratch_;
  }

  bool rrprint_;
  std::string scratch_;
  GeoFields client_geo_{"geoip"}, server_geo_{"server_geoip"};
  const event::Field *registered_, *suffix_, *nsid_, *server_id_, *class_, *reasons_, *technique_,
      *tactic_, *questions_, *authorities_, *additionals_;
  std::vector<const event::Field*> custom_;  // decoded fields written under stash53.* as they are
};

}  // namespace

STASH53_REGISTER_FORMAT("ecs", EcsFormat,
                        "Elastic Common Schema 8: `event.*`, `network.*` (with `community_id`), "
                        "`source`/`destination`/`client`/`server` `{ip, port, geo, as}`, `dns.*`, "
                        "`observer.*`, `threat.*`; the rest under `stash53.*`; transaction with "
                        "`event.duration` in ns",
                        Mode::Message, Mode::Transaction);

}  // namespace stash53::format

#include "capture/dnsmasq/joiner.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace stash53::capture::dnsmasq {

namespace {

constexpr std::uint64_t kSynthetic = 1ull << 32;  // ids above any serial or xid
constexpr std::size_t kNoSerialWindow = 64;
constexpr std::int64_t kDhcpScanEveryNs = 1'000'000'000;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// The reverse-lookup name of an address (RFC 1035 §3.5, RFC 3596 §2.5), empty if `addr` is
// none: F_REVERSE answers name the address, their query the arpa name.
std::string reverse_name(std::string_view addr) {
  char buf[64];
  unsigned char a[16];
  if (addr.empty() || addr.size() >= sizeof buf) return {};
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  std::string out;
  if (inet_pton(AF_INET, buf, a) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(a[i]) + '.';
    return out + "in-addr.arpa";
  }
  if (inet_pton(AF_INET6, buf, a) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      out += kHex[a[i] & 0xf];
      out += '.';
      out += kHex[a[i] >> 4];
      out += '.';
    }
    return out + "ip6.arpa";
  }
  return {};
}

Outcome outcome_of(const DnsQueryEvent& ev, std::string& answered_by) {
  bool nx = false, data = false, nodata = false, cname = false;
  for (const auto& a : ev.answers) {
    if (a.kind == AnswerKind::Validation || a.kind == AnswerKind::Duplicate ||
        a.kind == AnswerKind::SetAdd)
      continue;
    if (answered_by.empty()) answered_by = a.source;
    switch (a.kind) {
      case AnswerKind::Rcode:
        if (a.value == "SERVFAIL") return Outcome::ServFail;
        if (a.value == "REFUSED") return Outcome::Refused;
        return Outcome::NotImp;
      case AnswerKind::Nxdomain:
        nx = true;
        break;
      case AnswerKind::Nodata:
      case AnswerKind::NodataIpv4:
      case AnswerKind::NodataIpv6:
        nodata = true;
        break;
      case AnswerKind::Type:
        if (a.value == "<CNAME>")
          cname = true;
        else
          data = true;
        break;
      default:
        data = true;
        break;
    }
  }
  // A chain ending in NXDOMAIN is NXDOMAIN (as dig's status); a CNAME alone is still NOERROR.
  if (nx) return Outcome::NxDomain;
  if (data) return Outcome::NoError;
  if (nodata) return Outcome::NoData;
  if (cname) return Outcome::NoError;
  return Outcome::None;
}

// log6_packet's strings that are not hostnames (rfc3315.c).
bool is_v6_reason(std::string_view s) noexcept {
  return s == "ignored" || s == "no addresses available" || s == "lease not found" ||
         s == "deprecated" || s == "address invalid" || s == "confirm failed";
}

void fill_message(DhcpEvent& ev, const DhcpMessage& m, std::int64_t time_ns, std::int64_t pid,
                  std::string_view host) {
  ev.time_ns = time_ns;
  ev.pid = pid;
  ev.host = host;
  ev.has_xid = m.has_xid;
  ev.xid = m.xid;
  ev.format = m.format;
  ev.message_type = m.type;
  ev.iface = m.iface;
  ev.ip = m.address;
  if (m.format == Format::Dhcp6Message)
    ev.duid = m.client;
  else if (!m.client.empty())
    ev.mac = m.client;
  const bool hostname = m.format == Format::Dhcp6Message   ? !is_v6_reason(m.text)
                        : m.format == Format::Dhcp4Message ? m.type == "DHCPACK"
                                                           : m.format == Format::RaSlaac;
  (hostname ? ev.hostname : ev.reason) = m.text;
}

void apply_detail(DhcpEvent& ev, const DhcpDetail& d) {
  switch (d.kind) {
    case DetailKind::AvailableRange:
    case DetailKind::AvailableSubnet:
      ev.available = d.value;
      break;
    case DetailKind::VendorClass:
      ev.vendor_class = d.value;
      break;
    case DetailKind::UserClass:
      ev.user_class = d.value;
      break;
    case DetailKind::ClientName:
      ev.client_name = d.value;
      break;
    case DetailKind::ClientMac:
      ev.mac = d.value;
      break;
    case DetailKind::Tags:
      ev.tags = d.value;
      break;
    case DetailKind::RequestedOptions:
      ev.requested_options += d.value;
      break;  // split lines
    case DetailKind::NextServer:
      ev.next_server = d.value;
      break;
    case DetailKind::BroadcastResponse:
      ev.broadcast = true;
      break;
    case DetailKind::SentOption:
    case DetailKind::NestedOption: {
      const bool nested = d.kind == DetailKind::NestedOption;
      ev.sent.push_back({d.option, std::string(d.option_name), std::string(d.value), nested});
      std::uint32_t secs = 0;
      if (!nested && d.option == 51 && parse_duration(d.value, secs)) {  // RFC 2132 lease time
        ev.lease_time_s = secs;
        ev.lease_time_text = d.value;
      } else if (nested && d.option_name == "iaaddr") {  // log6_opts: "%s PL=%u VL=%u"
        const auto vl = d.value.find("VL=");
        const std::string_view v = vl == std::string_view::npos ? "" : d.value.substr(vl + 3);
        if (!v.empty() && v.size() <= 9 &&
            std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          std::uint32_t n = 0;  // at most 9 digits: no overflow
          for (const char c : v) n = n * 10 + static_cast<std::uint32_t>(c - '0');
          ev.lease_time_s = n;
          ev.lease_time_text = v;
        }
      }
      break;
    }
    case DetailKind::NoClientMac:
      ev.details.emplace_back(detail_kind_name(d.kind));
      break;
    case DetailKind::BootfileName:
    case DetailKind::ServerName:
      ev.details.push_back(std::string(detail_kind_name(d.kind)) + ": " + std::string(d.value));
      break;
    case DetailKind::Other:
      ev.details.emplace_back(d.value);
      break;
  }
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4), 0 if there is none. (RapidJSON
// can tell whether text is UTF-8, not mend it; this is the mending.)
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {  // no overlong form, no surrogate
    n = 3, lo = c == 0xE0 ? 0xA0 : lo, hi = c == 0xED ? 0x9F : hi;
  } else if (c >= 0xF0 && c <= 0xF4) {  // no overlong form, nothing past U+10FFFF
    n = 4, lo = c == 0xF0 ? 0x90 : lo, hi = c == 0xF4 ? 0x8F : hi;
  } else {
    return 0;
  }
  if (i + n > s.size() || at(1) < lo || at(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((at(k) & 0xC0) != 0x80) return 0;
  return n;
}

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, into `out`;
// false (and `out` untouched) if there is none. Events go into JSON documents, which must be
// UTF-8; dnsmasq and syslog pass a name's or a client's bytes on as they came.
bool replace_invalid_utf8(std::string_view s, std::string& out) {
  std::size_t i = 0, n = 0;
  while (i < s.size() && (n = utf8_length(s, i)) > 0) i += n;
  if (i == s.size()) return false;
  out.assign(s.substr(0, i));
  while (i < s.size()) {
    n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out += s.substr(i, n);
    }
    i += n;
  }
  return true;
}

}  // namespace

std::string_view outcome_name(Outcome outcome) noexcept {
  static constexpr std::string_view kNames[] = {"",         "NOERROR", "NXDOMAIN", "NODATA",
                                                "SERVFAIL", "REFUSED", "NOTIMP"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(Outcome::NotImp) + 1);
  return kNames[static_cast<std::size_t>(outcome)];
}

Joiner::Joiner(const JoinerOptions& options, Sink sink)
    : options_(options), sink_(std::move(sink)) {
  options_.max_held_queries = std::max<std::size_t>(options_.max_held_queries, 1);
  options_.max_held_dhcp = std::max<std::size_t>(options_.max_held_dhcp, 1);
}

void Joiner::feed(std::string_view raw, std::int64_t arrival_ns) noexcept {
  std::string valid;  // only for the rare line that is not UTF-8
  if (replace_invalid_utf8(raw, valid)) raw = valid;
  const Line line = parse_line(raw, options_.clock);
  const Prefix& p = line.prefix;
  if (!p.tag.empty() && !p.tag.starts_with("dnsmasq")) {
    counters_.other_programs.add();
    return;
  }
  const LineInfo li{p.has_time ? p.time_ns : arrival_ns, p.pid, p.host, p.tag, p.severity};
  now_ns_ = std::max(now_ns_, li.time_ns);
  expire(now_ns_);
  const Record rec = classify(line.message, p.tag);
  counters_.lines[static_cast<std::size_t>(format_of(rec))].add();

  const auto info = [&](Format format, int severity, std::string_view text) {
    InfoEvent ev;
    ev.time_ns = li.time_ns;
    ev.pid = li.pid;
    ev.host = li.host;
    ev.tag = li.tag;
    ev.format = format;
    ev.severity = li.severity >= 0 ? li.severity : severity;
    std::size_t cut = std::min(text.size(), kMaxInfoText);
    while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;  // not inside a UTF-8 sequence
    ev.text = text.substr(0, cut);
    sink_(Event{std::move(ev)});
  };
  if (const auto* q = std::get_if<DnsQuery>(&rec))
    on_dns(q->tag, rec, li);
  else if (const auto* f = std::get_if<DnsForwarded>(&rec))
    on_dns(f->tag, rec, li);
  else if (const auto* a = std::get_if<DnsAnswer>(&rec))
    on_dns(a->tag, rec, li);
  else if (const auto* m = std::get_if<DhcpMessage>(&rec))
    on_dhcp_message(*m, li);
  else if (const auto* d = std::get_if<DhcpDetail>(&rec))
    on_dhcp_detail(*d, li);
  else if (const auto* i = std::get_if<Info>(&rec))
    info(i->format, i->severity, i->text);
  else
    info(Format::Unknown, -1, std::get<Unknown>(rec).text);
}

Joiner::HeldQuery* Joiner::find_query(const Key& key) {
  const auto it = queries_.find(key);
  return it == queries_.end() ? nullptr : &it->second;
}

Joiner::HeldQuery& Joiner::open_query(const Key& key, const LineInfo& li) {
  HeldQuery& h = queries_[key];
  h.ev = {};
  h.seq = ++seq_;
  h.ev.time_ns = li.time_ns;
  h.ev.pid = li.pid;
  h.ev.host = li.host;
  query_order_.emplace_back(key, h.seq);
  while (queries_.size() > options_.max_held_queries && !query_order_.empty()) {
    const auto [old, seq] = query_order_.front();
    query_order_.pop_front();
    if (const HeldQuery* o = find_query(old); o != nullptr && o->seq == seq) {
      counters_.evicted_queries.add();
      complete_query(old);
    }
  }
  return h;
}

void Joiner::complete_query(const Key& key) {
  const auto it = queries_.find(key);
  if (it == queries_.end()) return;
  DnsQueryEvent ev = std::move(it->second.ev);
  queries_.erase(it);
  if (const auto c = chain_.find(key.pid); c != chain_.end() && c->second == key) chain_.erase(c);
  ev.outcome = outcome_of(ev, ev.answered_by);
  sink_(Event{std::move(ev)});
}

Joiner::HeldQuery* Joiner::match_no_serial(std::int64_t pid, std::string_view name) {
  const std::string reverse = reverse_name(name);
  for (auto it = no_serial_.rbegin(); it != no_serial_.rend(); ++it) {
    HeldQuery* h = find_query(it->first);
    if (h == nullptr || h->seq != it->second || h->ev.pid != pid) continue;
    if (iequals(h->ev.qname, name) || (!reverse.empty() && iequals(h->ev.qname, reverse))) return h;
  }
  // The next link of a chain names the CNAME's target, which dnsmasq did not print.
  if (const auto c = chain_.find(pid); c != chain_.end()) return find_query(c->second);
  return nullptr;
}

void Joiner::on_dns(const QueryTag& tag, const Record& rec, const LineInfo& li) {
  const Key serial_key{li.pid, tag.serial};
  if (const auto* q = std::get_if<DnsQuery>(&rec)) {
    Key key = serial_key;
    if (tag.has_serial)
      complete_query(key);  // a reused (pid, serial): a restarted dnsmasq
    else
      key.id = kSynthetic | synthetic_++;
    HeldQuery& h = open_query(key, li);
    h.ev.has_serial = tag.has_serial;
    h.ev.serial = tag.serial;
    h.ev.client = tag.client;
    h.ev.client_port = tag.port;
    h.ev.source = q->source;
    h.ev.qname = q->name;
    h.ev.qtype = q->qtype;
    h.ev.from = q->from;
    if (!tag.has_serial) {
      no_serial_.emplace_back(key, h.seq);
      if (no_serial_.size() > kNoSerialWindow) no_serial_.pop_front();
    }
    chain_.erase(li.pid);
    return;
  }
  const auto* fwd = std::get_if<DnsForwarded>(&rec);
  const auto* ans = std::get_if<DnsAnswer>(&rec);
  const std::string_view name = fwd != nullptr ? fwd->name : ans->name;
  HeldQuery* h = tag.has_serial ? find_query(serial_key) : match_no_serial(li.pid, name);
  if (h == nullptr) {
    counters_.orphan_answers.add();
    Key key = serial_key;
    if (!tag.has_serial) key.id = kSynthetic | synthetic_++;
    h = &open_query(key, li);
    h->ev.has_query = false;
    h->ev.has_serial = tag.has_serial;
    h->ev.serial = tag.serial;
    h->ev.client = tag.client;
    h->ev.client_port = tag.port;
    if (!tag.has_serial) {
      no_serial_.emplace_back(key, h->seq);
      if (no_serial_.size() > kNoSerialWindow) no_serial_.pop_front();
    }
  }
  if (fwd != nullptr) {
    h->ev.upstreams.push_back({std::string(fwd->source), std::string(fwd->server)});
    return;
  }
  h->ev.answers.push_back({std::string(ans->source), std::string(ans->name), ans->kind,
                           std::string(ans->value), std::string(ans->extra)});
  if (tag.has_serial) return;
  if (ans->kind == AnswerKind::Type && ans->value == "<CNAME>") {
    for (const auto& [key, seq] : no_serial_)
      if (seq == h->seq) chain_[li.pid] = key;
  } else {
    chain_.erase(li.pid);
  }
}

void Joiner::emit(DhcpEvent&& ev) { sink_(Event{std::move(ev)}); }

void Joiner::complete_dhcp(std::int64_t pid, std::uint64_t xid, bool drafts_too) {
  const auto it = dhcp_.find(Key{pid, xid});
  if (it == dhcp_.end()) return;
  HeldDhcp& h = it->second;
  if (h.open) emit(std::move(*h.open));
  h.open.reset();
  if (drafts_too && h.draft) {
    counters_.orphan_dhcp_details.add();
    emit(std::move(*h.draft));
    h.draft.reset();
  }
  if (h.draft) return;
  dhcp_.erase(it);
  if (const auto x = dhcp_xid_.find(pid); x != dhcp_xid_.end() && x->second == xid)
    dhcp_xid_.erase(x);
}

// dnsmasq serves one DHCP packet at a time per process: a line of another xid ends the last
// message's details (its own client-side details may still wait for a ping).
void Joiner::end_other_xid(std::int64_t pid, std::uint64_t xid) {
  const auto it = dhcp_xid_.find(pid);
  if (it != dhcp_xid_.end() && it->second != xid) complete_dhcp(pid, it->second, false);
  dhcp_xid_[pid] = xid;
}

void Joiner::on_dhcp_message(const DhcpMessage& m, const LineInfo& li) {
  if (!m.has_xid) {  // RA, or no --log-dhcp: no detail lines to wait for
    if (const auto it = dhcp_xid_.find(li.pid); it != dhcp_xid_.end())
      complete_dhcp(li.pid, it->second, false);
    dhcp_xid_.erase(li.pid);
    DhcpEvent ev;
    fill_message(ev, m, li.time_ns, li.pid, li.host);
    emit(std::move(ev));
    return;
  }
  end_other_xid(li.pid, m.xid);
  HeldDhcp& h = dhcp_[Key{li.pid, m.xid}];
  if (h.open) emit(std::move(*h.open));
  DhcpEvent ev = h.draft ? std::move(*h.draft) : DhcpEvent{};
  h.draft.reset();
  fill_message(ev, m, li.time_ns, li.pid, li.host);
  h.open = std::move(ev);
  h.last_ns = li.time_ns;
  if (dhcp_.size() > options_.max_held_dhcp) expire(std::numeric_limits<std::int64_t>::min());
}

void Joiner::on_dhcp_detail(const DhcpDetail& d, const LineInfo& li) {
  end_other_xid(li.pid, d.xid);
  HeldDhcp& h = dhcp_[Key{li.pid, d.xid}];
  h.last_ns = li.time_ns;
  const auto start_draft = [&]() -> DhcpEvent& {
    if (!h.draft) {
      h.draft.emplace();
      h.draft->time_ns = li.time_ns;
      h.draft->pid = li.pid;
      h.draft->host = li.host;
      h.draft->has_xid = true;
      h.draft->xid = d.xid;
    }
    return *h.draft;
  };
  if (is_client_side(d.kind)) {
    // The client's next packet has begun: the message before it has all its details.
    if (h.open) emit(std::move(*h.open));
    h.open.reset();
    apply_detail(start_draft(), d);
  } else {
    apply_detail(h.open ? *h.open : start_draft(), d);
  }
  if (dhcp_.size() > options_.max_held_dhcp) expire(std::numeric_limits<std::int64_t>::min());
}

// now_ns == INT64_MIN: only make room below max_held_dhcp (the oldest out first).
void Joiner::expire(std::int64_t now_ns) {
  const bool evicting = now_ns == std::numeric_limits<std::int64_t>::min();
  while (!evicting && !query_order_.empty()) {
    const auto [key, seq] = query_order_.front();
    const HeldQuery* h = find_query(key);
    if (h != nullptr && h->seq == seq && now_ns - h->ev.time_ns <= options_.dns_timeout_ns) break;
    query_order_.pop_front();
    if (h != nullptr && h->seq == seq) complete_query(key);
  }
  // DHCP entries are few (one open message per process, plus waiting details): a scan of all
  // of them once a second of log time, or to evict.
  if (!evicting && now_ns - last_dhcp_scan_ns_ < kDhcpScanEveryNs) return;
  if (!evicting) last_dhcp_scan_ns_ = now_ns;
  std::vector<std::pair<std::int64_t, Key>> due;
  for (const auto& [key, h] : dhcp_)
    if (evicting || now_ns - h.last_ns > options_.dhcp_timeout_ns) due.emplace_back(h.last_ns, key);
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [last, key] : due) {
    if (evicting && dhcp_.size() <= options_.max_held_dhcp) break;
    if (evicting) counters_.evicted_dhcp.add();
    complete_dhcp(key.pid, key.id, true);
  }
}

void Joiner::advance(std::int64_t now_ns) noexcept {
  if (now_ns <= now_ns_) return;
  now_ns_ = now_ns;
  expire(now_ns);
}

void Joiner::flush() noexcept {
  while (!query_order_.empty()) {
    const auto [key, seq] = query_order_.front();
    query_order_.pop_front();
    if (const HeldQuery* h = find_query(key); h != nullptr && h->seq == seq) complete_query(key);
  }
  queries_.clear();
  no_serial_.clear();
  chain_.clear();
  std::vector<std::pair<std::int64_t, Key>> all;
  for (const auto& [key, h] : dhcp_) all.emplace_back(h.last_ns, key);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [last, key] : all) complete_dhcp(key.pid, key.id, true);
  dhcp_.clear();
  dhcp_xid_.clear();
}

}  // namespace stash53::capture::dnsmasq

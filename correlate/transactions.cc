#include "correlate/transactions.h"

#include <algorithm>
#include <string_view>

namespace stash53::correlate {
namespace {

bool is_multicast(const decode::IpAddress& a, bool ipv6) {
  return ipv6 ? a.bytes[0] == 0xff : (a.bytes[0] & 0xf0) == 0xe0;  // ff00::/8, 224.0.0.0/4
}

bool same_name(std::string_view a, std::string_view b) {
  // DNS names compare case-insensitively (RFC 4343); a server need not keep 0x20 case.
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

bool same_question(const decode::DnsEvent& a, const decode::DnsEvent& b) {
  if (a.has_question != b.has_question) return false;
  return !a.has_question || (a.qtype == b.qtype && a.qclass == b.qclass &&
                             same_name(a.view(a.qname), b.view(b.qname)));
}

}  // namespace

std::string_view status_name(Status s) noexcept {
  switch (s) {
    case Status::Answered: return "answered";
    case Status::Unanswered: return "unanswered";
    case Status::Unsolicited: return "unsolicited";
    case Status::Multicast: return "multicast";
    case Status::Logged: return "logged";
  }
  return "?";
}

struct TransactionTable::Pending {
  decode::DnsEvent query;  // a copy: the decoder's event is refilled for the next packet
  FlowKey key{};
  std::uint32_t retransmissions = 0;
  std::uint64_t serial = 0;  // 0 while free
  std::size_t bytes = 0;
};

std::size_t TransactionTable::FlowHash::operator()(const FlowKey& k) const noexcept {
  return std::hash<std::string_view>()({reinterpret_cast<const char*>(&k), sizeof k});
}

TransactionTable::TransactionTable(TransactionOptions options) : options_(options) {}
TransactionTable::~TransactionTable() = default;

TransactionTable::FlowKey TransactionTable::query_key(const decode::DnsEvent& ev) {
  FlowKey k{};
  const auto& n = ev.net;
  const std::size_t len = n.ipv6 ? 16 : 4;
  std::copy_n(n.src.bytes, len, k.client);
  k.client_port = n.sport;
  // An LLMNR query goes to a multicast group and is answered by whoever has the name, from
  // its own address (RFC 4795 §2): its server is left open.
  if (!(ev.proto == decode::Proto::Llmnr && is_multicast(n.dst, n.ipv6)))
    std::copy_n(n.dst.bytes, len, k.server);
  k.server_port = n.dport;
  k.id = ev.hdr.id;
  k.transport = static_cast<std::uint8_t>(n.transport);
  k.ipv6 = n.ipv6;
  return k;
}

TransactionTable::FlowKey TransactionTable::response_key(const decode::DnsEvent& ev) {
  FlowKey k{};
  const auto& n = ev.net;
  const std::size_t len = n.ipv6 ? 16 : 4;
  std::copy_n(n.dst.bytes, len, k.client);
  std::copy_n(n.src.bytes, len, k.server);
  k.client_port = n.dport;
  k.server_port = n.sport;
  k.id = ev.hdr.id;
  k.transport = static_cast<std::uint8_t>(n.transport);
  k.ipv6 = n.ipv6;
  return k;
}

void TransactionTable::observe(const decode::DnsEvent& ev, ExchangeSink& out) {
  now_ns_ = std::max(now_ns_, ev.ts_ns);
  expire_until(now_ns_, out);
  if (ev.source == decode::EventSource::Dnsmasq) {  // nothing to pair: passed on, never held
    logged_.add();
    Exchange x;
    x.query = &ev;
    x.status = Status::Logged;
    return out.on_exchange(x);
  }
  if (ev.proto == decode::Proto::Mdns) {
    // Multicast questions and announcements, answered by many or by none (RFC 6762): no
    // exchange can be told from them, so none is invented.
    multicast_.add();
    Exchange x;
    (ev.hdr.qr ? x.response : x.query) = &ev;
    x.status = Status::Multicast;
    return out.on_exchange(x);
  }
  if (ev.hdr.qr)
    answer(ev, out);
  else
    hold(ev, out);
}

void TransactionTable::advance(std::int64_t now_ns, ExchangeSink& out) {
  now_ns_ = std::max(now_ns_, now_ns);
  expire_until(now_ns_, out);
}

void TransactionTable::hold(const decode::DnsEvent& ev, ExchangeSink& out) {
  const FlowKey key = query_key(ev);
  const std::int64_t deadline = ev.ts_ns + options_.timeout_ns;
  if (const auto it = table_.find(key); it != table_.end())
    for (Pending* p : it->second)
      if (same_question(p->query, ev)) {
        // The client asked again before an answer: one exchange, timed from the first query,
        // waiting a full timeout from the last.
        ++p->retransmissions;
        retransmitted_.add();
        p->serial = ++serial_;
        deadlines_.push_back({deadline, p, p->serial});
        return;
      }
  const std::size_t need = sizeof(Pending) + ev.text.size() +
                           (ev.answers.size() + ev.authorities.size() + ev.additionals.size()) *
                               sizeof(decode::Record);
  while (size() > 0 && (size() >= options_.max_entries || bytes() + need > options_.max_bytes))
    evict_oldest(out);
  Pending* p = take_free();
  p->query = ev;
  p->key = key;
  p->retransmissions = 0;
  p->serial = ++serial_;
  p->bytes = need;
  table_[key].push_back(p);
  entries_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(need, std::memory_order_relaxed);
  deadlines_.push_back({deadline, p, p->serial});
}

void TransactionTable::answer(const decode::DnsEvent& ev, ExchangeSink& out) {
  FlowKey key = response_key(ev);
  auto it = table_.find(key);
  if (it == table_.end() && ev.proto == decode::Proto::Llmnr) {
    std::fill(std::begin(key.server), std::end(key.server), std::uint8_t{0});
    it = table_.find(key);
  }
  Pending* match = nullptr;
  if (it != table_.end()) {
    const Bucket& bucket = it->second;
    if (!ev.has_question && bucket.size() == 1)
      match = bucket.front();  // an error response without its question (FORMERR, RFC 6891 §7)
    else
      for (Pending* p : bucket)
        if (same_question(p->query, ev)) {
          match = p;
          break;
        }
  }
  Exchange x;
  x.response = &ev;
  if (match == nullptr) {
    unsolicited_.add();
    x.status = Status::Unsolicited;
    return out.on_exchange(x);
  }
  matched_.add();
  x.query = &match->query;
  x.retransmissions = match->retransmissions;
  x.status = Status::Answered;
  out.on_exchange(x);
  remove(match);
}

void TransactionTable::expire_until(std::int64_t now_ns, ExchangeSink& out) {
  while (!deadlines_.empty()) {
    const Deadline d = deadlines_.front();
    if (d.serial != d.entry->serial) {  // answered, re-armed by a retransmission, or reused
      deadlines_.pop_front();
      continue;
    }
    if (d.at > now_ns) break;
    deadlines_.pop_front();
    emit_unanswered(d.entry, false, out);
  }
}

void TransactionTable::evict_oldest(ExchangeSink& out) {
  while (!deadlines_.empty()) {
    const Deadline d = deadlines_.front();
    deadlines_.pop_front();
    if (d.serial == d.entry->serial) return emit_unanswered(d.entry, true, out);
  }
}

void TransactionTable::flush(ExchangeSink& out) {
  while (!deadlines_.empty()) {
    const Deadline d = deadlines_.front();
    deadlines_.pop_front();
    if (d.serial == d.entry->serial) emit_unanswered(d.entry, false, out);
  }
}

void TransactionTable::emit_unanswered(Pending* p, bool evicted, ExchangeSink& out) {
  (evicted ? evicted_ : unanswered_).add();
  Exchange x;
  x.query = &p->query;
  x.status = Status::Unanswered;
  x.retransmissions = p->retransmissions;
  x.evicted = evicted;
  out.on_exchange(x);
  remove(p);
}

void TransactionTable::remove(Pending* p) {
  const auto it = table_.find(p->key);
  if (it != table_.end()) {
    auto& bucket = it->second;
    bucket.erase(std::find(bucket.begin(), bucket.end(), p));
    if (bucket.empty()) table_.erase(it);
  }
  entries_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(p->bytes, std::memory_order_relaxed);
  p->serial = 0;
  free_.push_back(p);
}

TransactionTable::Pending* TransactionTable::take_free() {
  if (free_.empty()) {
    all_.push_back(std::make_unique<Pending>());
    return all_.back().get();
  }
  Pending* p = free_.back();
  free_.pop_back();
  return p;
}

void TransactionTable::register_metrics(MetricRegistry& r) const {
  r.add({"transactions", "", "matched", {}, "responses paired with their query"}, matched_);
  r.add({"transactions", "", "unanswered", {}, "queries without a response within the timeout or "
         "before shutdown"}, unanswered_);
  r.add({"transactions", "", "unsolicited", {}, "responses to no query held"}, unsolicited_);
  r.add({"transactions", "", "retransmitted", {}, "repeats of a query still waiting (one exchange)"},
        retransmitted_);
  r.add({"transactions", "", "evicted", {}, "queries emitted unanswered early: the table was full"},
        evicted_);
  r.add({"transactions", "", "multicast", {}, "mDNS messages, passed on unpaired"}, multicast_);
  r.add({"transactions", "", "logged", {}, "dnsmasq log events, passed on as they are",
         MetricType::Counter, true},
        logged_);
  r.add({"transactions", "", "pending", {}, "queries held now", MetricType::Gauge},
        [this] { return entries_.load(std::memory_order_relaxed); });
  r.add({"transactions", "", "pending-bytes", {}, "their memory, estimated", MetricType::Gauge},
        [this] { return bytes_.load(std::memory_order_relaxed); });
}

}  // namespace stash53::correlate

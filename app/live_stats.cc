#include "app/live_stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "decode/mnemonics.h"
#include "event/fields.h"

namespace stash53::app {
namespace {

// The page, made from app/live/index.html by the build as one raw string literal
// (R"stash53page(…)stash53page") in <build>/app/live_page.inc.
constexpr std::string_view kPage =
#include "live_page.inc"
    ;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const event::Field* field(std::string_view name) { return event::Catalogue::instance().find(name); }

// Appends the field's text to `out` (cleared first); false when absent or not built.
bool text_of(const event::Field* f, const decode::DnsEvent& ev, std::string& out) {
  out.clear();
  return f != nullptr && f->append_text(ev, out);
}

void key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_top(Writer& w, std::string_view name, const TopN& top) {
  key(w, name);
  w.StartArray();
  for (const auto& item : top.top(LiveStats::kTopShown)) {
    w.StartObject();
    key(w, "key"), str(w, item.key);
    key(w, "count"), w.Uint64(item.count);
    key(w, "error"), w.Uint64(item.error);
    w.EndObject();
  }
  w.EndArray();
}

// The registry's values this page shows: a pipeline metric summed over its labels, or an
// emitter's; absent ones are written as null.
struct Value {
  bool present = false;
  std::uint64_t value = 0;
  void add(std::uint64_t v) { present = true, value += v; }
};
void write_value(Writer& w, std::string_view name, const Value& v) {
  key(w, name);
  if (v.present)
    w.Uint64(v.value);
  else
    w.Null();
}

struct EmitterHealth {
  std::string name;
  Value up, queued, sent, filtered, dropped_full, dropped_error, reconnects, depth;
  Value* by_metric(std::string_view metric) {
    if (metric == "up") return &up;
    if (metric == "queued") return &queued;
    if (metric == "sent") return &sent;
    if (metric == "filtered") return &filtered;
    if (metric == "dropped-full") return &dropped_full;
    if (metric == "dropped-error") return &dropped_error;
    if (metric == "reconnects") return &reconnects;
    if (metric == "queue-depth" || metric == "depth") return &depth;
    return nullptr;
  }
};

}  // namespace

LiveStats::LiveStats(std::size_t top_k, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(system_seconds)),
      qname_(field("qname")),
      qtype_(field("qtype")),
      registered_(field("registered_domain")),
      s_addr_(field("s_addr")),
      d_addr_(field("d_addr")),
      class_(field("event_class")),
      reasons_(field("security_reasons")),
      top_qname_(top_k),
      top_registered_(top_k),
      top_client_(top_k) {
  second_of_.fill(-1);
}

LiveStats::~LiveStats() = default;

void LiveStats::observe(const decode::DnsEvent& ev) noexcept {
  // Each pipeline worker's own texts, read before the lock is taken.
  thread_local Scratch s;
  // Texts first, without the lock. Qnames are counted lower-cased: resolvers randomise the case
  // of the names they ask (0x20, draft-vixie-dnsext-dns0x20), which would split one name's count.
  const bool has_qname = text_of(qname_, ev, s.qname);
  const bool has_registered = text_of(registered_, ev, s.registered);
  const bool has_codes = ev.hdr.size >= 4;  // the QR bit and rcode are in the header's bytes 2-3
  // The client: a query's source, a response's destination; unknown without the QR bit. Read
  // from the event as formatted, so a privacy enricher's pseudonyms are what the page shows.
  const bool has_client = has_codes && text_of(ev.hdr.qr ? d_addr_ : s_addr_, ev, s.client);
  const bool security = text_of(class_, ev, s.class_name) && s.class_name == "security";
  if (security) {  // the qname as seen: its case may be the evidence
    s.pending.ts_ns = ev.ts_ns;
    s.pending.msg_type = !has_codes ? "" : ev.hdr.qr ? "response" : "query";
    s.pending.client.assign(has_client ? std::string_view(s.client) : std::string_view());
    s.pending.qname.assign(has_qname ? std::string_view(s.qname) : std::string_view());
    (void)text_of(qtype_, ev, s.pending.qtype);
    (void)text_of(reasons_, ev, s.pending.reasons);
  }
  for (char& c : s.qname)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const std::int64_t now = clock_();

  const std::lock_guard lock(mu_);
  const auto bucket = static_cast<std::size_t>(now) % kSeconds;
  if (second_of_[bucket] != now) second_of_[bucket] = now, per_second_[bucket] = 0;
  ++per_second_[bucket];
  ++messages_;
  if (has_codes) {
    if (ev.hdr.qr) {
      ++responses_;
      ++rcodes_[std::min<std::size_t>(ev.rcode(), kRcodes)];
    } else {
      ++queries_;
    }
  }
  if (has_qname) top_qname_.add(s.qname);
  if (has_registered) top_registered_.add(s.registered);
  if (has_client) top_client_.add(s.client);
  if (security) {
    ++security_;
    std::swap(recent_[recent_next_], s.pending);  // the ring's oldest buffers are reused next
    recent_next_ = (recent_next_ + 1) % kSecurityEvents;
    recent_size_ = std::min(recent_size_ + 1, kSecurityEvents);
  }
}

std::string LiveStats::json(const MetricRegistry& registry) const {
  // The registry first, without the lock: its readers may take their own.
  Value packets, decoded, emitted, malformed, kernel_dropped, interface_dropped;
  std::vector<EmitterHealth> emitters;
  for (const auto& s : registry.snapshot()) {
    const MetricInfo& m = *s.info;
    if (m.component.empty()) {
      if (m.name == "packets") packets.add(s.value);
      if (m.name == "messages") decoded.add(s.value);
      if (m.name == "emitted") emitted.add(s.value);
      if (m.name == "malformed") malformed.add(s.value);
      if (m.name == "pcap-dropped") kernel_dropped.add(s.value);
      if (m.name == "if-dropped") interface_dropped.add(s.value);
    } else if (m.component == "emitter") {
      auto it = std::find_if(emitters.begin(), emitters.end(),
                             [&](const EmitterHealth& e) { return e.name == m.instance; });
      if (it == emitters.end()) {
        it = emitters.emplace(emitters.end());
        it->name = m.instance;
      }
      if (Value* v = it->by_metric(m.name)) v->add(s.value);
    }
  }

  const std::int64_t now = clock_();
  rapidjson::StringBuffer out;
  Writer w(out);
  w.StartObject();
  key(w, "now"), w.Int64(now);
  {
    const std::lock_guard lock(mu_);
    key(w, "rate");
    w.StartObject();
    key(w, "end"), w.Int64(now);
    key(w, "per_second");
    w.StartArray();
    for (std::int64_t t = now - static_cast<std::int64_t>(kSeconds) + 1; t <= now; ++t) {
      const auto bucket = static_cast<std::size_t>(t) % kSeconds;
      w.Uint64(second_of_[bucket] == t ? per_second_[bucket] : 0);
    }
    w.EndArray();
    w.EndObject();

    key(w, "totals");
    w.StartObject();
    key(w, "messages"), w.Uint64(messages_);
    key(w, "queries"), w.Uint64(queries_);
    key(w, "responses"), w.Uint64(responses_);
    key(w, "security"), w.Uint64(security_);
    write_value(w, "packets", packets);
    write_value(w, "decoded", decoded);
    write_value(w, "emitted", emitted);
    write_value(w, "malformed", malformed);
    write_value(w, "kernel_dropped", kernel_dropped);
    write_value(w, "interface_dropped", interface_dropped);
    w.EndObject();

    key(w, "rcodes");
    w.StartObject();
    decode::MnemonicBuffer buf;
    for (std::size_t r = 0; r <= kRcodes; ++r) {
      if (rcodes_[r] == 0) continue;
      key(w, r < kRcodes ? decode::rcode_name(static_cast<std::uint16_t>(r), buf) : "other");
      w.Uint64(rcodes_[r]);
    }
    w.EndObject();

    key(w, "top");
    w.StartObject();
    key(w, "k"), w.Uint64(top_qname_.capacity());
    write_top(w, "qname", top_qname_);
    write_top(w, "registered_domain", top_registered_);
    write_top(w, "client", top_client_);
    w.EndObject();

    key(w, "security");
    w.StartArray();
    for (std::size_t i = 1; i <= recent_size_; ++i) {  // newest first
      const SecurityEvent& e = recent_[(recent_next_ + kSecurityEvents - i) % kSecurityEvents];
      w.StartObject();
      key(w, "ts"), w.Double(static_cast<double>(e.ts_ns / 1'000'000) / 1e3);
      key(w, "msg_type"), str(w, e.msg_type);
      key(w, "client"), str(w, e.client);
      key(w, "qname"), str(w, e.qname);
      key(w, "qtype"), str(w, e.qtype);
      key(w, "reasons");
      w.StartArray();
      std::string_view rest = e.reasons;
      while (!rest.empty()) {
        const std::size_t comma = std::min(rest.find(','), rest.size());
        str(w, rest.substr(0, comma));
        rest.remove_prefix(std::min(comma + 1, rest.size()));
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  key(w, "alerts");  // no source produces alerts yet
  w.StartArray();
  w.EndArray();

  key(w, "emitters");
  w.StartArray();
  for (const EmitterHealth& e : emitters) {
    w.StartObject();
    key(w, "name"), str(w, e.name);
    key(w, "up");
    if (e.up.present)
      w.Bool(e.up.value != 0);
    else
      w.Null();
    write_value(w, "queued", e.queued);
    write_value(w, "sent", e.sent);
    write_value(w, "filtered", e.filtered);
    write_value(w, "dropped_full", e.dropped_full);
    write_value(w, "dropped_error", e.dropped_error);
    write_value(w, "reconnects", e.reconnects);
    write_value(w, "depth", e.depth);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {out.GetString(), out.GetSize()};
}

std::string_view live_page_html() noexcept { return kPage; }

}  // namespace stash53::app

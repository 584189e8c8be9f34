// `stash53`: the original stash53's event (jpmens, 2013: "DNS, Logstash, ElasticSearch, and
// pcap"), for the Logstash setups keyed on its names: one event per answer record of a
// response, `timestamp` in UNIX seconds for `date { match => ["timestamp", "UNIX"] }`. Unlike
// the original, a response without answers is not skipped: it gives one event with an empty
// `answer` and a `reason` (error, nodata, referral, truncated). Queries give none (the
// original logged answers only); the output stream counts them as `empty`.
#include "decode/mnemonics.h"
#include "decode/text.h"
#include "format/format.h"

namespace stash53::format {
namespace {

using event::key;

class Stash53Format final : public Format {
 public:
  explicit Stash53Format(const FormatOptions&) {
    const auto& cat = event::Catalogue::instance();
    tld_ = cat.find("tld");
    nsid_ = cat.find("nsid");
  }

  void message(const decode::DnsEvent& ev, Documents& out) override {
    if (!ev.hdr.qr || ev.hdr.size < 4) return;
    for (const auto& rr : ev.answers) write(ev, out, &rr, {});
    if (!ev.answers.empty()) return;
    std::string_view reason = "nodata";
    if (ev.rcode() != 0)
      reason = "error";
    else if (ev.hdr.tc)
      reason = "truncated";
    else
      for (const auto& rr : ev.authorities)
        if (rr.type == 2) reason = "referral";  // NS records in the authority section, no answer
    write(ev, out, nullptr, reason);
  }

 private:
  void write(const decode::DnsEvent& ev, Documents& out, const decode::Record* rr,
             std::string_view reason) {
    auto& ctx = out.context();
    auto& s = ctx.scratch;
    decode::MnemonicBuffer buf;
    auto& w = out.begin();
    w.StartObject();
    key<"ipv6">(w), w.Bool(ev.net.ipv6);
    key<"error">(w), w.Bool(ev.rcode() != 0);
    key<"d_addr">(w), event::write_address(w, ev.net.dst, ev.net.ipv6, s);
    key<"s_addr">(w), event::write_address(w, ev.net.src, ev.net.ipv6, s);
    s.clear();
    if (rr != nullptr) event::append_zone_line(s, ev, *rr);
    key<"rrprint">(w), w.text(s);
    key<"qclass">(w), w.plain(ev.has_question ? decode::class_name(ev.qclass, buf) : "");
    key<"qname">(w), w.text(ev.has_question ? ev.view(ev.qname) : "");
    key<"tld">(w), text_of(w, tld_, ev, s);
    key<"qtype">(w), w.plain(ev.has_question ? decode::type_name(ev.qtype, buf) : "");
    key<"answer">(w), w.text(rr != nullptr ? ev.view(rr->data) : "");
    key<"ttl">(w), w.Uint(rr != nullptr ? rr->ttl : 0);
    key<"nsid">(w), text_of(w, nsid_, ev, s);
    key<"n">(w), w.Uint64(ctx.n);
    key<"rcode">(w), w.plain(decode::rcode_name(ev.rcode(), buf));
    // Seconds with microseconds, as a JSON number: Logstash's UNIX date pattern takes both.
    s.clear();
    const std::int64_t us = ev.ts_ns / 1000;
    decode::text::append_uint(s, static_cast<std::uint64_t>(us / 1'000'000));
    s += '.';
    const auto frac = static_cast<std::uint64_t>(us % 1'000'000);
    for (std::uint64_t d = 100'000; d > 0; d /= 10) s += static_cast<char>('0' + frac / d % 10);
    key<"timestamp">(w), w.raw(s);
    if (!reason.empty()) key<"reason">(w), w.plain(reason);
    w.EndObject();
    out.end();
  }

  static void text_of(event::EventWriter& w, const event::Field* f, const decode::DnsEvent& ev,
                      std::string& s) {
    s.clear();
    if (f != nullptr) (void)f->append_text(ev, s);
    w.text(s);
  }

  const event::Field* tld_ = nullptr;
  const event::Field* nsid_ = nullptr;
};

}  // namespace

STASH53_REGISTER_FORMAT("stash53", Stash53Format,
                        "the original stash53's: per answer record of a response `{ipv6, error, "
                        "d_addr, s_addr, rrprint, qclass, qname, tld, qtype, answer, ttl, nsid, n, "
                        "rcode, timestamp}`, `timestamp` in UNIX seconds; one event with an empty "
                        "`answer` and a `reason` for a response without answers; none for queries",
                        Mode::Message);

}  // namespace stash53::format

// `json`: stash53's own documents. Message: the event of the field catalogue (event/fields.h).
// Transaction: the exchange's summary with the query and the response as nested events.
// Record: one flat document per question and per record.
#include "decode/mnemonics.h"
#include "format/format.h"

namespace stash53::format {
namespace {

using event::key;

class JsonFormat final : public Format {
 public:
  explicit JsonFormat(const FormatOptions& o) { rrprint_ = o.rrprint; }

  void message(const decode::DnsEvent& ev, Documents& out) override {
    auto& ctx = out.context();
    ctx.rrprint = rrprint_;
    catalogue_.write(out.begin(), ev, ctx);
    out.end();
  }

  void exchange(const correlate::Exchange& x, Documents& out) override {
    auto& ctx = out.context();
    ctx.rrprint = rrprint_;
    auto& w = out.begin();
    w.StartObject();
    key<"@timestamp">(w), event::write_timestamp(w, x.first().ts_ns, ctx);
    key<"n">(w), w.Uint64(ctx.n);
    key<"status">(w), w.plain(correlate::status_name(x.status));
    if (x.status == correlate::Status::Answered)
      key<"latency_us">(w), w.Int64(x.latency_ns() / 1000);
    if (x.query != nullptr) key<"retransmissions">(w), w.Uint(x.retransmissions);
    if (x.evicted) key<"evicted">(w), w.Bool(true);
    ctx.nested = true;
    if (x.query != nullptr) key<"query">(w), catalogue_.write(w, *x.query, ctx);
    if (x.response != nullptr) key<"response">(w), catalogue_.write(w, *x.response, ctx);
    ctx.nested = false;
    w.EndObject();
    out.end();
  }

  void records(const decode::DnsEvent& ev, Documents& out) override {
    // The message's own fields are the same in each of its documents: written once.
    flat_buffer_.clear();
    flat_writer_.Reset(flat_buffer_);
    flat_writer_.StartObject();
    catalogue_.write_flat(flat_writer_, ev, out.context());
    flat_writer_.EndObject();
    flat_ = flat_buffer_.view().substr(1, flat_buffer_.size() - 2);
    // UPDATE (RFC 2136 §2.2) names its sections zone, prerequisite, update.
    const bool update = ev.hdr.opcode == 5;
    for (const auto& q : ev.questions)
      record(ev, out, update ? "zone" : "question", ev.view(q.name), q.type, q.klass, nullptr);
    for (const auto& rr : ev.answers)
      record(ev, out, update ? "prerequisite" : "answer", ev.view(rr.name), rr.type, rr.klass, &rr);
    for (const auto& rr : ev.authorities)
      record(ev, out, update ? "update" : "authority", ev.view(rr.name), rr.type, rr.klass, &rr);
    for (const auto& rr : ev.additionals)
      record(ev, out, "additional", ev.view(rr.name), rr.type, rr.klass, &rr);
    // A message with neither (a cut header, an empty NOTIFY) is still one document.
    if (ev.questions.empty() && ev.answers.empty() && ev.authorities.empty() && ev.additionals.empty())
      record(ev, out, "none", {}, 0, 0, nullptr);
  }

 private:
  void record(const decode::DnsEvent& ev, Documents& out, std::string_view section,
              std::string_view name, std::uint16_t type, std::uint16_t klass,
              const decode::Record* rr) {
    auto& ctx = out.context();
    auto& w = out.begin();
    decode::MnemonicBuffer buf;
    w.StartObject();
    key<"@timestamp">(w), event::write_timestamp(w, ev.ts_ns, ctx);
    key<"n">(w), w.Uint64(ctx.n);
    w.raw_members(flat_);
    key<"section">(w), w.plain(section);
    if (section != "none") {
      key<"name">(w), w.text(name);
      key<"type">(w), w.plain(decode::type_name(type, buf));
      key<"class">(w), w.plain(decode::class_name(klass, buf));
    }
    if (rr != nullptr) {
      key<"ttl">(w), w.Uint(rr->ttl);
      key<"data">(w), w.text(ev.view(rr->data));
      if (rr->cache_flush) key<"cache_flush">(w), w.Bool(true);
      if (rrprint_) {
        auto& s = ctx.scratch;
        s.clear();
        event::append_zone_line(s, ev, *rr);
        key<"rr">(w), w.text(s);
      }
    }
    w.EndObject();
    out.end();
  }

  bool rrprint_ = false;
  event::JsonBuffer flat_buffer_;
  event::EventWriter flat_writer_;
  std::string_view flat_;  // in flat_buffer_: the members of the message being written
  const event::Catalogue& catalogue_ = event::Catalogue::instance();
};

}  // namespace

STASH53_REGISTER_FORMAT("json", JsonFormat,
                        "stash53's own: message, the event of the field table; transaction, "
                        "`{@timestamp, n, status, latency_us, retransmissions, query, response}`; "
                        "record, one flat document per question and record",
                        Mode::Message, Mode::Transaction, Mode::Record);

}  // namespace stash53::format

#include "emitters/format_json.h"

#include <ctime>

#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::emitters {
namespace {

using decode::DnsEvent;

// A key as a quoted literal made at compile time: written with no length count or escape check.
template <std::size_t N>
struct QuotedKey {
  char text[N + 1];
  consteval QuotedKey(const char (&k)[N]) : text{} {  // NOLINT: implicit, for key<"name">
    text[0] = '"';
    for (std::size_t i = 0; i + 1 < N; ++i) text[i + 1] = k[i];
    text[N] = '"';
  }
};

template <QuotedKey K>
void key(EventWriter& w) {
  w.quoted_key(K.text);
}

void write_sv(EventWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_address(EventWriter& w, const decode::IpAddress& a, bool ipv6, std::string& scratch) {
  scratch.clear();
  if (ipv6)
    decode::text::append_ipv6(scratch, a.bytes);
  else
    decode::text::append_ipv4(scratch, a.bytes);
  w.plain(scratch);
}

}  // namespace

void JsonFormatter::write_timestamp(Writer& w, std::int64_t ts_ns) {
  std::int64_t sec = ts_ns / 1'000'000'000;
  std::int64_t ns = ts_ns % 1'000'000'000;
  if (ns < 0) ns += 1'000'000'000, --sec;
  if (sec != cached_second_) {
    const std::time_t t = sec;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(date_prefix_, sizeof date_prefix_, "%Y-%m-%dT%H:%M:%S.", &tm);
    cached_second_ = sec;
  }
  char buf[32];
  auto usec = static_cast<unsigned>(ns / 1000);
  std::size_t len = std::char_traits<char>::length(date_prefix_);
  std::char_traits<char>::copy(buf, date_prefix_, len);
  for (int i = 5; i >= 0; --i, usec /= 10)
    buf[len + static_cast<std::size_t>(i)] = static_cast<char>('0' + usec % 10);
  len += 6;
  buf[len++] = 'Z';
  w.plain({buf, len});
}

void JsonFormatter::write_records(Writer& w, const char* key_name, const DnsEvent& ev,
                                  const std::vector<decode::Record>& records) {
  decode::MnemonicBuffer buf;
  w.Key(key_name);
  w.StartArray();
  for (const auto& rr : records) {
    w.StartObject();
    key<"name">(w);
    write_sv(w, ev.view(rr.name));
    key<"type">(w);
    w.plain(decode::type_name(rr.type, buf));
    key<"class">(w);
    w.plain(decode::class_name(rr.klass, buf));
    key<"ttl">(w);
    w.Uint(rr.ttl);
    key<"data">(w);
    write_sv(w, ev.view(rr.data));
    if (rr.cache_flush) key<"cache_flush">(w), w.Bool(true);
    if (rrprint_) {
      // The zone-file line: owner TTL class type data.
      scratch_.assign(ev.view(rr.name));
      scratch_ += ' ';
      decode::text::append_uint(scratch_, rr.ttl);
      scratch_ += ' ';
      scratch_ += decode::class_name(rr.klass, buf);
      scratch_ += ' ';
      scratch_ += decode::type_name(rr.type, buf);
      if (rr.data.len > 0) scratch_ += ' ';
      scratch_ += ev.view(rr.data);
      key<"rr">(w);
      write_sv(w, scratch_);
    }
    w.EndObject();
  }
  w.EndArray();
}

void JsonFormatter::write_edns(Writer& w, const DnsEvent& ev) {
  const auto& e = ev.edns;
  key<"edns">(w);
  w.StartObject();
  key<"udp_size">(w), w.Uint(e.udp_size);
  key<"version">(w), w.Uint(e.version);
  key<"do">(w), w.Bool(e.do_bit);
  key<"ext_rcode">(w), w.Uint(e.ext_rcode);
  if (e.has_nsid) {
    if (e.nsid_printable) key<"nsid">(w), write_sv(w, ev.view(e.nsid_text));
    key<"nsid_hex">(w), write_sv(w, ev.view(e.nsid_hex));
  }
  if (e.has_ecs) {
    key<"ecs">(w);
    w.StartObject();
    key<"family">(w), w.Uint(e.ecs_family);
    key<"source_prefix">(w), w.Uint(e.ecs_source);
    key<"scope_prefix">(w), w.Uint(e.ecs_scope);
    key<"address">(w), write_sv(w, ev.view(e.ecs_address));
    w.EndObject();
  }
  if (e.has_cookie) {
    key<"cookie">(w);
    w.StartObject();
    key<"client">(w), write_sv(w, ev.view(e.cookie_client));
    if (e.cookie_server.len > 0) key<"server">(w), write_sv(w, ev.view(e.cookie_server));
    w.EndObject();
  }
  if (!e.ede.empty()) {
    key<"ede">(w);
    w.StartArray();
    for (const auto& x : e.ede) {
      w.StartObject();
      key<"code">(w), w.Uint(x.code);
      if (const auto name = decode::ede_name(x.code); !name.empty())
        key<"name">(w), write_sv(w, name);
      if (x.text.len > 0) key<"text">(w), write_sv(w, ev.view(x.text));
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
      key<"hex">(w), write_sv(w, ev.view(o.hex));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string_view JsonFormatter::format(const DnsEvent& ev, std::uint64_t n) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  Writer& w = writer_;
  decode::MnemonicBuffer buf;
  const auto& h = ev.hdr;

  w.StartObject();
  key<"@timestamp">(w);
  write_timestamp(w, ev.ts_ns);
  key<"n">(w);
  w.Uint64(n);
  if (!ev.nsid.empty()) {
    key<"nsid">(w);
    write_sv(w, ev.nsid);
  }
  key<"s_addr">(w);
  write_address(w, ev.net.src, ev.net.ipv6, scratch_);
  key<"s_port">(w);
  w.Uint(ev.net.sport);
  key<"d_addr">(w);
  write_address(w, ev.net.dst, ev.net.ipv6, scratch_);
  key<"d_port">(w);
  w.Uint(ev.net.dport);
  key<"ipv6">(w);
  w.Bool(ev.net.ipv6);
  key<"transport">(w);
  w.plain(ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp");

  // A cut header gives only the fields it holds (RFC 1035 §4.1.1 layout).
  if (h.size >= 2) key<"id">(w), w.Uint(h.id);
  if (h.size >= 4) {
    key<"msg_type">(w);
    w.plain(h.qr ? "response" : "query");
    key<"opcode">(w);
    w.plain(decode::opcode_name(h.opcode, buf));
    if (!ev.rcode_name.empty()) {
      key<"rcode">(w);
      w.plain(ev.rcode_name);
    }
    key<"error">(w);
    w.Bool(ev.rcode() != 0);
    key<"flags">(w);
    w.StartObject();
    key<"aa">(w), w.Bool(h.aa);
    key<"tc">(w), w.Bool(h.tc);
    key<"rd">(w), w.Bool(h.rd);
    key<"ra">(w), w.Bool(h.ra);
    key<"ad">(w), w.Bool(h.ad);
    key<"cd">(w), w.Bool(h.cd);
    w.EndObject();
  }
  if (ev.has_question) {
    key<"qname">(w);
    write_sv(w, ev.view(ev.qname));
    key<"qtype">(w);
    w.plain(decode::type_name(ev.qtype, buf));
    key<"qclass">(w);
    w.plain(decode::class_name(ev.qclass, buf));
    if (ev.qu) key<"qu">(w), w.Bool(true);
  }
  if (h.size >= 6) key<"qdcount">(w), w.Uint(h.qdcount);
  if (h.size >= 8) key<"ancount">(w), w.Uint(h.ancount);
  if (h.size >= 10) key<"nscount">(w), w.Uint(h.nscount);
  if (h.size >= 12) {
    key<"arcount">(w), w.Uint(h.arcount);
    write_records(w, "answers", ev, ev.answers);
    write_records(w, "authorities", ev, ev.authorities);
    write_records(w, "additionals", ev, ev.additionals);
    if (ev.edns.present) write_edns(w, ev);
  }
  if (ev.has_tld) {
    key<"tld">(w);
    write_sv(w, ev.view(ev.tld));
  }
  if (ev.malformed != decode::Malformed::None) {
    key<"malformed">(w);
    w.plain(decode::malformed_name(ev.malformed));
  }
  w.EndObject();
  return {buffer_.GetString(), buffer_.GetSize()};
}

}  // namespace stash53::emitters

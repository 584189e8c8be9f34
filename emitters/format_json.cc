#include "emitters/format_json.h"

#include <ctime>

#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::emitters {
namespace {

using decode::DnsEvent;

// Keys are literals: their length is known at compile time, so no strlen per key.
template <std::size_t N>
void key(rapidjson::Writer<rapidjson::StringBuffer>& w, const char (&k)[N]) {
  w.Key(k, N - 1);
}

void write_sv(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_address(rapidjson::Writer<rapidjson::StringBuffer>& w, const decode::IpAddress& a,
                   bool ipv6, std::string& scratch) {
  scratch.clear();
  if (ipv6)
    decode::text::append_ipv6(scratch, a.bytes);
  else
    decode::text::append_ipv4(scratch, a.bytes);
  write_sv(w, scratch);
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
  w.String(buf, static_cast<rapidjson::SizeType>(len));
}

void JsonFormatter::write_records(Writer& w, const char* key_name, const DnsEvent& ev,
                                  const std::vector<decode::Record>& records) {
  decode::MnemonicBuffer buf;
  w.Key(key_name);
  w.StartArray();
  for (const auto& rr : records) {
    w.StartObject();
    key(w, "name");
    write_sv(w, ev.view(rr.name));
    key(w, "type");
    write_sv(w, decode::type_name(rr.type, buf));
    key(w, "class");
    write_sv(w, decode::class_name(rr.klass, buf));
    key(w, "ttl");
    w.Uint(rr.ttl);
    key(w, "data");
    write_sv(w, ev.view(rr.data));
    if (rr.cache_flush) key(w, "cache_flush"), w.Bool(true);
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
      key(w, "rr");
      write_sv(w, scratch_);
    }
    w.EndObject();
  }
  w.EndArray();
}

void JsonFormatter::write_edns(Writer& w, const DnsEvent& ev) {
  const auto& e = ev.edns;
  key(w, "edns");
  w.StartObject();
  key(w, "udp_size"), w.Uint(e.udp_size);
  key(w, "version"), w.Uint(e.version);
  key(w, "do"), w.Bool(e.do_bit);
  key(w, "ext_rcode"), w.Uint(e.ext_rcode);
  if (e.has_nsid) {
    if (e.nsid_printable) key(w, "nsid"), write_sv(w, ev.view(e.nsid_text));
    key(w, "nsid_hex"), write_sv(w, ev.view(e.nsid_hex));
  }
  if (e.has_ecs) {
    key(w, "ecs");
    w.StartObject();
    key(w, "family"), w.Uint(e.ecs_family);
    key(w, "source_prefix"), w.Uint(e.ecs_source);
    key(w, "scope_prefix"), w.Uint(e.ecs_scope);
    key(w, "address"), write_sv(w, ev.view(e.ecs_address));
    w.EndObject();
  }
  if (e.has_cookie) {
    key(w, "cookie");
    w.StartObject();
    key(w, "client"), write_sv(w, ev.view(e.cookie_client));
    if (e.cookie_server.len > 0) key(w, "server"), write_sv(w, ev.view(e.cookie_server));
    w.EndObject();
  }
  if (!e.ede.empty()) {
    key(w, "ede");
    w.StartArray();
    for (const auto& x : e.ede) {
      w.StartObject();
      key(w, "code"), w.Uint(x.code);
      if (const auto name = decode::ede_name(x.code); !name.empty())
        key(w, "name"), write_sv(w, name);
      if (x.text.len > 0) key(w, "text"), write_sv(w, ev.view(x.text));
      w.EndObject();
    }
    w.EndArray();
  }
  if (e.has_padding) key(w, "padding"), w.Uint(e.padding);
  if (e.has_keepalive) {
    key(w, "keepalive");
    if (e.keepalive_has_timeout)
      w.Uint(e.keepalive);
    else
      w.Null();
  }
  if (!e.other.empty()) {
    key(w, "options");
    w.StartArray();
    for (const auto& o : e.other) {
      w.StartObject();
      key(w, "code"), w.Uint(o.code);
      key(w, "hex"), write_sv(w, ev.view(o.hex));
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
  key(w, "@timestamp");
  write_timestamp(w, ev.ts_ns);
  key(w, "n");
  w.Uint64(n);
  if (!ev.nsid.empty()) {
    key(w, "nsid");
    write_sv(w, ev.nsid);
  }
  key(w, "s_addr");
  write_address(w, ev.net.src, ev.net.ipv6, scratch_);
  key(w, "s_port");
  w.Uint(ev.net.sport);
  key(w, "d_addr");
  write_address(w, ev.net.dst, ev.net.ipv6, scratch_);
  key(w, "d_port");
  w.Uint(ev.net.dport);
  key(w, "ipv6");
  w.Bool(ev.net.ipv6);
  key(w, "transport");
  w.String(ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp");

  // A cut header gives only the fields it holds (RFC 1035 §4.1.1 layout).
  if (h.size >= 2) key(w, "id"), w.Uint(h.id);
  if (h.size >= 4) {
    key(w, "msg_type");
    w.String(h.qr ? "response" : "query");
    key(w, "opcode");
    write_sv(w, decode::opcode_name(h.opcode, buf));
    if (!ev.rcode_name.empty()) {
      key(w, "rcode");
      write_sv(w, ev.rcode_name);
    }
    key(w, "error");
    w.Bool(ev.rcode() != 0);
    key(w, "flags");
    w.StartObject();
    key(w, "aa"), w.Bool(h.aa);
    key(w, "tc"), w.Bool(h.tc);
    key(w, "rd"), w.Bool(h.rd);
    key(w, "ra"), w.Bool(h.ra);
    key(w, "ad"), w.Bool(h.ad);
    key(w, "cd"), w.Bool(h.cd);
    w.EndObject();
  }
  if (ev.has_question) {
    key(w, "qname");
    write_sv(w, ev.view(ev.qname));
    key(w, "qtype");
    write_sv(w, decode::type_name(ev.qtype, buf));
    key(w, "qclass");
    write_sv(w, decode::class_name(ev.qclass, buf));
    if (ev.qu) key(w, "qu"), w.Bool(true);
  }
  if (h.size >= 6) key(w, "qdcount"), w.Uint(h.qdcount);
  if (h.size >= 8) key(w, "ancount"), w.Uint(h.ancount);
  if (h.size >= 10) key(w, "nscount"), w.Uint(h.nscount);
  if (h.size >= 12) {
    key(w, "arcount"), w.Uint(h.arcount);
    write_records(w, "answers", ev, ev.answers);
    write_records(w, "authorities", ev, ev.authorities);
    write_records(w, "additionals", ev, ev.additionals);
    if (ev.edns.present) write_edns(w, ev);
  }
  if (ev.has_tld) {
    key(w, "tld");
    write_sv(w, ev.view(ev.tld));
  }
  if (ev.malformed != decode::Malformed::None) {
    key(w, "malformed");
    write_sv(w, decode::malformed_name(ev.malformed));
  }
  w.EndObject();
  return {buffer_.GetString(), buffer_.GetSize()};
}

}  // namespace stash53::emitters

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
  for (int i = 5; i >= 0; --i, usec /= 10) buf[len + static_cast<std::size_t>(i)] = static_cast<char>('0' + usec % 10);
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
    w.EndObject();
  }
  w.EndArray();
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

  // Without a whole header there is nothing DNS to say beyond the fault.
  if (ev.malformed != decode::Malformed::TruncatedHeader) {
    key(w, "id");
    w.Uint(h.id);
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
    if (ev.has_question) {
      key(w, "qname");
      write_sv(w, ev.view(ev.qname));
      key(w, "qtype");
      write_sv(w, decode::type_name(ev.qtype, buf));
      key(w, "qclass");
      write_sv(w, decode::class_name(ev.qclass, buf));
    }
    key(w, "qdcount");
    w.Uint(h.qdcount);
    key(w, "ancount");
    w.Uint(h.ancount);
    key(w, "nscount");
    w.Uint(h.nscount);
    key(w, "arcount");
    w.Uint(h.arcount);
    write_records(w, "answers", ev, ev.answers);
    write_records(w, "authorities", ev, ev.authorities);
    write_records(w, "additionals", ev, ev.additionals);
    if (ev.edns.present) {
      key(w, "edns");
      w.StartObject();
      key(w, "udp_size"), w.Uint(ev.edns.udp_size);
      key(w, "version"), w.Uint(ev.edns.version);
      key(w, "do"), w.Bool(ev.edns.do_bit);
      key(w, "ext_rcode"), w.Uint(ev.edns.ext_rcode);
      w.EndObject();
    }
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

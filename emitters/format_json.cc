#include "emitters/format_json.h"

#include <arpa/inet.h>

#include <ctime>

#include "decode/mnemonics.h"

namespace stash53::emitters {
namespace {

using decode::DnsEvent;

void write_sv(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_address(rapidjson::Writer<rapidjson::StringBuffer>& w, const decode::IpAddress& a,
                   bool ipv6) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(ipv6 ? AF_INET6 : AF_INET, a.bytes, buf, sizeof buf)) buf[0] = '\0';
  w.String(buf);
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

void JsonFormatter::write_records(Writer& w, const char* key, const DnsEvent& ev,
                                  const std::vector<decode::Record>& records) {
  decode::MnemonicBuffer buf;
  w.Key(key);
  w.StartArray();
  for (const auto& rr : records) {
    w.StartObject();
    w.Key("name");
    write_sv(w, ev.view(rr.name));
    w.Key("type");
    write_sv(w, decode::type_name(rr.type, buf));
    w.Key("class");
    write_sv(w, decode::class_name(rr.klass, buf));
    w.Key("ttl");
    w.Uint(rr.ttl);
    w.Key("data");
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
  w.Key("@timestamp");
  write_timestamp(w, ev.ts_ns);
  w.Key("n");
  w.Uint64(n);
  if (!ev.nsid.empty()) {
    w.Key("nsid");
    write_sv(w, ev.nsid);
  }
  w.Key("s_addr");
  write_address(w, ev.net.src, ev.net.ipv6);
  w.Key("s_port");
  w.Uint(ev.net.sport);
  w.Key("d_addr");
  write_address(w, ev.net.dst, ev.net.ipv6);
  w.Key("d_port");
  w.Uint(ev.net.dport);
  w.Key("ipv6");
  w.Bool(ev.net.ipv6);
  w.Key("transport");
  w.String(ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp");

  // Without a whole header there is nothing DNS to say beyond the fault.
  if (ev.malformed != decode::Malformed::TruncatedHeader) {
    w.Key("id");
    w.Uint(h.id);
    w.Key("msg_type");
    w.String(h.qr ? "response" : "query");
    w.Key("opcode");
    write_sv(w, decode::opcode_name(h.opcode, buf));
    if (!ev.rcode_name.empty()) {
      w.Key("rcode");
      write_sv(w, ev.rcode_name);
    }
    w.Key("error");
    w.Bool(ev.rcode() != 0);
    w.Key("flags");
    w.StartObject();
    w.Key("aa"), w.Bool(h.aa);
    w.Key("tc"), w.Bool(h.tc);
    w.Key("rd"), w.Bool(h.rd);
    w.Key("ra"), w.Bool(h.ra);
    w.Key("ad"), w.Bool(h.ad);
    w.Key("cd"), w.Bool(h.cd);
    w.EndObject();
    if (ev.has_question) {
      w.Key("qname");
      write_sv(w, ev.view(ev.qname));
      w.Key("qtype");
      write_sv(w, decode::type_name(ev.qtype, buf));
      w.Key("qclass");
      write_sv(w, decode::class_name(ev.qclass, buf));
    }
    w.Key("qdcount");
    w.Uint(h.qdcount);
    w.Key("ancount");
    w.Uint(h.ancount);
    w.Key("nscount");
    w.Uint(h.nscount);
    w.Key("arcount");
    w.Uint(h.arcount);
    write_records(w, "answers", ev, ev.answers);
    write_records(w, "authorities", ev, ev.authorities);
    write_records(w, "additionals", ev, ev.additionals);
    if (ev.edns.present) {
      w.Key("edns");
      w.StartObject();
      w.Key("udp_size"), w.Uint(ev.edns.udp_size);
      w.Key("version"), w.Uint(ev.edns.version);
      w.Key("do"), w.Bool(ev.edns.do_bit);
      w.Key("ext_rcode"), w.Uint(ev.edns.ext_rcode);
      w.EndObject();
    }
  }
  if (ev.has_tld) {
    w.Key("tld");
    write_sv(w, ev.view(ev.tld));
  }
  if (ev.malformed != decode::Malformed::None) {
    w.Key("malformed");
    write_sv(w, decode::malformed_name(ev.malformed));
  }
  w.EndObject();
  return {buffer_.GetString(), buffer_.GetSize()};
}

}  // namespace stash53::emitters

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "format/format.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;

namespace {

rapidjson::Document to_json(const decode::DnsEvent& ev, std::uint64_t n) {
  const auto f = format::make_format("json", {});
  format::Documents docs;
  std::atomic<std::uint64_t> numbers{n - 1};  // the next document is number n
  docs.number_from(numbers);
  f->message(ev, docs);
  BOOST_TEST_REQUIRE(docs.size() == 1u);
  rapidjson::Document d;
  const auto text = std::string(docs.views()[0]);
  d.Parse(text.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  return d;
}

decode::DnsEvent response() {
  decode::DnsEvent ev;
  decode::parse_message(DnsBuilder()
                            .header(0xbfdc, 0x8580, 1, 1)
                            .question("example.org.", 1)
                            .pointer(12).rr_fixed(1, 1, 300, 4).raw({198, 51, 100, 10})
                            .bytes(),
                        ev);
  // 2023-07-22T04:26:40Z (date -u -d @1690000000) plus 102 µs and 999 ns, which are cut.
  ev.ts_ns = 1'690'000'000'000'102'999;
  ev.net.src.bytes[0] = 127, ev.net.src.bytes[3] = 1;
  ev.net.dst.bytes[0] = 192, ev.net.dst.bytes[1] = 0, ev.net.dst.bytes[2] = 2, ev.net.dst.bytes[3] = 7;
  ev.net.sport = 53;
  ev.net.dport = 39730;
  return ev;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(format_json)

BOOST_AUTO_TEST_CASE(fields_of_a_response) {
  auto ev = response();
  test::make_enricher("tld")->enrich(ev);
  const auto d = to_json(ev, 42);
  BOOST_TEST(d["@timestamp"].GetString() == std::string("2023-07-22T04:26:40.000102Z"));
  BOOST_TEST(d["n"].GetUint64() == 42u);
  BOOST_TEST(d["s_addr"].GetString() == std::string("127.0.0.1"));
  BOOST_TEST(d["d_addr"].GetString() == std::string("192.0.2.7"));
  BOOST_TEST(d["s_port"].GetUint() == 53u);
  BOOST_TEST(d["d_port"].GetUint() == 39730u);
  BOOST_TEST(!d["ipv6"].GetBool());
  BOOST_TEST(d["transport"].GetString() == std::string("udp"));
  BOOST_TEST(d["id"].GetUint() == 0xbfdcu);
  BOOST_TEST(d["msg_type"].GetString() == std::string("response"));
  BOOST_TEST(d["opcode"].GetString() == std::string("QUERY"));
  BOOST_TEST(d["rcode"].GetString() == std::string("NOERROR"));
  BOOST_TEST(!d["error"].GetBool());
  BOOST_TEST(d["flags"]["aa"].GetBool());
  BOOST_TEST(d["flags"]["rd"].GetBool());
  BOOST_TEST(d["flags"]["ra"].GetBool());
  BOOST_TEST(!d["flags"]["tc"].GetBool());
  BOOST_TEST(d["qname"].GetString() == std::string("example.org."));
  BOOST_TEST(d["qtype"].GetString() == std::string("A"));
  BOOST_TEST(d["qclass"].GetString() == std::string("IN"));
  BOOST_TEST(d["ancount"].GetUint() == 1u);
  BOOST_TEST_REQUIRE(d["answers"].Size() == 1u);
  BOOST_TEST(d["answers"][0]["data"].GetString() == std::string("198.51.100.10"));
  BOOST_TEST(d["answers"][0]["ttl"].GetUint() == 300u);
  BOOST_TEST(d["tld"].GetString() == std::string("org"));
  BOOST_TEST(!d.HasMember("malformed"));
  BOOST_TEST(!d.HasMember("edns"));
}

BOOST_AUTO_TEST_CASE(timestamps_before_and_within_a_second) {
  auto ev = response();
  ev.ts_ns = 0;
  BOOST_TEST(to_json(ev, 1)["@timestamp"].GetString() == std::string("1970-01-01T00:00:00.000000Z"));
  ev.ts_ns = 1'690'000'000'999'999'999;
  BOOST_TEST(to_json(ev, 1)["@timestamp"].GetString() == std::string("2023-07-22T04:26:40.999999Z"));
}

BOOST_AUTO_TEST_CASE(truncated_header_keeps_the_fields_it_holds) {
  decode::DnsEvent ev;
  const std::uint8_t cut[7] = {0x01, 0x02, 0x81, 0x80, 0x00, 0x01, 0x00};  // id, flags, qdcount
  decode::parse_message(cut, ev);
  const auto d = to_json(ev, 1);
  BOOST_TEST(d["malformed"].GetString() == std::string("truncated-header"));
  BOOST_TEST(d["id"].GetUint() == 0x0102u);
  BOOST_TEST(d["msg_type"].GetString() == std::string("response"));
  BOOST_TEST(d["qdcount"].GetUint() == 1u);
  BOOST_TEST(!d.HasMember("ancount"));  // only one of its two bytes arrived
  BOOST_TEST(!d.HasMember("answers"));
  BOOST_TEST(d.HasMember("s_addr"));

  decode::DnsEvent empty;
  decode::parse_message({}, empty);
  const auto e = to_json(empty, 2);
  BOOST_TEST(!e.HasMember("id"));
  BOOST_TEST(e["malformed"].GetString() == std::string("truncated-header"));
}

BOOST_AUTO_TEST_CASE(formatter_reuse_does_not_leak_fields_between_events) {
  const auto f = format::make_format("json", {});
  format::Documents docs;
  auto ev = response();
  test::make_enricher("tld")->enrich(ev);
  f->message(ev, docs);
  const std::string first(docs.views()[0]);
  ev.clear();
  const std::uint8_t junk[3] = {1, 2, 3};
  decode::parse_message(junk, ev);
  docs.clear();
  f->message(ev, docs);
  const std::string second(docs.views()[0]);
  BOOST_TEST(first.find("\"tld\"") != std::string::npos);
  BOOST_TEST(second.find("\"tld\"") == std::string::npos);
  BOOST_TEST(second.find("\"n\":2") != std::string::npos);
}

// Our writer's strings and numbers against RapidJSON's Writer, the one it replaced: byte for
// byte, on texts of every length up to 80 with every kind of byte at every place (the 16- and
// 8-byte scans and the tail), and on the integers' edges.
BOOST_AUTO_TEST_CASE(writer_bytes_are_rapidjsons) {
  std::uint32_t x = 7;
  const auto next = [&] { return x = x * 1103515245 + 12345, x >> 16; };
  for (int round = 0; round < 4000; ++round) {
    std::string s(static_cast<std::size_t>(round % 81), 'a');
    for (auto& c : s) {
      const auto r = next() % 10;  // mostly plain text, now and then any byte
      c = r < 7 ? static_cast<char>('a' + next() % 26) : static_cast<char>(next() & 0xff);
    }
    const std::uint64_t big = std::uint64_t{next()} << 48 | std::uint64_t{next()} << 24 | next();
    event::JsonBuffer mine;
    event::EventWriter w(mine);
    rapidjson::StringBuffer theirs;
    rapidjson::Writer<rapidjson::StringBuffer> r(theirs);
    w.StartArray(), r.StartArray();
    w.text(s), r.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.Uint64(big), r.Uint64(big);
    w.Int64(-static_cast<std::int64_t>(big >> 1)), r.Int64(-static_cast<std::int64_t>(big >> 1));
    const unsigned u = next();
    w.Uint(u), r.Uint(u);
    w.StartObject(), r.StartObject();
    w.text_key(s), r.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.Bool(round % 2 == 0), r.Bool(round % 2 == 0);
    w.EndObject(), r.EndObject();
    w.Null(), r.Null();
    w.EndArray(), r.EndArray();
    BOOST_TEST_REQUIRE(std::string(mine.view()) == theirs.GetString());
  }
}

BOOST_AUTO_TEST_SUITE_END()

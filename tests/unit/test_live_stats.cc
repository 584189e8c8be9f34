// The live page's statistics: events in, the /api/live document out.
#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>

#include "app/live_stats.h"
#include "decode/dns_wire.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;

namespace {

constexpr std::uint16_t kA = 1, kTxt = 16;

// The client 192.0.2.<client> and the server 192.0.2.53; a query unless `rcode_flags` is a
// response's flags. Enriched as the pipeline would, by public_suffix and security.
struct Events {
  std::unique_ptr<enrich::Enricher> psl = test::make_enricher("public_suffix");
  std::unique_ptr<enrich::Enricher> security = test::make_enricher("security");

  decode::DnsEvent make(std::string_view qname, std::uint16_t qtype, std::uint8_t client,
                        std::uint16_t flags = 0x0100) {
    decode::DnsEvent ev;
    decode::parse_message(DnsBuilder().header(7, flags, 1, 0).question(qname, qtype).bytes(), ev);
    decode::IpAddress c, s;
    c.bytes[0] = 192, c.bytes[2] = 2, c.bytes[3] = client;
    s.bytes[0] = 192, s.bytes[2] = 2, s.bytes[3] = 53;
    ev.net.src = ev.hdr.qr ? s : c;
    ev.net.dst = ev.hdr.qr ? c : s;
    ev.ts_ns = 1'700'000'000'123'456'789;
    psl->enrich(ev);
    security->enrich(ev);
    return ev;
  }
};
constexpr std::uint16_t kNoError = 0x8180, kNxDomain = 0x8183, kServFail = 0x8182;

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  BOOST_TEST_REQUIRE(!d.HasParseError(), json);
  BOOST_TEST_REQUIRE(d.IsObject());
  return d;
}

// "key=count" of a top list, in order.
std::string top_of(const rapidjson::Value& list) {
  std::string s;
  for (const auto& item : list.GetArray())
    s += (s.empty() ? "" : " ") + std::string(item["key"].GetString()) + "=" +
         std::to_string(item["count"].GetUint64());
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_stats)

BOOST_AUTO_TEST_CASE(totals_rcodes_and_top_lists_count_what_was_observed) {
  Events e;
  std::int64_t now = 1'700'000'000;
  app::LiveStats live(100, [&] { return now; });
  // www.example.com: 6 queries (two with 0x20 case), 6 responses, 5 NOERROR and 1 NXDOMAIN.
  for (int i = 0; i < 4; ++i) live.observe(e.make("www.example.com.", kA, 1));
  live.observe(e.make("WwW.ExAmple.COM.", kA, 2));
  live.observe(e.make("www.EXAMPLE.com.", kA, 2));
  for (int i = 0; i < 5; ++i) live.observe(e.make("www.example.com.", kA, 1, kNoError));
  live.observe(e.make("www.example.com.", kA, 2, kNxDomain));
  // Two names under one registered domain, a SERVFAIL, and a TXT query (a security event).
  live.observe(e.make("a.example.org.", kA, 3));
  live.observe(e.make("b.example.org.", kA, 3, kServFail));
  now += 1;
  live.observe(e.make("c2.tunnel.example.net.", kTxt, 4));

  MetricRegistry registry;
  const auto d = parse(live.json(registry));
  BOOST_TEST(d["now"].GetInt64() == now);
  const auto& t = d["totals"];
  BOOST_TEST(t["messages"].GetUint64() == 15u);
  BOOST_TEST(t["queries"].GetUint64() == 8u);
  BOOST_TEST(t["responses"].GetUint64() == 7u);
  BOOST_TEST(t["security"].GetUint64() == 1u);
  BOOST_TEST(t["packets"].IsNull());  // nothing registered: unknown, not zero
  BOOST_TEST(t["kernel_dropped"].IsNull());

  const auto& rc = d["rcodes"];
  BOOST_TEST(rc.MemberCount() == 3u);  // only the rcodes seen
  BOOST_TEST(rc["NOERROR"].GetUint64() == 5u);
  BOOST_TEST(rc["NXDOMAIN"].GetUint64() == 1u);
  BOOST_TEST(rc["SERVFAIL"].GetUint64() == 1u);

  const auto& top = d["top"];
  BOOST_TEST(top["k"].GetUint64() == 100u);
  BOOST_TEST(top_of(top["qname"]) ==
             "www.example.com.=12 a.example.org.=1 b.example.org.=1 c2.tunnel.example.net.=1");
  BOOST_TEST(top["qname"][0]["error"].GetUint64() == 0u);
  BOOST_TEST(top_of(top["registered_domain"]) == "example.com=12 example.org=2 example.net=1");
  BOOST_TEST(top_of(top["client"]) == "192.0.2.1=9 192.0.2.2=3 192.0.2.3=2 192.0.2.4=1");

  const auto& sec = d["security"];
  BOOST_TEST_REQUIRE(sec.Size() == 1u);
  BOOST_TEST(sec[0]["msg_type"].GetString() == std::string("query"));
  BOOST_TEST(sec[0]["client"].GetString() == std::string("192.0.2.4"));
  BOOST_TEST(sec[0]["qname"].GetString() == std::string("c2.tunnel.example.net."));
  BOOST_TEST(sec[0]["qtype"].GetString() == std::string("TXT"));
  BOOST_TEST(sec[0]["reasons"].Size() == 1u);
  BOOST_TEST(sec[0]["reasons"][0].GetString() == std::string("txt-query"));
  BOOST_TEST(std::abs(sec[0]["ts"].GetDouble() - 1700000000.123) < 1e-6);  // capture time, ms
  BOOST_TEST(d["alerts"].IsArray());
  BOOST_TEST(d["alerts"].Size() == 0u);
  BOOST_TEST(d["emitters"].Size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_rate_is_per_wall_clock_second_over_the_last_300) {
  Events e;
  std::int64_t now = 1'700'000'000;
  app::LiveStats live(10, [&] { return now; });
  const auto ev = e.make("www.example.com.", kA, 1);
  for (int i = 0; i < 3; ++i) live.observe(ev);
  now += 5;
  for (int i = 0; i < 2; ++i) live.observe(ev);
  MetricRegistry registry;
  auto d = parse(live.json(registry));
  const auto& r = d["rate"];
  BOOST_TEST(r["end"].GetInt64() == now);
  const auto& per = r["per_second"];
  BOOST_TEST_REQUIRE(per.Size() == 300u);
  BOOST_TEST(per[299].GetUint64() == 2u);  // newest last
  BOOST_TEST(per[294].GetUint64() == 3u);
  std::uint64_t sum = 0;
  for (const auto& v : per.GetArray()) sum += v.GetUint64();
  BOOST_TEST(sum == 5u);
  // 300 seconds on, a bucket that counted 1'700'000'000 counts the new second from zero.
  now = 1'700'000'300;
  live.observe(ev);
  d = parse(live.json(registry));
  sum = 0;
  for (const auto& v : d["rate"]["per_second"].GetArray()) sum += v.GetUint64();
  BOOST_TEST(sum == 3u);  // the 2 of second +5 and the new one
  BOOST_TEST(d["rate"]["per_second"][299].GetUint64() == 1u);
  // Quiet for longer than the window: all zeros, totals kept.
  now += 1000;
  d = parse(live.json(registry));
  for (const auto& v : d["rate"]["per_second"].GetArray()) BOOST_TEST(v.GetUint64() == 0u);
  BOOST_TEST(d["totals"]["messages"].GetUint64() == 6u);
}

BOOST_AUTO_TEST_CASE(recent_security_events_keep_the_newest_20_newest_first) {
  Events e;
  app::LiveStats live(10, [] { return std::int64_t{1'700'000'000}; });
  for (int i = 0; i < 25; ++i)
    live.observe(e.make("q" + std::to_string(i) + ".tunnel.example.net.", kTxt, 9));
  live.observe(e.make("www.example.com.", kA, 9));  // not a security event
  MetricRegistry registry;
  const auto d = parse(live.json(registry));
  const auto& sec = d["security"];
  BOOST_TEST_REQUIRE(sec.Size() == 20u);
  BOOST_TEST(sec[0]["qname"].GetString() == std::string("q24.tunnel.example.net."));
  BOOST_TEST(sec[19]["qname"].GetString() == std::string("q5.tunnel.example.net."));
  BOOST_TEST(d["totals"]["security"].GetUint64() == 25u);
  // Top lists show 10 of the 10 counters.
  BOOST_TEST(d["top"]["qname"].Size() == 10u);
}

BOOST_AUTO_TEST_CASE(emitter_health_and_drops_come_from_the_registry) {
  Counter packets, messages, bad_pointer, loop, kernel, queued, sent, full, error;
  MetricRegistry r;
  r.add({"", "", "packets", {}, ""}, packets);
  r.add({"", "", "messages", {}, ""}, messages);
  r.add({"", "", "malformed", {{"reason", "bad-pointer"}}, ""}, bad_pointer);
  r.add({"", "", "malformed", {{"reason", "compression-loop"}}, ""}, loop);
  r.add({"", "", "pcap-dropped", {}, ""}, kernel);
  r.add({"emitter", "redis-main", "queued", {}, ""}, queued);
  r.add({"emitter", "redis-main", "sent", {}, ""}, sent);
  r.add({"emitter", "redis-main", "dropped-full", {}, ""}, full);
  r.add({"emitter", "redis-main", "dropped-error", {}, ""}, error);
  r.add({"emitter", "redis-main", "queue-depth", {}, "", MetricType::Gauge}, [] { return 7; });
  r.add({"emitter", "redis-main", "up", {}, "", MetricType::Gauge}, [] { return 0; });
  r.add({"emitter", "mqtt-edge", "sent", {}, ""}, sent);
  r.add({"emitter", "mqtt-edge", "depth", {}, "", MetricType::Gauge}, [] { return 2; });
  r.add({"enricher", "geoip", "hits", {}, ""}, messages);
  packets.add(100), messages.add(90), bad_pointer.add(2), loop.add(3), kernel.add(4);
  queued.add(80), sent.add(70), full.add(5), error.add(6);

  app::LiveStats live;
  const auto d = parse(live.json(r));
  const auto& t = d["totals"];
  BOOST_TEST(t["packets"].GetUint64() == 100u);
  BOOST_TEST(t["decoded"].GetUint64() == 90u);
  BOOST_TEST(t["malformed"].GetUint64() == 5u);  // summed over its reasons
  BOOST_TEST(t["kernel_dropped"].GetUint64() == 4u);
  BOOST_TEST(t["interface_dropped"].IsNull());
  BOOST_TEST(t["messages"].GetUint64() == 0u);  // what this LiveStats observed

  const auto& em = d["emitters"];
  BOOST_TEST_REQUIRE(em.Size() == 2u);  // in registration order
  BOOST_TEST(em[0]["name"].GetString() == std::string("redis-main"));
  BOOST_TEST(em[0]["up"].IsBool());
  BOOST_TEST(!em[0]["up"].GetBool());
  BOOST_TEST(em[0]["queued"].GetUint64() == 80u);
  BOOST_TEST(em[0]["sent"].GetUint64() == 70u);
  BOOST_TEST(em[0]["dropped_full"].GetUint64() == 5u);
  BOOST_TEST(em[0]["dropped_error"].GetUint64() == 6u);
  BOOST_TEST(em[0]["reconnects"].IsNull());
  BOOST_TEST(em[0]["depth"].GetUint64() == 7u);
  BOOST_TEST(em[1]["name"].GetString() == std::string("mqtt-edge"));
  BOOST_TEST(em[1]["up"].IsNull());              // no `up` gauge: unknown
  BOOST_TEST(em[1]["depth"].GetUint64() == 2u);  // the older name of queue-depth
  BOOST_TEST(em[1]["queued"].IsNull());
}

BOOST_AUTO_TEST_CASE(names_that_need_escaping_stay_valid_json) {
  Events e;
  app::LiveStats live;
  // A label with a quote, a backslash, '<' and a control byte: the decoder's presentation
  // escapes, then the JSON writer's.
  decode::DnsEvent ev;
  decode::parse_message(DnsBuilder()
                            .header(1, 0x0100, 1, 0)
                            .label("a\"<\\\x01")
                            .label("example")
                            .label("com")
                            .u8(0)
                            .u16(kTxt)
                            .u16(1)
                            .bytes(),
                        ev);
  e.psl->enrich(ev);
  e.security->enrich(ev);
  live.observe(ev);
  MetricRegistry registry;
  const auto d = parse(live.json(registry));
  BOOST_TEST(d["top"]["qname"].Size() == 1u);
  BOOST_TEST(std::string(d["top"]["qname"][0]["key"].GetString()).find('<') != std::string::npos);
  BOOST_TEST(!std::string(app::live_page_html()).empty());
}

BOOST_AUTO_TEST_SUITE_END()

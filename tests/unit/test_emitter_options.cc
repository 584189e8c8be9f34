// What every emitter shares: topic templates, filters, and the URLs of --redis/--zmq/--mqtt.
#include <boost/test/unit_test.hpp>

#include "decode/dns_wire.h"
#include "emitters/event_filter.h"
#include "emitters/template.h"
#include "emitters/url.h"
#include "fixtures/dns_packet_builder.h"
#include "fixtures/enrich.h"

using namespace stash53;
using test::DnsBuilder;

namespace {

decode::DnsEvent nxdomain_aaaa_response() {
  decode::DnsEvent ev;
  decode::parse_message(
      DnsBuilder().header(1, 0x8183, 1, 0).question("www.Example.ORG.", 28).bytes(), ev);
  test::make_enricher("nsid", "{label: ns1}")->enrich(ev);
  return ev;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

config::OptionReader reader(const char* yaml) { return config::OptionReader(YAML::Load(yaml), "emitters[0]"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(emitter_options)

BOOST_AUTO_TEST_CASE(templates_render_event_fields) {
  const auto where = reader("{}");
  const emitters::Template t("dns/{nsid}/{qtype}/{rcode}/{msg_type}", where, "topic");
  std::string out;
  t.render(nxdomain_aaaa_response(), out);
  BOOST_TEST(out == "dns/ns1/AAAA/NXDOMAIN/response");
  const emitters::Template plain("dns:events", where, "key");
  out.clear();
  plain.render(nxdomain_aaaa_response(), out);
  BOOST_TEST(out == "dns:events");
}

BOOST_AUTO_TEST_CASE(unknown_template_fields_are_config_errors) {
  const auto where = reader("{topic: x}");
  BOOST_TEST(error_of([&] { emitters::Template("dns/{qnmae}", where, "topic"); })
                 .find("emitters[0].topic (line 1): unknown field {qnmae}") != std::string::npos);
  BOOST_TEST(error_of([&] { emitters::Template("dns/{qtype", where, "topic"); })
                 .find("'{' without '}'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(filters_by_type_rcode_msg_type_and_sampling) {
  auto o = reader("{filter: {msg_type: response, qtype: [AAAA], rcode: [NXDOMAIN, SERVFAIL]}}");
  emitters::EventFilter f(o);
  BOOST_TEST(f.accepts(nxdomain_aaaa_response()));
  auto other_type = reader("{filter: {qtype: [A]}}");
  BOOST_TEST(!emitters::EventFilter(other_type).accepts(nxdomain_aaaa_response()));
  auto queries = reader("{filter: {msg_type: query}}");
  BOOST_TEST(!emitters::EventFilter(queries).accepts(nxdomain_aaaa_response()));
  auto sampled = reader("{filter: {sample: 3}}");
  emitters::EventFilter s(sampled);
  int kept = 0;
  for (int i = 0; i < 9; ++i) kept += s.accepts(nxdomain_aaaa_response());
  BOOST_TEST(kept == 3);
  auto bad = reader("{filter: {msg_type: answer}}");
  BOOST_TEST(error_of([&] { emitters::EventFilter{bad}; }).find("filter.msg_type") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(filters_on_any_catalogue_field_with_a_text_form) {
  auto ev = nxdomain_aaaa_response();
  test::make_enricher("tld")->enrich(ev);
  auto tld = reader("{filter: {tld: org, transport: [udp]}}");
  BOOST_TEST(emitters::EventFilter(tld).accepts(ev));
  auto other = reader("{filter: {tld: [com, net]}}");
  BOOST_TEST(!emitters::EventFilter(other).accepts(ev));
  auto absent = reader("{filter: {malformed: bad-pointer}}");  // the event lacks the field
  BOOST_TEST(!emitters::EventFilter(absent).accepts(nxdomain_aaaa_response()));
  auto not_text = reader("{filter: {answers: x}}");
  BOOST_TEST(error_of([&] { emitters::EventFilter{not_text}; }).find("not a field to filter on") !=
             std::string::npos);
  auto empty = reader("{filter: {qtype: []}}");
  BOOST_TEST(error_of([&] { emitters::EventFilter{empty}; }).find("at least one") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(templates_take_any_text_field) {
  const auto where = reader("{}");
  std::string out;
  emitters::Template("{tld}/{id}/{qname}/{malformed}", where, "topic")
      .render(nxdomain_aaaa_response(), out);
  BOOST_TEST(out == "-/1/www.Example.ORG./-");  // no tld enricher ran: "-"
  BOOST_TEST(error_of([&] { emitters::Template("{answers}", where, "topic"); })
                 .find("unknown field {answers}") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(urls_of_the_emitter_flags) {
  const auto where = reader("{}");
  const auto r = emitters::parse_url("redis://user:p%40ss@127.0.0.1:6380/2?key=dns:{nsid}&data_type=list",
                                     where, "url");
  BOOST_TEST(r.scheme == "redis");
  BOOST_TEST(r.user == "user");
  BOOST_TEST(r.password == "p@ss");
  BOOST_TEST(r.host == "127.0.0.1");
  BOOST_TEST(r.port == 6380);
  BOOST_TEST(r.path == "2");
  BOOST_TEST_REQUIRE(r.query.size() == 2u);
  BOOST_TEST(r.query[0].second == "dns:{nsid}");
  const auto password_only = emitters::parse_url("redis://:secret@localhost", where, "url");
  BOOST_TEST(password_only.user.empty());
  BOOST_TEST(password_only.password == "secret");
  BOOST_TEST(password_only.port == 0);
  const auto v6 = emitters::parse_url("tcp://[::1]:5556?topic=dns.{qtype}", where, "url");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == 5556);
  BOOST_TEST(error_of([&] { (void)emitters::parse_url("127.0.0.1:6379", where, "url"); })
                 .find("expected scheme://host") != std::string::npos);
  BOOST_TEST(error_of([&] { (void)emitters::parse_url("tcp://host:99999", where, "url"); })
                 .find("port must be 1..65535") != std::string::npos);
  const auto cluster = emitters::parse_url("nats://u:p@h1:4222,[::1]:4223,h3?stream=S", where, "url", true);
  BOOST_TEST(cluster.host == "h1");
  BOOST_TEST(cluster.port == 4222);
  BOOST_TEST_REQUIRE(cluster.more_hosts.size() == 2u);
  BOOST_TEST(cluster.more_hosts[0].text() == "[::1]:4223");
  BOOST_TEST(cluster.more_hosts[1].host == "h3");
  BOOST_TEST(cluster.more_hosts[1].port == 0);
  BOOST_TEST(error_of([&] { (void)emitters::parse_url("redis://h1:1,h2:2", where, "url"); })
                 .find("one host only") != std::string::npos);
  BOOST_TEST((emitters::split_list(" a:1, b:2,,c ") == std::vector<std::string>{"a:1", "b:2", "c"}));
  BOOST_TEST(emitters::split_list("").empty());
  BOOST_TEST(error_of([&] { (void)emitters::parse_host_port("10.0.0.1", where, "sentinels", true); })
                 .find("no port number") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(urls_are_shown_without_their_secrets) {
  BOOST_TEST(config::redact_url("redis://u:p%40ss@h:1/2?key=k") == "redis://u:********@h:1/2?key=k");
  BOOST_TEST(config::redact_url("redis://h?sentinels=a:1,b:2&sentinel_password=s&master_name=m") ==
             "redis://h?sentinels=a:1,b:2&sentinel_password=********&master_name=m");
  BOOST_TEST(config::redact_url("nats://h1:1,h2:2?token=t&stream=S") ==
             "nats://h1:1,h2:2?token=********&stream=S");
  BOOST_TEST(config::redact_url("tcp://h:1?password_file=/etc/p") == "tcp://h:1?password_file=/etc/p");
  BOOST_TEST(config::redact_url("not a url") == "not a url");
}

BOOST_AUTO_TEST_SUITE_END()

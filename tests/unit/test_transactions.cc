// The transaction table's rules, one message at a time: what the integration tests' captures
// cannot easily stage (LLMNR's multicast queries, a FORMERR without its question, a deadline
// re-armed by a retransmission, a pending entry per question under one ID).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "correlate/transactions.h"
#include "decode/dns_wire.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53;
using correlate::Status;
using test::DnsBuilder;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

struct Seen {
  Status status;
  std::string qname;
  std::int64_t latency_ns;
  std::uint32_t retransmissions;
};

class Collect final : public correlate::ExchangeSink {
 public:
  void on_exchange(const correlate::Exchange& x) noexcept override {
    const auto& m = x.first();
    seen.push_back({x.status, m.has_question ? std::string(m.view(m.qname)) : std::string(),
                    x.latency_ns(), x.retransmissions});
  }
  std::vector<Seen> seen;
};

decode::IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  decode::IpAddress ip;
  ip.bytes[0] = a, ip.bytes[1] = b, ip.bytes[2] = c, ip.bytes[3] = d;
  return ip;
}

const auto kClient = v4(192, 0, 2, 1);
const auto kServer = v4(198, 51, 100, 53);

decode::DnsEvent message(std::int64_t ts, bool response, std::uint16_t id, const char* qname,
                         decode::IpAddress src, decode::IpAddress dst, std::uint16_t sport,
                         std::uint16_t dport, decode::Proto proto = decode::Proto::Dns) {
  DnsBuilder b;
  b.header(id, response ? 0x8180 : 0x0100, qname != nullptr ? 1 : 0, 0);
  if (qname != nullptr) b.question(qname, 1);
  decode::DnsEvent ev;
  decode::parse_message(b.bytes(), ev);
  ev.ts_ns = ts, ev.proto = proto;
  ev.net.src = src, ev.net.dst = dst, ev.net.sport = sport, ev.net.dport = dport;
  return ev;
}

decode::DnsEvent query(std::int64_t ts, std::uint16_t id, const char* qname, std::uint16_t port = 4000) {
  return message(ts, false, id, qname, kClient, kServer, port, 53);
}
decode::DnsEvent answer(std::int64_t ts, std::uint16_t id, const char* qname, std::uint16_t port = 4000) {
  return message(ts, true, id, qname, kServer, kClient, 53, port);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transactions)

BOOST_AUTO_TEST_CASE(a_retransmission_rearms_the_timeout) {
  correlate::TransactionTable t({5 * kSecond, 100, 1u << 20});
  Collect out;
  t.observe(query(0, 1, "a.example."), out);
  t.observe(query(4 * kSecond, 1, "a.example."), out);
  t.observe(answer(8 * kSecond, 1, "a.example."), out);  // 8 s after the first, 4 after the last
  BOOST_TEST_REQUIRE(out.seen.size() == 1u);
  BOOST_TEST((out.seen[0].status == Status::Answered));
  BOOST_TEST(out.seen[0].retransmissions == 1u);
  BOOST_TEST(out.seen[0].latency_ns == 8 * kSecond);
}

BOOST_AUTO_TEST_CASE(a_timeout_is_exact_and_on_capture_time) {
  correlate::TransactionTable t({5 * kSecond, 100, 1u << 20});
  Collect out;
  t.observe(query(0, 1, "a.example."), out);
  t.advance(5 * kSecond - 1, out);
  BOOST_TEST(out.seen.empty());
  t.observe(answer(5 * kSecond, 1, "a.example."), out);  // at the deadline: too late
  BOOST_TEST_REQUIRE(out.seen.size() == 2u);
  BOOST_TEST((out.seen[0].status == Status::Unanswered));
  BOOST_TEST((out.seen[1].status == Status::Unsolicited));
  BOOST_TEST(t.size() == 0u);
}

BOOST_AUTO_TEST_CASE(one_id_two_questions_and_a_formerr_without_question) {
  correlate::TransactionTable t({5 * kSecond, 100, 1u << 20});
  Collect out;
  t.observe(query(0, 7, "a.example."), out);
  t.observe(query(1, 7, "b.example."), out);
  t.observe(answer(2, 7, "b.example."), out);
  BOOST_TEST_REQUIRE(out.seen.size() == 1u);
  BOOST_TEST(out.seen[0].qname == "b.example.");
  // FORMERR without its question: pairs with the one query left of that flow and ID.
  t.observe(answer(3, 7, nullptr), out);
  BOOST_TEST_REQUIRE(out.seen.size() == 2u);
  BOOST_TEST((out.seen[1].status == Status::Answered));
  BOOST_TEST(out.seen[1].qname == "a.example.");
  // With two queries of that flow and ID waiting, a response without question pairs with none.
  t.observe(query(4, 8, "a.example."), out);
  t.observe(query(5, 8, "b.example."), out);
  t.observe(answer(6, 8, nullptr), out);
  BOOST_TEST((out.seen.back().status == Status::Unsolicited));
  BOOST_TEST(t.size() == 2u);
  t.flush(out);
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(out.seen.size() == 5u);
}

BOOST_AUTO_TEST_CASE(llmnr_multicast_query_pairs_with_a_unicast_answer) {
  correlate::TransactionTable t({5 * kSecond, 100, 1u << 20});
  Collect out;
  const auto group = v4(224, 0, 0, 252), responder = v4(192, 0, 2, 77);
  t.observe(message(0, false, 9, "host.", kClient, group, 50000, 5355, decode::Proto::Llmnr), out);
  t.observe(message(1000, true, 9, "host.", responder, kClient, 5355, 50000, decode::Proto::Llmnr), out);
  t.observe(message(2000, true, 9, "host.", v4(192, 0, 2, 78), kClient, 5355, 50000, decode::Proto::Llmnr), out);
  BOOST_TEST_REQUIRE(out.seen.size() == 2u);
  BOOST_TEST((out.seen[0].status == Status::Answered));
  BOOST_TEST(out.seen[0].latency_ns == 1000);
  BOOST_TEST((out.seen[1].status == Status::Unsolicited));  // a second responder: a spoofer?
}

BOOST_AUTO_TEST_CASE(mdns_is_never_held) {
  correlate::TransactionTable t({5 * kSecond, 100, 1u << 20});
  Collect out;
  const auto group = v4(224, 0, 0, 251);
  t.observe(message(0, false, 0, "printer.local.", kClient, group, 5353, 5353, decode::Proto::Mdns), out);
  t.observe(message(1, true, 0, "printer.local.", kServer, group, 5353, 5353, decode::Proto::Mdns), out);
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST_REQUIRE(out.seen.size() == 2u);
  BOOST_TEST((out.seen[0].status == Status::Multicast && out.seen[1].status == Status::Multicast));
}

BOOST_AUTO_TEST_CASE(the_byte_bound_evicts_the_oldest) {
  correlate::TransactionTable t({5 * kSecond, 1000, 4096});  // room for a few entries only
  Collect out;
  for (std::uint16_t i = 0; i < 100; ++i) t.observe(query(i, i, "a.example.", 1000 + i), out);
  BOOST_TEST(t.bytes() <= 4096u);
  BOOST_TEST(out.seen.size() + t.size() == 100u);
  BOOST_TEST(!out.seen.empty());
}

BOOST_AUTO_TEST_SUITE_END()

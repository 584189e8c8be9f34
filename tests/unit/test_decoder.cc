#include <pcap/dlt.h>

#include <boost/test/unit_test.hpp>

#include "decode/decoder.h"
#include "fixtures/dns_packet_builder.h"

using namespace stash53::decode;
using namespace stash53::test;

namespace {

struct Collect final : MessageSink {
  std::vector<std::uint16_t> ids;
  std::vector<std::string> qnames;
  void on_message(DnsEvent& ev) noexcept override {
    ids.push_back(ev.hdr.id);
    qnames.emplace_back(ev.view(ev.qname));
  }
};

void feed(Decoder& d, const std::vector<std::uint8_t>& bytes, Collect& sink) {
  stash53::capture::Packet pkt;
  pkt.bytes = bytes;
  pkt.wire_len = static_cast<std::uint32_t>(bytes.size());
  pkt.dlt = DLT_RAW;
  pkt.ts_ns = 1'690'000'000'000'000'000;
  DnsEvent ev;
  d.decode(pkt, ev, sink);
}

DnsBuilder::Bytes query(std::uint16_t id, std::string_view qname) {
  return DnsBuilder().header(id, 0x0100, 1, 0).question(qname, 1).bytes();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decoder)

BOOST_AUTO_TEST_CASE(several_tcp_messages_in_one_segment) {
  Decoder d({});
  Collect sink;
  auto data = tcp_framed(query(1, "one.example."));
  const auto second = tcp_framed(query(2, "two.example."));
  data.insert(data.end(), second.begin(), second.end());
  feed(d, tcp_packet(data, 40000, 53), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{1, 2}));
  BOOST_TEST(sink.qnames == (std::vector<std::string>{"one.example.", "two.example."}));
  BOOST_TEST(d.counters().messages.get() == 2u);
}

BOOST_AUTO_TEST_CASE(partial_tcp_message_is_counted_not_guessed) {
  Decoder d({});
  Collect sink;
  auto data = tcp_framed(query(1, "one.example."));
  data.resize(data.size() - 3);
  feed(d, tcp_packet(data, 40000, 53), sink);
  BOOST_TEST(sink.ids.empty());
  BOOST_TEST(d.counters().tcp_partial.get() == 1u);
}

BOOST_AUTO_TEST_CASE(counters_by_kind_and_reason) {
  DecodeOptions only_5300;
  only_5300.ports = {5300};
  Decoder d(only_5300);
  Collect sink;
  feed(d, udp_packet(query(1, "a.example."), false, 40000, 53), sink);    // not our port now
  feed(d, udp_packet(query(2, "b.example."), false, 40000, 5300), sink);
  feed(d, udp_packet({1, 2, 3}, false, 40000, 5300), sink);              // 3-byte "DNS"
  BOOST_TEST(d.counters().packets.get() == 3u);
  BOOST_TEST(d.counters().by_kind[static_cast<std::size_t>(PacketKind::NotDnsPort)].get() == 1u);
  BOOST_TEST(d.counters().messages.get() == 2u);
  BOOST_TEST(d.counters().malformed[static_cast<std::size_t>(Malformed::TruncatedHeader)].get() ==
             1u);
  BOOST_TEST(sink.ids.size() == 2u);  // the malformed one is emitted too, flagged
}

BOOST_AUTO_TEST_SUITE_END()

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

BOOST_AUTO_TEST_CASE(tcp_message_split_over_segments_is_reassembled) {
  Decoder d({});
  Collect sink;
  const auto data = tcp_framed(query(7, "split.example."));
  feed(d, tcp_packet({}, 40000, 53, 99, 0x02), sink);  // SYN: data starts at 100
  feed(d, tcp_packet({data.begin(), data.begin() + 1}, 40000, 53, 100), sink);  // half a length
  feed(d, tcp_packet({data.begin() + 1, data.begin() + 9}, 40000, 53, 101), sink);
  BOOST_TEST(sink.ids.empty());
  feed(d, tcp_packet({data.begin() + 9, data.end()}, 40000, 53, 109), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{7}));
  BOOST_TEST(sink.qnames == (std::vector<std::string>{"split.example."}));
}

BOOST_AUTO_TEST_CASE(out_of_order_and_retransmitted_segments) {
  Decoder d({});
  Collect sink;
  auto data = tcp_framed(query(1, "one.example."));
  const auto second = tcp_framed(query(2, "two.example."));
  const auto split = static_cast<std::uint32_t>(data.size());
  data.insert(data.end(), second.begin(), second.end());
  feed(d, tcp_packet({}, 40000, 53, 0, 0x02), sink);
  // The second message first, then the first twice (a retransmission).
  feed(d, tcp_packet({data.begin() + split, data.end()}, 40000, 53, 1 + split), sink);
  BOOST_TEST(sink.ids.empty());
  feed(d, tcp_packet({data.begin(), data.begin() + split}, 40000, 53, 1), sink);
  feed(d, tcp_packet({data.begin(), data.begin() + split}, 40000, 53, 1), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{1, 2}));
  BOOST_TEST(d.tcp().count(TcpEvent::OutOfOrder) == 1u);
  BOOST_TEST(d.tcp().count(TcpEvent::Retransmitted) == 1u);
}

BOOST_AUTO_TEST_CASE(flow_without_syn_syncs_at_a_segment_of_whole_messages) {
  Decoder d({});
  Collect sink;
  // The capture starts inside a message: its tail cannot be framed and is skipped.
  const auto first = tcp_framed(query(2, "cut.example."));
  feed(d, tcp_packet({first.begin() + 5, first.end()}, 40000, 53, 5000), sink);
  BOOST_TEST(sink.ids.empty());
  BOOST_TEST(d.tcp().count(TcpEvent::Midstream) == 1u);
  // The next segment is exactly one message: from here on the stream is framed.
  const auto second = tcp_framed(query(3, "mid.example."));
  const auto next_seq = static_cast<std::uint32_t>(5000 + first.size() - 5);
  feed(d, tcp_packet(second, 40000, 53, next_seq), sink);
  const auto third = tcp_framed(query(4, "next.example."));
  feed(d, tcp_packet({third.begin(), third.begin() + 4}, 40000, 53,
                     next_seq + static_cast<std::uint32_t>(second.size())), sink);
  feed(d, tcp_packet({third.begin() + 4, third.end()}, 40000, 53,
                     next_seq + static_cast<std::uint32_t>(second.size()) + 4), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{3, 4}));
}

BOOST_AUTO_TEST_CASE(zero_length_tcp_message_is_flagged_and_empty_udp_is_not_dns) {
  Decoder d({});
  Collect sink;
  feed(d, tcp_packet({}, 40000, 53, 0, 0x02), sink);
  auto data = std::vector<std::uint8_t>{0, 0};
  const auto q = tcp_framed(query(5, "after.example."));
  data.insert(data.end(), q.begin(), q.end());
  feed(d, tcp_packet(data, 40000, 53, 1), sink);
  BOOST_TEST(sink.ids.size() == 2u);
  BOOST_TEST(d.counters().malformed[static_cast<std::size_t>(Malformed::TruncatedHeader)].get() == 1u);
  feed(d, udp_packet({}, false, 40000, 53), sink);
  BOOST_TEST(sink.ids.size() == 2u);
  BOOST_TEST(d.counters().by_kind[static_cast<std::size_t>(PacketKind::EmptyUdp)].get() == 1u);
}

BOOST_AUTO_TEST_CASE(ipv4_fragments_in_any_order_are_reassembled) {
  // A response with a 1200-byte TXT record, cut into 3 fragments of at most 512 bytes.
  DnsBuilder b;
  b.header(9, 0x8180, 1, 1).question("big.example.", 16).pointer(12).rr_fixed(16, 1, 60, 1205);
  for (int i = 0; i < 5; ++i) b.label(std::string(240, 'x'));
  const auto frags = ipv4_fragments(udp_packet(b.bytes(), false, 53, 40000), 512);
  BOOST_TEST_REQUIRE(frags.size() == 3u);
  Decoder d({});
  Collect sink;
  feed(d, frags[2], sink);
  feed(d, frags[0], sink);
  BOOST_TEST(sink.ids.empty());
  feed(d, frags[1], sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{9}));
  BOOST_TEST(d.fragment_counters().reassembled.get() == 1u);
}

BOOST_AUTO_TEST_CASE(fragments_that_never_complete_time_out) {
  FragmentLimits limits;
  limits.timeout_ns = 1'000'000'000;
  DecodeOptions opts;
  opts.fragments = limits;
  Decoder d(opts);
  Collect sink;
  DnsBuilder b;
  b.header(9, 0x8180, 1, 0).question("big.example.", 16);
  for (int i = 0; i < 4; ++i) b.label(std::string(200, 'y'));
  const auto frags = ipv4_fragments(udp_packet(b.bytes(), false, 53, 40000), 256);
  feed(d, frags[0], sink);
  stash53::capture::Packet later;
  const auto junk = udp_packet(query(1, "later.example."), false, 40000, 53);
  later.bytes = junk;
  later.dlt = DLT_RAW;
  later.ts_ns = 1'690'000'000'000'000'000 + 5'000'000'000;  // 5 s after
  DnsEvent ev;
  d.decode(later, ev, sink);
  BOOST_TEST(d.fragment_counters().dropped[static_cast<std::size_t>(FragmentDrop::Timeout)].get() ==
             1u);
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

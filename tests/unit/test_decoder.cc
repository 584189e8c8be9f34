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
  std::vector<Malformed> malformed;
  std::vector<std::size_t> answers;
  void on_message(DnsEvent& ev) noexcept override {
    ids.push_back(ev.hdr.id);
    qnames.emplace_back(ev.view(ev.qname));
    malformed.push_back(ev.malformed);
    answers.push_back(ev.answers.size());
  }
};

// Decodes `bytes` captured up to `caplen` (a snaplen cut), checking that the packet has one
// outcome: it yields messages, or exactly one reason counter says why not.
void feed(Decoder& d, const std::vector<std::uint8_t>& bytes, Collect& sink,
          std::size_t caplen = SIZE_MAX) {
  stash53::capture::Packet pkt;
  pkt.bytes = std::span(bytes).first(std::min(caplen, bytes.size()));
  pkt.wire_len = static_cast<std::uint32_t>(bytes.size());
  pkt.dlt = DLT_RAW;
  pkt.ts_ns = 1'690'000'000'000'000'000;
  DnsEvent ev;
  const auto messages = sink.ids.size();
  const auto reasons = d.packets_with_reason();
  d.decode(pkt, ev, sink);
  const bool yielded = sink.ids.size() > messages;
  BOOST_TEST(d.packets_with_reason() - reasons == (yielded ? 0u : 1u));
}

// A response to `qname` with `n` A records of 16 bytes each after a 12 + name + 4 byte start.
DnsBuilder::Bytes answer(std::uint16_t id, std::string_view qname, int n) {
  DnsBuilder b;
  b.header(id, 0x8180, 1, static_cast<std::uint16_t>(n)).question(qname, 1);
  for (int i = 0; i < n; ++i) b.pointer(12).rr_fixed(1, 1, 60, 4).u8(192).u8(0).u8(2).u8(static_cast<std::uint8_t>(i));
  return b.bytes();
}

std::uint32_t u32(std::size_t n) { return static_cast<std::uint32_t>(n); }

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

BOOST_AUTO_TEST_CASE(snaplen_cut_segment_yields_its_message_flagged_and_the_stream_resyncs) {
  Decoder d({});
  Collect sink;
  const auto big = tcp_framed(answer(1, "big.example.", 20));      // 2 + 30 + 20 * 16 bytes
  const auto next = tcp_framed(answer(2, "next.example.", 2));
  const auto third = tcp_framed(answer(3, "third.example.", 1));
  feed(d, tcp_packet({}, 53, 40000, 0, 0x02), sink);  // SYN: data starts at 1
  // `big` in three segments of 100, 100 and the rest; the second is cut 40 bytes into its data.
  feed(d, tcp_packet({big.begin(), big.begin() + 100}, 53, 40000, 1), sink);
  BOOST_TEST(d.tcp().count(TcpEvent::Partial) == 1u);
  feed(d, tcp_packet({big.begin() + 100, big.begin() + 200}, 53, 40000, 101), sink, 40 + 40);
  BOOST_TEST_REQUIRE(sink.ids.size() == 1u);
  BOOST_TEST(sink.qnames[0] == "big.example.");
  BOOST_TEST((sink.malformed[0] == Malformed::TruncatedAnswer));
  BOOST_TEST(sink.answers[0] == (140u - 2 - 30) / 16);  // the records before the cut
  // The rest of `big` is skipped, and the stream goes on with the next message.
  feed(d, tcp_packet({big.begin() + 200, big.end()}, 53, 40000, 201), sink);
  BOOST_TEST(d.tcp().count(TcpEvent::Snaplen) == 1u);
  BOOST_TEST(d.tcp().count(TcpEvent::Retransmitted) == 0u);
  auto both = next;
  both.insert(both.end(), third.begin(), third.end());
  feed(d, tcp_packet(both, 53, 40000, 1 + u32(big.size())), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{1, 2, 3}));
  BOOST_TEST((sink.malformed[1] == Malformed::None && sink.malformed[2] == Malformed::None));
}

BOOST_AUTO_TEST_CASE(snaplen_cut_that_hides_a_length_resyncs_at_whole_messages) {
  Decoder d({});
  Collect sink;
  const auto a = tcp_framed(answer(1, "a.example.", 3)), b = tcp_framed(answer(2, "b.example.", 3));
  const auto c = tcp_framed(answer(3, "c.example.", 1)), e = tcp_framed(answer(4, "e.example.", 1));
  auto ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  feed(d, tcp_packet({}, 53, 40000, 0, 0x02), sink);
  // Cut inside `a`: the hole holds b's length, so b is lost and where messages start with it.
  feed(d, tcp_packet(ab, 53, 40000, 1), sink, 40 + a.size() - 5);
  std::uint32_t seq = 1 + u32(ab.size());
  // A segment cut before a length is all it has: counted, nothing emitted.
  feed(d, tcp_packet(c, 53, 40000, seq), sink, 40 + 1);
  BOOST_TEST(d.tcp().count(TcpEvent::Midstream) == 1u);  // not in step: skipped
  seq += u32(c.size());
  feed(d, tcp_packet(c, 53, 40000, seq), sink);          // whole messages: in step again
  seq += u32(c.size());
  feed(d, tcp_packet({e.begin(), e.begin() + 20}, 53, 40000, seq), sink);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{1, 3}));
  BOOST_TEST((sink.malformed[0] == Malformed::TruncatedAnswer));
  // All its data cut: not a bare ACK, and it ends e after its first 20 bytes.
  feed(d, tcp_packet(std::vector<std::uint8_t>(6), 53, 40000, seq + 20), sink, 40);
  BOOST_TEST(d.counters().tcp_no_payload.get() == 1u);  // the SYN only
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{1, 3, 4}));
  BOOST_TEST((sink.malformed[2] == Malformed::TruncatedQuestion));
}

BOOST_AUTO_TEST_CASE(every_packet_has_one_outcome) {
  // feed() checks each packet; here the cases with no message: control segments, a RST with
  // data, a fragment held, and the fragment completing a datagram counted as the datagram.
  Decoder d({});
  Collect sink;
  feed(d, tcp_packet({}, 53, 40000, 0, 0x02), sink);
  feed(d, tcp_packet({1, 2, 3}, 53, 40000, 1, 0x14), sink);  // RST|ACK with data
  BOOST_TEST(d.tcp().count(TcpEvent::RstData) == 1u);
  const auto frags = ipv4_fragments(udp_packet(answer(9, "frag.example.", 40), false, 53, 40000), 256);
  for (const auto& f : frags) feed(d, f, sink);
  BOOST_TEST(d.counters().by_kind[static_cast<std::size_t>(PacketKind::IpFragment)].get() ==
             frags.size() - 1);
  BOOST_TEST(sink.ids == (std::vector<std::uint16_t>{9}));
  BOOST_TEST(d.counters().packets.get() - d.packets_with_reason() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

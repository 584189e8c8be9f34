// libFuzzer target: captured frames → Decoder → enrichers → JSON.
//
// Input: byte 0 picks the link type (bits 0-2) and the decoder (bit 3), byte 1 the time between
// packets, the rest is one or more frames separated by kMarker. Both decoders live across all
// inputs, like the pipeline's across a capture, so state kept between packets (IP fragments, TCP
// streams) meets every later input. One has the default limits; the other the smallest the
// config accepts, so that the limit and timeout paths run all the time.

#include <pcap/dlt.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "decode/decoder.h"
#include "tests/fuzz/event_check.h"

namespace {

using stash53::decode::DnsEvent;

constexpr int kDlts[8] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
                          DLT_LOOP,   DLT_RAW,       DLT_IPV4,       DLT_IPV6};
// Shared with make_corpus.py. memmem() is hooked by libFuzzer, which so learns the marker.
constexpr std::uint8_t kMarker[4] = {0xF0, 'S', '5', '3'};

using stash53::fuzz::CheckingSink;

stash53::decode::DecodeOptions smallest_limits() {
  stash53::decode::DecodeOptions o;  // the minimums of config/config.cc
  o.fragments.max_datagrams = 1;
  o.fragments.max_fragments = 2;
  o.fragments.max_bytes = 1 << 20;
  o.fragments.timeout_ns = 1'000'000'000;
  o.tcp.max_flows = 1;
  o.tcp.max_flow_bytes = 64 << 10;
  o.tcp.max_bytes = 1 << 20;
  o.tcp.idle_timeout_ns = 1'000'000'000;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static stash53::decode::Decoder roomy{stash53::decode::DecodeOptions{}};
  static stash53::decode::Decoder tight{smallest_limits()};
  static CheckingSink sink;
  static DnsEvent ev;
  // Capture time moves forward across inputs; steps from 1 µs to ~36 min let the fuzzer reach
  // every reassembly timeout. After some 10^7 inputs it would pass the int64 range: it jumps
  // back to the start instead, as merged captures jump back in time.
  constexpr std::int64_t kStartNs = 1'690'000'000'000'000'000, kWrapNs = 9'000'000'000'000'000'000;
  static std::int64_t now_ns = kStartNs;
  if (size < 2) return 0;
  const int dlt = kDlts[data[0] & 7];
  stash53::decode::Decoder& decoder = data[0] & 8 ? tight : roomy;
  const std::int64_t step_ns = std::int64_t{1000} << (data[1] & 31);

  std::span<const std::uint8_t> rest(data + 2, size - 2);
  for (;;) {
    const void* hit = memmem(rest.data(), rest.size(), kMarker, sizeof kMarker);
    const std::size_t len =
        hit ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - rest.data())
            : rest.size();
    stash53::capture::Packet pkt;
    if (now_ns > kWrapNs - step_ns) now_ns = kStartNs;
    now_ns += step_ns;
    pkt.ts_ns = now_ns;
    pkt.bytes = rest.first(len);
    pkt.wire_len = static_cast<std::uint32_t>(len);
    pkt.dlt = dlt;

    const std::uint64_t counted = decoder.counters().messages.get();
    const std::uint64_t seen = sink.messages();
    decoder.decode(pkt, ev, sink);
    if (decoder.counters().messages.get() - counted != sink.messages() - seen) {
      std::fprintf(stderr, "decoder counted %llu messages, handed %llu to the sink\n",
                   static_cast<unsigned long long>(decoder.counters().messages.get() - counted),
                   static_cast<unsigned long long>(sink.messages() - seen));
      std::abort();
    }
    if (!hit) break;
    rest = rest.subspan(len + sizeof kMarker);
  }
  return 0;
}

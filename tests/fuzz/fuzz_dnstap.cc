// libFuzzer target: one Frame Streams data frame (a protobuf dnstap.Dnstap) → DnstapUnpacker →
// Decoder → enrichers → JSON. One unpacker and one decoder live across all inputs, as the
// source's and the pipeline's do, so the arena grown by one input meets the next.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "capture/dnstap_message.h"
#include "decode/decoder.h"
#include "tests/fuzz/event_check.h"

namespace {

using stash53::decode::DnsEvent;

using stash53::fuzz::CheckingSink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static stash53::capture::DnstapUnpacker unpacker;
  static stash53::decode::Decoder decoder{stash53::decode::DecodeOptions{}};
  static CheckingSink sink;
  static DnsEvent ev;
  stash53::capture::Message msg;
  if (!unpacker.unpack({reinterpret_cast<const char*>(data), size}, msg)) return 0;

  const std::uint64_t counted = decoder.counters().messages.get();
  const std::uint64_t seen = sink.messages();
  decoder.decode(msg, ev, sink);
  if (decoder.counters().messages.get() - counted != sink.messages() - seen) {
    std::fprintf(stderr, "decoder counted %llu messages, handed %llu to the sink\n",
                 static_cast<unsigned long long>(decoder.counters().messages.get() - counted),
                 static_cast<unsigned long long>(sink.messages() - seen));
    std::abort();
  }
  return 0;
}

// libFuzzer target: arbitrary bytes as one DNS message → parse_message → enrichers → JSON.

#include <cstddef>
#include <cstdint>

#include "decode/dns_wire.h"
#include "tests/fuzz/event_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static stash53::fuzz::EventChecker checker;
  // One event refilled in place, as in the pipeline, so state left over by clear() shows up.
  static stash53::decode::DnsEvent ev;
  ev.clear();
  // The ID's value changes nothing in parsing, so its top bit chooses mDNS class reading.
  const bool mdns = size > 0 && (data[0] & 0x80) != 0;
  stash53::decode::parse_message({data, size}, ev, mdns);
  checker.check(ev);
  return 0;
}

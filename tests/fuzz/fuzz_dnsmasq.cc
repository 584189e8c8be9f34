// libFuzzer target: dnsmasq log lines (the input split at '\n') → Joiner → fill_from_dnsmasq →
// enrichers → JSON. Each input gets joiners of its own, so a reproducer needs no history: one
// with the default limits, one with the smallest, so that eviction and timeouts run all the time.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/dnsmasq/joiner.h"
#include "decode/dnsmasq_event.h"
#include "tests/fuzz/event_check.h"

namespace {

namespace dm = stash53::capture::dnsmasq;

constexpr std::int64_t kReferenceNs = 1'795'000'000'000'000'000;  // 2026-11-18, near the samples

dm::JoinerOptions options(bool tight) {
  dm::JoinerOptions o;
  o.clock = {kReferenceNs, 3600};
  if (tight) {
    o.dns_timeout_ns = o.dhcp_timeout_ns = 1'000'000'000;
    o.max_held_queries = o.max_held_dhcp = 1;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static stash53::fuzz::EventChecker checker;
  static stash53::decode::DnsEvent ev;  // refilled in place, as in the pipeline
  const auto check = [](dm::Event&& e) {
    stash53::decode::fill_from_dnsmasq(e, ev);
    checker.check(ev);
  };
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const bool tight : {false, true}) {
    dm::Joiner joiner(options(tight), check);
    std::int64_t arrival_ns = kReferenceNs;
    for (std::size_t pos = 0; pos <= input.size();) {
      const std::size_t end = std::min(input.find('\n', pos), input.size());
      joiner.feed(input.substr(pos, end - pos), arrival_ns += 300'000'000);  // stdin's lines
      pos = end + 1;
    }
    joiner.flush();
  }
  return 0;
}

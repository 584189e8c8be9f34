#pragma once
// IPv4 and IPv6 fragment reassembly with bounded memory: large EDNS/DNSSEC answers arrive as
// fragments, and a sniffer that drops them loses exactly the answers operators care about.

#include <array>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/counter.h"
#include "decode/net_layers.h"

namespace stash53::decode {

/// Config keys decode.fragments.*.
struct FragmentLimits {
  std::size_t max_datagrams = 4096;      // datagrams being reassembled at once
  std::size_t max_fragments = 64;        // fragments per datagram
  std::size_t max_bytes = 32u << 20;     // payload bytes held in all
  std::int64_t timeout_ns = 30'000'000'000;  // capture time; RFC 8200 §4.5 says 60 s, Linux 30 s
};

/// Why fragments were thrown away. Names are stable counter labels.
enum class FragmentDrop : std::uint8_t {
  Timeout,   // the datagram never completed
  Overlap,   // IPv6 overlapping fragments (RFC 5722), or IPv4 ones that disagree on the end
  TooBig,    // would exceed 65535 bytes
  Limit,     // a memory or count limit was reached
  kCount
};
[[nodiscard]] std::string_view fragment_drop_name(FragmentDrop d) noexcept;

struct FragmentCounters {
  Counter reassembled;
  std::array<Counter, static_cast<std::size_t>(FragmentDrop::kCount)> dropped;  // datagrams
};

/// Pipeline thread only.
class IpReassembler {
 public:
  explicit IpReassembler(const FragmentLimits& limits) : limits_(limits) {}

  /// Adds one fragment seen at `now_ns`. Returns true when it completed its datagram; then
  /// `dgram.payload` is the whole payload (valid until the next call) and `dgram.fragment` false.
  [[nodiscard]] bool add(IpDatagram& dgram, std::int64_t now_ns) noexcept;
  /// Forgets datagrams older than the timeout; cheap unless a second of capture time passed.
  void expire(std::int64_t now_ns);
  [[nodiscard]] const FragmentCounters& counters() const noexcept { return counters_; }

 private:
  struct Key {
    bool ipv6;
    std::uint8_t proto;
    std::uint32_t id;
    IpAddress src, dst;
    bool operator==(const Key& o) const noexcept;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Pending {
    std::vector<std::uint8_t> data, have;  // bytes, and which of them arrived
    std::size_t fragments = 0;
    std::size_t total = 0;  // known once the last fragment (no MF) arrived
    std::int64_t first_seen_ns = 0;
  };

  /// Forgets a datagram and counts why; returns false for add() to pass on.
  bool drop(std::unordered_map<Key, Pending, KeyHash>::iterator it, FragmentDrop why);

  FragmentLimits limits_;
  std::unordered_map<Key, Pending, KeyHash> pending_;
  std::size_t bytes_ = 0;
  std::int64_t last_expiry_ns_ = 0;
  std::vector<std::uint8_t> assembled_;
  FragmentCounters counters_;
};

}  // namespace stash53::decode

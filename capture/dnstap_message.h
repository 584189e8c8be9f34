#pragma once
// One Frame Streams data frame (a protobuf dnstap.Dnstap) → a capture::Message: the unpacking
// half of DnstapSource, apart from its sockets and threads so that a fuzzer can reach it.

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

#include "capture/source.h"
#include "common/counter.h"

namespace stash53::capture {

inline constexpr std::size_t kDnstapTypes = 15;  // dnstap.proto Message.Type 1..14, 0 for anything else

struct DnstapCounters {
  Counter bad_frames;   // not a dnstap protobuf
  Counter not_message;  // a Dnstap other than a Message
  Counter no_dns;       // a Message without the DNS message bytes
  std::array<Counter, kDnstapTypes> by_type;
};

/// One thread; not thread safe. The Message it fills points into its arena: valid until the
/// next unpack().
class DnstapUnpacker {
 public:
  DnstapUnpacker();
  ~DnstapUnpacker();
  /// Fills `out` from `frame`; false when the frame holds no dnstap Message (counted).
  bool unpack(std::string_view frame, Message& out) noexcept;
  [[nodiscard]] const DnstapCounters& counters() const noexcept { return counters_; }

 private:
  class Arena;
  std::unique_ptr<Arena> arena_;
  DnstapCounters counters_;
};

}  // namespace stash53::capture

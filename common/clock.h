#pragma once
// The clocks as nanoseconds since their epochs: the wall clock for event times, the steady one
// for intervals (heartbeats, queue latency).

#include <chrono>
#include <cstdint>

namespace stash53 {

inline std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace stash53

#pragma once
#include <atomic>
#include <cstdint>

namespace stash53 {

/// A statistics counter with one writer thread and any number of readers. The writer pays a
/// plain load and store (no locked instruction); readers may see a slightly old value, never one
/// newer than a counter the writer increased before this one (release/acquire: a plain move on
/// x86), so a reader that reads downstream counters first sees them no larger than upstream ones.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return value_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace stash53

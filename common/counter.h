#pragma once
#include <atomic>
#include <cstdint>

namespace stash53 {

/// A statistics counter with one writer thread and any number of readers. The writer pays a
/// plain load and store (no locked instruction); readers may see a slightly old value.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace stash53

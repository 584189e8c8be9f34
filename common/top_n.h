#pragma once
// A top-k sketch: Space-Saving (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent
// and Top-k Elements in Data Streams", ICDT 2005). No Debian C++ library provides one.
//
// k counters, each a key with a count and an error. A new key takes over the counter with the
// smallest count c, starting at c + 1 with error c. After N additions every counter satisfies
// count - error <= true count <= count, and every key seen more than N/k times holds a counter.
// Memory is fixed: k keys (their strings keep their capacity), a min-heap of the counters and
// an open-addressing index of 2k..4k slots. Once the key strings have grown to the traffic's
// longest keys, add() allocates nothing.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace stash53 {

/// Not thread-safe: one thread at a time (the caller locks).
class TopN {
 public:
  struct Item {
    std::string_view key;  // valid until the next add() or clear()
    std::uint64_t count;   // an upper bound of the key's true count
    std::uint64_t error;   // count - error is a lower bound
  };

  /// At most `k` (>= 1) keys are tracked.
  explicit TopN(std::size_t k) : k_(std::max<std::size_t>(k, 1)) {
    std::size_t slots = 1;
    while (slots < 2 * k_) slots <<= 1;
    index_.assign(slots, kEmpty);
    counters_.reserve(k_);
    heap_.reserve(k_);
  }

  /// Counts `key` `weight` times.
  void add(std::string_view key, std::uint64_t weight = 1) {
    total_ += weight;
    const std::size_t h = std::hash<std::string_view>{}(key);
    std::size_t slot = find(key, h);
    if (index_[slot] != kEmpty) {
      Entry& c = counters_[index_[slot]];
      c.count += weight;
      return sift_down(c.heap_pos);
    }
    std::uint32_t id;
    if (counters_.size() < k_) {
      id = static_cast<std::uint32_t>(counters_.size());
      counters_.push_back({std::string(key), h, weight, 0, id});
      heap_.push_back(id);
      index_[slot] = id;
      return sift_up(id);
    }
    // Full: the key takes over the counter with the smallest count (the heap's root).
    id = heap_[0];
    Entry& c = counters_[id];
    erase(find(c.key, c.hash));
    c.key.assign(key);
    c.hash = h;
    c.error = c.count;
    c.count += weight;
    index_[find(key, h)] = id;  // the erase may have moved entries: probe again
    sift_down(0);
  }

  /// The `n` largest counters, largest first (ties by key).
  [[nodiscard]] std::vector<Item> top(std::size_t n) const {
    std::vector<Item> items;
    items.reserve(counters_.size());
    for (const Entry& c : counters_) items.push_back({c.key, c.count, c.error});
    n = std::min(n, items.size());
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(n), items.end(),
                      [](const Item& a, const Item& b) {
                        return a.count != b.count ? a.count > b.count : a.key < b.key;
                      });
    items.resize(n);
    return items;
  }

  [[nodiscard]] std::size_t size() const noexcept { return counters_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return k_; }
  /// The sum of all weights added (N).
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffff;
  struct Entry {
    std::string key;
    std::size_t hash;
    std::uint64_t count, error;
    std::uint32_t heap_pos;
  };

  // The index slot holding `key`, or the empty slot where it would go (linear probing).
  [[nodiscard]] std::size_t find(std::string_view key, std::size_t h) const noexcept {
    const std::size_t mask = index_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint32_t id = index_[i];
      if (id == kEmpty || (counters_[id].hash == h && counters_[id].key == key)) return i;
    }
  }
  // Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4 Algorithm R): no tombstones.
  void erase(std::size_t hole) noexcept {
    const std::size_t mask = index_.size() - 1;
    for (std::size_t j = (hole + 1) & mask; index_[j] != kEmpty; j = (j + 1) & mask) {
      const std::size_t home = counters_[index_[j]].hash & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) index_[hole] = index_[j], hole = j;
    }
    index_[hole] = kEmpty;
  }

  [[nodiscard]] bool less(std::uint32_t a, std::uint32_t b) const noexcept {
    return counters_[heap_[a]].count < counters_[heap_[b]].count;
  }
  void swap_heap(std::uint32_t a, std::uint32_t b) noexcept {
    std::swap(heap_[a], heap_[b]);
    counters_[heap_[a]].heap_pos = a;
    counters_[heap_[b]].heap_pos = b;
  }
  void sift_up(std::uint32_t i) noexcept {
    for (; i > 0 && less(i, (i - 1) / 2); i = (i - 1) / 2) swap_heap(i, (i - 1) / 2);
  }
  void sift_down(std::uint32_t i) noexcept {
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t m = i;
      const std::uint32_t l = 2 * i + 1, r = l + 1;
      if (l < n && less(l, m)) m = l;
      if (r < n && less(r, m)) m = r;
      if (m == i) return;
      swap_heap(i, m);
      i = m;
    }
  }

  std::size_t k_;
  std::uint64_t total_ = 0;
  std::vector<Entry> counters_;       // by id; ids are stable
  std::vector<std::uint32_t> heap_;   // ids, a min-heap on count
  std::vector<std::uint32_t> index_;  // ids by key hash; a power of two, at least 2k
};

}  // namespace stash53

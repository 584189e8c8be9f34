#pragma once
// A bounded queue of byte strings for many producers and one consumer: the dnstap writers'
// threads hand their frames to the pipeline thread through it (emitters, with one producer,
// use common/event_ring.h). Slots keep their capacity, and the consumer swaps its spent items
// back in, so once warm a push is a memcpy and nothing is allocated per item.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stash53 {

class BoundedQueue {
 public:
  enum class Push : unsigned char { Ok, Full, Closed };

  /// At most `max_items` entries and `max_bytes` bytes of payload (an item larger than
  /// max_bytes still fits into an empty queue, so no single event is refused for ever).
  BoundedQueue(std::size_t max_items, std::size_t max_bytes)
      : slots_(max_items == 0 ? 1 : max_items), max_bytes_(max_bytes) {}

  /// Copies the item in. With `wait`, blocks while the queue is full (reading files); without,
  /// returns Full at once (live capture). Closed once close() was called.
  Push push(std::string_view item, bool wait) {
    const std::size_t size = item.size();
    std::unique_lock lock(mutex_);
    for (;;) {
      if (closed_) return Push::Closed;
      if (count_ < slots_.size() && (count_ == 0 || bytes_ + size <= max_bytes_)) break;
      if (!wait) return Push::Full;
      producer_waiting_ = true;
      not_full_.wait(lock);
      producer_waiting_ = false;
    }
    slots_[(head_ + count_) % slots_.size()].assign(item);
    ++count_;
    bytes_ += size;
    if (count_ >= wake_at_) not_empty_.notify_one();
    return Push::Ok;
  }

  /// Moves up to `max` items into `batch` (whose old items are recycled as slots). Waits for
  /// the first item (at most `first`, when given); then, with a non-zero `linger`, waits up to
  /// that long for a full batch. Without `first`, returns 0 only when closed and empty.
  std::size_t pop_batch(std::vector<std::string>& batch, std::size_t max,
                        std::chrono::microseconds linger,
                        std::optional<std::chrono::milliseconds> first = std::nullopt) {
    std::unique_lock lock(mutex_);
    wake_at_ = 1;
    const auto ready = [&] { return count_ > 0 || closed_; };
    if (first)
      not_empty_.wait_for(lock, *first, ready);
    else
      not_empty_.wait(lock, ready);
    if (linger.count() > 0 && count_ < max && !closed_) {
      wake_at_ = max;
      not_empty_.wait_for(lock, linger, [&] { return count_ >= max || closed_; });
    }
    wake_at_ = kNobodyWaiting;
    const std::size_t n = std::min(max, count_);
    if (batch.size() < n) batch.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string& slot = slots_[head_];
      bytes_ -= slot.size();
      batch[i].swap(slot);
      head_ = (head_ + 1) % slots_.size();
    }
    count_ -= n;
    if (n > 0 && producer_waiting_) not_full_.notify_one();
    return n;
  }

  /// Wakes every waiter; pushes fail from now on, pops drain what is left.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  /// Discards what is queued and returns how many items that was.
  std::size_t clear() {
    std::lock_guard lock(mutex_);
    const std::size_t n = count_;
    count_ = bytes_ = 0;
    if (producer_waiting_) not_full_.notify_all();
    return n;
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  static constexpr std::size_t kNobodyWaiting = static_cast<std::size_t>(-1);

  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::vector<std::string> slots_;
  std::size_t head_ = 0, count_ = 0, bytes_ = 0;
  const std::size_t max_bytes_;
  std::size_t wake_at_ = kNobodyWaiting;  // the consumer sleeps until count_ reaches this
  bool producer_waiting_ = false;
  bool closed_ = false;
};

}  // namespace stash53

#pragma once
// The hand-off between the pipeline thread and one emitter thread: a ring of bytes holding
// each event as a record (topic, JSON document, time queued) laid end to end. One producer,
// one consumer, no lock on either side's path: each owns its position and publishes it with
// a release store. A thread sleeps only when it has nothing to do, and the other wakes it only
// then (the consumer once a batch is ready), so a busy pipeline costs no futex per event.
//
// Why not a library: Boost.Lockfree's spsc_queue and moodycamel's ReaderWriterQueue hold
// fixed-size elements (a std::string per event: an allocation, and slots that keep the
// capacity of the largest event ever seen); variable-length records that the consumer reads
// in place, bounded in bytes, are what keeps the memory of a queue to its backlog.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace stash53 {

/// One queued event, read in place: valid until the consumer releases it.
struct QueuedEvent {
  std::string_view topic;  // rendered topic or Redis key; empty when the emitter has none
  std::string_view json;
  std::int64_t queued_ns = 0;  // steady clock, for the delivery latency
};

class EventRing {
 public:
  enum class Push : unsigned char { Ok, Full, Closed };

  /// At most `max_items` events in `bytes` of ring (at least 64 KiB). The memory is touched
  /// only as far as a quarter of the ring or the backlog reaches (see push()), so a consumer
  /// that keeps up works in memory the caches are more likely to hold.
  EventRing(std::size_t max_items, std::size_t bytes)
      : capacity_(std::max<std::size_t>(bytes, 64 << 10) & ~std::size_t{7}),
        max_items_(std::max<std::size_t>(max_items, 1)),
        data_(new char[capacity_]) {}

  /// Producer. Copies the event in. With `wait`, blocks while the ring is full (reading
  /// files); without, returns Full at once (live capture). An event larger than half the
  /// ring is Full (it might fit nowhere). Closed once close() was called.
  Push push(std::string_view topic, std::string_view json, bool wait, std::int64_t queued_ns = 0) {
    const std::size_t need = record_size(topic.size() + json.size());
    if (need > capacity_ / 2) return Push::Full;
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    for (;;) {
      if (closed_.load(std::memory_order_acquire)) return Push::Closed;
      const std::uint64_t head = head_.load(std::memory_order_acquire);
      const std::size_t offset = tail % capacity_, to_end = capacity_ - offset;
      // The ring starts again at its beginning early, so that the memory touched stays near
      // the backlog: when it is empty past kRewindAt (all of it is free again at once), or
      // when the consumer is a quarter of the ring in and the record fits before it (the
      // consumer is rarely all caught up: it takes whole batches). The consumer is told where
      // to jump (rewind_from_/rewind_to_, not a mark in the ring, which the records of the new
      // round could overwrite). A record that does not fit before the end skips it, marked in
      // the ring.
      const std::size_t head_offset = head % capacity_;
      const bool empty = head == tail;
      const bool rewind = offset > 0 && ((empty && offset >= kRewindAt) ||
                                         (head / capacity_ == tail / capacity_ &&
                                          head_offset >= capacity_ / 4 && need <= head_offset));
      const std::size_t skip = !rewind && need > to_end ? to_end : 0;
      const std::uint64_t at_pos = tail + (rewind ? to_end : skip);
      const std::uint64_t free_from = std::max(head, rewind && empty ? at_pos : floor_);
      if (at_pos + need - free_from <= capacity_ &&
          pushed_.load(std::memory_order_relaxed) - popped_.load(std::memory_order_acquire) <
              max_items_) {
        if (rewind) {
          rewind_from_.store(tail, std::memory_order_relaxed);  // published with tail_ below
          rewind_to_.store(at_pos, std::memory_order_relaxed);
          if (empty) floor_ = at_pos;
        } else if (skip > 0) {
          store_u32(offset, kSkip);
        }
        tail = at_pos;
        const std::size_t at = tail % capacity_;
        store_u32(at, static_cast<std::uint32_t>(topic.size()));
        store_u32(at + 4, static_cast<std::uint32_t>(json.size()));
        std::memcpy(data_.get() + at + 8, &queued_ns, 8);
        std::memcpy(data_.get() + at + kHeader, topic.data(), topic.size());
        std::memcpy(data_.get() + at + kHeader + topic.size(), json.data(), json.size());
        tail_.store(tail + need, std::memory_order_release);
        pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        // Pairs with the fence in sleep(): either the consumer sees this event, or this
        // sees it asleep.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (consumer_asleep_.load(std::memory_order_relaxed) && size() >= wake_at_.load(std::memory_order_relaxed))
          wake(not_empty_);
        return Push::Ok;
      }
      if (!wait) return Push::Full;
      sleep(producer_asleep_, not_full_, std::nullopt, [&] {
        return closed_.load() || head_.load(std::memory_order_acquire) != head;
      });
    }
  }

  /// Consumer. Views of up to `max` events into `batch` (resized), which stay valid until
  /// release(). Waits for the first event (at most `first`, when given); then, with a
  /// non-zero `linger`, up to that long for a full batch. Without `first`, returns 0 only
  /// when closed and empty. Call release() before the next pop_batch().
  std::size_t pop_batch(std::vector<QueuedEvent>& batch, std::size_t max,
                        std::chrono::microseconds linger,
                        std::optional<std::chrono::milliseconds> first = std::nullopt) {
    batch.clear();
    if (size() == 0) {
      const auto deadline = first ? std::optional(std::chrono::steady_clock::now() + *first) : std::nullopt;
      wake_at_.store(1, std::memory_order_relaxed);
      sleep(consumer_asleep_, not_empty_, deadline, [&] { return size() > 0 || closed_.load(); });
    }
    if (linger.count() > 0 && size() < max && !closed_.load()) {
      wake_at_.store(max, std::memory_order_relaxed);
      sleep(consumer_asleep_, not_empty_, std::chrono::steady_clock::now() + linger,
            [&] { return size() >= max || closed_.load(); });
    }
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    std::uint64_t at = head_.load(std::memory_order_relaxed);
    while (at < tail && batch.size() < max) at = read(at, &batch.emplace_back());
    batch_end_ = at;
    batch_events_ = batch.size();
    return batch_events_;
  }

  /// Consumer: frees the events of the last pop_batch().
  void release() {
    head_.store(batch_end_, std::memory_order_release);
    popped_.store(popped_.load(std::memory_order_relaxed) + batch_events_, std::memory_order_release);
    batch_events_ = 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (producer_asleep_.load(std::memory_order_relaxed)) wake(not_full_);
  }

  /// Wakes both sides; pushes fail from now on, pops drain what is left.
  void close() {
    closed_.store(true);
    std::lock_guard lock(mutex_);
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  /// Consumer: discards what is queued, an unreleased batch included, and returns how many
  /// events that was besides that batch.
  std::size_t clear() {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    std::size_t n = 0;
    for (std::uint64_t at = batch_end_ > head_.load() ? batch_end_ : head_.load(); at < tail; ++n)
      at = read(at, nullptr);
    head_.store(tail, std::memory_order_release);
    popped_.store(popped_.load(std::memory_order_relaxed) + batch_events_ + n, std::memory_order_release);
    batch_end_ = tail;
    batch_events_ = 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (producer_asleep_.load(std::memory_order_relaxed)) wake(not_full_);
    return n;
  }

  /// Events queued now (the consumer's unreleased batch included). Any thread.
  [[nodiscard]] std::size_t size() const noexcept {
    return pushed_.load(std::memory_order_acquire) - popped_.load(std::memory_order_acquire);
  }

 private:
  static constexpr std::size_t kHeader = 16;  // topic size, JSON size (u32 each), queued_ns
  static constexpr std::size_t kRewindAt = 256 << 10;
  static constexpr std::uint32_t kSkip = 0xffffffffu;  // in a topic size: go on at offset 0

  static constexpr std::size_t record_size(std::size_t payload) {
    return (kHeader + payload + 7) & ~std::size_t{7};
  }
  /// The record at position `at` (into `e`, when given); returns where the next one starts.
  std::uint64_t read(std::uint64_t at, QueuedEvent* e) const {
    if (at == rewind_from_.load(std::memory_order_relaxed)) at = rewind_to_.load(std::memory_order_relaxed);
    std::size_t offset = at % capacity_;
    std::uint32_t topic_size = load_u32(offset);
    if (topic_size == kSkip) {
      at += capacity_ - offset;
      offset = 0;
      topic_size = load_u32(0);
    }
    const std::uint32_t json_size = load_u32(offset + 4);
    if (e != nullptr) {
      std::memcpy(&e->queued_ns, data_.get() + offset + 8, 8);
      e->topic = {data_.get() + offset + kHeader, topic_size};
      e->json = {data_.get() + offset + kHeader + topic_size, json_size};
    }
    return at + record_size(topic_size + json_size);
  }
  void store_u32(std::size_t at, std::uint32_t v) { std::memcpy(data_.get() + at, &v, 4); }
  std::uint32_t load_u32(std::size_t at) const {
    std::uint32_t v;
    std::memcpy(&v, data_.get() + at, 4);
    return v;
  }

  template <typename Ready>
  void sleep(std::atomic<bool>& asleep, std::condition_variable& cv,
             std::optional<std::chrono::steady_clock::time_point> deadline, Ready ready) {
    std::unique_lock lock(mutex_);
    asleep.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    while (!ready()) {
      if (!deadline)
        cv.wait(lock);
      else if (cv.wait_until(lock, *deadline) == std::cv_status::timeout)
        break;
    }
    asleep.store(false, std::memory_order_relaxed);
  }
  void wake(std::condition_variable& cv) {
    std::lock_guard lock(mutex_);  // the sleeper is in wait(), or has not checked yet
    cv.notify_one();
  }

  const std::size_t capacity_, max_items_;
  std::unique_ptr<char[]> data_;  // uninitialised: pages are touched as the ring fills
  alignas(64) std::atomic<std::uint64_t> tail_{0}, pushed_{0};  // the producer's
  // The last rewind: the consumer goes on at rewind_to_ when it reaches rewind_from_.
  std::atomic<std::uint64_t> rewind_from_{~std::uint64_t{0}}, rewind_to_{0};
  std::uint64_t floor_ = 0;  // producer: all before it is free (an empty ring's last rewind)
  alignas(64) std::atomic<std::uint64_t> head_{0}, popped_{0};  // the consumer's
  alignas(64) std::atomic<std::size_t> wake_at_{1};
  std::atomic<bool> consumer_asleep_{false}, producer_asleep_{false}, closed_{false};
  std::uint64_t batch_end_ = 0;    // consumer: where the last batch ends
  std::size_t batch_events_ = 0;   // consumer: how many events it holds, until released
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
};

}  // namespace stash53

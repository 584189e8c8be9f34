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

/// Where one side of a ring sleeps: the other side takes the mutex only to wake it, and only
/// when `asleep` says it sleeps. Several rings may share their consumer's (EventRings).
struct RingBell {
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<bool> asleep{false};
  std::atomic<std::size_t> wake_at{1};  // the consumer's: wake it once a ring holds this many

  /// Sleeps until `ready()` or the deadline.
  template <typename Ready>
  void sleep(std::optional<std::chrono::steady_clock::time_point> deadline, Ready ready) {
    std::unique_lock lock(mutex);
    asleep.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the waker's fence
    while (!ready()) {
      if (!deadline)
        cv.wait(lock);
      else if (cv.wait_until(lock, *deadline) == std::cv_status::timeout)
        break;
    }
    asleep.store(false, std::memory_order_relaxed);
  }
  void wake() {
    std::lock_guard lock(mutex);  // the sleeper is in wait(), or has not checked yet
    cv.notify_one();
  }

  /// The consumer's wait before it takes a batch: for a first event (at most `first`, when
  /// given), then, with a non-zero `linger`, up to that long for `max` of them. `queued()` is
  /// what the ring holds (of several rings, the fullest one).
  template <typename Queued, typename Closed>
  void wait_for_batch(std::size_t max, std::chrono::microseconds linger,
                      std::optional<std::chrono::milliseconds> first, Queued queued,
                      Closed closed) {
    if (queued() == 0) {
      const auto deadline = first ? std::optional(std::chrono::steady_clock::now() + *first) : std::nullopt;
      wake_at.store(1, std::memory_order_relaxed);
      sleep(deadline, [&] { return queued() > 0 || closed(); });
    }
    if (linger.count() > 0 && queued() < max && !closed()) {
      wake_at.store(max, std::memory_order_relaxed);
      sleep(std::chrono::steady_clock::now() + linger,
            [&] { return queued() >= max || closed(); });
    }
  }
};

class EventRing {
 public:
  enum class Push : unsigned char { Ok, Full, Closed };

  /// At most `max_items` events in `bytes` of ring (at least 64 KiB). The memory is touched
  /// only as far as a quarter of the ring or the backlog reaches (see push()), so a consumer
  /// that keeps up works in memory the caches are more likely to hold.
  /// `consumer_bell`: shared with other rings of the same consumer (EventRings); null: its own.
  EventRing(std::size_t max_items, std::size_t bytes, RingBell* consumer_bell = nullptr)
      : capacity_(std::max<std::size_t>(bytes, 64 << 10) & ~std::size_t{7}),
        max_items_(std::max<std::size_t>(max_items, 1)),
        data_(new char[capacity_]),
        consumer_(consumer_bell != nullptr ? *consumer_bell : own_consumer_) {}

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
        if (consumer_.asleep.load(std::memory_order_relaxed) &&
            size() >= consumer_.wake_at.load(std::memory_order_relaxed))
          consumer_.wake();
        return Push::Ok;
      }
      if (!wait) return Push::Full;
      // Woken once a quarter of the ring is free again (or all of it), not per batch the
      // consumer releases: a context switch per batch costs more than the batch.
      resume_head_.store(head + capacity_ / 4, std::memory_order_relaxed);
      resume_popped_.store(popped_.load(std::memory_order_acquire) + max_items_ / 4,
                           std::memory_order_relaxed);
      producer_.sleep(std::nullopt, [&] { return closed_.load() || room_made(); });
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
    consumer_.wait_for_batch(max, linger, first, [&] { return size(); }, [&] { return closed(); });
    // Counted, not read up to tail_: the producer moves tail_ before pushed_, so a record
    // may show in the one before the other, and popped_ must never pass pushed_ (a size()
    // of -1 looks like a ring with something in it).
    const std::size_t take = std::min(published(), max);
    std::uint64_t at = head_.load(std::memory_order_relaxed);
    while (batch.size() < take) at = read(at, &batch.emplace_back());
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
    if (producer_.asleep.load(std::memory_order_relaxed) && room_made()) producer_.wake();
  }

  /// Wakes both sides; pushes fail from now on, pops drain what is left.
  void close() {
    closed_.store(true);
    for (RingBell* bell : {&consumer_, &producer_}) {
      std::lock_guard lock(bell->mutex);
      bell->cv.notify_all();
    }
  }

  /// Consumer: discards what is queued, an unreleased batch included, and returns how many
  /// events that was besides that batch.
  std::size_t clear() {
    const std::size_t n = published() - batch_events_;
    std::uint64_t at = batch_events_ > 0 ? batch_end_ : head_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) at = read(at, nullptr);
    head_.store(at, std::memory_order_release);
    popped_.store(popped_.load(std::memory_order_relaxed) + batch_events_ + n, std::memory_order_release);
    batch_end_ = at;
    batch_events_ = 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (producer_.asleep.load(std::memory_order_relaxed)) producer_.wake();
    return n;
  }

  [[nodiscard]] bool closed() const noexcept { return closed_.load(); }

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
  /// What a producer waiting for room waits for: a quarter of the bytes or of the events
  /// freed since it went to sleep, or the ring empty.
  bool room_made() const noexcept {
    return head_.load(std::memory_order_acquire) >= resume_head_.load(std::memory_order_relaxed) ||
           popped_.load(std::memory_order_acquire) >= resume_popped_.load(std::memory_order_relaxed) ||
           size() == 0;
  }
  /// Consumer: the events pushed and not released; their records are all visible.
  std::size_t published() const noexcept {
    return pushed_.load(std::memory_order_acquire) - popped_.load(std::memory_order_relaxed);
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

  const std::size_t capacity_, max_items_;
  std::unique_ptr<char[]> data_;  // uninitialised: pages are touched as the ring fills
  alignas(64) std::atomic<std::uint64_t> tail_{0}, pushed_{0};  // the producer's
  // The last rewind: the consumer goes on at rewind_to_ when it reaches rewind_from_.
  std::atomic<std::uint64_t> rewind_from_{~std::uint64_t{0}}, rewind_to_{0};
  std::uint64_t floor_ = 0;  // producer: all before it is free (an empty ring's last rewind)
  std::atomic<std::uint64_t> resume_head_{0}, resume_popped_{0};  // producer: see room_made()
  alignas(64) std::atomic<std::uint64_t> head_{0}, popped_{0};  // the consumer's
  std::atomic<bool> closed_{false};
  std::uint64_t batch_end_ = 0;    // consumer: where the last batch ends
  std::size_t batch_events_ = 0;   // consumer: how many events it holds, until released
  RingBell own_consumer_, producer_;
  RingBell& consumer_;
};

/// One consumer's rings, one per producer (the pipeline's workers): each producer pushes into
/// its own, so no two threads ever write one ring, and each producer's events stay in order.
/// The consumer sleeps on one bell for all of them and takes each batch from one ring.
class EventRings {
 public:
  /// `max_items` and `bytes` are shared out evenly between the `producers` rings.
  EventRings(std::size_t producers, std::size_t max_items, std::size_t bytes) {
    producers = std::max<std::size_t>(producers, 1);
    for (std::size_t i = 0; i < producers; ++i)
      rings_.push_back(std::make_unique<EventRing>(max_items / producers, bytes / producers, &bell_));
  }

  /// Producer `i`'s ring.
  [[nodiscard]] EventRing& operator[](std::size_t i) noexcept { return *rings_[i]; }
  [[nodiscard]] std::size_t producers() const noexcept { return rings_.size(); }

  /// Consumer: EventRing::pop_batch over all the rings; the batch comes from one ring, the
  /// next ring with events after the last one taken from (none is starved).
  std::size_t pop_batch(std::vector<QueuedEvent>& batch, std::size_t max,
                        std::chrono::microseconds linger,
                        std::optional<std::chrono::milliseconds> first = std::nullopt) {
    batch.clear();
    const auto fullest = [&] {
      std::size_t n = 0;
      for (const auto& r : rings_) n = std::max(n, r->size());
      return n;
    };
    bell_.wait_for_batch(max, linger, first, fullest, [&] { return closed(); });
    for (std::size_t k = 0; k < rings_.size(); ++k) {
      const std::size_t i = (last_ + 1 + k) % rings_.size();
      if (rings_[i]->size() == 0) continue;
      last_ = i;
      return rings_[i]->pop_batch(batch, max, std::chrono::microseconds(0));
    }
    return 0;
  }
  /// Consumer: frees the last batch.
  void release() { rings_[last_]->release(); }
  /// Consumer: EventRing::clear() of every ring.
  std::size_t clear() {
    std::size_t n = 0;
    for (auto& r : rings_) n += r->clear();
    return n;
  }
  void close() {
    for (auto& r : rings_) r->close();
  }
  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const auto& r : rings_) n += r->size();
    return n;
  }

 private:
  [[nodiscard]] bool closed() const noexcept { return rings_[0]->closed(); }

  RingBell bell_;
  std::vector<std::unique_ptr<EventRing>> rings_;
  std::size_t last_ = 0;
};

}  // namespace stash53

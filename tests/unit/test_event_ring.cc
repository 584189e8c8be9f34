#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>

#include "common/event_ring.h"

using stash53::EventRing;
using stash53::QueuedEvent;
using namespace std::chrono_literals;

namespace {

std::string payload(std::uint64_t i) {
  // Sizes vary from 1 to 997 bytes, so records straddle the end of the ring in every way.
  return std::to_string(i) + std::string((i * 7919) % 997, static_cast<char>('a' + i % 26));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_ring)

BOOST_AUTO_TEST_CASE(fifo_batches_hold_until_released) {
  EventRing q(10, 1 << 20);
  for (int i = 0; i < 5; ++i)
    BOOST_TEST((q.push("t" + std::to_string(i), std::to_string(i), false, 100 + i) == EventRing::Push::Ok));
  std::vector<QueuedEvent> batch;
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 3u);
  BOOST_TEST(batch[0].json == "0");
  BOOST_TEST(batch[2].topic == "t2");
  BOOST_TEST(batch[2].queued_ns == 102);
  BOOST_TEST(q.size() == 5u);  // a batch is queued until released
  q.release();
  BOOST_TEST(q.size() == 2u);
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 2u);
  BOOST_TEST(batch[1].json == "4");
  q.release();
  BOOST_TEST(q.size() == 0u);
}

BOOST_AUTO_TEST_CASE(full_by_count_or_bytes) {
  EventRing by_count(2, 1 << 20);
  BOOST_TEST((by_count.push("", "a", false) == EventRing::Push::Ok));
  BOOST_TEST((by_count.push("", "b", false) == EventRing::Push::Ok));
  BOOST_TEST((by_count.push("", "c", false) == EventRing::Push::Full));

  EventRing by_bytes(1'000'000, 64 << 10);  // 64 KiB: 16 records of 4,080 + 16 bytes
  const std::string big(4080, 'x');
  int accepted = 0;
  while (by_bytes.push("", big, false) == EventRing::Push::Ok) ++accepted;
  BOOST_TEST(accepted == 16);
  // Half the ring or more is refused outright: it might fit nowhere.
  EventRing small(10, 64 << 10);
  BOOST_TEST((small.push("", std::string(40 << 10, 'x'), false) == EventRing::Push::Full));
  BOOST_TEST((small.push("", std::string(30 << 10, 'x'), false) == EventRing::Push::Ok));
}

BOOST_AUTO_TEST_CASE(records_wrap_around_the_end_intact) {
  EventRing q(1000, 64 << 10);
  std::vector<QueuedEvent> batch;
  std::uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 200; ++round) {
    while (q.push("k", payload(next_in), false) == EventRing::Push::Ok) ++next_in;
    const std::size_t n = q.pop_batch(batch, 1 + round % 40, 0ms);
    for (std::size_t i = 0; i < n; ++i) {
      BOOST_TEST_REQUIRE(batch[i].json == payload(next_out));
      BOOST_TEST_REQUIRE(batch[i].topic == "k");
      ++next_out;
    }
    q.release();
  }
  BOOST_TEST(next_out > 1000u);  // the ring went round many times
}

BOOST_AUTO_TEST_CASE(an_emptied_ring_has_all_its_room_wherever_it_stands) {
  // A live capture drops what does not fit: after a quiet spell, a burst must find the ring's
  // room, not just what lies between a rewind and the consumer's old place.
  for (const std::size_t start : {100u << 10, 300u << 10, 600u << 10, 900u << 10}) {
    EventRing q(1'000'000, 1 << 20);
    const std::string doc(1000, 'x');
    std::vector<QueuedEvent> batch;
    for (std::size_t written = 0; written < start; written += 1016) {
      BOOST_TEST_REQUIRE((q.push("", doc, false) == EventRing::Push::Ok));
      q.pop_batch(batch, 10, 0ms);
      q.release();
    }
    std::size_t accepted = 0;
    while (q.push("", doc, false) == EventRing::Push::Ok) ++accepted;
    BOOST_TEST(accepted * 1016 >= (1u << 20) - 2 * 1016, "from " << start << ": " << accepted);
    // And every one comes out whole, across the rewind.
    std::size_t read = 0;
    bool whole = true;
    while (const std::size_t n = q.pop_batch(batch, 100, 0ms, 0ms)) {
      for (std::size_t i = 0; i < n; ++i) whole = whole && batch[i].json == doc;
      read += n;
      q.release();
    }
    BOOST_TEST(whole);
    BOOST_TEST(read == accepted);
  }
}

BOOST_AUTO_TEST_CASE(blocking_push_waits_for_room) {
  EventRing q(1, 1 << 20);
  BOOST_TEST((q.push("", "first", true) == EventRing::Push::Ok));
  std::thread consumer([&] {
    std::this_thread::sleep_for(50ms);
    std::vector<QueuedEvent> batch;
    q.pop_batch(batch, 1, 0ms);
    q.release();
  });
  BOOST_TEST((q.push("", "second", true) == EventRing::Push::Ok));  // returns once room was made
  consumer.join();
  BOOST_TEST(q.size() == 1u);
}

BOOST_AUTO_TEST_CASE(close_wakes_waiters_and_drains) {
  EventRing q(4, 1 << 20);
  (void)q.push("", "left", false);
  q.close();
  BOOST_TEST((q.push("", "late", true) == EventRing::Push::Closed));
  std::vector<QueuedEvent> batch;
  BOOST_TEST(q.pop_batch(batch, 10, 1000ms) == 1u);
  q.release();
  BOOST_TEST(q.pop_batch(batch, 10, 1000ms) == 0u);
}

BOOST_AUTO_TEST_CASE(clear_counts_what_was_not_taken) {
  EventRing q(100, 1 << 20);
  for (int i = 0; i < 7; ++i) (void)q.push("", "x", false);
  std::vector<QueuedEvent> batch;
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 3u);
  BOOST_TEST(q.clear() == 4u);  // the unreleased batch of 3 is the caller's to count
  BOOST_TEST(q.size() == 0u);
  BOOST_TEST((q.push("", "after", false) == EventRing::Push::Ok));
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 1u);
  BOOST_TEST(batch[0].json == "after");
}

BOOST_AUTO_TEST_CASE(first_wait_times_out_and_linger_is_bounded) {
  EventRing q(100, 1 << 20);
  std::vector<QueuedEvent> batch;
  BOOST_TEST(q.pop_batch(batch, 10, 0ms, 50ms) == 0u);  // nothing came: back after `first`
  (void)q.push("", "one", false);
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(q.pop_batch(batch, 10, 100ms) == 1u);  // waited for more, gave up after linger
  const auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() >= 100);
}

BOOST_AUTO_TEST_CASE(two_threads_pass_every_event_in_order) {
  // A small ring, a blocking producer and a lingering consumer: every wake-up path is taken.
  // Then a larger ring with pauses, so that it empties and rewinds while both run.
  for (const std::size_t bytes : {64u << 10, 2u << 20}) {
    EventRing q(500, bytes);
    constexpr std::uint64_t kEvents = 200'000;
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < kEvents; ++i) {
        BOOST_REQUIRE(q.push("", payload(i), true) == EventRing::Push::Ok);
        if (bytes > (1u << 20) && i % 2000 == 0) std::this_thread::sleep_for(1ms);
      }
      q.close();
    });
    std::vector<QueuedEvent> batch;
    std::uint64_t next = 0;
    bool in_order = true;
    while (const std::size_t n = q.pop_batch(batch, 64, 200us)) {
      for (std::size_t i = 0; i < n; ++i) in_order = in_order && batch[i].json == payload(next++);
      q.release();
    }
    producer.join();
    BOOST_TEST(in_order, "ring of " << bytes);
    BOOST_TEST(next == kEvents);
  }
}

BOOST_AUTO_TEST_CASE(rings_of_several_producers_keep_each_ones_order) {
  // The pipeline's workers each push into their own ring of an emitter's EventRings; the
  // emitter's thread takes batches from all. Small rings and pauses: every path is taken.
  using stash53::EventRings;
  for (const std::size_t bytes : {128u << 10, 4u << 20}) {
    EventRings q(3, 1500, bytes);
    constexpr std::uint64_t kEvents = 100'000;
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < q.producers(); ++p)
      producers.emplace_back([&, p] {
        for (std::uint64_t i = 0; i < kEvents; ++i) {
          BOOST_REQUIRE(q[p].push(std::to_string(p), payload(i), true) == EventRing::Push::Ok);
          if (bytes > (1u << 20) && i % (1000 + 500 * p) == 0) std::this_thread::sleep_for(1ms);
        }
      });
    std::thread closer([&] {
      for (auto& t : producers) t.join();
      q.close();
    });
    std::vector<QueuedEvent> batch;
    std::vector<std::uint64_t> next(q.producers(), 0);
    bool in_order = true;
    while (const std::size_t n = q.pop_batch(batch, 64, 200us)) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t p = std::stoul(std::string(batch[i].topic));
        in_order = in_order && batch[i].json == payload(next[p]++);
      }
      q.release();
    }
    closer.join();
    BOOST_TEST(in_order, "rings of " << bytes);
    for (std::size_t p = 0; p < q.producers(); ++p) BOOST_TEST(next[p] == kEvents);
    BOOST_TEST(q.size() == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()

#include <boost/test/unit_test.hpp>
#include <thread>

#include "common/bounded_queue.h"

using stash53::BoundedQueue;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(bounded_queue)

BOOST_AUTO_TEST_CASE(fifo_and_batches) {
  BoundedQueue q(10, 1 << 20);
  for (int i = 0; i < 5; ++i) BOOST_TEST((q.push(std::to_string(i), false) == BoundedQueue::Push::Ok));
  std::vector<std::string> batch;
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 3u);
  BOOST_TEST(batch[0] == "0");
  BOOST_TEST(batch[2] == "2");
  BOOST_TEST(q.pop_batch(batch, 3, 0ms) == 2u);
  BOOST_TEST(batch[1] == "4");
}

BOOST_AUTO_TEST_CASE(full_by_count_or_bytes) {
  BoundedQueue by_count(2, 1 << 20);
  BOOST_TEST((by_count.push("a", false) == BoundedQueue::Push::Ok));
  BOOST_TEST((by_count.push("b", false) == BoundedQueue::Push::Ok));
  BOOST_TEST((by_count.push("c", false) == BoundedQueue::Push::Full));

  BoundedQueue by_bytes(100, 10);
  BOOST_TEST((by_bytes.push("123456", false) == BoundedQueue::Push::Ok));
  BOOST_TEST((by_bytes.push("123456", false) == BoundedQueue::Push::Full));
  // An item larger than the byte limit still fits into an empty queue.
  BoundedQueue tiny(100, 4);
  BOOST_TEST((tiny.push("larger than four", false) == BoundedQueue::Push::Ok));
}

BOOST_AUTO_TEST_CASE(blocking_push_waits_for_room) {
  BoundedQueue q(1, 1 << 20);
  BOOST_TEST((q.push("first", true) == BoundedQueue::Push::Ok));
  std::thread consumer([&] {
    std::this_thread::sleep_for(50ms);
    std::vector<std::string> batch;
    q.pop_batch(batch, 1, 0ms);
  });
  BOOST_TEST((q.push("second", true) == BoundedQueue::Push::Ok));  // returns once room was made
  consumer.join();
  BOOST_TEST(q.size() == 1u);
}

BOOST_AUTO_TEST_CASE(close_wakes_waiters_and_drains) {
  BoundedQueue q(4, 1 << 20);
  q.push("left", false);
  q.close();
  BOOST_TEST((q.push("late", true) == BoundedQueue::Push::Closed));
  std::vector<std::string> batch;
  BOOST_TEST(q.pop_batch(batch, 10, 1000ms) == 1u);
  BOOST_TEST(q.pop_batch(batch, 10, 1000ms) == 0u);
}

BOOST_AUTO_TEST_CASE(linger_collects_a_batch_but_never_waits_past_it) {
  BoundedQueue q(100, 1 << 20);
  q.push("one", false);
  std::vector<std::string> batch;
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(q.pop_batch(batch, 10, 100ms) == 1u);  // waited for more, gave up after linger
  const auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() >= 100);
}

BOOST_AUTO_TEST_SUITE_END()

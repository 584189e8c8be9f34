// The Space-Saving top-k sketch: exact while it has room, the paper's bounds once it is full.
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <set>
#include <string>

#include "common/top_n.h"

using namespace stash53;

BOOST_AUTO_TEST_SUITE(top_n)

BOOST_AUTO_TEST_CASE(counts_are_exact_while_the_keys_fit) {
  TopN t(8);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j <= i; ++j) t.add("k" + std::to_string(i));
  t.add("k0", 10);  // a weight counts as that many additions
  BOOST_TEST(t.size() == 8u);
  BOOST_TEST(t.total() == 36u + 10u);
  const auto top = t.top(100);
  BOOST_TEST_REQUIRE(top.size() == 8u);
  BOOST_TEST(top[0].key == "k0");
  BOOST_TEST(top[0].count == 11u);
  BOOST_TEST(top[1].key == "k7");
  BOOST_TEST(top[1].count == 8u);
  for (const auto& item : top) {
    BOOST_TEST(item.error == 0u, item.key);
    if (item.key != "k0") BOOST_TEST(item.count == std::stoul(std::string(item.key.substr(1))) + 1);
  }
  BOOST_TEST(t.top(3).size() == 3u);
  BOOST_TEST(TopN(4).top(10).empty());
}

BOOST_AUTO_TEST_CASE(heavy_hitters_are_kept_within_the_error_bounds_on_a_skewed_stream) {
  // A Zipf-like stream (key i with weight 1/i) over 5000 keys, 200000 additions, 50 counters.
  constexpr std::size_t kKeys = 5000, kN = 200'000, kK = 50;
  std::vector<double> weights;
  for (std::size_t i = 1; i <= kKeys; ++i) weights.push_back(1.0 / static_cast<double>(i));
  std::mt19937 rng(53);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  TopN t(kK);
  std::map<std::string, std::uint64_t> truth;
  for (std::size_t n = 0; n < kN; ++n) {
    const std::string key = "name" + std::to_string(pick(rng)) + ".example.";
    ++truth[key];
    t.add(key);
  }
  BOOST_TEST(t.size() == kK);
  BOOST_TEST(t.total() == kN);
  const auto all = t.top(kK);
  std::map<std::string, TopN::Item> found;
  std::uint64_t sum = 0;
  for (const auto& item : all) {
    BOOST_TEST(found.emplace(std::string(item.key), item).second, "twice: " << item.key);
    const std::uint64_t real = truth[std::string(item.key)];
    BOOST_TEST(item.count - item.error <= real, item.key);
    BOOST_TEST(real <= item.count, item.key);
    sum += item.count;
  }
  BOOST_TEST(sum == kN);  // Space-Saving's counts always add up to N
  std::size_t heavy = 0;
  for (const auto& [key, real] : truth)
    if (real > kN / kK) {
      ++heavy;
      BOOST_TEST(found.count(key) == 1u, key << " seen " << real << " times is missing");
    }
  BOOST_TEST(heavy >= 5u);  // the test means something
  // The heaviest keys come out first and in order of their true counts.
  BOOST_TEST(all[0].key == "name0.example.");
  BOOST_TEST(all[1].key == "name1.example.");
}

BOOST_AUTO_TEST_CASE(size_stays_at_k_and_evicted_keys_come_back_as_new) {
  // A tiny k makes every addition an eviction and exercises the index's deletion.
  TopN t(4);
  for (int i = 0; i < 100'000; ++i) t.add(std::to_string(i % 997));
  BOOST_TEST(t.size() == 4u);
  BOOST_TEST(t.capacity() == 4u);
  std::set<std::string> keys;
  std::uint64_t sum = 0;
  for (const auto& item : t.top(10)) keys.emplace(item.key), sum += item.count;
  BOOST_TEST(keys.size() == 4u);
  BOOST_TEST(sum == 100'000u);
  // A key still held is found again, not duplicated.
  const std::string held = *keys.begin();
  std::uint64_t before = 0;
  for (const auto& item : t.top(10))
    if (item.key == held) before = item.count;
  t.add(held, 1000);
  const auto after = t.top(10);
  BOOST_TEST(after.size() == 4u);
  BOOST_TEST(after[0].key == held);
  BOOST_TEST(after[0].count == before + 1000);
  // A zero k still holds one key.
  TopN one(0);
  one.add("a"), one.add("b"), one.add("b");
  BOOST_TEST(one.size() == 1u);
  BOOST_TEST(one.top(1)[0].key == "b");
  BOOST_TEST(one.top(1)[0].count == 3u);
  BOOST_TEST(one.top(1)[0].error == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

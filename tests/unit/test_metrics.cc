// The counter registry and the stats line printed from it.
#include <atomic>
#include <chrono>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "common/metrics.h"

using namespace stash53;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(stats_line_groups_instances_and_sums_labelled_families) {
  Counter packets, messages, bad_pointer, loop, queued;
  MetricRegistry r;
  r.add({"", "", "packets", {}, "packets seen"}, packets);
  r.add({"", "", "tcp-gap", {}, "gaps", MetricType::Counter, true}, packets);  // hidden while 0
  r.add({"", "", "messages", {}, "messages"}, messages);
  r.add({"", "", "malformed", {{"reason", "bad-pointer"}}, "by reason"}, bad_pointer);
  r.add({"", "", "malformed", {{"reason", "compression-loop"}}, "by reason"}, loop);
  r.add({"emitter", "redis-main", "queued", {}, "queued"}, queued);
  r.add({"emitter", "redis-main", "depth", {}, "now", MetricType::Gauge}, [] { return 7; });
  r.add({"enricher", "geoip", "hits", {}, "hits"}, messages);
  BOOST_TEST(r.stats_line() ==
             "packets=0 messages=0 malformed=0 | redis-main queued=0 depth=7 | enricher:geoip hits=0");
  packets.add(5), messages.add(4), loop.add(2), queued.add(3);
  BOOST_TEST(r.stats_line() ==
             "packets=5 tcp-gap=5 messages=4 malformed=2 (compression-loop=2) | redis-main queued=3 "
             "depth=7 | enricher:geoip hits=4");
  BOOST_TEST(r.metrics().size() == 8u);
  BOOST_TEST((r.metrics()[6].type == MetricType::Gauge));
}

BOOST_AUTO_TEST_CASE(a_snapshot_taken_mid_run_never_shows_more_downstream_than_upstream) {
  // One writer counts packets, then messages, as the pipeline thread does; the reader's
  // snapshots must never see messages > packets (it reads in reverse registration order).
  Counter packets, messages;
  MetricRegistry r;
  r.add({"", "", "packets", {}, ""}, packets);
  r.add({"", "", "messages", {}, ""}, messages);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> snapshots{0};
  std::thread writer([&] {
    // At least 2 M counts, and on until the reader took 1000 snapshots meanwhile (a loaded
    // machine may start the reader late), for at most 10 s.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int i = 0; i < 2'000'000 ||
                    (snapshots.load() < 1000 && std::chrono::steady_clock::now() < until);
         ++i) {
      packets.add();
      messages.add();
    }
    done = true;
  });
  std::uint64_t bad = 0;
  while (!done) {
    const auto s = r.snapshot();
    bad += s[1].value > s[0].value;
    ++snapshots;
  }
  writer.join();
  BOOST_TEST(bad == 0u, bad << " of " << snapshots << " snapshots had messages > packets");
  BOOST_TEST(snapshots.load() >= 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

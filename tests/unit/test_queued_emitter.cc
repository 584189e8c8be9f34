#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "emitters/emitter.h"
#include "emitters/queued_emitter.h"

using namespace stash53;
using namespace std::chrono_literals;

namespace {

const decode::DnsEvent kEvent{};

std::unique_ptr<emitters::Emitter> build(const std::string& yaml, bool offline = true) {
  config::OptionReader o(YAML::Load(yaml), "emitters[0]");
  std::string type;
  o.require("type", type, "a type");
  auto e = emitters::make_emitter({"test", type, &o, offline});
  o.finish();
  return e;
}

std::string config_error(const std::string& yaml) {
  try {
    (void)build(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(queued_emitter)

BOOST_AUTO_TEST_CASE(file_emitter_appends_ndjson_and_drains_at_stop) {
  const std::string path = "/tmp/stash53-test-file-emitter-" + std::to_string(::getpid());
  std::remove(path.c_str());
  std::ofstream(path) << "{\"old\":1}\n";  // append, never truncate
  auto e = build("{type: file, path: " + path + ", batch_size: 7}");
  e->start();
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST((e->offer(kEvent, "{\"i\":" + std::to_string(i) + "}") == emitters::Emitter::Offer::Queued));
  e->stop(5s);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  BOOST_TEST_REQUIRE(lines.size() == 1001u);
  BOOST_TEST(lines[0] == "{\"old\":1}");
  BOOST_TEST(lines[1] == "{\"i\":0}");
  BOOST_TEST(lines[1000] == "{\"i\":999}");
  const auto s = e->stats();
  BOOST_TEST(s.queued == 1000u);
  BOOST_TEST(s.sent == 1000u);
  BOOST_TEST(s.dropped_full + s.dropped_error == 0u);
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(unreachable_destination_counts_every_lost_event) {
  // The directory does not exist: the emitter retries, then gives up at the drain deadline.
  auto e = build("{type: file, path: /nonexistent-dir/x.ndjson, queue_size: 10, retry_ms: 10}",
                 /*offline=*/false);
  e->start();
  int full = 0;
  for (int i = 0; i < 25; ++i) full += e->offer(kEvent, "{}") == emitters::Emitter::Offer::QueueFull;
  e->stop(50ms);
  const auto s = e->stats();
  BOOST_TEST(s.sent == 0u);
  BOOST_TEST(s.dropped_full == static_cast<std::uint64_t>(full));
  BOOST_TEST(s.queued + s.dropped_full == 25u);
  BOOST_TEST(s.dropped_error == s.queued);  // nothing silently lost
  BOOST_TEST((e->offer(kEvent, "{}") == emitters::Emitter::Offer::Stopped));
}

BOOST_AUTO_TEST_CASE(config_errors_name_the_option) {
  BOOST_TEST(config_error("{type: kafka}").find("unknown emitter type 'kafka'") != std::string::npos);
  BOOST_TEST(config_error("{type: file}").find("emitters[0].path (line 1): missing") !=
             std::string::npos);
  BOOST_TEST(config_error("{type: stdout, when_full: wait}").find(
                 "when_full (line 1): expected drop, block or auto") != std::string::npos);
  BOOST_TEST(config_error("{type: stdout, queue_size: 0}").find("queue_size") != std::string::npos);
  BOOST_TEST(config_error("{type: stdout, colour: red}").find("colour (line 1): unknown key") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(packing_groups_a_batch_by_topic_keeping_each_topics_order) {
  const std::vector<QueuedEvent> batch{
      {"dns.A", "1"}, {"dns.MX", "2"}, {"dns.A", "3"}, {"dns.AAAA", "4"}, {"dns.MX", "5"}};
  std::vector<std::uint32_t> order;
  emitters::order_by_topic(batch, true, order);
  BOOST_TEST(order == (std::vector<std::uint32_t>{0, 2, 3, 1, 4}),
             boost::test_tools::per_element());
  // Messages: dns.A ×2, dns.AAAA, dns.MX ×2; at most 1 event each with events_per_message 1.
  BOOST_TEST(emitters::topic_run(batch, order, 0, 10) == 2u);
  BOOST_TEST(emitters::topic_run(batch, order, 0, 1) == 1u);
  BOOST_TEST(emitters::topic_run(batch, order, 2, 10) == 1u);
  BOOST_TEST(emitters::topic_run(batch, order, 3, 10) == 2u);
  std::string ndjson;
  emitters::append_ndjson(batch, std::span<const std::uint32_t>(order).subspan(3, 2), ndjson);
  BOOST_TEST(ndjson == "2\n5\n");
  emitters::order_by_topic(batch, false, order);
  BOOST_TEST(order == (std::vector<std::uint32_t>{0, 1, 2, 3, 4}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

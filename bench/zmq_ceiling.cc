// zmq_ceiling: the receiver and the plain-publisher ceiling of bench/bench_zmq.sh.
//   zmq_ceiling sub ENDPOINT EVENTS
//     binds a SUB to everything, receives until EVENTS events (each line of an NDJSON message is
//     one) or 10 s of silence, prints "events=N seconds=S rate=R" (first to last message).
//   zmq_ceiling pub ENDPOINT MESSAGES TOPIC_BYTES JSON_BYTES
//     connects an XPUB set up as the zmq emitter's (XPUB_NODROP, sndhwm 100000), waits for the
//     subscription, then sends MESSAGES [topic, json] messages of those sizes in a plain loop.
#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

int sub(const char* endpoint, long long want) {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::sub);
  s.set(zmq::sockopt::subscribe, "");
  s.set(zmq::sockopt::rcvhwm, 100'000);
  s.set(zmq::sockopt::rcvtimeo, 10'000);
  s.bind(endpoint);
  std::printf("ready\n");
  std::fflush(stdout);
  long long events = 0;
  Clock::time_point first, last;
  zmq::message_t topic, body;
  while (events < want) {
    if (!s.recv(topic)) break;  // silence: the sender died or lost messages
    if (!topic.more() || !s.recv(body)) break;
    last = Clock::now();
    if (events == 0) first = last;
    const auto* p = body.data<char>();
    const auto lines = std::count(p, p + body.size(), '\n');
    events += lines > 0 ? lines : 1;
  }
  const double secs = std::chrono::duration<double>(last - first).count();
  std::printf("events=%lld seconds=%.3f rate=%.0f\n", events, secs, secs > 0 ? events / secs : 0);
  return events == want ? 0 : 1;
}

int pub(const char* endpoint, long long messages, std::size_t topic_bytes, std::size_t json_bytes) {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::xpub);
  s.set(zmq::sockopt::sndhwm, 100'000);
  s.set(zmq::sockopt::xpub_nodrop, 1);
  s.set(zmq::sockopt::linger, 10'000);
  s.connect(endpoint);
  zmq::message_t subscription;
  (void)s.recv(subscription);  // blocks until the subscriber is there
  const std::string topic(topic_bytes, 't'), json(json_bytes, 'j');
  for (long long i = 0; i < messages; ++i) {
    s.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    s.send(zmq::buffer(json), zmq::send_flags::none);  // blocks at the high-water mark
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "sub" && argc == 4) return sub(argv[2], std::stoll(argv[3]));
  if (mode == "pub" && argc == 6)
    return pub(argv[2], std::stoll(argv[3]), std::stoul(argv[4]), std::stoul(argv[5]));
  std::fprintf(stderr,
               "usage: zmq_ceiling sub ENDPOINT EVENTS\n"
               "       zmq_ceiling pub ENDPOINT MESSAGES TOPIC_BYTES JSON_BYTES\n");
  return 2;
}

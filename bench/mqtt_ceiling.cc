// mqtt_ceiling: the fastest a bare Paho async_client publishes to a broker, for bench_mqtt.sh to
// compare stash53's mqtt emitter with. Same client library and window as the emitter, nothing
// else: N messages of SIZE bytes, at most INFLIGHT unconfirmed, then waits for the last.
// Usage: mqtt_ceiling BROKER TOPIC QOS N SIZE [INFLIGHT]; prints "messages=N seconds=S rate=R".
#include <mqtt/async_client.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s BROKER TOPIC QOS N SIZE [INFLIGHT]\n", argv[0]);
    return 2;
  }
  const std::string broker = argv[1], topic = argv[2];
  const int qos = std::stoi(argv[3]);
  const long n = std::stol(argv[4]);
  const std::string payload(std::stoul(argv[5]), 'x');
  const int inflight = argc > 6 ? std::stoi(argv[6]) : 1000;
  try {
    mqtt::async_client cli(broker, "mqtt-ceiling", mqtt::create_options(MQTTVERSION_3_1_1, inflight + 1),
                           nullptr);
    mqtt::connect_options opts;
    opts.set_max_inflight(inflight);
    cli.connect(opts)->wait();
    std::deque<mqtt::delivery_token_ptr> window;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      if (window.size() >= static_cast<std::size_t>(inflight)) {
        window.front()->wait();
        window.pop_front();
      }
      window.push_back(cli.publish(topic, payload.data(), payload.size(), qos, false));
    }
    for (auto& t : window) t->wait();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("messages=%ld seconds=%.3f rate=%.0f\n", n, s, n / s);
    cli.disconnect()->wait();
  } catch (const mqtt::exception& e) {
    std::fprintf(stderr, "mqtt_ceiling: %s\n", e.what());
    return 1;
  }
  return 0;
}

// stash53: passive DNS capture → JSON events → Redis, ZeroMQ, MQTT, stdout, files.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "app/components.h"
#include "app/pipeline.h"
#include "capture/pcap_source.h"
#include "common/log.h"
#include "config/config.h"
#include "emitters/emitter.h"
#include "event/fields.h"

namespace stash53::app {
namespace {

constexpr int kExitConfig = 2;

struct CommandLine {
  std::string config_file, interface, read_file, bpf, nsid, output_file, log_level = "info";
  bool to_stdout = false, check_config = false, no_promisc = false, bpf_given = false;
  int snaplen = 0, buffer_mb = 0;
  std::vector<int> ports;
  std::vector<std::string> redis_urls, zmq_urls, mqtt_urls;
  std::vector<std::string> geoip_dbs, no_enrich;
  bool anonymize = false, list_fields = false;
  unsigned stats_interval_s = 0;
  bool stats_interval_given = false;
  unsigned drain_ms = 10'000;
};

// Command-line flags win over the file; emitter flags replace the file's emitters.
void apply_overrides(const CommandLine& cl, config::Config& cfg) {
  auto& c = cfg.capture;
  if (!cl.interface.empty()) c.interface = cl.interface, c.file.clear();
  if (!cl.read_file.empty()) c.file = cl.read_file, c.interface.clear();
  YAML::Node flags(YAML::NodeType::Map);
  config::OptionReader flag_reader(flags, "");
  if (cl.bpf_given) {
    config::check_bpf(cl.bpf, flag_reader, "--filter");
    c.bpf = cl.bpf;
    cfg.bpf_given = true;
  }
  if (cl.snaplen) c.snaplen = cl.snaplen;
  if (cl.buffer_mb) c.buffer_mb = cl.buffer_mb;
  if (cl.no_promisc) c.promiscuous = false;
  if (!cl.ports.empty()) cfg.decode.ports.assign(cl.ports.begin(), cl.ports.end());
  if (cl.stats_interval_given) cfg.stats_interval_s = cl.stats_interval_s;
  // A file is filtered by the decoder's port set alone, so tagged, tunnelled and fragmented
  // packets are all seen; live capture keeps the kernel from copying what is not DNS.
  if (!cfg.bpf_given && c.file.empty()) c.bpf = config::default_live_filter(cfg.decode.ports);

  std::vector<config::ComponentConfig> cli_emitters;
  if (cl.to_stdout) {
    YAML::Node n(YAML::NodeType::Map);
    cli_emitters.push_back({"stdout", "stdout", config::OptionReader(n, "--stdout")});
  }
  if (!cl.output_file.empty()) {
    YAML::Node n(YAML::NodeType::Map);
    n["path"] = cl.output_file;
    cli_emitters.push_back({"file", "file", config::OptionReader(n, "-o")});
  }
  // --redis/--zmq/--mqtt URL: the emitter reads its own URL (option `url`).
  for (const auto& [type, urls] : {std::pair{"redis", &cl.redis_urls}, std::pair{"zmq", &cl.zmq_urls},
                                   std::pair{"mqtt", &cl.mqtt_urls}})
    for (std::size_t i = 0; i < urls->size(); ++i) {
      YAML::Node n(YAML::NodeType::Map);
      n["url"] = (*urls)[i];
      const std::string name = i == 0 ? type : type + ("-" + std::to_string(i + 1));
      cli_emitters.push_back({type, name, config::OptionReader(n, "--" + std::string(type))});
    }
  if (!cli_emitters.empty()) cfg.emitters = std::move(cli_emitters);
  if (cfg.emitters.empty()) {
    YAML::Node n(YAML::NodeType::Map);
    cfg.emitters.push_back({"stdout", "stdout", config::OptionReader(n, "default stdout")});
  }
}

// The enricher flags, as changes to the enricher list.
EnrichOverrides enrich_overrides(const CommandLine& cl) {
  EnrichOverrides o;
  if (!cl.nsid.empty()) o.set.push_back({"nsid", "label", YAML::Node(cl.nsid)});
  if (!cl.geoip_dbs.empty()) o.set.push_back({"geoip", "databases", YAML::Node(cl.geoip_dbs)});
  if (cl.anonymize) o.set.push_back({"privacy", "", {}});  // on, with its (or the config's) options
  o.disabled = cl.no_enrich;
  return o;
}

int run(int argc, char** argv) {
  CommandLine cl;
  CLI::App cli{"stash53: passive DNS sniffer. Captures DNS with libpcap, decodes every message "
               "into a JSON event and sends it to stdout, files, Redis, ZeroMQ or MQTT."};
  cli.set_version_flag("-V,--version", "stash53 " STASH53_VERSION);
  cli.add_option("-c,--config", cl.config_file, "YAML config file (see deploy/stash53.example.yml)")
      ->check(CLI::ExistingFile);
  auto* iface = cli.add_option("-i,--interface", cl.interface,
                               "Capture live on this interface (any, lo, eth0, ...)");
  cli.add_option("-r,--read", cl.read_file, "Read a pcap or pcapng file; - reads stdin")
      ->excludes(iface);
  cli.add_option_function<std::string>(
      "-f,--filter",
      [&](const std::string& v) {
        cl.bpf = v;
        cl.bpf_given = true;
      },
      "BPF capture filter; \"\" for none (default live: the DNS ports, with VLAN tags and IP "
      "fragments; reading a file: none)");
  cli.add_option("-N,--nsid", cl.nsid, "Sensor label in every event's nsid (default: host name)");
  cli.add_option("-o,--output", cl.output_file, "Append events as NDJSON to this file");
  cli.add_flag("--stdout", cl.to_stdout, "Print events to stdout (the default with no emitter)");
  cli.add_option("--redis", cl.redis_urls,
                 "Redis emitter: redis://[[user]:password@]host:port[/db]?key=dns:{nsid}&mode=list "
                 "(repeatable)");
  cli.add_option("--zmq", cl.zmq_urls,
                 "ZeroMQ PUB emitter: tcp://127.0.0.1:5556?topic=dns.{qtype}; binds for tcp://*:port "
                 "or bind=1, connects otherwise (repeatable)");
  cli.add_option("--mqtt", cl.mqtt_urls,
                 "MQTT emitter: tcp://[user:password@]host:1883?topic=dns/{nsid}/{qtype}&qos=1 "
                 "(repeatable)");
  cli.add_option("-s,--snaplen", cl.snaplen, "Bytes captured per packet (default 65535)")
      ->check(CLI::Range(64, 262144));
  cli.add_option("-B,--buffer-mb", cl.buffer_mb, "Kernel capture buffer in MiB (default 32)")
      ->check(CLI::Range(1, 4096));
  cli.add_flag("--no-promisc", cl.no_promisc, "Do not put the interface in promiscuous mode");
  cli.add_option("--ports", cl.ports, "DNS ports to decode (default 53 5353)")
      ->check(CLI::Range(1, 65535));
  cli.add_option_function<unsigned>(
         "--stats-interval",
         [&](unsigned v) {
           cl.stats_interval_s = v;
           cl.stats_interval_given = true;
         },
         "Print the counters to stderr every N seconds (0: only at exit)")
      ->check(CLI::Range(0, 86400));
  cli.add_option("--drain-ms", cl.drain_ms,
                 "At shutdown, how long emitters may take to deliver queued events (default 10000)");
  cli.add_option("--geoip-db", cl.geoip_dbs,
                 "GeoIP/ASN database (MaxMind or ip-location-db MMDB) for the geoip enricher; "
                 "repeatable, replaces the configured ones");
  cli.add_flag("--anonymize", cl.anonymize,
               "Turn the privacy enricher on (by default: client addresses cut to /24, /56 in every output)");
  cli.add_option("--no-enrich", cl.no_enrich, "Turn this enricher off (repeatable)");
  cli.add_flag("--list-fields", cl.list_fields, "Print the event's field catalogue and exit");
  cli.add_option("--log-level", cl.log_level, "trace, debug, info, warn, error or off");
  cli.add_flag("--check-config", cl.check_config,
               "Check the config and flags, build every component, connect nothing, exit");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : kExitConfig;
  }

  if (cl.list_fields) {
    std::cout << event::Catalogue::instance().markdown_table();
    return 0;
  }
  try {
    log::init(cl.log_level);
  } catch (const std::exception& e) {
    std::cerr << "stash53: --log-level: " << e.what() << "\n";
    return kExitConfig;
  }

  // Signals are taken by sigwait in this thread only; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // the pipeline thread's "I am done"
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout is a write error, not a silent death

  config::Config cfg;
  Components parts;
  try {
    cfg = config::load_config(cl.config_file);
    apply_overrides(cl, cfg);
    if (cfg.capture.interface.empty() && cfg.capture.file.empty() && !cl.check_config)
      throw config::ConfigError(
          "nothing to capture: give -i INTERFACE or -r FILE (or capture.interface / "
          "capture.file in the config)");
    parts = build_components(cfg, enrich_overrides(cl));
  } catch (const config::ConfigError& e) {
    log::error("config", "{}", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {  // a database that cannot be opened
    log::error("enrich", "{}.", e.what());
    return kExitConfig;
  }
  auto& emitters = parts.emitters;
  if (cl.check_config) {
    std::cout << "stash53: configuration OK (" << parts.enrichers.size() << " enrichers, "
              << emitters.size() << " emitters)\n";
    return 0;
  }

  std::unique_ptr<capture::Source> source;
  try {
    source = std::make_unique<capture::PcapSource>(cfg.capture);
  } catch (const std::exception& e) {
    log::error("capture", "{}.", e.what());
    return 1;
  }
  for (auto& em : emitters) em->start();

  Pipeline pipeline(*source, cfg.decode, std::move(parts.enrichers), emitters);
  MetricRegistry metrics;
  pipeline.register_metrics(metrics);
  for (const auto& em : emitters) em->register_metrics(metrics);
  const pthread_t main_thread = pthread_self();
  bool source_ok = true;
  std::thread pipe_thread([&] {
    source_ok = pipeline.run();
    pthread_kill(main_thread, SIGUSR1);
  });

  // Wait for the end of input or a signal, printing the counters on the way when asked.
  // After a signal the pipeline may still wait for room in a queue whose emitter cannot
  // deliver (a reader that stopped reading): after the drain time, stop the emitters, which
  // releases it.
  const auto drain = std::chrono::milliseconds(cl.drain_ms);
  enum class Phase { Running, Stopping, EmittersStopped } phase = Phase::Running;
  for (;;) {
    std::optional<timespec> timeout;
    if (phase == Phase::Stopping)
      timeout = timespec{static_cast<time_t>(cl.drain_ms / 1000),
                         static_cast<long>(cl.drain_ms % 1000) * 1'000'000};
    else if (phase == Phase::Running && cfg.stats_interval_s > 0)
      timeout = timespec{static_cast<time_t>(cfg.stats_interval_s), 0};
    const int sig = timeout ? sigtimedwait(&signals, nullptr, &*timeout) : sigwaitinfo(&signals, nullptr);
    if (sig < 0) {
      if (errno != EAGAIN) continue;  // EINTR
      if (phase == Phase::Running) {
        log::info("stats", "{}", metrics.stats_line());
      } else {
        log::warn("main", "Emitters still busy after {} ms; stopping them.", cl.drain_ms);
        for (auto& em : emitters) em->stop(std::chrono::milliseconds(0));
        phase = Phase::EmittersStopped;
      }
      continue;
    }
    if (sig == SIGUSR1) break;
    if (phase == Phase::Running) {
      log::info("main", "Signal {} received, stopping.", sig);
      phase = Phase::Stopping;
      source->stop();
    }
  }
  pipe_thread.join();
  for (auto& em : emitters) em->stop(drain);
  log::info("stats", "{}", metrics.stats_line());
  return source_ok ? 0 : 1;
}

}  // namespace
}  // namespace stash53::app

int main(int argc, char** argv) {
  try {
    return stash53::app::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stash53: %s\n", e.what());
    return 1;
  }
}

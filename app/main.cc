// stash53: passive DNS capture → JSON events → Redis, ZeroMQ, MQTT, stdout, files.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/components.h"
#include "app/service.h"
#include "common/log.h"
#include "config/config.h"
#include "event/fields.h"
#include "format/format.h"

namespace stash53::app {
namespace {

struct CommandLine {
  std::string config_file, interface, read_file, bpf, nsid, output_file, log_level;
  std::string dnstap_socket, dnstap_listen, syslog_listen;
  bool follow = false;
  bool to_stdout = false, check_config = false, print_config = false, no_promisc = false,
       bpf_given = false;
  std::string user, group, chroot, metrics_listen;
  bool allow_root = false;
  int snaplen = 0, buffer_mb = 0;
  unsigned workers = 0;
  std::vector<int> ports;
  std::vector<std::string> redis_urls, zmq_urls, mqtt_urls, nats_urls;
  std::vector<std::string> geoip_dbs, no_enrich;
  std::string mode, format;  // for the emitters given here
  bool anonymize = false, list_fields = false, list_flags = false, list_formats = false;
  unsigned stats_interval_s = 0;
  bool stats_interval_given = false;
  unsigned drain_ms = 10'000;
};

// Command-line flags win over the file; emitter flags replace the file's emitters.
// The effective config (--print-config) shows the flags' values.
void apply_overrides(const CommandLine& cl, config::Config& cfg) {
  auto& c = cfg.capture;
  if (!cl.interface.empty()) c.interface = cl.interface, c.file.clear();
  if (!cl.read_file.empty()) c.file = cl.read_file, c.interface.clear();
  if (cl.follow) cfg.dnsmasq.follow = true;
  if (!cl.syslog_listen.empty()) {
    cfg.sources = {"dnsmasq"};
    c.file.clear();
    cfg.dnsmasq.syslog_listen = cl.syslog_listen;
  }
  if (!cl.dnstap_socket.empty() || !cl.dnstap_listen.empty()) {
    // With --syslog-listen too: both at once.
    if (cl.syslog_listen.empty()) cfg.sources.clear();
    cfg.sources.push_back("dnstap");
    c.file.clear();
    if (!cl.dnstap_socket.empty()) cfg.dnstap.socket = cl.dnstap_socket;
    if (!cl.dnstap_listen.empty()) cfg.dnstap.listen = cl.dnstap_listen;
  }
  if (!cl.log_level.empty()) cfg.log_level = cl.log_level;
  auto& p = cfg.privileges;
  if (!cl.user.empty()) p.user = cl.user;
  if (!cl.group.empty()) p.group = cl.group;
  if (!cl.chroot.empty()) p.chroot = cl.chroot;
  if (cl.allow_root) p.allow_root = true;
  if (!cl.metrics_listen.empty()) cfg.metrics_listen = cl.metrics_listen;
  YAML::Node flags(YAML::NodeType::Map);
  config::OptionReader flag_reader(flags, "");
  if (cl.bpf_given) {
    config::check_bpf(cl.bpf, flag_reader, "--filter");
    c.bpf = cl.bpf;
    cfg.bpf_given = true;
  }
  if (cl.snaplen) c.snaplen = cl.snaplen;
  if (cl.buffer_mb) c.buffer_mb = cl.buffer_mb;
  if (cl.workers) cfg.workers = cl.workers;
  if (cl.no_promisc) c.promiscuous = false;
  if (!cl.ports.empty()) cfg.decode.ports.assign(cl.ports.begin(), cl.ports.end());
  if (cl.stats_interval_given) cfg.stats_interval_s = cl.stats_interval_s;
  // A file is filtered by the decoder's port set alone, so tagged, tunnelled and fragmented
  // packets are all seen; live capture keeps the kernel from copying what is not DNS.
  if (!cfg.bpf_given && c.file.empty()) {
    c.bpf = config::default_live_filter(cfg.decode);
    c.bpf_not_ethernet = config::default_live_filter(cfg.decode, false);
  }
  auto e = cfg.effective;
  e["capture"]["source"] = cfg.sources;
  e["capture"]["dnstap"]["socket"] = cfg.dnstap.socket;
  e["capture"]["dnstap"]["listen"] = cfg.dnstap.listen;
  e["capture"]["dnsmasq"]["follow"] = cfg.dnsmasq.follow;
  e["capture"]["dnsmasq"]["syslog_listen"] = cfg.dnsmasq.syslog_listen;
  e["capture"]["interface"] = c.interface;
  e["capture"]["file"] = c.file;
  e["capture"]["bpf"] = c.bpf;
  e["capture"]["snaplen"] = c.snaplen;
  e["capture"]["buffer_mb"] = c.buffer_mb;
  e["capture"]["workers"] = cfg.workers;
  e["capture"]["promiscuous"] = c.promiscuous;
  e["decode"]["ports"] = cfg.decode.ports;
  e["stats"]["interval_s"] = cfg.stats_interval_s;
  e["log"]["level"] = cfg.log_level;
  e["privileges"]["user"] = p.user;
  e["privileges"]["group"] = p.group;
  e["privileges"]["chroot"] = p.chroot;
  e["privileges"]["allow_root"] = p.allow_root;
  e["metrics"]["listen"] = cfg.metrics_listen;

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
  // --redis/--zmq/--mqtt/--nats URL: the emitter reads its own URL (option `url`).
  for (const auto& [type, urls] : {std::pair{"redis", &cl.redis_urls}, std::pair{"zmq", &cl.zmq_urls},
                                   std::pair{"mqtt", &cl.mqtt_urls}, std::pair{"nats", &cl.nats_urls}})
    for (std::size_t i = 0; i < urls->size(); ++i) {
      YAML::Node n(YAML::NodeType::Map);
      n["url"] = (*urls)[i];
      const std::string name = i == 0 ? type : type + ("-" + std::to_string(i + 1));
      cli_emitters.push_back({type, name, config::OptionReader(n, "--" + std::string(type))});
    }
  if (cli_emitters.empty() && cfg.emitters.empty()) {
    YAML::Node n(YAML::NodeType::Map);
    cli_emitters.push_back({"stdout", "stdout", config::OptionReader(n, "default stdout")});
  }
  if (cli_emitters.empty() && (!cl.mode.empty() || !cl.format.empty()))
    throw config::ConfigError(
        "--mode and --format apply to the emitters given on the command line (--stdout, -o, "
        "--redis, --zmq, --mqtt, --nats); the config file's emitters set `mode` and `format` each");
  for (auto& em : cli_emitters) {
    if (!cl.mode.empty()) em.options.set("mode", YAML::Node(cl.mode));
    if (!cl.format.empty()) em.options.set("format", YAML::Node(cl.format));
  }
  if (!cli_emitters.empty()) cfg.emitters = std::move(cli_emitters);
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

// The README's flag table, from the same definitions as --help and so the man page.
std::string flag_table(const CLI::App& cli) {
  std::string out = "| flag | meaning |\n| --- | --- |\n";
  for (const CLI::Option* o : cli.get_options()) {
    std::string names = o->get_name(false, true);
    for (std::size_t p = 0; (p = names.find(',', p)) != std::string::npos; p += 2)
      names.replace(p, 1, ", ");
    std::string type = o->get_type_name();
    type = type.substr(0, type.find(':'));  // without the validator's "INT in [1 - 9]"
    if (o->get_type_size() == 0 || type.empty()) type.clear();
    else type.insert(0, " ");
    if (o->get_expected_max() > 1) type += " …";
    std::string help = o->get_description();
    for (std::size_t p = 0; (p = help.find('|', p)) != std::string::npos; p += 2)
      help.replace(p, 1, "\\|");
    out += "| `" + names + type + "` | " + help + " |\n";
  }
  return out;
}

int run(int argc, char** argv) {
  CommandLine cl;
  CLI::App cli{"stash53: passive DNS sniffer. Captures DNS with libpcap, decodes every message "
               "into a JSON event and sends it to stdout, files, Redis, ZeroMQ or MQTT."};
  cli.set_version_flag("-V,--version", "stash53 " STASH53_VERSION);
  cli.add_option("-c,--config", cl.config_file, "YAML config file (see deploy/stash53.example.yml)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  auto* iface = cli.add_option("-i,--interface", cl.interface,
                               "Capture live on this interface (any, lo, eth0, ...)")
      ->type_name("IF");
  auto* read = cli.add_option("-r,--read", cl.read_file,
                              "Read a pcap, pcapng, dnstap (Frame Streams) file or a dnsmasq log "
                              "(its own file or syslog), recognised by its content, to its end; "
                              "- reads stdin")
      ->excludes(iface)
      ->type_name("FILE");
  cli.add_option("--dnstap-socket", cl.dnstap_socket,
                 "Listen for dnstap on this unix socket (BIND, Unbound, Knot, dnsdist; "
                 "bidirectional Frame Streams, several writers at once)")
      ->excludes(iface)
      ->excludes(read)
      ->type_name("PATH");
  cli.add_option("--dnstap-listen", cl.dnstap_listen, "Listen for dnstap over TCP at this address")
      ->excludes(iface)
      ->excludes(read)
      ->type_name("ADDR:PORT");
  cli.add_flag("--follow", cl.follow,
               "With -r and a dnsmasq log: keep reading it as it grows, across rotation (rename, "
               "or copy and truncate)")
      ->needs(read);
  cli.add_option("--syslog-listen", cl.syslog_listen,
                 "Listen for dnsmasq's syslog messages (RFC 3164 or 5424) over UDP, as rsyslog "
                 "forwards them")
      ->excludes(iface)
      ->excludes(read)
      ->type_name("ADDR:PORT");
  cli.add_option_function<std::string>(
      "-f,--filter",
      [&](const std::string& v) {
        cl.bpf = v;
        cl.bpf_given = true;
      },
      "BPF capture filter; \"\" for none (default live: the DNS ports, with VLAN tags and IP "
      "fragments; reading a file: none)")
      ->type_name("BPF");
  cli.add_option("-N,--nsid", cl.nsid, "Sensor label in every event's nsid (default: host name)")
      ->type_name("LABEL");
  cli.add_option("-o,--output", cl.output_file, "Append events as NDJSON to this file")
      ->type_name("FILE");
  cli.add_flag("--stdout", cl.to_stdout, "Print events to stdout (the default with no emitter)");
  cli.add_option("--redis", cl.redis_urls,
                 "Redis emitter: redis://[[user]:password@]host:port[/db]?key=dns:{nsid}&data_type=list "
                 "(repeatable)")
      ->type_name("URL");
  cli.add_option("--zmq", cl.zmq_urls,
                 "ZeroMQ PUB emitter: tcp://127.0.0.1:5556?topic=dns.{qtype}; binds for tcp://*:port "
                 "or bind=1, connects otherwise (repeatable)")
      ->type_name("URL");
  cli.add_option("--mqtt", cl.mqtt_urls,
                 "MQTT emitter: tcp://[user:password@]host:1883?topic=dns/{nsid}/{qtype}&qos=1 "
                 "(repeatable)")
      ->type_name("URL");
  cli.add_option("--nats", cl.nats_urls,
                 "NATS emitter: nats://[user:password@]host:4222[,host:port...]?subject=dns.{qtype}; "
                 "JetStream, acknowledged, with &stream=NAME (repeatable)")
      ->type_name("URL");
  cli.add_option("--mode", cl.mode,
                 "What one document of the emitters given here stands for: message (default), "
                 "transaction (a query and its response) or record (one per question and record)")
      ->check(CLI::IsMember({"message", "transaction", "record"}))
      ->type_name("MODE");
  cli.add_option("--format", cl.format,
                 "Their document shape: json (default), stash53 (the original's, per answer) or "
                 "ecs (Elastic Common Schema 8)")
      ->check(CLI::IsMember(format::formats()))
      ->type_name("FORMAT");
  cli.add_option("-s,--snaplen", cl.snaplen, "Bytes captured per packet (default 65535)")
      ->check(CLI::Range(64, 262144))
      ->type_name("N");
  cli.add_option("-B,--buffer-mb", cl.buffer_mb, "Kernel capture buffer in MiB (default 32)")
      ->check(CLI::Range(1, 2047))
      ->type_name("MIB");
  cli.add_option("--workers", cl.workers,
                 "Pipeline threads; each takes the flows of its share of the address pairs "
                 "(packet capture only; default 1)")
      ->check(CLI::Range(1, 64))
      ->type_name("N");
  cli.add_flag("--no-promisc", cl.no_promisc, "Do not put the interface in promiscuous mode");
  cli.add_option("--ports", cl.ports, "DNS ports to decode (default 53 5353 5355: DNS, mDNS, LLMNR)")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");
  cli.add_option_function<unsigned>(
         "--stats-interval",
         [&](unsigned v) {
           cl.stats_interval_s = v;
           cl.stats_interval_given = true;
         },
         "Print the counters to stderr every N seconds (0: only at exit)")
      ->check(CLI::Range(0, 86400))
      ->type_name("S");
  cli.add_option("--drain-ms", cl.drain_ms,
                 "At shutdown, how long emitters may take to deliver queued events (default 10000)")
      ->type_name("MS");
  cli.add_option("--geoip-db", cl.geoip_dbs,
                 "GeoIP/ASN database (MaxMind or ip-location-db MMDB) for the geoip enricher; "
                 "repeatable, replaces the configured ones")
      ->type_name("FILE");
  cli.add_flag("--anonymize", cl.anonymize,
               "Turn the privacy enricher on (by default: client addresses cut to /24, /56 in every output)");
  cli.add_option("--no-enrich", cl.no_enrich, "Turn this enricher off (repeatable)")
      ->type_name("NAME");
  cli.add_flag("--list-fields", cl.list_fields, "Print the event's field catalogue and exit");
  cli.add_flag("--list-formats", cl.list_formats,
               "Print the output formats and their modes as Markdown and exit");
  cli.add_flag("--list-flags", cl.list_flags,
               "Print this flag table as Markdown (the README's) and exit");
  cli.add_option("--log-level", cl.log_level,
                 "trace, debug, info, warn, error or off (default info, or log.level)")
      ->type_name("LEVEL");
  cli.add_option("--user", cl.user,
                 "After opening the capture, run as this user (default: stash53 if it exists, "
                 "else nobody; only when started as root)")
      ->type_name("USER");
  cli.add_option("--group", cl.group, "... and this group (default: the user's)")
      ->type_name("GROUP");
  cli.add_option("--chroot", cl.chroot, "... inside this directory")
      ->type_name("DIR");
  cli.add_flag("--allow-root", cl.allow_root,
               "Keep running as root (capabilities are still dropped)");
  cli.add_option("--metrics-listen", cl.metrics_listen,
                 "Serve Prometheus /metrics, /healthz and the live page at this host:port "
                 "(e.g. 127.0.0.1:9153; default off)")
      ->type_name("HOST:PORT");
  cli.add_flag("--check-config", cl.check_config,
               "Check the config and flags, build every component, check that outputs can be "
               "created, the interface exists and addresses can be bound; send nothing; exit");
  cli.add_flag("--print-config", cl.print_config,
               "Print the effective configuration (defaults included, secrets masked) and exit");
  cli.footer(
      "Signals: SIGHUP re-reads the config (emitters, filters, enrichers, log level; capture "
      "changes need a restart) and reopens output files; SIGUSR1 logs the counters; SIGTERM "
      "or SIGINT stop the capture, drain the queues and exit.\n"
      "Exit status: 0 success; 1 capture failed, or an output, the metrics address or the "
      "privilege drop failed; 2 bad config or flags; 3 events were lost (an emitter dropped "
      "events: queue full, refused, or undelivered at shutdown).");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : kExitConfig;
  }

  if (cl.list_flags) {
    std::cout << flag_table(cli);
    return 0;
  }
  if (cl.list_fields) {
    std::cout << event::Catalogue::instance().markdown_table();
    return 0;
  }
  if (cl.list_formats) {
    std::cout << format::markdown_table();
    return 0;
  }
  if (!cl.log_level.empty() && !log::is_level(cl.log_level)) {
    std::cerr << "stash53: --log-level: unknown log level '" << cl.log_level
              << "' (expected trace, debug, info, warn, error or off)\n";
    return kExitConfig;
  }
  log::init(cl.log_level.empty() ? "info" : cl.log_level);

  // Signals are taken by sigwait in the main thread only; every thread started later inherits
  // the mask. SIGUSR2 is the pipeline thread's "I am done".
  sigset_t signals;
  sigemptyset(&signals);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout is a write error, not a silent death

  ServiceOptions options;
  options.load = [&cl] {
    config::Config cfg = config::load_config(cl.config_file);
    apply_overrides(cl, cfg);
    return cfg;
  };
  options.enrich_overrides = enrich_overrides(cl);
  options.drain_ms = cl.drain_ms;
  if (cl.print_config) return print_config(options);
  if (cl.check_config) return check_config(options);
  return run_service(options);
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

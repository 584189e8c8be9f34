#include "app/service.h"
#include "app/sources.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "app/live_stats.h"
#include "app/pipeline.h"
#include "app/privileges.h"
#include "app/status_server.h"
#include "capture/listen_socket.h"
#include "capture/pcap_source.h"
#include "common/log.h"

namespace stash53::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStalledAfter = std::chrono::seconds(10);

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

/// Events an emitter lost: what exit status 3 counts.
std::uint64_t dropped(const emitters::EmitterStats& s) { return s.dropped_full + s.dropped_error; }

std::string dump(const YAML::Node& n) { return n.IsDefined() ? YAML::Dump(n) : std::string(); }

/// Process metrics as Prometheus client libraries export them, and the build.
std::string process_metrics() {
  std::string out = "# HELP stash53_build_info stash53's version\n# TYPE stash53_build_info gauge\n"
                    "stash53_build_info{version=\"" STASH53_VERSION "\"} 1\n";
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::vector<std::string> f;  // fields from 3 (state) on
  std::string word;
  for (std::istringstream in(line.substr(close + 2)); in >> word;) f.push_back(word);
  if (f.size() < 22) return out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / tick;  // utime + stime
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  uptime_file >> uptime;
  const double started = static_cast<double>(std::time(nullptr)) - uptime + std::stod(f[19]) / tick;
  const double rss = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  out += fmt::format(
      "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {:.2f}\n"
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {:.0f}\n"
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {:.0f}\n",
      cpu, rss, started);
  return out;
}

class Service {
 public:
  explicit Service(const ServiceOptions& options) : options_(options) {}
  int run();

 private:
  bool start_outputs(std::vector<std::unique_ptr<emitters::Emitter>>& list,
                     const std::vector<std::size_t>& which);
  void rebuild_registry();
  void reload();
  void log_stats();
  std::pair<bool, std::string> health();

  const ServiceOptions& options_;
  config::Config cfg_;
  Components parts_;  // enrichers moved into the pipeline; emitters owned here
  std::vector<std::string> emitter_fingerprints_;
  std::string enrich_fingerprint_;
  std::unique_ptr<capture::Source> source_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<LiveStats> live_;
  std::unique_ptr<StatusServer> status_;
  std::atomic<bool> pipeline_done_{false};

  // The registry and the emitter list change on reload; the status server reads them.
  mutable std::shared_mutex shared_;
  std::unique_ptr<MetricRegistry> registry_;
  Counter reloads_, reload_failures_;
  std::uint64_t lost_by_retired_ = 0;  // events dropped by emitters a reload removed
};

bool Service::start_outputs(std::vector<std::unique_ptr<emitters::Emitter>>& list,
                            const std::vector<std::size_t>& which) {
  for (const auto i : which) {
    auto& em = *list[i];
    const std::string why = em.prepare(false);
    if (why.empty()) continue;
    if (em.optional()) {
      log::warn("emit:" + em.name(), "{}; optional, so retried in the background.", why);
      continue;
    }
    log::error("emit:" + em.name(), "{} (set `optional: true` to start without it).", why);
    return false;
  }
  return true;
}

void Service::rebuild_registry() {
  auto r = std::make_unique<MetricRegistry>();
  // Before the pipeline's, so that the stats line keeps one group for the pipeline.
  r->add({"", "", "reloads", {}, "configurations reloaded on SIGHUP", MetricType::Counter, true},
         reloads_);
  r->add({"", "", "reload-failures", {}, "SIGHUPs whose configuration was refused",
          MetricType::Counter, true},
         reload_failures_);
  pipeline_->register_metrics(*r);
  for (const auto& em : parts_.emitters) em->register_metrics(*r);
  std::unique_lock lock(shared_);
  registry_ = std::move(r);
}

void Service::log_stats() {
  std::shared_lock lock(shared_);
  log::info("stats", "{}", registry_->stats_line());
}

std::pair<bool, std::string> Service::health() {
  std::shared_lock lock(shared_);
  std::string capture = "ok";
  if (!pipeline_->running())
    capture = "ended";
  else if (!source_->is_offline() && steady_ns() - pipeline_->heartbeat_ns() >
           std::chrono::nanoseconds(kStalledAfter).count())
    capture = "stalled";
  bool any_up = parts_.emitters.empty();
  std::string list;
  for (const auto& em : parts_.emitters) {
    const bool up = em->stats().up;
    any_up |= up;
    list += fmt::format("{}\"{}\":\"{}\"", list.empty() ? "" : ",", em->name(), up ? "up" : "down");
  }
  const bool healthy = capture == "ok" && any_up;
  return {healthy, fmt::format("{{\"status\":\"{}\",\"capture\":\"{}\",\"emitters\":{{{}}}}}",
                               healthy ? "ok" : "unhealthy", capture, list)};
}

void Service::reload() {
  log::info("main", "SIGHUP: reloading the configuration.");
  config::Config next;
  Components parts;
  try {
    next = options_.load();
    next.workers = cfg_.workers;  // a capture setting: takes a restart
    parts = build_components(next, options_.enrich_overrides);
  } catch (const std::exception& e) {
    reload_failures_.add();
    log::error("main", "Reload failed, keeping the running configuration: {}", e.what());
    return;
  }
  for (const char* section : {"capture", "decode", "transactions", "privileges", "metrics"})
    if (dump(next.effective[section]) != dump(cfg_.effective[section]))
      log::warn("main", "The {} section changed: that takes a restart; running on as before.",
                section);

  // Unchanged emitters (same name, same settings) go on untouched, with their queues.
  std::vector<std::unique_ptr<emitters::Emitter>> kept_or_new;
  std::vector<std::size_t> fresh;
  std::vector<bool> reused(parts_.emitters.size(), false);
  for (std::size_t i = 0; i < parts.emitters.size(); ++i) {
    std::size_t j = 0;
    for (; j < parts_.emitters.size(); ++j)
      if (!reused[j] && parts_.emitters[j]->name() == parts.emitters[i]->name() &&
          emitter_fingerprints_[j] == parts.emitter_fingerprints[i])
        break;
    if (j < parts_.emitters.size()) {
      reused[j] = true;
      kept_or_new.push_back(nullptr);  // filled below, once the reload cannot fail any more
    } else {
      kept_or_new.push_back(std::move(parts.emitters[i]));
      fresh.push_back(i);
    }
  }
  if (!start_outputs(kept_or_new, fresh)) {
    reload_failures_.add();
    log::error("main", "Reload failed, keeping the running configuration.");
    return;
  }
  for (const auto i : fresh) {
    log::info("emit:" + kept_or_new[i]->name(), "Emitter {} (new or changed).",
              kept_or_new[i]->describe());
    kept_or_new[i]->start();
  }
  std::vector<std::unique_ptr<emitters::Emitter>> retired;
  {
    std::unique_lock lock(shared_);  // the status server reads the list
    for (std::size_t i = 0; i < kept_or_new.size(); ++i) {
      if (kept_or_new[i]) continue;
      for (std::size_t j = 0; j < parts_.emitters.size(); ++j)
        if (reused[j] && parts_.emitters[j] &&
            parts_.emitters[j]->name() == parts.emitters[i]->name()) {
          kept_or_new[i] = std::move(parts_.emitters[j]);
          break;
        }
    }
    for (auto& em : parts_.emitters)
      if (em) retired.push_back(std::move(em));
    parts_.emitters = std::move(kept_or_new);
  }
  const std::size_t stopped = retired.size();

  const bool keep_enrichers = parts.enrich_fingerprint == enrich_fingerprint_;
  Stages stages;
  for (auto& em : parts_.emitters) stages.emitters.push_back(em.get());
  stages.live = live_.get();
  if (!keep_enrichers) {
    stages.enrichers = std::move(parts.enrichers);
    for (const auto& e : stages.enrichers[0]) log::info("enrich", "Enricher {}.", e->describe());
  }
  // The pipeline takes the new stages between two packets; from then on nothing reaches the
  // retired emitters, which drain what they hold.
  Stages old = pipeline_->replace(std::move(stages), keep_enrichers);
  for (auto& em : retired) {
    em->stop(std::chrono::milliseconds(options_.drain_ms));
    const auto s = em->stats();
    lost_by_retired_ += dropped(s);
    log::info("emit:" + em->name(), "Stopped (removed or changed): sent {}, dropped {}.", s.sent,
              dropped(s));
  }
  for (auto& em : parts_.emitters) em->reopen();
  emitter_fingerprints_ = parts.emitter_fingerprints;
  enrich_fingerprint_ = parts.enrich_fingerprint;
  if (next.log_level != cfg_.log_level) log::set_level(next.log_level);
  // Keep the sections that need a restart as they run, so the next reload compares with them.
  for (const char* section : {"capture", "decode", "transactions", "privileges", "metrics"})
    next.effective[section] = cfg_.effective[section];
  next.capture = cfg_.capture;
  next.decode = cfg_.decode;
  next.transactions = cfg_.transactions;
  cfg_ = std::move(next);
  rebuild_registry();  // the old registry refers to the retired emitters and old enrichers
  retired.clear();
  old.enrichers.clear();
  reloads_.add();
  log::info("main", "Reloaded: {} emitters ({} new or changed, {} stopped), enrichers {}.",
            parts_.emitters.size(), fresh.size(), stopped, keep_enrichers ? "unchanged" : "rebuilt");
}

int Service::run() {
  try {
    cfg_ = options_.load();
    if (cfg_.capture.interface.empty() && cfg_.capture.file.empty() && cfg_.reads("pcap"))
      throw config::ConfigError(
          "nothing to capture: give -i INTERFACE, -r FILE or --dnstap-socket PATH (or "
          "capture.interface, capture.file or capture.source: dnstap in the config)");
    parts_ = build_components(cfg_, options_.enrich_overrides);
  } catch (const config::ConfigError& e) {
    log::error("config", "{}", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {  // a database that cannot be opened
    log::error("enrich", "{}.", e.what());
    return kExitConfig;
  }
  emitter_fingerprints_ = parts_.emitter_fingerprints;
  enrich_fingerprint_ = parts_.enrich_fingerprint;
  log::set_level(cfg_.log_level);

  log::info("main", "stash53 " STASH53_VERSION " starting (pid {}).", ::getpid());
  for (const auto& e : parts_.enrichers[0]) log::info("enrich", "Enricher {}.", e->describe());
  for (const auto& em : parts_.emitters)
    log::info("emit:" + em->name(), "Emitter {}{}.", em->describe(),
              em->optional() ? " (optional)" : "");

  // As root (or with CAP_NET_RAW): the capture, the output files and the listening address
  // are opened first, then privileges are dropped, then threads start.
  try {
    source_ = open_source(cfg_);
  } catch (const std::exception& e) {
    log::error("capture", "{}.", e.what());
    return kExitFailure;
  }
  if (cfg_.workers > 1 && !source_->packets_only()) {
    // dnstap and dnsmasq inputs come as messages and log lines, not packets to shard.
    log::warn("capture", "capture.workers {} applies to packet capture; this input runs on one "
              "worker.", cfg_.workers);
    try {
      cfg_ = options_.load();
      cfg_.workers = 1;
      parts_ = build_components(cfg_, options_.enrich_overrides);
    } catch (const std::exception& e) {
      log::error("config", "{}", e.what());
      return kExitConfig;
    }
  }
  if (cfg_.workers > 1)
    log::info("main", "{} pipeline workers, flows shared out by address pair.", cfg_.workers);
  std::vector<std::size_t> all(parts_.emitters.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (!start_outputs(parts_.emitters, all)) return kExitFailure;

  if (!cfg_.metrics_listen.empty()) {
    live_ = std::make_unique<LiveStats>();
    try {
      status_ = std::make_unique<StatusServer>(
          cfg_.metrics_listen,
          StatusServer::Handlers{
              [this] {
                std::shared_lock lock(shared_);
                return registry_->prometheus() + process_metrics();
              },
              [this] { return health(); },
              [this] {
                std::shared_lock lock(shared_);
                return live_->json(*registry_);
              }});
    } catch (const std::exception& e) {
      log::error("metrics", "{}.", e.what());
      return kExitFailure;
    }
    log::info("metrics", "Serving /metrics, /healthz and the live page on http://{}/.",
              cfg_.metrics_listen);
  }
  try {
    drop_privileges(cfg_.privileges);
  } catch (const std::exception& e) {
    log::error("privileges", "{}.", e.what());
    return kExitFailure;
  }

  for (auto& em : parts_.emitters) em->start();
  Stages stages{std::move(parts_.enrichers), {}, live_.get()};
  for (auto& em : parts_.emitters) stages.emitters.push_back(em.get());
  pipeline_ = std::make_unique<Pipeline>(*source_, cfg_.decode, cfg_.transactions, cfg_.workers,
                                         std::move(stages));
  rebuild_registry();
  if (status_) status_->start();

  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  const pthread_t main_thread = pthread_self();
  bool source_ok = true;
  std::thread pipe_thread([&] {
    source_ok = pipeline_->run();
    pipeline_done_.store(true);
    pthread_kill(main_thread, SIGUSR2);
  });

  // Wait for the end of input or a signal, printing the counters on the way when asked.
  // After a stop signal the pipeline may still wait for room in a queue whose emitter cannot
  // deliver (a reader that stopped reading): after the drain time, stop the emitters, which
  // releases it.
  enum class Phase { Running, Stopping, EmittersStopped } phase = Phase::Running;
  for (;;) {
    std::optional<timespec> timeout;
    if (phase == Phase::Stopping)
      timeout = timespec{static_cast<time_t>(options_.drain_ms / 1000),
                         static_cast<long>(options_.drain_ms % 1000) * 1'000'000};
    else if (phase == Phase::Running && cfg_.stats_interval_s > 0)
      timeout = timespec{static_cast<time_t>(cfg_.stats_interval_s), 0};
    const int sig = timeout ? sigtimedwait(&signals, nullptr, &*timeout) : sigwaitinfo(&signals, nullptr);
    if (sig < 0) {
      if (errno != EAGAIN) continue;  // EINTR
      if (phase == Phase::Running) {
        log_stats();
      } else if (phase == Phase::Stopping) {
        log::warn("main", "Emitters still busy after {} ms; stopping them.", options_.drain_ms);
        std::shared_lock lock(shared_);
        for (auto& em : parts_.emitters) em->stop(std::chrono::milliseconds(0));
        phase = Phase::EmittersStopped;
      }
      continue;
    }
    if (sig == SIGUSR2) {
      if (pipeline_done_.load()) break;
      continue;  // not ours
    }
    if (sig == SIGUSR1) {
      log_stats();
      continue;
    }
    if (sig == SIGHUP) {
      if (phase == Phase::Running) reload();
      continue;
    }
    if (phase == Phase::Running) {
      log::info("main", "Signal {} received, stopping.", sig);
      phase = Phase::Stopping;
      source_->stop();
    }
  }
  pipe_thread.join();
  for (auto& em : parts_.emitters) em->stop(std::chrono::milliseconds(options_.drain_ms));
  if (status_) status_->stop();
  log_stats();

  std::uint64_t lost_events = lost_by_retired_;
  for (const auto& em : parts_.emitters) lost_events += dropped(em->stats());
  if (!source_ok) return kExitFailure;
  if (lost_events > 0) {
    log::error("main", "{} events were lost (dropped by emitters: queue full, refused, or "
               "undelivered at shutdown); exit status {}.", lost_events, int(kExitEventsLost));
    return kExitEventsLost;
  }
  return kExitOk;
}

/// Problems --check-config finds beyond the config itself.
std::vector<std::string> environment_problems(const config::Config& cfg, Components& parts) {
  std::vector<std::string> problems;
  const auto& c = cfg.capture;
  if (!c.interface.empty() && c.interface != "any") {
    char err[PCAP_ERRBUF_SIZE];
    pcap_if_t* devs = nullptr;
    bool found = false;
    if (pcap_findalldevs(&devs, err) == 0)
      for (pcap_if_t* d = devs; d != nullptr; d = d->next) found |= c.interface == d->name;
    pcap_freealldevs(devs);
    if (!found) problems.push_back("capture.interface: no interface named '" + c.interface + "'");
  }
  if (!c.file.empty() && c.file != "-" && ::access(c.file.c_str(), R_OK) != 0)
    problems.push_back("capture.file: cannot read " + c.file + ": " + std::strerror(errno));
  for (auto& em : parts.emitters) {
    const std::string why = em->prepare(true);
    if (why.empty()) continue;
    if (em->optional())
      log::warn("emit:" + em->name(), "{} (optional: started without it).", why);
    else
      problems.push_back("emitter " + em->name() + ": " + why);
  }
  if (!cfg.metrics_listen.empty())
    if (auto why = StatusServer::check(cfg.metrics_listen); !why.empty()) problems.push_back(why);
  if (c.file.empty()) {
    // The listeners: an address is bound and let go; a socket's directory must take it (a
    // socket there may be a running instance's, so it is left alone).
    const auto try_bind = [&](const std::string& key, const std::string& spec, int type) {
      try {
        ::close(capture::bind_inet(spec, type, type == SOCK_DGRAM ? "syslog" : "dnstap"));
      } catch (const std::exception& e) {
        problems.push_back(key + ": " + e.what());
      }
    };
    const auto dir_takes = [&](const std::string& key, const std::string& path) {
      const auto slash = path.rfind('/');
      const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
      if (::access(dir.c_str(), W_OK | X_OK) != 0)
        problems.push_back(key + ": cannot create " + path + ": " + dir + ": " + std::strerror(errno));
    };
    if (cfg.reads("dnstap")) {
      if (!cfg.dnstap.listen.empty()) try_bind("capture.dnstap.listen", cfg.dnstap.listen, SOCK_STREAM);
      if (!cfg.dnstap.socket.empty()) dir_takes("capture.dnstap.socket", cfg.dnstap.socket);
    }
    if (cfg.reads("dnsmasq")) {
      if (!cfg.dnsmasq.syslog_listen.empty())
        try_bind("capture.dnsmasq.syslog_listen", cfg.dnsmasq.syslog_listen, SOCK_DGRAM);
      if (!cfg.dnsmasq.syslog_socket.empty()) dir_takes("capture.dnsmasq.syslog_socket", cfg.dnsmasq.syslog_socket);
    }
  }
  if (!cfg.privileges.user.empty() && ::getpwnam(cfg.privileges.user.c_str()) == nullptr)
    problems.push_back("privileges.user: no user named '" + cfg.privileges.user + "'");
  return problems;
}

std::optional<int> load_and_build(const ServiceOptions& o, config::Config& cfg, Components& parts) {
  try {
    cfg = o.load();
    parts = build_components(cfg, o.enrich_overrides);
  } catch (const config::ConfigError& e) {
    log::error("config", "{}", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    log::error("enrich", "{}.", e.what());
    return kExitConfig;
  }
  return std::nullopt;
}

}  // namespace

int run_service(const ServiceOptions& options) {
  Service service(options);
  return service.run();
}

int check_config(const ServiceOptions& options) {
  config::Config cfg;
  Components parts;
  if (auto status = load_and_build(options, cfg, parts)) return *status;
  const auto problems = environment_problems(cfg, parts);
  for (const auto& p : problems) log::error("config", "{}", p);
  if (!problems.empty()) return kExitFailure;
  std::cout << "stash53: configuration OK (" << parts.enrichers[0].size() << " enrichers, "
            << parts.emitters.size() << " emitters)\n";
  return kExitOk;
}

int print_config(const ServiceOptions& options) {
  config::Config cfg;
  Components parts;
  if (auto status = load_and_build(options, cfg, parts)) return *status;
  YAML::Node doc = cfg.effective;
  doc["enrich"] = parts.enrich_effective;
  doc["emitters"] = parts.emitters_effective;
  std::cout << "# stash53 " STASH53_VERSION ": the effective configuration, defaults included, "
               "secrets masked\n"
            << YAML::Dump(doc) << "\n";
  return kExitOk;
}

}  // namespace stash53::app

#pragma once
// The process around the pipeline: start-up (components, capture, outputs, privileges, the
// status server), the signals (SIGHUP reload and reopen, SIGUSR1 counters, SIGTERM/SIGINT
// stop), and the exit status.

#include <functional>
#include <string>

#include "app/components.h"
#include "config/config.h"

namespace stash53::app {

/// Exit statuses (also in --help and the man page).
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,     // capture failed, an output or the metrics address could not be opened
  kExitConfig = 2,      // bad config or flags
  kExitEventsLost = 3,  // an emitter dropped events (queue full, refused, undelivered at stop)
};

struct ServiceOptions {
  /// Loads the config file and applies the command line over it; throws config::ConfigError.
  /// Called at start-up and on every SIGHUP.
  std::function<config::Config()> load;
  EnrichOverrides enrich_overrides;
  unsigned drain_ms = 10'000;
};

/// Runs stash53 until its input ends or a signal stops it; returns the exit status.
[[nodiscard]] int run_service(const ServiceOptions& options);
/// --check-config: builds everything, checks what can be checked without sending anything
/// (files can be created, the interface exists, databases open, addresses can be bound).
[[nodiscard]] int check_config(const ServiceOptions& options);
/// --print-config: the effective config (every key, defaults included), secrets masked.
[[nodiscard]] int print_config(const ServiceOptions& options);

}  // namespace stash53::app

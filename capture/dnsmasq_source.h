#pragma once
// dnsmasq's logs as a source: a log file read to its end or followed as it grows and is
// rotated (tail -F), standard input, and syslog messages over UDP or a unix datagram socket
// (rsyslog forwarding). Lines are joined into events by capture/dnsmasq/joiner.h.

#include <memory>
#include <string>

#include "capture/input_file.h"
#include "capture/source.h"

namespace stash53::capture {

/// Config section `capture.dnsmasq`.
struct DnsmasqOptions {
  bool follow = false;        // keep reading the file as it grows (--follow)
  std::string syslog_listen;  // UDP "ADDR:PORT" for syslog messages (--syslog-listen)
  std::string syslog_socket;  // unix datagram socket path for syslog messages
  unsigned query_timeout_ms = 10'000;  // a query's lines are complete this long after it
  int timeout_ms = 100;       // how often an idle source returns Idle
};

class DnsmasqSource final : public Source {
 public:
  /// Reads `file` (opened by open_input; `path` is its name, "-" for standard input).
  DnsmasqSource(InputFile file, std::string path, const DnsmasqOptions& options);
  /// Listens for syslog messages. Throws std::runtime_error.
  explicit DnsmasqSource(const DnsmasqOptions& options);
  ~DnsmasqSource() override;
  Next next(Input& in) noexcept override;
  void stop() noexcept override;
  SourceStats stats() const noexcept override;
  std::string error() const override;
  bool is_offline() const noexcept override;
  void register_metrics(MetricRegistry& registry) const override;
  [[nodiscard]] std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash53::capture

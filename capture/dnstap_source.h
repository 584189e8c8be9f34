#pragma once
// dnstap (dnstap.proto over Frame Streams): the server's own copy of every message it handles.
// A unix socket and a TCP listener speak the bidirectional Frame Streams handshake with any
// number of writers at once; a file (or standard input) is read to its end.

#include <memory>
#include <string>

#include "capture/input_file.h"
#include "capture/source.h"

namespace stash53::capture {

/// Config section `capture.dnstap`.
struct DnstapOptions {
  std::string socket;        // unix socket to listen on, e.g. /run/stash53/dnstap.sock
  unsigned socket_mode = 0660;
  std::string socket_group;  // group of the socket (the server's); empty: ours
  std::string listen;        // TCP listener, "ADDR:PORT" or "[V6]:PORT"
  unsigned max_connections = 64;
  unsigned queue_mb = 64;    // frames waiting for the pipeline; a full queue slows the writers
  int timeout_ms = 100;      // how often an idle source returns Idle
};

class DnstapSource final : public Source {
 public:
  /// Listens on the socket and/or address of `options`. Throws std::runtime_error.
  explicit DnstapSource(const DnstapOptions& options);
  /// Reads a Frame Streams file (`name` for messages) to its end.
  DnstapSource(InputFile file, std::string name);
  ~DnstapSource() override;
  Next next(Input& in) noexcept override;
  void start() override;
  void stop() noexcept override;
  SourceStats stats() const noexcept override;
  std::string error() const override;
  bool is_offline() const noexcept override;
  void register_metrics(MetricRegistry& registry) const override;
  /// "unix socket /path, tcp 127.0.0.1:6000" or "file x.dnstap", for the start-up log.
  [[nodiscard]] std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stash53::capture

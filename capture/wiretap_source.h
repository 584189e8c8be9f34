#pragma once
// Capture files libpcap refuses, read with Wireshark's wiretap (libwiretap): a pcapng whose
// interfaces have different link types (`dumpcap -i eth0 -i lo`), and the other formats
// wiretap knows (snoop, ERF, ...). Each record carries its own link type.

#include <memory>
#include <string>

#include "capture/pcap_source.h"
#include "capture/source.h"

namespace stash53::capture {

class WiretapSource final : public Source {
 public:
  /// Opens `options.file`; throws std::runtime_error with wiretap's reason. The `bpf` filter,
  /// when set, is applied per record with the program compiled for its link type.
  explicit WiretapSource(const PcapOptions& options);
  ~WiretapSource() override;

  Next next(Packet& out) noexcept override;
  void stop() noexcept override { stopping_ = true; }
  [[nodiscard]] SourceStats stats() const noexcept override { return {received_, 0, 0}; }
  [[nodiscard]] std::string error() const override { return error_; }
  [[nodiscard]] bool is_offline() const noexcept override { return true; }
  /// "pcapng (wiretap)": how it was read, for the start-up log.
  [[nodiscard]] std::string format_name() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
  std::string error_;
  std::uint64_t received_ = 0;
  volatile bool stopping_ = false;
};

}  // namespace stash53::capture

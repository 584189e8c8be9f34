#pragma once
#include <pcap/pcap.h>

#include <atomic>
#include <memory>
#include <string>

#include "capture/input_file.h"
#include "capture/source.h"

namespace stash53::capture {

/// Settings of the libpcap source (config section `capture`).
struct PcapOptions {
  std::string interface;        // live capture device, e.g. "eth0", "any", "lo"
  std::string file;             // pcap or pcapng file, "-" for stdin; used when non-empty
  std::string bpf;              // capture filter; empty captures everything
  std::string bpf_not_ethernet; // if set, used instead on other link types (the default filter
                                // without VLAN clauses, which libpcap has only for Ethernet)
  int snaplen = 65535;          // bytes kept per packet; large EDNS answers need it all
  int buffer_mb = 32;           // kernel ring buffer, absorbs bursts
  bool promiscuous = true;
  // Off: the kernel hands packets over per block (at most timeout_ms late), one wake-up for
  // many packets. On costs a wake-up per packet and lost packets under load.
  bool immediate = false;
  int timeout_ms = 100;         // how often an idle live capture returns Idle
};

/// libpcap live or offline source. Opening (constructor) throws std::runtime_error with the
/// libpcap message; next() never throws.
class PcapSource final : public Source {
 public:
  /// `opened`: the file of options.file, already opened to read its kind (open_input).
  explicit PcapSource(const PcapOptions& options, InputFile* opened = nullptr);
  Next next(Input& in) noexcept override;
  void stop() noexcept override;
  SourceStats stats() const noexcept override;
  std::string error() const override { return error_; }
  bool is_offline() const noexcept override { return offline_; }
  bool packets_only() const noexcept override { return true; }

  /// The capture filter in use (the link type decides between bpf and bpf_not_ethernet).
  [[nodiscard]] const std::string& filter() const noexcept { return filter_; }
  /// Link types the decoder understands; others are refused at open time.
  static bool supported_dlt(int dlt) noexcept;

 private:
  std::unique_ptr<pcap_t, decltype(&pcap_close)> handle_{nullptr, &pcap_close};
  bool offline_ = false;
  int fd_ = -1;     // live: polled by next(), the handle being non-blocking
  int timeout_ms_ = 100;
  int dlt_ = 0;
  std::atomic<bool> stopping_{false};
  std::uint64_t received_ = 0;
  std::string error_;
  std::string filter_;
};

}  // namespace stash53::capture

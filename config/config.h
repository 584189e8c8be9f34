#pragma once
// The config file (`-c FILE`): sections capture, decode, transactions, enrich, emitters,
// stats, log, privileges, metrics. Capture and
// decode are read here; each enricher and emitter reads its own options when it is built.

#include <algorithm>
#include <string>
#include <vector>

#include "app/privileges.h"
#include "capture/dnsmasq_source.h"
#include "capture/dnstap_source.h"
#include "capture/pcap_source.h"
#include "config/option_reader.h"
#include "correlate/transactions.h"
#include "decode/decoder.h"

namespace stash53::config {

/// One entry of `enrich` or `emitters`: its type, instance name and the rest of its options.
struct ComponentConfig {
  std::string type;
  std::string name;
  OptionReader options;
};

struct Config {
  capture::PcapOptions capture;   // capture.file also holds a dnstap file: its bytes tell
  capture::DnstapOptions dnstap;  // capture.dnstap, for source dnstap
  capture::DnsmasqOptions dnsmasq;  // capture.dnsmasq: following a log, or syslog listeners
  // capture.source: what is read live, one or several at once: pcap, dnstap, dnsmasq.
  std::vector<std::string> sources = {"pcap"};
  [[nodiscard]] bool reads(std::string_view source) const {
    return std::find(sources.begin(), sources.end(), source) != sources.end();
  }
  // capture.workers: pipeline threads, each with the flows of its share of the address pairs.
  std::size_t workers = 1;
  decode::DecodeOptions decode;
  std::vector<ComponentConfig> enrich;  // without the section: the registered defaults
  bool enrich_given = false;            // an explicit `enrich: []` turns them all off
  bool bpf_given = false;  // capture.bpf set, even to "" (no filter)
  std::vector<ComponentConfig> emitters;
  correlate::TransactionOptions transactions;  // for the emitters with `mode: transaction`
  unsigned stats_interval_s = 0;
  std::string log_level = "info";
  app::PrivilegeOptions privileges;
  std::string metrics_listen;  // host:port of the metrics and live-page server; empty: off
  YAML::Node effective;        // every key with its value or default, secrets masked
};

/// Parses and checks the file; an empty path gives the defaults. Throws ConfigError naming the
/// key, its line and what was expected.
[[nodiscard]] Config load_config(const std::string& path);

/// The capture filter used live when none is configured: the DNS ports and the enabled tunnels
/// (VXLAN and Geneve ports, IP protocols 47, 4, 41), also behind one or two VLAN tags (`vlan`:
/// libpcap has them only on Ethernet), and IP fragments (which carry no ports after the first).
[[nodiscard]] std::string default_live_filter(const decode::DecodeOptions& decode,
                                              bool vlan = true);

/// Checks a BPF expression without opening a device. Throws ConfigError for `key`.
void check_bpf(const std::string& bpf, const OptionReader& where, const std::string& key);

}  // namespace stash53::config

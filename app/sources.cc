#include "app/sources.h"

#include "capture/dnsmasq_source.h"
#include "capture/dnstap_source.h"
#include "capture/merged_source.h"
#include "capture/pcap_source.h"
#include "capture/wiretap_source.h"
#include "common/log.h"

namespace stash53::app {
namespace {

std::string filter_text(const std::string& bpf) { return bpf.empty() ? "none" : "'" + bpf + "'"; }

std::unique_ptr<capture::Source> open_file(const config::Config& cfg) {
  const auto& c = cfg.capture;
  const std::string name = c.file == "-" ? "standard input" : c.file;
  capture::InputFile in = capture::open_input(c.file);
  switch (in.kind) {
    case capture::FileKind::FrameStream: {
      auto s = std::make_unique<capture::DnstapSource>(std::move(in), name);
      log::info("capture", "Reading {} (dnstap).", name);
      return s;
    }
    case capture::FileKind::Pcapng:
      // libpcap reads a pcapng only while every interface has the link type of the first.
      if (c.file != "-") {
        std::string why_not;
        if (auto s = capture::open_wiretap(c.file, c.bpf, why_not)) {
          log::info("capture", "Reading {} (pcapng, every interface's link type, filter {}).", name,
                    filter_text(c.bpf));
          return s;
        }
        log::debug("capture", "Reading {} with libpcap: libwiretap {}.", name, why_not);
      }
      [[fallthrough]];
    case capture::FileKind::Pcap: {
      auto s = std::make_unique<capture::PcapSource>(c, &in);
      log::info("capture", "Reading {} ({}, filter {}).", name,
                capture::file_kind_name(in.kind), filter_text(s->filter()));
      return s;
    }
    case capture::FileKind::Text: {
      auto s = std::make_unique<capture::DnsmasqSource>(std::move(in), c.file, cfg.dnsmasq);
      log::info("capture", "Reading {} (dnsmasq log, {}).", name,
                cfg.dnsmasq.follow ? "following it" : "to its end");
      return s;
    }
  }
  throw std::runtime_error("cannot read " + name);
}

std::unique_ptr<capture::Source> open_live(const config::Config& cfg, const std::string& type) {
  if (type == "dnsmasq") {
    auto s = std::make_unique<capture::DnsmasqSource>(cfg.dnsmasq);
    log::info("capture", "Listening for dnsmasq's syslog on {}.", s->describe());
    return s;
  }
  if (type == "dnstap") {
    auto s = std::make_unique<capture::DnstapSource>(cfg.dnstap);
    log::info("capture", "Listening for dnstap on {}.", s->describe());
    return s;
  }
  const auto& c = cfg.capture;
  auto s = std::make_unique<capture::PcapSource>(c);
  log::info("capture", "Capturing live on {} (filter {}, snaplen {}, buffer {} MiB{}{}).",
            c.interface, filter_text(s->filter()), c.snaplen, c.buffer_mb,
            c.promiscuous ? ", promiscuous" : "", c.immediate ? ", immediate" : "");
  return s;
}

}  // namespace

std::unique_ptr<capture::Source> open_source(const config::Config& cfg) {
  if (!cfg.capture.file.empty()) return open_file(cfg);
  if (cfg.sources.size() == 1) return open_live(cfg, cfg.sources.front());
  // Together, the sources must not wait long for input (MergedSource asks each in turn):
  // dnstap and dnsmasq do not wait at all, libpcap hands its ring buffer over every 10 ms.
  config::Config each = cfg;
  each.dnstap.timeout_ms = 0;
  each.dnsmasq.timeout_ms = 0;
  each.capture.timeout_ms = 10;
  std::vector<std::unique_ptr<capture::Source>> all;
  for (const auto& type : cfg.sources) all.push_back(open_live(each, type));
  return std::make_unique<capture::MergedSource>(std::move(all));
}

}  // namespace stash53::app

#pragma once
// The pipeline thread: source → decoder → enrichers → formatter → every emitter's queue.

#include <memory>
#include <string>
#include <vector>

#include "capture/source.h"
#include "common/counter.h"
#include "common/metrics.h"
#include "decode/decoder.h"
#include "emitters/emitter.h"
#include "emitters/format_json.h"
#include "enrich/enricher.h"

namespace stash53::app {

class Pipeline final : public decode::MessageSink {
 public:
  Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
           std::vector<std::unique_ptr<enrich::Enricher>> enrichers,
           std::vector<std::unique_ptr<emitters::Emitter>>& emitters);

  /// Runs until the source ends or is stopped. Returns false when the source failed (logged).
  /// Pipeline thread only; never throws.
  bool run() noexcept;
  void on_message(decode::DnsEvent& ev) noexcept override;

  /// Registers the capture's, the decoder's and its own counters (before the enrichers' and
  /// emitters', which are downstream of them).
  void register_metrics(MetricRegistry& registry) const;

 private:
  void snapshot_source_stats() noexcept;

  capture::Source& source_;
  decode::Decoder decoder_;
  std::vector<std::unique_ptr<enrich::Enricher>> enrichers_;
  std::vector<std::unique_ptr<emitters::Emitter>>& emitters_;
  emitters::JsonFormatter formatter_;
  decode::DnsEvent event_;
  std::uint64_t sequence_ = 0;  // `n` of the last event
  Counter emitted_;
  Counter kernel_dropped_, interface_dropped_;  // pcap_stats, refreshed by the pipeline thread
};

}  // namespace stash53::app

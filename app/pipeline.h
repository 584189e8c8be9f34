#pragma once
// The pipeline thread: source → decoder → enrichers → outputs (formats, transactions) → every
// emitter's queue.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture/source.h"
#include "common/counter.h"
#include "common/metrics.h"
#include "decode/decoder.h"
#include "emitters/emitter.h"
#include "app/outputs.h"
#include "enrich/enricher.h"

namespace stash53::app {

class LiveStats;

/// What a reload may change: the enrichers (in run order), the emitters (owned by the caller)
/// and the live page's statistics (null: off).
struct Stages {
  std::vector<std::unique_ptr<enrich::Enricher>> enrichers;
  std::vector<emitters::Emitter*> emitters;
  LiveStats* live = nullptr;
};

class Pipeline final : public decode::MessageSink {
 public:
  Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
           const correlate::TransactionOptions& transaction_options, Stages stages);

  /// Runs until the source ends or is stopped. Returns false when the source failed (logged).
  /// Pipeline thread only; never throws.
  bool run() noexcept;
  void on_message(decode::DnsEvent& ev) noexcept override;

  /// Any other thread: hands `next` to the pipeline thread, which takes it between two packets,
  /// and returns the stages it replaced once it has (at once when the pipeline is not running).
  /// `next.enrichers` empty with `keep_enrichers`: the running ones stay.
  Stages replace(Stages next, bool keep_enrichers);

  /// Registers the capture's, the decoder's, its own and the enrichers' counters (before the
  /// emitters', which are downstream of them). Not while replace() runs.
  void register_metrics(MetricRegistry& registry) const;

  /// Steady-clock nanoseconds when the pipeline thread last went round its loop (a packet, or
  /// an idle capture's timeout): a stalled capture stops moving it.
  [[nodiscard]] std::int64_t heartbeat_ns() const noexcept { return heartbeat_ns_.load(); }
  [[nodiscard]] bool running() const noexcept { return running_.load(); }

 private:
  void snapshot_source_stats() noexcept;
  void adopt_pending() noexcept;

  capture::Source& source_;
  decode::Decoder decoder_;
  Stages stages_;
  Outputs outputs_;
  decode::DnsEvent event_;
  Counter emitted_;
  Counter kernel_dropped_, interface_dropped_;  // pcap_stats, refreshed by the pipeline thread
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::atomic<bool> running_{false};

  // replace(): the pending stages, taken by the pipeline thread between packets.
  std::atomic<bool> pending_flag_{false};
  std::mutex pending_mutex_;
  std::condition_variable adopted_;
  std::optional<Stages> pending_;
  bool keep_enrichers_ = false;
};

}  // namespace stash53::app

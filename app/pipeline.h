#pragma once
// The pipeline: the source, read by one thread, and its workers (app/worker.h). With one worker
// the reading thread decodes too. With several, it only reads: each packet goes, by a hash of
// its address pair, into one worker's ring, and each worker runs on a thread of its own.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/worker.h"
#include "capture/source.h"
#include "common/counter.h"
#include "common/event_ring.h"
#include "common/metrics.h"
#include "decode/decoder.h"
#include "emitters/emitter.h"

namespace stash53::app {

class LiveStats;

/// What a reload may change: each worker's enrichers, the emitters (owned by the caller) and the
/// live page's statistics (null: off).
struct Stages {
  std::vector<Enrichers> enrichers;  // one set per worker
  std::vector<emitters::Emitter*> emitters;
  LiveStats* live = nullptr;
};

class Pipeline {
 public:
  /// `stages.enrichers` has one set per worker. More than one worker needs a source that
  /// delivers packets only (Source::packets_only).
  Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
           const correlate::TransactionOptions& transaction_options, std::size_t workers,
           Stages stages);

  /// Runs until the source ends or is stopped, and every worker has finished. Returns false
  /// when the source failed (logged). On the pipeline's reading thread; never throws.
  bool run() noexcept;

  /// Any other thread: hands `next` to the workers, which take it between two inputs, and
  /// returns the stages it replaced once all have (at once when the pipeline is not running).
  /// `next.enrichers` empty with `keep_enrichers`: the running ones stay.
  Stages replace(Stages next, bool keep_enrichers);

  /// Registers the capture's counters, then the workers' (summed over them). Not while
  /// replace() runs.
  void register_metrics(MetricRegistry& registry) const;

  /// Steady-clock nanoseconds when the reading thread last went round its loop (a packet, or
  /// an idle capture's timeout): a stalled capture stops moving it.
  [[nodiscard]] std::int64_t heartbeat_ns() const noexcept { return heartbeat_ns_.load(); }
  [[nodiscard]] bool running() const noexcept { return running_.load(); }
  [[nodiscard]] std::size_t workers() const noexcept { return workers_.size(); }

 private:
  bool read_inline() noexcept;
  bool read_sharded() noexcept;
  void work(std::size_t worker) noexcept;  // a worker's thread, sharded
  void take_pending(std::size_t worker) noexcept;
  void beat(std::uint32_t& inputs) noexcept;
  void snapshot_source_stats() noexcept;

  capture::Source& source_;
  StreamNumbers numbers_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<EventRing>> rings_;  // sharded: each worker's packets
  Counter kernel_dropped_, interface_dropped_;  // pcap_stats, refreshed by the reading thread
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::atomic<bool> running_{false};

  // replace(): the pending stages, which each worker takes between two inputs.
  std::atomic<std::uint64_t> pending_round_{0};  // bumped per replace()
  std::vector<std::uint64_t> taken_round_;       // per worker, on its own thread
  std::mutex pending_mutex_;
  std::condition_variable adopted_;
  std::optional<Stages> pending_;
  std::size_t adopted_count_ = 0;
  bool keep_enrichers_ = false;
};

}  // namespace stash53::app

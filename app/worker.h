#pragma once
// One pipeline worker: decoder → enrichers → outputs (formats, transactions) → its queue in every
// emitter. Each worker has its own state (IP fragments, TCP streams, the transaction table,
// each enricher's per-client state and caches, counters) and is driven by one thread; the
// pipeline gives each the flows of its share of the address pairs.

#include <cstdint>
#include <memory>
#include <vector>

#include "app/outputs.h"
#include "capture/source.h"
#include "common/counter.h"
#include "common/metrics.h"
#include "decode/decoder.h"
#include "emitters/emitter.h"
#include "enrich/enricher.h"

namespace stash53::app {

class LiveStats;

using Enrichers = std::vector<std::unique_ptr<enrich::Enricher>>;  // in run order

class Worker final : public decode::MessageSink {
 public:
  Worker(std::size_t index, const decode::DecodeOptions& decode_options,
         const correlate::TransactionOptions& transaction_options, StreamNumbers& numbers,
         Enrichers enrichers, const std::vector<emitters::Emitter*>& emitters, LiveStats* live);

  void packet(const capture::Packet& pkt) noexcept { decoder_.decode(pkt, event_, *this); }
  void message(const capture::Message& msg) noexcept { decoder_.decode(msg, event_, *this); }
  void log(const capture::dnsmasq::Event& log) noexcept;
  /// A live capture's idle tick: held queries time out by the wall clock too.
  void idle(std::int64_t now_ns) noexcept { outputs_.on_idle(now_ns); }
  /// End of input: every held query is emitted, unanswered.
  void finish() noexcept { outputs_.finish(); }
  void on_message(decode::DnsEvent& ev) noexcept override;

  /// A reload, on the worker's own thread between two inputs: feeds `emitters` and `live`
  /// from now on, and swaps its enrichers with `enrichers` unless that is null.
  void adopt(Enrichers* enrichers, const std::vector<emitters::Emitter*>& emitters, LiveStats* live);

  /// The decoder's, its own, the enrichers' and the outputs' counters, in pipeline order.
  void register_metrics(MetricRegistry& registry) const;
  [[nodiscard]] const Counter& emitted() const noexcept { return emitted_; }

 private:
  decode::Decoder decoder_;
  Enrichers enrichers_;
  LiveStats* live_;
  Outputs outputs_;
  decode::DnsEvent event_;
  Counter emitted_;
};

}  // namespace stash53::app

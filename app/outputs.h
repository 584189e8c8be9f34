#pragma once
// The output stage of the pipeline: each distinct (mode, format) the emitters ask for is one
// stream, serialised once per event and shared by every emitter on it. Message and record
// streams format each message as it comes; transaction streams get the exchanges the one
// transaction table completes.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/counter.h"
#include "common/metrics.h"
#include "correlate/transactions.h"
#include "decode/dns_event.h"
#include "emitters/emitter.h"
#include "format/format.h"

namespace stash53::app {

/// The numbering of each stream (mode and format), shared by the workers' Outputs: one stream,
/// one sequence of `n`, whichever worker made the document.
class StreamNumbers {
 public:
  std::atomic<std::uint64_t>& of(format::Mode mode, const std::string& format);

 private:
  std::mutex mutex_;
  std::map<std::pair<format::Mode, std::string>, std::atomic<std::uint64_t>> next_;
};

/// One worker's output stage (the pipeline has one per worker).
class Outputs final : public correlate::ExchangeSink {
 public:
  /// `worker`: the pipeline worker this runs on, the queue it offers into (Emitter::offer).
  Outputs(const format::FormatOptions& format_options,
          const correlate::TransactionOptions& transaction_options, std::size_t worker,
          StreamNumbers& numbers);

  /// The emitters to feed from now on. A stream keeps its numbering across changes; when no
  /// emitter wants exchanges any more, the queries held go (unanswered) to those that did.
  void set_emitters(const std::vector<emitters::Emitter*>& emitters);
  void on_message(const decode::DnsEvent& ev) noexcept;
  /// A live capture's idle tick: held queries time out by the wall clock too.
  void on_idle(std::int64_t now_ns) noexcept;
  /// End of input: every held query is emitted, unanswered.
  void finish() noexcept;
  void on_exchange(const correlate::Exchange& x) noexcept override;

  /// Streams' and (when an emitter wants exchanges) the transaction table's counters.
  void register_metrics(MetricRegistry& registry) const;

 private:
  struct Stream {
    format::Mode mode = format::Mode::Message;
    std::string format_name;
    std::unique_ptr<format::Format> format;
    format::Documents docs;
    std::vector<emitters::Emitter*> emitters;  // none: unused since a reload (kept, numbered)
    Counter documents, empty;
  };
  void deliver(Stream& s, const decode::DnsEvent& ev) noexcept;

  format::FormatOptions format_options_;
  std::size_t worker_;
  StreamNumbers& numbers_;
  // Streams are never removed: a reload may bring one back, and metrics may still read them.
  std::vector<std::unique_ptr<Stream>> streams_;
  correlate::TransactionTable table_;
  bool transactions_ = false;  // some emitter wants exchanges
};

}  // namespace stash53::app

#include "app/pipeline.h"

#include "app/live_stats.h"
#include "decode/dnsmasq_event.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stash53::app {

Pipeline::Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
                   const correlate::TransactionOptions& transaction_options, Stages stages)
    : source_(source),
      decoder_(decode_options),
      stages_(std::move(stages)),
      outputs_({decode_options.rrprint}, transaction_options) {
  outputs_.set_emitters(stages_.emitters);
  heartbeat_ns_.store(steady_ns());
}

bool Pipeline::run() noexcept {
  set_thread_name("s53/pipe");
  running_.store(true);
  struct Done {
    Pipeline& p;
    ~Done() {
      std::lock_guard lock(p.pending_mutex_);
      p.running_.store(false);
      p.adopted_.notify_all();
    }
  } done{*this};
  try {
    source_.start();
  } catch (const std::exception& e) {
    log::error("capture", "Cannot start the source: {}.", e.what());
    return false;
  }
  capture::Input in;
  std::uint32_t since_snapshot = 0;
  // After each input: pcap_stats is a system call, the clock nearly one: now and then, not
  // per packet.
  const auto counted = [&] {
    if ((++since_snapshot & 1023) != 0) return;
    heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed);
    if (since_snapshot == 65536) {
      since_snapshot = 0;
      snapshot_source_stats();
    }
  };
  for (;;) {
    if (pending_flag_.load(std::memory_order_acquire)) adopt_pending();
    switch (source_.next(in)) {
      case capture::Source::Next::Packet:
        decoder_.decode(in.packet, event_, *this);
        counted();
        break;
      case capture::Source::Next::Message:
        decoder_.decode(in.message, event_, *this);
        counted();
        break;
      case capture::Source::Next::Log:
        decode::fill_from_dnsmasq(*in.log, event_);
        on_message(event_);
        counted();
        break;
      case capture::Source::Next::Idle:
        outputs_.on_idle(wall_ns());
        snapshot_source_stats();
        heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed);
        break;
      case capture::Source::Next::End:
        outputs_.finish();
        snapshot_source_stats();
        return true;
      case capture::Source::Next::Error:
        outputs_.finish();
        snapshot_source_stats();
        log::error("capture", "Capture failed: {}.", source_.error());
        return false;
    }
  }
}

void Pipeline::adopt_pending() noexcept {
  std::lock_guard lock(pending_mutex_);
  if (!pending_) return;
  outputs_.set_emitters(pending_->emitters);  // before the old ones retire: held queries go there
  std::swap(stages_.emitters, pending_->emitters);
  std::swap(stages_.live, pending_->live);
  if (!keep_enrichers_) std::swap(stages_.enrichers, pending_->enrichers);
  pending_flag_.store(false);
  adopted_.notify_all();
}

Stages Pipeline::replace(Stages next, bool keep_enrichers) {
  std::unique_lock lock(pending_mutex_);
  pending_ = std::move(next);
  keep_enrichers_ = keep_enrichers;
  pending_flag_.store(true, std::memory_order_release);
  adopted_.wait(lock, [&] { return !pending_flag_.load() || !running_.load(); });
  if (pending_flag_.load()) {  // the pipeline is not running (any more): take them here
    lock.unlock();
    adopt_pending();
    lock.lock();
  }
  Stages old = std::move(*pending_);
  pending_.reset();
  return old;
}

void Pipeline::on_message(decode::DnsEvent& ev) noexcept {
  for (auto& e : stages_.enrichers) e->enrich(ev);
  if (stages_.live != nullptr) stages_.live->observe(ev);
  emitted_.add();
  outputs_.on_message(ev);
}

void Pipeline::snapshot_source_stats() noexcept {
  const auto s = source_.stats();
  // libpcap's counters are cumulative; store them as they are.
  if (s.kernel_dropped > kernel_dropped_.get())
    kernel_dropped_.add(s.kernel_dropped - kernel_dropped_.get());
  if (s.interface_dropped > interface_dropped_.get())
    interface_dropped_.add(s.interface_dropped - interface_dropped_.get());
}

void Pipeline::register_metrics(MetricRegistry& r) const {
  source_.register_metrics(r);
  decoder_.register_metrics(r);
  r.add({"", "", "emitted", {}, "messages handed to the output streams"}, emitted_);
  r.add({"", "", "pcap-dropped", {}, "packets the kernel dropped (pcap_stats ps_drop, live)",
         MetricType::Counter, true},
        kernel_dropped_);
  r.add({"", "", "if-dropped", {}, "packets the interface dropped (pcap_stats ps_ifdrop, live)",
         MetricType::Counter, true},
        interface_dropped_);
  for (const auto& e : stages_.enrichers) e->register_metrics(r);
  outputs_.register_metrics(r);
}

}  // namespace stash53::app

#include "app/pipeline.h"

#include <cstring>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "decode/net_layers.h"

namespace stash53::app {
namespace {

// Each worker's ring of packets: a few thousand packets, so that a burst on one worker's flows
// does not hold up the others at once (the kernel's buffer is behind it), and small enough to
// stay in the caches while the worker keeps up.
constexpr std::size_t kRingBytes = 4u << 20, kRingPackets = 100'000;
constexpr std::size_t kBatch = 256;
// A worker with a partial batch waits this long for the rest: a wake-up per millisecond at
// most, instead of one per packet (live, and reading a file when the other workers' rings are
// full and this one's fills packet by packet).
constexpr std::chrono::microseconds kLinger{1000};
constexpr std::chrono::milliseconds kIdleTick{100};

// A packet in a worker's ring: its wire length and link type where an event has its topic,
// its bytes as the document, its capture time as the time queued.
constexpr std::size_t kPacketMeta = 8;

}  // namespace

Pipeline::Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
                   const correlate::TransactionOptions& transaction_options, std::size_t workers,
                   Stages stages)
    : source_(source) {
  workers = std::max<std::size_t>(workers, 1);
  stages.enrichers.resize(workers);
  for (std::size_t w = 0; w < workers; ++w)
    workers_.push_back(std::make_unique<Worker>(w, decode_options, transaction_options, numbers_,
                                                std::move(stages.enrichers[w]), stages.emitters,
                                                stages.live));
  if (workers > 1)
    for (std::size_t w = 0; w < workers; ++w)
      rings_.push_back(std::make_unique<EventRing>(kRingPackets, kRingBytes));
  taken_round_.assign(workers, 0);
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
  return workers_.size() == 1 ? read_inline() : read_sharded();
}

// After each input: pcap_stats is a system call, the clock nearly one: now and then, not per
// packet.
void Pipeline::beat(std::uint32_t& inputs) noexcept {
  if ((++inputs & 1023) != 0) return;
  heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed);
  if (inputs == 65536) {
    inputs = 0;
    snapshot_source_stats();
  }
}

bool Pipeline::read_inline() noexcept {
  Worker& worker = *workers_[0];
  capture::Input in;
  std::uint32_t inputs = 0;
  for (;;) {
    if (pending_round_.load(std::memory_order_acquire) != taken_round_[0]) take_pending(0);
    switch (source_.next(in)) {
      case capture::Source::Next::Packet:
        worker.packet(in.packet);
        beat(inputs);
        break;
      case capture::Source::Next::Message:
        worker.message(in.message);
        beat(inputs);
        break;
      case capture::Source::Next::Log:
        worker.log(*in.log);
        beat(inputs);
        break;
      case capture::Source::Next::Idle:
        worker.idle(wall_ns());
        snapshot_source_stats();
        heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed);
        break;
      case capture::Source::Next::End:
        worker.finish();
        snapshot_source_stats();
        return true;
      case capture::Source::Next::Error:
        worker.finish();
        snapshot_source_stats();
        log::error("capture", "Capture failed: {}.", source_.error());
        return false;
    }
  }
}

bool Pipeline::read_sharded() noexcept {
  std::vector<std::thread> threads;
  bool ok = true;
  try {
    for (std::size_t w = 0; w < workers_.size(); ++w) threads.emplace_back([this, w] { work(w); });
  } catch (const std::exception& e) {
    log::error("capture", "Cannot start the pipeline's workers: {}.", e.what());
    ok = false;
  }
  capture::Input in;
  std::uint32_t inputs = 0;
  while (ok) {
    const auto next = source_.next(in);
    if (next == capture::Source::Next::Packet) {
      const capture::Packet& p = in.packet;
      char meta[kPacketMeta];
      std::memcpy(meta, &p.wire_len, 4);
      std::memcpy(meta + 4, &p.dlt, 4);
      // Waits for room: the kernel's buffer holds what comes meanwhile, and counts any loss.
      (void)rings_[decode::address_pair_hash(p) % rings_.size()]->push(
          {meta, kPacketMeta}, {reinterpret_cast<const char*>(p.bytes.data()), p.bytes.size()},
          true, p.ts_ns);
      beat(inputs);
    } else if (next == capture::Source::Next::Idle) {
      snapshot_source_stats();
      heartbeat_ns_.store(steady_ns(), std::memory_order_relaxed);
    } else if (next == capture::Source::Next::End) {
      break;
    } else if (next == capture::Source::Next::Error) {
      log::error("capture", "Capture failed: {}.", source_.error());
      ok = false;
    }
    // Message and Log: never, the service shards only a source of packets.
  }
  for (auto& ring : rings_) ring->close();  // the workers empty theirs, then finish
  for (auto& t : threads) t.join();
  snapshot_source_stats();
  return ok;
}

void Pipeline::work(std::size_t w) noexcept {
  set_thread_name("s53/w" + std::to_string(w));
  Worker& worker = *workers_[w];
  EventRing& ring = *rings_[w];
  std::vector<QueuedEvent> batch;
  for (;;) {
    if (pending_round_.load(std::memory_order_acquire) != taken_round_[w]) take_pending(w);
    const std::size_t n = ring.pop_batch(batch, kBatch, kLinger, kIdleTick);
    for (const QueuedEvent& e : batch) {
      capture::Packet p;
      p.ts_ns = e.queued_ns;
      std::memcpy(&p.wire_len, e.topic.data(), 4);
      std::memcpy(&p.dlt, e.topic.data() + 4, 4);
      p.bytes = {reinterpret_cast<const std::uint8_t*>(e.json.data()), e.json.size()};
      worker.packet(p);
    }
    ring.release();
    if (n > 0) continue;
    if (ring.closed() && ring.size() == 0) break;
    worker.idle(wall_ns());
  }
  worker.finish();
}

void Pipeline::take_pending(std::size_t w) noexcept {
  std::lock_guard lock(pending_mutex_);
  if (!pending_) return;
  workers_[w]->adopt(keep_enrichers_ ? nullptr : &pending_->enrichers[w], pending_->emitters,
                     pending_->live);
  taken_round_[w] = pending_round_.load();
  ++adopted_count_;
  adopted_.notify_all();
}

Stages Pipeline::replace(Stages next, bool keep_enrichers) {
  std::unique_lock lock(pending_mutex_);
  next.enrichers.resize(keep_enrichers ? 0 : workers_.size());
  pending_ = std::move(next);
  keep_enrichers_ = keep_enrichers;
  adopted_count_ = 0;
  pending_round_.fetch_add(1, std::memory_order_release);
  adopted_.wait(lock, [&] { return adopted_count_ == workers_.size() || !running_.load(); });
  // The pipeline is not running (any more): no worker thread runs; take them here.
  for (std::size_t w = 0; w < workers_.size(); ++w)
    if (taken_round_[w] != pending_round_.load()) {
      lock.unlock();
      take_pending(w);
      lock.lock();
    }
  Stages old = std::move(*pending_);
  pending_.reset();
  return old;
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
  r.add({"", "", "pcap-dropped", {}, "packets the kernel dropped (pcap_stats ps_drop, live)",
         MetricType::Counter, true},
        kernel_dropped_);
  r.add({"", "", "if-dropped", {}, "packets the interface dropped (pcap_stats ps_ifdrop, live)",
         MetricType::Counter, true},
        interface_dropped_);
  if (workers_.size() == 1) return workers_[0]->register_metrics(r);
  // Families: each one's labels side by side on the stats line.
  for (std::size_t w = 0; w < workers_.size(); ++w)
    r.add({"", "", "worker-emitted", {{"worker", std::to_string(w)}},
           "messages handed to the output streams by each worker (its share of the flows)"},
          workers_[w]->emitted());
  for (std::size_t w = 0; w < workers_.size(); ++w)
    r.add({"", "", "worker-queue", {{"worker", std::to_string(w)}},
           "packets waiting for each worker now", MetricType::Gauge, true},
          [ring = rings_[w].get()] { return ring->size(); });
  auto parts = std::make_shared<std::vector<MetricRegistry>>(workers_.size());
  for (std::size_t w = 0; w < workers_.size(); ++w) workers_[w]->register_metrics((*parts)[w]);
  r.add_sums(parts);
}

}  // namespace stash53::app

#include "emitters/queued_emitter.h"

#include <algorithm>
#include <random>

#include "common/clock.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stash53::emitters {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::microseconds kCoalesce{200};

// Bytes bound the queue: 32 MiB hold some 40,000 events of 800 bytes, a fifth of a second of
// a busy server, and keep a whole sensor well under 64 MB.
struct QueueLimits {
  std::size_t items = 100'000;
  std::size_t bytes = 32u << 20;
};

QueueLimits read_limits(config::OptionReader& o) {
  QueueLimits q;
  o.read_range("queue_size", q.items, 1, 100'000'000);
  std::size_t mb = q.bytes >> 20;
  o.read_range("queue_mb", mb, 1, 1'000'000);
  q.bytes = mb << 20;
  return q;
}

}  // namespace

void order_by_topic(std::span<const QueuedEvent> batch, bool group,
                    std::vector<std::uint32_t>& order) {
  order.resize(batch.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  if (group)
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return batch[a].topic < batch[b].topic;
    });
}

std::size_t topic_run(std::span<const QueuedEvent> batch, std::span<const std::uint32_t> order,
                      std::size_t i, std::size_t max) {
  std::size_t n = 1;
  while (n < max && i + n < order.size() && batch[order[i + n]].topic == batch[order[i]].topic) ++n;
  return n;
}

void append_ndjson(std::span<const QueuedEvent> batch, std::span<const std::uint32_t> indices,
                   std::string& out) {
  for (const auto i : indices) (out += batch[i].json) += '\n';
}

QueuedEmitter::QueuedEmitter(const EmitterSpec& spec, const char* topic_key,
                             std::string_view default_topic)
    : name_(spec.name),
      type_(spec.type),
      component_("emit:" + spec.name),
      queue_([&] {
        const auto q = read_limits(*spec.options);
        return EventRings(spec.workers, q.items, q.bytes);
      }()) {
  auto& o = *spec.options;
  const EventFilter filter(o);
  for (std::size_t i = 0; i < queue_.producers(); ++i)
    producers_.push_back(std::make_unique<Producer>(filter));
  o.read("optional", optional_, "true or false");
  o.read_range("batch_size", batch_size_, 1, 1'000'000);
  long long flush_ms = flush_.count(), retry_ms = retry_.count(), retry_max_ms = retry_max_.count();
  o.read_range("flush_ms", flush_ms, 0, 60'000);
  o.read_range("retry_ms", retry_ms, 1, 600'000);
  o.read_range("retry_max_ms", retry_max_ms, 1, 3'600'000);
  if (retry_max_ms < retry_ms) o.fail("retry_max_ms", "must not be smaller than retry_ms");
  flush_ = std::chrono::milliseconds(flush_ms);
  retry_ = backoff_ = std::chrono::milliseconds(retry_ms);
  retry_max_ = std::chrono::milliseconds(retry_max_ms);
  if (topic_key != nullptr) {
    std::string topic(default_topic);
    o.read(topic_key, topic, "a template such as \"dns/{nsid}/{qtype}\"");
    topic_ = Template(topic, o, topic_key);
  }
  std::string mode(format::mode_name(mode_));
  o.read("mode", mode, "message, transaction or record");
  if (const auto m = format::parse_mode(mode))
    mode_ = *m;
  else
    o.fail("mode", "expected message, transaction or record, got '" + mode + "'" +
                       (mode == "list" || mode == "channel" ? " (Redis's list or channel is `data_type`)" : ""));
  o.read("format", format_, format::format_names());
  if (const auto why = format::check_format(format_, mode_); !why.empty()) o.fail("format", why);
  std::string when_full = "auto";
  o.read("when_full", when_full, "drop, block or auto");
  if (when_full == "auto")
    block_when_full_ = spec.offline_source;  // nothing races a file; live traffic cannot wait
  else if (when_full == "block" || when_full == "drop")
    block_when_full_ = when_full == "block";
  else
    o.fail("when_full", "expected drop, block or auto, got '" + when_full + "'");
}

QueuedEmitter::~QueuedEmitter() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
}

Emitter::Offer QueuedEmitter::offer(std::size_t worker, const decode::DnsEvent& ev,
                                    std::span<const std::string_view> documents) noexcept {
  Producer& p = *producers_[worker];
  if (!p.filter.accepts(ev)) {
    p.filtered.add(documents.size());
    return Offer::Filtered;
  }
  p.topic_scratch.clear();
  if (!topic_.empty()) topic_.render(ev, p.topic_scratch);
  EventRing& ring = queue_[worker];
  Offer worst = Offer::Queued;
  for (const std::string_view doc : documents) {
    switch (ring.push(p.topic_scratch, doc, block_when_full_, steady_ns())) {
      case EventRing::Push::Ok:
        p.queued.add();
        continue;
      case EventRing::Push::Full:
        p.dropped_full.add();
        if (worst == Offer::Queued) worst = Offer::QueueFull;
        continue;
      case EventRing::Push::Closed:
        p.dropped_stopped.add();
        worst = Offer::Stopped;
        continue;
    }
  }
  return worst;
}

void QueuedEmitter::start() { thread_ = std::thread([this] { run(); }); }

void QueuedEmitter::stop(std::chrono::milliseconds drain) noexcept {
  drain_deadline_ns_.store(steady_ns() + std::chrono::nanoseconds(drain).count());
  closing_.store(true);
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t QueuedEmitter::sum(Counter Producer::*counter) const noexcept {
  std::uint64_t n = 0;
  for (const auto& p : producers_) n += ((*p).*counter).get();
  return n;
}

EmitterStats QueuedEmitter::stats() const noexcept {
  EmitterStats s;
  s.queued = sum(&Producer::queued);
  s.filtered = sum(&Producer::filtered);
  s.sent = sent_.get();
  s.dropped_full = sum(&Producer::dropped_full);
  s.dropped_error = dropped_error_.get() + sum(&Producer::dropped_stopped);
  s.reconnects = reconnects_.get();
  s.depth = queue_.size();
  s.up = up_.load();
  return s;
}

void QueuedEmitter::register_metrics(MetricRegistry& r) const {
  // In pipeline order: what the pipeline thread counts before what this thread counts.
  r.add({"emitter", name_, "queued", {}, "events accepted into the queue"},
        [this] { return sum(&Producer::queued); });
  r.add({"emitter", name_, "sent", {}, "events written or acknowledged by the destination"}, sent_);
  r.add({"emitter", name_, "filtered", {}, "events its filter did not pass"},
        [this] { return sum(&Producer::filtered); });
  r.add({"emitter", name_, "dropped-full", {}, "events refused because the queue was full"},
        [this] { return sum(&Producer::dropped_full); });
  r.add({"emitter", name_, "dropped-error", {},
         "events the destination refused, or undeliverable at shutdown"},
        [this] { return dropped_error_.get() + sum(&Producer::dropped_stopped); });
  r.add({"emitter", name_, "reconnects", {}, "connections re-established"}, reconnects_);
  r.add({"emitter", name_, "queue-depth", {}, "events in the queue now", MetricType::Gauge},
        [this] { return queue_.size(); });
  r.add({"emitter", name_, "up", {}, "1 while connected to its destination", MetricType::Gauge},
        [this] { return up_.load() ? 1 : 0; });
  r.add({"emitter", name_, "delivery-seconds", {},
         "time from the queue to the destination's acknowledgement, per event"},
        delivery_);
}

bool QueuedEmitter::shutdown_overdue() const noexcept {
  return closing_.load() && steady_ns() >= drain_deadline_ns_.load();
}

void QueuedEmitter::wait_backoff() noexcept {
  // Sleep in short slices so shutdown is never held up by a long backoff.
  const auto until = Clock::now() + backoff_;
  while (Clock::now() < until && !shutdown_overdue())
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(),
                                                          std::chrono::milliseconds(20)));
  // Exponential backoff with jitter (0.5–1.5×), so many sensors do not reconnect in step.
  thread_local std::minstd_rand rng{std::random_device{}()};
  const auto doubled = std::min(backoff_ * 2, retry_max_);
  backoff_ = std::chrono::milliseconds(
      std::uniform_int_distribution<long long>(doubled.count() / 2, doubled.count() * 3 / 2)(rng));
}

void QueuedEmitter::run() noexcept {
  set_thread_name("s53/e:" + name_);
  std::vector<QueuedEvent> batch;
  std::size_t pending = 0;  // events at the front of `batch` not yet delivered
  bool connected = false, ever_connected = false;
  Clock::time_point lost_at = Clock::now();
  // Connect before the first event, so the destination is known up (or not) while idle.
  try {
    if (connect()) {
      connected = ever_connected = true;
      up_.store(true);
      log::info(component_, "Connected to {}.", destination());
    }
  } catch (const std::exception& e) {
    log::error(component_, "Unexpected error while connecting: {}.", e.what());
  }
  for (;;) {
    if (pending == 0) {
      // Even with flush_ms 0, give a batch kCoalesce to fill: woken per event, this thread
      // would cost a futex wake and a context switch each, on the core the server needs.
      pending = queue_.pop_batch(batch, batch_size_,
                                 std::max<std::chrono::microseconds>(flush_, kCoalesce));
      if (pending == 0) break;  // closed and drained
    }
    if (shutdown_overdue()) break;  // what is left is counted as lost below
    try {
      if (!connected) {
        if (!connect()) {
          wait_backoff();
          continue;
        }
        connected = true;
        up_.store(true);
        backoff_ = retry_;
        if (ever_connected) {
          reconnects_.add();
          log::info(component_, "Reconnected to {} after {:.1f} s (reconnect {}).", destination(),
                    std::chrono::duration<double>(Clock::now() - lost_at).count(),
                    reconnects_.get());
        } else {
          log::info(component_, "Connected to {}.", destination());
        }
        ever_connected = true;
      }
      batch_dropped_ = 0;
      switch (send(std::span<const QueuedEvent>(batch.data(), pending))) {
        case SendResult::Ok: {
          sent_.add(pending - std::min(batch_dropped_, pending));
          const auto now = steady_ns();
          for (std::size_t i = 0; i < pending; ++i) delivery_.observe(now - batch[i].queued_ns);
          queue_.release();
          pending = 0;
          break;
        }
        case SendResult::Retry:
          // Each destination logs why (rate-limited); this line is for tracing.
          log::debug(component_, "Lost {}; reconnecting.", destination());
          disconnect();
          connected = false;
          up_.store(false);
          lost_at = Clock::now();
          break;
        case SendResult::Fatal:
          dropped_error_.add(pending - std::min(batch_dropped_, pending));
          queue_.release();
          pending = 0;
          break;
      }
    } catch (const std::exception& e) {
      log::error(component_, "Unexpected error, reconnecting: {}.", e.what());
      disconnect();
      connected = false;
      up_.store(false);
      lost_at = Clock::now();
    }
  }
  // Whatever is left could not be delivered before the drain deadline.
  const std::size_t lost = pending + queue_.clear();
  if (lost > 0) {
    dropped_error_.add(lost);
    log::error(component_, "Shut down with {} undelivered events.", lost);
  }
  if (connected) disconnect();
  up_.store(false);
}

}  // namespace stash53::emitters

#pragma once
// The base of every emitter: owns the queue, the thread, batching, reconnect with backoff and
// the counters. A subclass only talks to its destination, always on the emitter's thread.

#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/event_ring.h"
#include "common/counter.h"
#include "emitters/emitter.h"
#include "emitters/event_filter.h"
#include "emitters/template.h"

namespace stash53::emitters {

/// The order in which to send a batch: with `group`, its events sorted by topic (stable, so each
/// topic keeps its own order) for events_per_message to pack what arrived interleaved;
/// otherwise as queued. The same batch always gives the same order.
void order_by_topic(std::span<const QueuedEvent> batch, bool group,
                    std::vector<std::uint32_t>& order);
/// How many events from order[i] on share its topic, at most `max`: one message's worth.
std::size_t topic_run(std::span<const QueuedEvent> batch, std::span<const std::uint32_t> order,
                      std::size_t i, std::size_t max);
/// Appends the events at `indices` of `batch` to `out` as NDJSON, one line each.
void append_ndjson(std::span<const QueuedEvent> batch, std::span<const std::uint32_t> indices,
                   std::string& out);

class QueuedEmitter : public Emitter {
 public:
  using Emitter::offer;
  Offer offer(std::size_t worker, const decode::DnsEvent& ev,
              std::span<const std::string_view> documents) noexcept override;
  format::Mode mode() const noexcept override { return mode_; }
  const std::string& format() const noexcept override { return format_; }
  std::string prepare(bool dry_run) override { return open_local(dry_run); }
  bool optional() const noexcept override { return optional_; }
  std::string describe() const override { return type_ + " " + destination(); }
  void start() override;
  void stop(std::chrono::milliseconds drain) noexcept override;
  EmitterStats stats() const noexcept override;
  void register_metrics(MetricRegistry& registry) const override;
  const std::string& name() const noexcept override { return name_; }
  ~QueuedEmitter() override;

 protected:
  enum class SendResult : std::uint8_t { Ok, Retry, Fatal };

  /// Reads the options every emitter has: mode, format, queue_size, queue_mb, batch_size,
  /// flush_ms, retry_ms, retry_max_ms, when_full, filter; and, when `topic_key` is given, that option as
  /// a Template (default `default_topic`), rendered into each QueuedEvent::topic.
  explicit QueuedEmitter(const EmitterSpec& spec, const char* topic_key = nullptr,
                         std::string_view default_topic = {});

  /// Where the events go, without secrets: a path, host:port and key, endpoints.
  virtual std::string destination() const = 0;
  /// See Emitter::prepare(); by default nothing is local.
  virtual std::string open_local(bool /*dry_run*/) { return {}; }
  /// Opens the destination; false (after logging why) to retry after a backoff.
  virtual bool connect() = 0;
  /// Delivers a batch of events (topic and JSON document, no newline). Ok: all delivered;
  /// Retry: connection lost, the same batch is sent again after reconnecting; Fatal: the
  /// destination refused the batch for good, it is counted as dropped.
  virtual SendResult send(std::span<const QueuedEvent> batch) = 0;
  virtual void disconnect() noexcept = 0;

  /// True once stop() was called and its drain time is over: a send() that waits on its
  /// destination should give up then.
  bool shutdown_overdue() const noexcept;

  /// Counts events lost after send() took them (a broker refused some of a batch). Emitter
  /// thread only.
  void count_dropped(std::size_t n) noexcept {
    dropped_error_.add(n);
    batch_dropped_ += n;
  }

  /// A destination whose client library reconnects by itself (NATS) reports it here, from the
  /// library's thread: `up` now, and whether this was a reconnect (counted in `reconnects`).
  void link_changed(bool up, bool reconnected) noexcept {
    up_.store(up);
    if (reconnected) reconnects_.add();
  }

  /// The topic (or key) template as written, for destination().
  const std::string& topic_text() const noexcept { return topic_.text(); }
  /// "emit:<name>", the component name for logs.
  const std::string& component() const noexcept { return component_; }

 private:
  void run() noexcept;
  void wait_backoff() noexcept;

  std::string name_, type_, component_;
  bool optional_ = false;
  format::Mode mode_ = format::Mode::Message;
  std::string format_ = "json";
  std::atomic<bool> up_{false};
  Histogram delivery_;  // emitter thread: from queued to delivered, per event
  Template topic_;
  std::size_t batch_size_ = 256;
  std::chrono::milliseconds flush_{10};
  std::chrono::milliseconds retry_{250}, retry_max_{10'000}, backoff_{250};
  bool block_when_full_ = false;
  /// What one pipeline worker writes: its filter (sampling keeps state), its counters.
  struct Producer {
    explicit Producer(const EventFilter& f) : filter(f) {}
    EventFilter filter;
    std::string topic_scratch;
    Counter queued, filtered, dropped_full, dropped_stopped;
  };
  std::vector<std::unique_ptr<Producer>> producers_;
  /// The sum of one counter over the producers.
  std::uint64_t sum(Counter Producer::*counter) const noexcept;
  EventRings queue_;  // one ring per producer
  std::thread thread_;
  std::atomic<bool> closing_{false};
  std::atomic<std::int64_t> drain_deadline_ns_{0};
  Counter sent_, dropped_error_, reconnects_;        // written by the emitter thread
  std::size_t batch_dropped_ = 0;  // of the batch being sent, so `sent` counts only the rest
};

}  // namespace stash53::emitters

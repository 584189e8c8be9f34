#pragma once
// The base of every emitter: owns the queue, the thread, batching, reconnect with backoff and
// the counters. A subclass only talks to its destination, always on the emitter's thread.

#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/bounded_queue.h"
#include "common/counter.h"
#include "emitters/emitter.h"

namespace stash53::emitters {

class QueuedEmitter : public Emitter {
 public:
  Offer offer(std::string_view event) noexcept override;
  void start() override;
  void stop(std::chrono::milliseconds drain) noexcept override;
  EmitterStats stats() const noexcept override;
  const std::string& name() const noexcept override { return name_; }
  ~QueuedEmitter() override;

 protected:
  enum class SendResult : std::uint8_t { Ok, Retry, Fatal };

  /// Reads the options every emitter has: queue_size, queue_bytes, batch_size, flush_ms,
  /// retry_ms, retry_max_ms, when_full.
  explicit QueuedEmitter(const EmitterSpec& spec);

  /// Opens the destination; false (after logging why) to retry after a backoff.
  virtual bool connect() = 0;
  /// Delivers a batch of events (each one JSON document, no newline). Ok: all delivered;
  /// Retry: connection lost, the same batch is sent again after reconnecting; Fatal: the
  /// destination refused the batch for good, it is counted as dropped.
  virtual SendResult send(std::span<const std::string> batch) = 0;
  virtual void disconnect() noexcept = 0;

  /// True once stop() was called and its drain time is over: a send() that waits on its
  /// destination should give up then.
  bool shutdown_overdue() const noexcept;

  /// "emit:<name>", the component name for logs.
  const std::string& component() const noexcept { return component_; }

 private:
  void run() noexcept;
  void wait_backoff() noexcept;

  std::string name_, component_;
  std::size_t batch_size_ = 256;
  std::chrono::milliseconds flush_{10};
  std::chrono::milliseconds retry_{250}, retry_max_{10'000}, backoff_{250};
  bool block_when_full_ = false;
  BoundedQueue queue_;
  std::thread thread_;
  std::atomic<bool> closing_{false};
  std::atomic<std::int64_t> drain_deadline_ns_{0};
  Counter queued_, dropped_full_, dropped_stopped_;  // written by the pipeline thread
  Counter sent_, dropped_error_, reconnects_;        // written by the emitter thread
};

}  // namespace stash53::emitters

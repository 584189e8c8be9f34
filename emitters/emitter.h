#pragma once
// Emitters deliver serialised events to one destination each, on their own thread, behind a
// bounded queue, so a slow or dead destination never slows the capture or another emitter.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "config/option_reader.h"
#include "decode/dns_event.h"
#include "format/format.h"

namespace stash53::emitters {

struct EmitterStats {
  std::uint64_t queued = 0;         // accepted into the queue
  std::uint64_t sent = 0;           // confirmed written / acknowledged
  std::uint64_t dropped_full = 0;   // refused: queue full (live capture, when_full: drop)
  std::uint64_t dropped_error = 0;  // lost: destination refused them, or shutdown while unreachable
  std::uint64_t filtered = 0;       // not for this emitter (its `filter`)
  std::uint64_t reconnects = 0;
  std::size_t depth = 0;            // queued now
  bool up = false;                  // connected to its destination now
};

/// What an emitter is built from: its instance name, its type, and its own options.
struct EmitterSpec {
  std::string name;
  std::string type;
  config::OptionReader* options;  // the emitter reads its keys; the caller calls finish()
  bool offline_source = false;    // reading a file: wait on a full queue instead of dropping
  std::size_t workers = 1;        // pipeline threads that offer events, each from 0 to workers-1
};

class Emitter {
 public:
  enum class Offer : std::uint8_t { Queued, Filtered, QueueFull, Stopped };
  virtual ~Emitter() = default;
  /// Hands over the documents of one event (copied): `ev` is what the emitter's filter and
  /// topic template look at, once for all of them (for an exchange, its response, else its
  /// query). Called by pipeline worker `worker` only (EmitterSpec::workers), which has a queue
  /// of its own, so each worker's events keep their order. Drops and counts on a full queue,
  /// or waits for room when the emitter's when_full policy is `block`. Returns the worst
  /// outcome.
  [[nodiscard]] virtual Offer offer(std::size_t worker, const decode::DnsEvent& ev,
                                    std::span<const std::string_view> documents) noexcept = 0;
  [[nodiscard]] Offer offer(const decode::DnsEvent& ev, std::string_view document) noexcept {
    return offer(0, ev, std::span<const std::string_view>(&document, 1));
  }
  /// Its `mode` and `format` options: which documents it is given (format/format.h).
  [[nodiscard]] virtual format::Mode mode() const noexcept = 0;
  [[nodiscard]] virtual const std::string& format() const noexcept = 0;
  /// Before start() and before privileges are dropped: opens what must work before capture
  /// starts (a file to append to), or with `dry_run` (--check-config) only checks that it
  /// could, creating nothing. Returns why not; empty when fine. A network destination is only
  /// checked for what needs no peer (an address it binds).
  [[nodiscard]] virtual std::string prepare(bool dry_run) = 0;
  /// Its `optional` option: a destination that cannot be opened at start-up is a warning and
  /// retried, not an error.
  [[nodiscard]] virtual bool optional() const noexcept = 0;
  /// Where it sends, for the start-up log: "file /var/log/stash53/events.ndjson". No secret.
  [[nodiscard]] virtual std::string describe() const = 0;
  /// SIGHUP: reopen an output file (logrotate moved it). Any thread; done before its next write.
  virtual void reopen() noexcept {}
  /// Starts the emitter's thread. Throws on a setup error.
  virtual void start() = 0;
  /// Stops accepting events, delivers what is queued for at most `drain`, joins the thread.
  virtual void stop(std::chrono::milliseconds drain) noexcept = 0;
  /// Any thread.
  [[nodiscard]] virtual EmitterStats stats() const noexcept = 0;
  /// Registers its counters under component "emitter", instance name().
  virtual void register_metrics(MetricRegistry& registry) const = 0;
  [[nodiscard]] virtual const std::string& name() const noexcept = 0;
};

/// Builds an emitter of spec.type. Throws config::ConfigError for an unknown type or option.
[[nodiscard]] std::unique_ptr<Emitter> make_emitter(const EmitterSpec& spec);

using EmitterFactory = std::unique_ptr<Emitter> (*)(const EmitterSpec&);
/// Called by STASH53_REGISTER_EMITTER at static initialisation.
bool register_emitter(const char* type, EmitterFactory factory);

}  // namespace stash53::emitters

/// Registers `Class` (constructible from `const EmitterSpec&`) as emitter type `type`.
#define STASH53_REGISTER_EMITTER(type, Class)                                          \
  [[maybe_unused]] static const bool stash53_emitter_registered_##Class =              \
      ::stash53::emitters::register_emitter(                                           \
          type, [](const ::stash53::emitters::EmitterSpec& spec)                       \
                    -> std::unique_ptr<::stash53::emitters::Emitter> {                 \
            return std::make_unique<Class>(spec);                                      \
          })

#pragma once
// Output formats: how events become the documents the emitters send. Each emitter asks for a
// mode (what one document stands for: a message, an exchange, a record) and a format (its
// shape: json, stash53, ecs); the pipeline serialises each distinct pair once per event and
// every emitter asking for it shares those bytes (app/outputs.h).
//
// Adding a format is one file plus one line: `format/<name>.cc` defines a Format and ends with
// STASH53_REGISTER_FORMAT; `format/CMakeLists.txt` lists the file.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/exchange.h"
#include "decode/dns_event.h"
#include "event/event_writer.h"
#include "event/fields.h"

namespace stash53::format {

enum class Mode : std::uint8_t { Message, Transaction, Record };
inline constexpr std::size_t kModes = 3;
[[nodiscard]] std::string_view mode_name(Mode m) noexcept;
[[nodiscard]] std::optional<Mode> parse_mode(std::string_view name) noexcept;

/// The documents one input (a message, an exchange) gives, written one after another into one
/// buffer. Each is one JSON object on one line (the writer escapes every control character), so
/// every emitter may frame them with a newline. Documents are numbered per output stream: `n`
/// counts this stream's documents from 1, so a consumer sees a gap as a loss.
class Documents {
 public:
  /// Numbers the documents from `next` (shared by the pipeline's workers: one stream, one
  /// numbering) instead of a count of its own.
  void number_from(std::atomic<std::uint64_t>& next) noexcept { next_ = &next; }
  /// Empties the list (keeping the buffer's capacity); the numbering goes on.
  void clear() noexcept;
  /// Starts the next document and returns the writer to write its one root object with; its
  /// number is context().n.
  event::EventWriter& begin();
  /// Ends the document begun last (its root object is complete).
  void end();
  [[nodiscard]] std::span<const std::string_view> views();
  [[nodiscard]] std::size_t size() const noexcept { return ends_.size(); }
  [[nodiscard]] event::WriteContext& context() noexcept { return ctx_; }
  /// The number of the last document begun.
  [[nodiscard]] std::uint64_t last_n() const noexcept { return ctx_.n; }

 private:
  event::JsonBuffer buffer_;
  event::EventWriter writer_;
  event::WriteContext ctx_;
  std::atomic<std::uint64_t> own_next_{0};
  std::atomic<std::uint64_t>* next_ = &own_next_;
  std::vector<std::size_t> ends_;
  std::vector<std::string_view> views_;
};

struct FormatOptions {
  bool rrprint = false;  // decode.rrprint: records also carry their zone-file line
};

/// One format. A Format is used by one thread (the pipeline's) and may keep scratch state.
/// It implements the modes it registered with; the others are never called.
class Format {
 public:
  virtual ~Format() = default;
  /// Mode message: the documents for one message (usually one; none is allowed when the
  /// format has nothing to say about such a message, e.g. stash53 for a query).
  virtual void message(const decode::DnsEvent& ev, Documents& out) = 0;
  /// Mode transaction: one exchange.
  virtual void exchange(const correlate::Exchange& x, Documents& out) { (void)x, (void)out; }
  /// Mode record: one document per question and per record.
  virtual void records(const decode::DnsEvent& ev, Documents& out) { (void)ev, (void)out; }
};

using FormatFactory = std::unique_ptr<Format> (*)(const FormatOptions&);
/// Called by STASH53_REGISTER_FORMAT at static initialisation.
bool register_format(const char* name, FormatFactory factory, std::initializer_list<Mode> modes,
                     const char* help);

/// Builds format `name`; null for an unknown name.
[[nodiscard]] std::unique_ptr<Format> make_format(std::string_view name, const FormatOptions& o);
/// Empty when `name` exists and supports `mode`; else why not, for a config error.
[[nodiscard]] std::string check_format(std::string_view name, Mode mode);
/// Every registered format's name, sorted.
[[nodiscard]] std::vector<std::string> formats();
/// "ecs, json, stash53".
[[nodiscard]] std::string format_names();
/// The README's format table (markdown): name, modes, help.
[[nodiscard]] std::string markdown_table();

}  // namespace stash53::format

/// Registers `Class` (constructible from `const FormatOptions&`) as format `name` for the modes
/// listed: STASH53_REGISTER_FORMAT("json", JsonFormat, "help", Mode::Message, Mode::Record).
#define STASH53_REGISTER_FORMAT(name, Class, help, ...)                                      \
  [[maybe_unused]] static const bool stash53_format_registered_##Class =                    \
      ::stash53::format::register_format(                                                   \
          name,                                                                             \
          [](const ::stash53::format::FormatOptions& o)                                     \
              -> std::unique_ptr<::stash53::format::Format> { return std::make_unique<Class>(o); }, \
          {__VA_ARGS__}, help)

// stdout: one JSON document per line (NDJSON), for a terminal, a pipe or a log shipper.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "emitters/fd_writer.h"
#include "emitters/queued_emitter.h"

namespace stash53::emitters {
namespace {

class StdoutEmitter final : public QueuedEmitter {
 public:
  explicit StdoutEmitter(const EmitterSpec& spec) : QueuedEmitter(spec) {}

 private:
  std::string destination() const override { return "(standard output)"; }
  bool connect() override { return true; }
  SendResult send(std::span<const QueuedEvent> batch) override {
    if (writer_.write_lines(STDOUT_FILENO, batch, [this] { return shutdown_overdue(); }))
      return SendResult::Ok;
    // A closed pipe (`stash53 … | head`) will not come back.
    if (errors_.allow())
      log::error(component(), "Cannot write to stdout: {}; events dropped ({} more failures).",
                 std::strerror(errno), errors_.suppressed());
    return SendResult::Fatal;
  }
  void disconnect() noexcept override {}

  FdWriter writer_;
  log::RateLimit errors_;
};

}  // namespace
STASH53_REGISTER_EMITTER("stdout", StdoutEmitter);
}  // namespace stash53::emitters

// file: NDJSON appended to a file; reopened after a write error (e.g. the disk came back).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "emitters/fd_writer.h"
#include "emitters/queued_emitter.h"

namespace stash53::emitters {
namespace {

class FileEmitter final : public QueuedEmitter {
 public:
  explicit FileEmitter(const EmitterSpec& spec) : QueuedEmitter(spec) {
    spec.options->require("path", path_, "the file to append events to");
    if (path_.empty()) spec.options->fail("path", "must not be empty");
  }

 private:
  bool connect() override {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 && errors_.allow())
      log::warn(component(), "Cannot open {}: {}; retrying ({} more failures).", path_,
                std::strerror(errno), errors_.suppressed());
    return fd_ >= 0;
  }
  SendResult send(std::span<const QueuedEvent> batch) override {
    if (writer_.write_lines(fd_, batch, [this] { return shutdown_overdue(); }))
      return SendResult::Ok;
    if (errors_.allow())
      log::warn(component(), "Cannot write to {}: {}; reopening ({} more failures).", path_,
                std::strerror(errno), errors_.suppressed());
    return SendResult::Retry;
  }
  void disconnect() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string path_;
  int fd_ = -1;
  FdWriter writer_;
  log::RateLimit errors_;
};

}  // namespace
STASH53_REGISTER_EMITTER("file", FileEmitter);
}  // namespace stash53::emitters

// file: NDJSON appended to a file. Opened at start-up (before privileges are dropped), reopened
// on SIGHUP (logrotate moved it) and after a write error (e.g. the disk came back).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

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
  ~FileEmitter() override {
    stop(std::chrono::milliseconds(0));
    disconnect();
  }

  void reopen() noexcept override { reopen_.store(true); }

 private:
  std::string destination() const override { return path_; }

  std::string open_local(bool dry_run) override {
    if (!dry_run) return open_file() ? std::string() : "cannot open " + path_ + ": " + std::strerror(errno);
    // Check without creating: the file is writable, or its directory lets us create it.
    if (::access(path_.c_str(), F_OK) == 0)
      return ::access(path_.c_str(), W_OK) == 0 ? std::string()
                                                : "cannot write " + path_ + ": " + std::strerror(errno);
    const auto dir = std::filesystem::path(path_).parent_path();
    const std::string d = dir.empty() ? "." : dir.string();
    if (::access(d.c_str(), W_OK | X_OK) != 0)
      return "cannot create " + path_ + ": " + d + ": " + std::strerror(errno);
    return {};
  }

  /// Whether the path no longer names the open file (logrotate moved it): only then is it
  /// reopened, so that a SIGHUP without a rotation keeps a file this user could not reopen.
  bool moved() const {
    struct stat now {}, open {};
    return ::stat(path_.c_str(), &now) != 0 || ::fstat(fd_, &open) != 0 ||
           now.st_dev != open.st_dev || now.st_ino != open.st_ino;
  }

  bool open_file() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    return fd_ >= 0;
  }

  bool connect() override {
    if (fd_ >= 0) return true;  // opened at start-up
    if (open_file()) return true;
    if (errors_.allow())
      log::warn(component(), "Cannot open {}: {}; retrying ({} more failures).", path_,
                std::strerror(errno), errors_.suppressed());
    return false;
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    if (reopen_.exchange(false) && moved()) {
      disconnect();
      if (!open_file()) {
        log::error(component(), "Cannot reopen {}: {}; retrying.", path_, std::strerror(errno));
        return SendResult::Retry;
      }
      log::info(component(), "Reopened {}.", path_);
    }
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
  std::atomic<bool> reopen_{false};
  FdWriter writer_;
  log::RateLimit errors_;
};

}  // namespace
STASH53_REGISTER_EMITTER("file", FileEmitter);
}  // namespace stash53::emitters

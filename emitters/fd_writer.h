#pragma once
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <string>

#include "common/event_ring.h"

namespace stash53::emitters {

/// Writes a batch of events as NDJSON with one write(2) per batch, into a reused buffer.
class FdWriter {
 public:
  /// True when every byte was written; false with errno set otherwise (ETIMEDOUT when
  /// `give_up()` said so while the reader was not reading).
  template <typename GiveUp>
  bool write_lines(int fd, std::span<const QueuedEvent> batch, GiveUp give_up) {
    buffer_.clear();
    for (const auto& event : batch) {
      buffer_ += event.json;
      buffer_ += '\n';
    }
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    // Only a pipe or a socket can block; a file (or /dev/null) takes the batch in one write.
    struct stat st {};
    const bool may_block = ::fstat(fd, &st) != 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
    while (left > 0) {
      if (may_block) {
        // A pipe whose reader stopped reading would block write() for ever, and shutdown with
        // it: wait for room in slices, then write at most what a pipe accepts without blocking.
        pollfd pfd{fd, POLLOUT, 0};
        const int ready = ::poll(&pfd, 1, 100);
        if (ready < 0 && errno != EINTR) return false;
        if (ready <= 0) {
          if (give_up()) {
            errno = ETIMEDOUT;
            return false;
          }
          continue;
        }
      }
      const ssize_t n = ::write(fd, p, may_block ? std::min<std::size_t>(left, PIPE_BUF) : left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  std::string buffer_;
};

}  // namespace stash53::emitters

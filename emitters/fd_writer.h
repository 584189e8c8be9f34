#pragma once
#include <unistd.h>

#include <cerrno>
#include <span>
#include <string>

namespace stash53::emitters {

/// Writes a batch of events as NDJSON with one write(2) per batch, into a reused buffer.
class FdWriter {
 public:
  /// True when every byte was written; false with errno set otherwise.
  bool write_lines(int fd, std::span<const std::string> batch) {
    buffer_.clear();
    for (const auto& line : batch) {
      buffer_ += line;
      buffer_ += '\n';
    }
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
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

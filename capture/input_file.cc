#include "capture/input_file.h"

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace stash53::capture {
namespace {

constexpr std::size_t kSniff = 12;

// pcap's four magics (µs and ns, either byte order), pcapng's Section Header Block type, and
// Frame Streams' escape (a zero length) followed by a control frame (START, type 2).
FileKind kind_of(const unsigned char* p, std::size_t n) {
  if (n >= 4) {
    const std::uint32_t be = std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 |
                             std::uint32_t{p[2]} << 8 | p[3];
    if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1)
      return FileKind::Pcap;
    if (be == 0x0a0d0d0a) return FileKind::Pcapng;
    if (be == 0 && n >= 12 && p[8] == 0 && p[9] == 0 && p[10] == 0 && p[11] == 2)
      return FileKind::FrameStream;
  }
  return FileKind::Text;
}

// Standard input: the sniffed bytes, then the rest of the pipe, through a stdio stream.
struct Replay {
  unsigned char head[kSniff];
  std::size_t size = 0, pos = 0;
};

ssize_t replay_read(void* cookie, char* buf, std::size_t n) {
  auto* r = static_cast<Replay*>(cookie);
  if (r->pos < r->size) {
    const std::size_t k = std::min(n, r->size - r->pos);
    std::memcpy(buf, r->head + r->pos, k);
    r->pos += k;
    return static_cast<ssize_t>(k);
  }
  // What the pipe has now, not a full buffer: `tcpdump -U -w - | stash53 -r -` stays live.
  for (;;) {
    const ssize_t got = ::read(STDIN_FILENO, buf, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

// Up to n bytes, fewer only at the end of input.
std::size_t read_head(unsigned char* p, std::size_t n) {
  std::size_t have = 0;
  while (have < n) {
    const ssize_t got = ::read(STDIN_FILENO, p + have, n - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    have += static_cast<std::size_t>(got);
  }
  return have;
}

int replay_close(void* cookie) {
  delete static_cast<Replay*>(cookie);
  return 0;
}

}  // namespace

const char* file_kind_name(FileKind k) noexcept {
  switch (k) {
    case FileKind::Pcap: return "pcap";
    case FileKind::Pcapng: return "pcapng";
    case FileKind::FrameStream: return "dnstap";
    case FileKind::Text: return "text";
  }
  return "unknown";
}

InputFile open_input(const std::string& path) {
  InputFile in;
  if (path == "-") {
    auto r = std::make_unique<Replay>();
    r->size = read_head(r->head, kSniff);  // stdin's stdio buffer stays unused
    in.kind = kind_of(r->head, r->size);
    cookie_io_functions_t io{replay_read, nullptr, nullptr, replay_close};
    FILE* f = fopencookie(r.get(), "r", io);
    if (f == nullptr) throw std::runtime_error("cannot read standard input: " + std::string(std::strerror(errno)));
    r.release();
    in.file.reset(f);
    return in;
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    throw std::runtime_error("cannot read capture file '" + path + "': " + std::strerror(errno));
  in.file.reset(f);
  unsigned char head[kSniff];
  const std::size_t n = std::fread(head, 1, kSniff, f);
  in.kind = kind_of(head, n);
  std::rewind(f);
  return in;
}

}  // namespace stash53::capture

#include "capture/dnstap_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fstrm.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "capture/dnstap_message.h"
#include "capture/listen_socket.h"
#include "common/bounded_queue.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/thread_name.h"

namespace stash53::capture {
namespace {

constexpr char kContentType[] = "protobuf:dnstap.Dnstap";

std::string errno_text() { return std::strerror(errno); }

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// A byte stream for libfstrm's reader: a stdio stream (a file, standard input) or a connected
// socket, which also gets a write method and so the bidirectional handshake.
struct Stream {
  FILE* file = nullptr;
  int fd = -1;
  bool eof = false;  // the stream ended (rather than the writer sending STOP)

  static fstrm_res read(void* obj, void* data, std::size_t count) {
    auto* s = static_cast<Stream*>(obj);
    auto* p = static_cast<std::uint8_t*>(data);
    // The end of the stream between frames is an end; inside one, a failure.
    const std::size_t wanted = count;
    if (s->file != nullptr) {
      const std::size_t n = std::fread(p, 1, count, s->file);
      return n == count ? fstrm_res_success : n == 0 ? fstrm_res_stop : fstrm_res_failure;
    }
    while (count > 0) {
      const ssize_t n = ::read(s->fd, p, count);
      if (n == 0) {
        s->eof = true;
        return count == wanted ? fstrm_res_stop : fstrm_res_failure;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        return fstrm_res_failure;
      }
      p += n, count -= static_cast<std::size_t>(n);
    }
    return fstrm_res_success;
  }
  static fstrm_res write(void* obj, const struct iovec* iov, int iovcnt) {
    auto* s = static_cast<Stream*>(obj);
    for (int i = 0; i < iovcnt; ++i) {
      auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      for (std::size_t left = iov[i].iov_len; left > 0;) {
        const ssize_t n = ::send(s->fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fstrm_res_failure;
        p += n, left -= static_cast<std::size_t>(n);
      }
    }
    return fstrm_res_success;
  }
  static fstrm_res noop(void*) { return fstrm_res_success; }
};

using Reader = std::unique_ptr<fstrm_reader, void (*)(fstrm_reader*)>;

// The reader owns the rdwr; the Stream must outlive both.
Reader make_reader(Stream& s, bool bidirectional) {
  fstrm_rdwr* rdwr = fstrm_rdwr_init(&s);
  fstrm_rdwr_set_open(rdwr, &Stream::noop);
  fstrm_rdwr_set_close(rdwr, &Stream::noop);
  fstrm_rdwr_set_read(rdwr, &Stream::read);
  if (bidirectional) fstrm_rdwr_set_write(rdwr, &Stream::write);
  fstrm_reader_options* ropt = fstrm_reader_options_init();
  fstrm_reader_options_add_content_type(ropt, kContentType, sizeof kContentType - 1);
  fstrm_reader* r = fstrm_reader_init(ropt, &rdwr);
  fstrm_reader_options_destroy(&ropt);
  return Reader(r, [](fstrm_reader* p) { fstrm_reader_destroy(&p); });
}

std::string peer_name(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    port = ntohs(a.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
    port = ntohs(a.sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

struct DnstapSource::Impl {
  // What every reader thread adds to (any thread: atomics).
  struct Shared {
    std::atomic<std::uint64_t> connections{0}, refused{0}, handshake_failed{0}, broken{0},
        finished{0}, frames{0};
    std::atomic<int> open{0};
  };

  DnstapOptions options;
  std::string name;  // the file's, for messages
  // File or standard input: read on the pipeline thread.
  InputFile file;
  Stream file_stream;
  Reader file_reader{nullptr, nullptr};
  // Sockets: an accepting thread, a thread per writer, frames through the queue.
  int unix_fd = -1, tcp_fd = -1, wake[2] = {-1, -1};
  std::thread acceptor;
  std::mutex conn_mutex;
  struct Connection {
    int fd = -1;
    std::string peer;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Connection> connections;
  std::unique_ptr<BoundedQueue> queue;  // frames, bounded by options.queue_mb
  std::vector<std::string> batch;
  std::size_t batch_pos = 0, batch_size = 0;
  Shared shared;
  std::atomic<bool> stopping{false};

  // Pipeline thread.
  DnstapUnpacker unpacker;
  std::uint64_t received = 0;
  std::string error;

  ~Impl() {
    stopping.store(true);
    if (wake[1] >= 0) (void)!::write(wake[1], "x", 1);
    if (acceptor.joinable()) acceptor.join();
    {
      std::lock_guard lock(conn_mutex);
      for (auto& c : connections) ::shutdown(c.fd, SHUT_RDWR);
    }
    if (queue) queue->close();
    for (auto& c : connections) {
      if (c.thread.joinable()) c.thread.join();
      ::close(c.fd);
    }
    for (const int fd : {unix_fd, tcp_fd, wake[0], wake[1]})
      if (fd >= 0) ::close(fd);
    if (!options.socket.empty()) ::unlink(options.socket.c_str());
  }

  void listen_unix() {
    const auto& path = options.socket;
    unix_fd = bind_unix(path, SOCK_STREAM, "dnstap");
    if (::chmod(path.c_str(), options.socket_mode) < 0)
      fail("dnstap socket '" + path + "': chmod: " + errno_text());
    if (!options.socket_group.empty()) {
      const group* g = ::getgrnam(options.socket_group.c_str());
      if (g == nullptr) fail("dnstap socket group '" + options.socket_group + "' does not exist");
      if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) < 0)
        fail("dnstap socket '" + path + "': chown to group " + options.socket_group + ": " + errno_text());
    }
  }

  void listen_tcp() { tcp_fd = bind_inet(options.listen, SOCK_STREAM, "dnstap"); }

  void accept_loop() {
    set_thread_name("s53/tap-accept");
    std::uint64_t serial = 0;
    while (!stopping.load()) {
      pollfd fds[3] = {{wake[0], POLLIN, 0}, {unix_fd, POLLIN, 0}, {tcp_fd, POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        log::error("dnstap", "Cannot wait for dnstap writers: {}.", errno_text());
        return;
      }
      if (fds[0].revents != 0) {  // stop, or a writer gone
        char buf[64];
        while (::read(wake[0], buf, sizeof buf) > 0) {
        }
        if (stopping.load()) return;
      }
      reap();
      for (int i = 1; i < 3; ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::string peer = i == 1 ? "unix#" + std::to_string(++serial) : peer_name(ss);
        if (shared.open.load() >= static_cast<int>(options.max_connections)) {
          shared.refused.fetch_add(1);
          log::warn("dnstap", "Refused dnstap writer {}: already {} connected (max_connections).",
                    peer, options.max_connections);
          ::close(fd);
          continue;
        }
        std::lock_guard lock(conn_mutex);
        auto& c = connections.emplace_back();
        c.fd = fd;
        c.peer = std::move(peer);
        shared.connections.fetch_add(1);
        shared.open.fetch_add(1);
        c.thread = std::thread([this, &c] { read_connection(c); });
      }
    }
  }

  // Joins the threads of writers that have gone.
  void reap() {
    std::lock_guard lock(conn_mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      if (!it->done.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      ::close(it->fd);
      it = connections.erase(it);
    }
  }

  // One writer: the handshake, then its frames into the queue until STOP, EOF or garbage.
  void read_connection(Connection& c) {
    set_thread_name("s53/tap-read");
    Stream s;
    s.fd = c.fd;
    Reader r = make_reader(s, true);
    std::uint64_t frames = 0;
    const char* how = "closed the connection";
    if (fstrm_reader_open(r.get()) != fstrm_res_success) {
      shared.handshake_failed.fetch_add(1);
      how = "failed the handshake (not Frame Streams, or not content type protobuf:dnstap.Dnstap)";
    } else {
      log::info("dnstap", "dnstap writer {} connected.", c.peer);
      for (;;) {
        const std::uint8_t* data = nullptr;
        std::size_t len = 0;
        const fstrm_res res = fstrm_reader_read(r.get(), &data, &len);
        if (res == fstrm_res_success) {
          ++frames;
          shared.frames.fetch_add(1);
          // Blocks while the pipeline is behind: the writer's own queue then absorbs it (and
          // counts what it drops), as dnstap intends.
          if (queue->push({reinterpret_cast<const char*>(data), len}, true) != BoundedQueue::Push::Ok) {
            how = "was cut off at shutdown";
            break;
          }
          continue;
        }
        if (res == fstrm_res_stop && !s.eof) {  // libfstrm answers FINISH when it closes
          shared.finished.fetch_add(1);
          how = "finished (STOP)";
        } else if (!stopping.load()) {
          shared.broken.fetch_add(1);
          how = "broke off (no STOP, a cut or bad frame, or a failed connection)";
        }
        break;
      }
    }
    log::info("dnstap", "dnstap writer {} {} after {} frames.", c.peer, how, frames);
    shared.open.fetch_sub(1);
    c.done.store(true);
    if (wake[1] >= 0) (void)!::write(wake[1], "r", 1);  // the acceptor reaps it
  }

  // The next frame's bytes, or false with `idle`/end set.
  bool next_frame(std::string_view& frame, Next& otherwise) {
    if (file_reader) {
      const std::uint8_t* data = nullptr;
      std::size_t len = 0;
      const fstrm_res res = fstrm_reader_read(file_reader.get(), &data, &len);
      if (res == fstrm_res_success) {
        frame = {reinterpret_cast<const char*>(data), len};
        return true;
      }
      if (res == fstrm_res_stop && !stopping.load()) {
        otherwise = Next::End;
        return false;
      }
      if (stopping.load()) {
        otherwise = Next::End;
        return false;
      }
      error = "dnstap file '" + name + "' is not a valid Frame Streams file of content type " +
              kContentType + " (or it ends inside a frame)";
      otherwise = Next::Error;
      return false;
    }
    if (batch_pos == batch_size) {
      batch_pos = 0;
      batch_size = queue->pop_batch(batch, 256, std::chrono::microseconds(0),
                                   std::chrono::milliseconds(options.timeout_ms));
      if (batch_size == 0) {
        otherwise = stopping.load() && shared.open.load() == 0 ? Next::End : Next::Idle;
        return false;
      }
    }
    frame = batch[batch_pos++];
    return true;
  }
};

DnstapSource::DnstapSource(const DnstapOptions& options) : impl_(std::make_unique<Impl>()) {
  auto& i = *impl_;
  i.options = options;
  if (options.socket.empty() && options.listen.empty())
    fail("dnstap: neither a socket nor a listen address was given");
  i.queue = std::make_unique<BoundedQueue>(std::size_t{1} << 16, std::size_t{options.queue_mb} << 20);
  if (::pipe2(i.wake, O_CLOEXEC | O_NONBLOCK) < 0) fail("dnstap: pipe: " + errno_text());
  // A writer that vanishes must not kill us with SIGPIPE: sends use MSG_NOSIGNAL.
  if (!options.socket.empty()) i.listen_unix();
  if (!options.listen.empty()) i.listen_tcp();
}

void DnstapSource::start() {
  auto& i = *impl_;
  if (!i.file_reader && !i.acceptor.joinable()) i.acceptor = std::thread([&i] { i.accept_loop(); });
}

DnstapSource::DnstapSource(InputFile file, std::string name) : impl_(std::make_unique<Impl>()) {
  auto& i = *impl_;
  i.name = std::move(name);
  i.file = std::move(file);
  i.file_stream.file = i.file.file.get();
  i.file_reader = make_reader(i.file_stream, false);
  if (fstrm_reader_open(i.file_reader.get()) != fstrm_res_success)
    fail("'" + i.name + "' is not a Frame Streams file of content type " + kContentType);
}

DnstapSource::~DnstapSource() = default;

Source::Next DnstapSource::next(Input& in) noexcept {
  auto& i = *impl_;
  for (;;) {
    if (i.file_reader && i.stopping.load()) return Next::End;
    std::string_view frame;
    Next otherwise = Next::End;
    if (!i.next_frame(frame, otherwise)) return otherwise;
    if (!i.unpacker.unpack(frame, in.message)) continue;
    ++i.received;
    return Next::Message;
  }
}

void DnstapSource::stop() noexcept {
  auto& i = *impl_;
  i.stopping.store(true);
  // The writers are cut off; what they sent before is still read from the queue.
  if (i.wake[1] >= 0) (void)!::write(i.wake[1], "x", 1);
  std::unique_lock lock(i.conn_mutex, std::try_to_lock);  // async-signal context: never wait
  if (lock.owns_lock())
    for (auto& c : i.connections) ::shutdown(c.fd, SHUT_RD);
}

SourceStats DnstapSource::stats() const noexcept { return {impl_->received, 0, 0}; }

std::string DnstapSource::error() const { return impl_->error; }

bool DnstapSource::is_offline() const noexcept { return static_cast<bool>(impl_->file_reader); }

std::string DnstapSource::describe() const {
  const auto& o = impl_->options;
  if (impl_->file_reader) return "dnstap file " + impl_->name;
  std::string s;
  if (!o.socket.empty()) s = "dnstap unix socket " + o.socket;
  if (!o.listen.empty()) s += (s.empty() ? "dnstap tcp " : ", tcp ") + o.listen;
  return s;
}

void DnstapSource::register_metrics(MetricRegistry& r) const {
  auto& i = *impl_;
  const auto info = [](std::string name, const char* help, MetricType type = MetricType::Counter,
                       std::vector<std::pair<std::string, std::string>> labels = {}) {
    return MetricInfo{"source", "dnstap", std::move(name), std::move(labels), help, type, true};
  };
  if (!i.file_reader) {
    auto& s = i.shared;
    r.add(info("connections", "dnstap writers that connected"), [&s] { return s.connections.load(); });
    r.add(info("connected", "dnstap writers connected now", MetricType::Gauge),
          [&s] { return static_cast<std::uint64_t>(s.open.load()); });
    r.add(info("refused", "dnstap writers refused (max_connections)"), [&s] { return s.refused.load(); });
    r.add(info("closed", "dnstap writers gone, by how", MetricType::Counter, {{"how", "finished"}}),
          [&s] { return s.finished.load(); });
    r.add(info("closed", "dnstap writers gone, by how", MetricType::Counter, {{"how", "handshake-failed"}}),
          [&s] { return s.handshake_failed.load(); });
    r.add(info("closed", "dnstap writers gone, by how", MetricType::Counter, {{"how", "broken"}}),
          [&s] { return s.broken.load(); });
    r.add(info("frames", "Frame Streams data frames received"), [&s] { return s.frames.load(); });
  }
  const auto& c = i.unpacker.counters();
  r.add(info("bad-frames", "frames that are not a dnstap protobuf"), c.bad_frames);
  r.add(info("not-message", "dnstap payloads other than a Message"), c.not_message);
  for (std::size_t t = 0; t < kDnstapTypes; ++t)
    r.add(info("messages", "dnstap messages by type", MetricType::Counter,
               {{"type", std::string(decode::dnstap_type_name(static_cast<std::uint8_t>(t)))}}),
          c.by_type[t]);
  r.add(info("no-dns-message", "dnstap messages without the DNS message bytes"), c.no_dns);
}

}  // namespace stash53::capture

#include "capture/dnsmasq_source.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <stdexcept>

#include "capture/listen_socket.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"

namespace stash53::capture {
namespace {

namespace dm = dnsmasq;

constexpr std::size_t kDatagram = 65536;  // the largest UDP syslog message
constexpr int kDatagramsPerCall = 256;    // then the pipeline gets a turn

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// Traditional and file lines carry local time without a zone: the host's offset now.
std::int32_t local_utc_offset_s() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return static_cast<std::int32_t>(tm.tm_gmtoff);
}

}  // namespace

struct DnsmasqSource::Impl {
  DnsmasqOptions options;
  std::string path;  // the file's; "-" for standard input
  InputFile file;
  ino_t inode = 0;
  dev_t device = 0;
  std::string partial;  // a line the writer has not finished yet
  char* line = nullptr;
  std::size_t line_cap = 0;
  int udp_fd = -1, unix_fd = -1;
  std::string datagram = std::string(kDatagram, '\0');

  std::deque<dm::Event> ready;  // completed by the joiner, not yet handed on
  dm::Event current;
  std::unique_ptr<dm::Joiner> joiner;
  bool flushed = false;
  std::int64_t fed_wall_ns = 0, fed_log_ns = 0;  // when the last line came, and its log time
  std::atomic<bool> stopping{false};
  std::uint64_t received = 0;
  Counter rotations, truncations, datagrams;
  std::string error;

  Impl(const DnsmasqOptions& o, std::int64_t reference_ns) : options(o) {
    dm::JoinerOptions jo;
    jo.clock = {reference_ns, local_utc_offset_s()};
    jo.dns_timeout_ns = std::int64_t{o.query_timeout_ms} * 1'000'000;
    joiner = std::make_unique<dm::Joiner>(jo, [this](dm::Event&& e) { ready.push_back(std::move(e)); });
  }
  ~Impl() {
    std::free(line);
    for (const int fd : {udp_fd, unix_fd})
      if (fd >= 0) ::close(fd);
    if (!options.syslog_socket.empty()) ::unlink(options.syslog_socket.c_str());
  }

  void feed(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    fed_wall_ns = wall_ns();
    joiner->feed(text, fed_wall_ns);
    fed_log_ns = joiner->log_time_ns();
  }

  // A quiet log: its time moves on as the wall clock does since its last line (whose own time
  // may be far from ours: a replayed log, another clock), so held queries time out.
  void tick() {
    if (fed_wall_ns != 0) joiner->advance(fed_log_ns + (wall_ns() - fed_wall_ns));
  }

  void remember_inode() {
    struct stat st{};
    if (::fstat(::fileno(file.file.get()), &st) == 0) inode = st.st_ino, device = st.st_dev;
  }

  // At the end of a followed file: a rename put a new file in its place, or copytruncate
  // emptied it. Returns true when there is something new to read.
  bool rotated() {
    struct stat now{}, mine{};
    if (::stat(path.c_str(), &now) != 0) return false;  // between rename and create: wait
    if (now.st_ino != inode || now.st_dev != device) {
      // The old file was read to its end: its last line is complete now.
      if (!partial.empty()) feed(partial), partial.clear();
      FILE* f = std::fopen(path.c_str(), "rb");
      if (f == nullptr) return false;
      file.file.reset(f);
      remember_inode();
      rotations.add();
      log::info("dnsmasq", "{} was rotated: reading the new file from its start.", path);
      return true;
    }
    if (::fstat(::fileno(file.file.get()), &mine) == 0 && now.st_size < std::ftell(file.file.get())) {
      // Truncated in place (copytruncate): what was written between copy and truncate is gone,
      // which no reader can help.
      std::rewind(file.file.get());
      partial.clear();
      truncations.add();
      log::info("dnsmasq", "{} was truncated: reading it again from its start.", path);
      return true;
    }
    return false;
  }

  // One step of reading: false when nothing came (Idle, or the end).
  bool read_file(Next& otherwise) {
    FILE* f = file.file.get();
    for (int lines = 0; lines < 1024; ++lines) {
      const ssize_t n = ::getline(&line, &line_cap, f);
      if (n > 0) {
        if (line[n - 1] != '\n') {  // the writer is mid-line
          partial.append(line, static_cast<std::size_t>(n));
          break;
        }
        if (!partial.empty()) {
          partial.append(line, static_cast<std::size_t>(n));
          feed(partial);
          partial.clear();
        } else {
          feed({line, static_cast<std::size_t>(n)});
        }
        if (!ready.empty()) return true;
        continue;
      }
      break;
    }
    if (!ready.empty()) return true;
    if (std::ferror(f) != 0) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      otherwise = Next::Error;
      return false;
    }
    if (!options.follow) {
      if (!partial.empty()) feed(partial), partial.clear();  // a last line without newline
      finish();
      otherwise = Next::End;
      return !ready.empty();
    }
    std::clearerr(f);
    if (rotated()) return true;
    ::poll(nullptr, 0, options.timeout_ms);
    tick();
    otherwise = Next::Idle;
    return !ready.empty();
  }

  bool read_sockets(Next& otherwise) {
    pollfd fds[2] = {{udp_fd, POLLIN, 0}, {unix_fd, POLLIN, 0}};
    if (::poll(fds, 2, options.timeout_ms) > 0)
      for (auto& p : fds)
        for (int i = 0; p.fd >= 0 && (p.revents & POLLIN) != 0 && i < kDatagramsPerCall; ++i) {
          const ssize_t n = ::recv(p.fd, datagram.data(), datagram.size(), 0);
          if (n < 0) break;
          datagrams.add();
          // One message per datagram (RFC 5426); a sender that packs several splits by line.
          std::string_view rest(datagram.data(), static_cast<std::size_t>(n));
          while (!rest.empty()) {
            const auto nl = rest.find('\n');
            feed(rest.substr(0, nl));
            rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
          }
        }
    if (ready.empty()) tick();
    otherwise = Next::Idle;
    return !ready.empty();
  }

  void finish() {
    if (!flushed) joiner->flush();
    flushed = true;
  }
};

DnsmasqSource::DnsmasqSource(InputFile file, std::string path, const DnsmasqOptions& options) {
  // Lines without a year get the one that puts them nearest the file's last change.
  struct stat st{};
  const bool stat_ok = path != "-" && ::fstat(::fileno(file.file.get()), &st) == 0;
  const std::int64_t reference = stat_ok && !options.follow
                                     ? std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec
                                     : wall_ns();
  impl_ = std::make_unique<Impl>(options, reference);
  impl_->path = std::move(path);
  impl_->file = std::move(file);
  if (options.follow && impl_->path == "-") fail("--follow needs a file, not standard input");
  impl_->remember_inode();
}

DnsmasqSource::DnsmasqSource(const DnsmasqOptions& options)
    : impl_(std::make_unique<Impl>(options, wall_ns())) {
  if (options.syslog_listen.empty() && options.syslog_socket.empty())
    fail("dnsmasq: neither a syslog address nor a syslog socket was given");
  if (!options.syslog_listen.empty()) impl_->udp_fd = bind_inet(options.syslog_listen, SOCK_DGRAM, "syslog");
  if (!options.syslog_socket.empty()) {
    impl_->unix_fd = bind_unix(options.syslog_socket, SOCK_DGRAM, "syslog");
    (void)::chmod(options.syslog_socket.c_str(), 0666);  // like /dev/log: any local program may log
  }
}

DnsmasqSource::~DnsmasqSource() = default;

Source::Next DnsmasqSource::next(Input& in) noexcept {
  auto& i = *impl_;
  for (;;) {
    if (!i.ready.empty()) {
      i.current = std::move(i.ready.front());
      i.ready.pop_front();
      if (const auto* info = std::get_if<dm::InfoEvent>(&i.current); info != nullptr && info->format == dm::Format::Unknown)
        log::debug("dnsmasq", "A line stash53 does not know: {}", info->text);
      in.log = &i.current;
      ++i.received;
      return Next::Log;
    }
    if (i.stopping.load(std::memory_order_relaxed)) {
      if (i.flushed) return Next::End;
      i.finish();
      continue;
    }
    Next otherwise = Next::Idle;
    const bool got = i.file.file ? i.read_file(otherwise) : i.read_sockets(otherwise);
    if (!got) return otherwise;
  }
}

void DnsmasqSource::stop() noexcept { impl_->stopping.store(true, std::memory_order_relaxed); }

SourceStats DnsmasqSource::stats() const noexcept { return {impl_->received, 0, 0}; }

std::string DnsmasqSource::error() const { return impl_->error; }

bool DnsmasqSource::is_offline() const noexcept { return impl_->file.file && !impl_->options.follow; }

std::string DnsmasqSource::describe() const {
  const auto& i = *impl_;
  if (i.file.file) return (i.options.follow ? "following " : "") + (i.path == "-" ? std::string("standard input") : i.path);
  std::string s;
  if (!i.options.syslog_listen.empty()) s = "syslog udp " + i.options.syslog_listen;
  if (!i.options.syslog_socket.empty()) s += (s.empty() ? "syslog socket " : ", socket ") + i.options.syslog_socket;
  return s;
}

void DnsmasqSource::register_metrics(MetricRegistry& r) const {
  const auto& i = *impl_;
  const auto& c = i.joiner->counters();
  const auto info = [](std::string name, const char* help,
                       std::vector<std::pair<std::string, std::string>> labels = {}) {
    return MetricInfo{"source", "dnsmasq", std::move(name), std::move(labels), help, MetricType::Counter, true};
  };
  for (std::size_t f = 0; f < c.lines.size(); ++f)
    r.add(info("lines", "log lines by format (`unknown`: no grammar for it; emitted as a log event)",
               {{"format", std::string(dm::format_name(static_cast<dm::Format>(f)))}}),
          c.lines[f]);
  r.add(info("other-programs", "syslog lines of other programs, skipped"), c.other_programs);
  r.add(info("orphan-answers", "answer or forwarded lines without their query line"), c.orphan_answers);
  r.add(info("evicted-queries", "queries completed early: too many held"), c.evicted_queries);
  r.add(info("orphan-dhcp-details", "DHCP detail lines without their message line"), c.orphan_dhcp_details);
  r.add(info("evicted-dhcp", "DHCP messages completed early: too many held"), c.evicted_dhcp);
  r.add(info("rotations", "followed file replaced by a new one (rename)"), i.rotations);
  r.add(info("truncations", "followed file truncated in place (copytruncate)"), i.truncations);
  r.add(info("datagrams", "syslog datagrams received"), i.datagrams);
}

}  // namespace stash53::capture

#include "capture/listen_socket.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace stash53::capture {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// A socket set up as `type` asks: listening for a stream, non-blocking for datagrams.
int finish(int fd, int type, const std::string& where) {
  if (type == SOCK_STREAM && ::listen(fd, 16) < 0) {
    ::close(fd);
    fail("cannot listen on " + where + ": " + std::strerror(errno));
  }
  return fd;
}

int socket_of(int family, int type) {
  return ::socket(family, type | SOCK_CLOEXEC | (type == SOCK_DGRAM ? SOCK_NONBLOCK : 0), 0);
}

}  // namespace

int bind_inet(const std::string& spec, int type, const std::string& what) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size())
    fail(what + " address '" + spec + "': expected ADDR:PORT");
  std::string host = spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = type;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), spec.c_str() + colon + 1, &hints, &res); rc != 0)
    fail(what + " address '" + spec + "': " + gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, freeaddrinfo);
  const int fd = socket_of(res->ai_family, type);
  const int one = 1;
  if (fd >= 0 && type == SOCK_STREAM) (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    fail("cannot listen for " + what + " on " + spec + ": " + std::strerror(err));
  }
  return finish(fd, type, spec);
}

int bind_unix(const std::string& path, int type, const std::string& what) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) fail(what + " socket path '" + path + "' is too long");
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) fail(what + " socket '" + path + "' exists and is not a socket");
    ::unlink(path.c_str());
  }
  const int fd = socket_of(AF_UNIX, type);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    fail("cannot listen for " + what + " on '" + path + "': " + std::strerror(err));
  }
  return finish(fd, type, "'" + path + "'");
}

}  // namespace stash53::capture

#pragma once
// The listening sockets of the dnstap and syslog sources: bound before privileges are dropped.

#include <string>

namespace stash53::capture {

/// A socket of `type` (SOCK_STREAM: listening; SOCK_DGRAM) bound to "ADDR:PORT" or
/// "[V6]:PORT". Throws std::runtime_error naming `what` and the address.
[[nodiscard]] int bind_inet(const std::string& spec, int type, const std::string& what);

/// The same on a unix socket path. A socket an earlier run left there is replaced; any other
/// file is an error.
[[nodiscard]] int bind_unix(const std::string& path, int type, const std::string& what);

}  // namespace stash53::capture

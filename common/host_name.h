#pragma once
#include <limits.h>
#include <unistd.h>

#include <string>

namespace stash53 {

/// This machine's host name, or "" when it has none: the default sensor label and client ids.
inline std::string host_name() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return {};
  return host;
}

}  // namespace stash53

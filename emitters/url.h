#pragma once
// The URLs of the --redis, --zmq and --mqtt flags:
// scheme://[user[:password]@]host[:port][,host[:port]...][/path][?key=value&...], user and
// password percent-decoded, an IPv6 host in brackets; and the host:port lists of options.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/option_reader.h"

namespace stash53::emitters {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 address
  int port = 0;      // 0: not given
  /// "host:port", an IPv6 host in brackets.
  [[nodiscard]] std::string text() const;
};

struct Url {
  std::string scheme, user, password, host, path;
  bool has_user = false, has_password = false;
  int port = 0;  // 0: not given
  std::vector<HostPort> more_hosts;  // a cluster's: scheme://h1:p1,h2:p2,... (the first above)
  std::vector<std::pair<std::string, std::string>> query;
};

/// Throws config::ConfigError naming `key` of `where` when `text` is not such a URL, or has
/// several hosts without `many_hosts`.
[[nodiscard]] Url parse_url(std::string_view text, const config::OptionReader& where,
                            const std::string& key, bool many_hosts = false);

/// The parts of a comma-separated list ("a, b,c"), spaces around them trimmed, empty ones left
/// out.
[[nodiscard]] std::vector<std::string> split_list(std::string_view text);

/// "host[:port]" or "[v6][:port]"; throws config::ConfigError naming `key` of `where` when
/// malformed, or when `need_port` and it has none.
[[nodiscard]] HostPort parse_host_port(std::string_view text, const config::OptionReader& where,
                                       const std::string& key, bool need_port = false);

}  // namespace stash53::emitters

#pragma once
// The URLs of the --redis, --zmq and --mqtt flags:
// scheme://[user[:password]@]host[:port][/path][?key=value&...], user and password
// percent-decoded, an IPv6 host in brackets.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/option_reader.h"

namespace stash53::emitters {

struct Url {
  std::string scheme, user, password, host, path;
  bool has_user = false, has_password = false;
  int port = 0;  // 0: not given
  std::vector<std::pair<std::string, std::string>> query;
};

/// Throws config::ConfigError naming `key` of `where` when `text` is not such a URL.
[[nodiscard]] Url parse_url(std::string_view text, const config::OptionReader& where,
                            const std::string& key);

}  // namespace stash53::emitters

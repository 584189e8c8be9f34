#include "emitters/url.h"

#include <charconv>

namespace stash53::emitters {
namespace {

bool percent_decode(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= in.size() || std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16).ptr !=
                                  in.data() + i + 3)
      return false;
    out += static_cast<char>(v);
    i += 2;
  }
  return true;
}

}  // namespace

Url parse_url(std::string_view text, const config::OptionReader& where, const std::string& key,
              bool many_hosts) {
  auto bad = [&](const std::string& why) { where.fail(key, "bad URL '" + config::redact_url(text) + "': " + why); };
  Url u;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) bad("expected scheme://host");
  u.scheme = text.substr(0, scheme_end);
  std::string_view rest = text.substr(scheme_end + 3);
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    u.path = rest.substr(slash + 1);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    u.has_user = true;
    if (!percent_decode(userinfo.substr(0, colon), u.user)) bad("bad %-escape in the user");
    if (colon != std::string_view::npos) {
      u.has_password = true;
      if (!percent_decode(userinfo.substr(colon + 1), u.password)) bad("bad %-escape in the password");
    }
  }
  std::vector<HostPort> hosts;
  for (std::size_t at = 0; at <= authority.size();) {
    const auto comma = authority.find(',', at);
    const auto part = authority.substr(at, comma == std::string_view::npos ? comma : comma - at);
    hosts.push_back(parse_host_port(part, where, key));
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  if (hosts.size() > 1 && !many_hosts) bad("one host only");
  u.host = hosts[0].host;
  u.port = hosts[0].port;
  u.more_hosts.assign(hosts.begin() + 1, hosts.end());
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    const auto eq = item.find('=');
    std::string k, v;
    if (!percent_decode(item.substr(0, eq), k) ||
        (eq != std::string_view::npos && !percent_decode(item.substr(eq + 1), v)))
      bad("bad %-escape in the query");
    if (!k.empty()) u.query.emplace_back(std::move(k), std::move(v));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return u;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= text.size();) {
    const auto comma = text.find(',', at);
    std::string_view part = text.substr(at, comma == std::string_view::npos ? comma : comma - at);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return out;
}

std::string HostPort::text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HostPort parse_host_port(std::string_view text, const config::OptionReader& where,
                         const std::string& key, bool need_port) {
  const auto bad = [&](const std::string& why) {
    where.fail(key, "'" + std::string(text) + "': " + why + "; expected host:port");
  };
  HostPort h;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {  // [v6]:port
    const auto close = text.find(']');
    if (close == std::string_view::npos) bad("unclosed '['");
    h.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') bad("expected ':' after ']'");
      port = text.substr(close + 2);
      if (port.empty()) bad("no port after ':'");
    }
  } else {
    const auto colon = text.rfind(':');
    h.host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      if (port.empty()) bad("no port after ':'");
    }
  }
  if (h.host.empty()) bad("no host");
  if (!port.empty()) {
    const auto r = std::from_chars(port.data(), port.data() + port.size(), h.port);
    if (r.ptr != port.data() + port.size() || h.port < 1 || h.port > 65535)
      bad("port must be 1..65535");
  } else if (need_port) {
    bad("no port number");
  }
  return h;
}

}  // namespace stash53::emitters

#pragma once
// `{field}` substitution for Redis keys, ZeroMQ and MQTT topics: "dns:{nsid}", "dns/{nsid}/{qtype}".
// Compiled once at start-up, so an unknown field is a config error, not an empty string later.

#include <string>
#include <string_view>
#include <vector>

#include "config/option_reader.h"
#include "decode/dns_event.h"

namespace stash53::emitters {

class Template {
 public:
  /// Fields: nsid, qtype, qclass, rcode, opcode, msg_type, transport, tld, s_addr, d_addr.
  /// Throws config::ConfigError (naming `key` of `where`) for an unknown field or a lone brace.
  Template(std::string_view text, const config::OptionReader& where, const std::string& key);
  Template() = default;

  /// Appends the rendered text for `ev` to `out` (a field the event lacks renders as "-").
  void render(const decode::DnsEvent& ev, std::string& out) const;
  [[nodiscard]] bool empty() const noexcept { return parts_.empty(); }

  /// The field names a template may use, for messages and the README.
  static const std::vector<std::string_view>& fields();

 private:
  struct Part {
    std::string literal;  // text before the field
    int field = -1;       // index into fields(), -1 for none (the trailing literal)
  };
  std::vector<Part> parts_;
};

}  // namespace stash53::emitters

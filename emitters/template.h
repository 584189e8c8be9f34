#pragma once
// `{field}` substitution for Redis keys, ZeroMQ and MQTT topics: "dns:{nsid}", "dns/{nsid}/{qtype}",
// "geo/{geoip.country_code}". Any catalogue field with a text form may be used (event/fields.h).
// Compiled once at start-up, so an unknown field is a config error, not an empty string later.

#include <string>
#include <string_view>
#include <vector>

#include "config/option_reader.h"
#include "decode/dns_event.h"
#include "event/fields.h"

namespace stash53::emitters {

class Template {
 public:
  /// Throws config::ConfigError (naming `key` of `where`) for an unknown field, one without a
  /// text form, or a lone brace.
  Template(std::string_view text, const config::OptionReader& where, const std::string& key);
  Template() = default;

  /// Appends the rendered text for `ev` to `out` (a field the event lacks renders as "-").
  void render(const decode::DnsEvent& ev, std::string& out) const;
  [[nodiscard]] bool empty() const noexcept { return parts_.empty(); }
  /// The template as written.
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  struct Part {
    std::string literal;                 // text before the field
    const event::Field* field = nullptr;  // none for the trailing literal
  };
  std::vector<Part> parts_;
  std::string text_;
};

}  // namespace stash53::emitters

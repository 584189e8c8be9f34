#pragma once
// The JSON event, written field by field from the catalogue (event/fields.h).

#include <cstdint>
#include <string_view>

#include "decode/dns_event.h"
#include "event/fields.h"

namespace stash53::emitters {

/// Serialises events with a reused buffer: no allocation per event once warm. Single thread.
class JsonFormatter {
 public:
  /// With `rrprint`, each record object also carries its zone-file line as "rr".
  explicit JsonFormatter(bool rrprint = false) { ctx_.rrprint = rrprint; }
  /// The event as one JSON object (no newline), numbered `n`; valid until the next call.
  [[nodiscard]] std::string_view format(const decode::DnsEvent& ev, std::uint64_t n);

 private:
  rapidjson::StringBuffer buffer_;
  event::EventWriter writer_;
  event::WriteContext ctx_;
  const event::Catalogue& catalogue_ = event::Catalogue::instance();
};

}  // namespace stash53::emitters

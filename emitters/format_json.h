#pragma once
// The JSON event: every field name lives here (and in the README's field table).

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "decode/dns_event.h"

namespace stash53::emitters {

/// Serialises events with a reused buffer: no allocation per event once warm. Single thread.
class JsonFormatter {
 public:
  /// With `rrprint`, each record object also carries its zone-file line as "rr".
  explicit JsonFormatter(bool rrprint = false) : rrprint_(rrprint) {}
  /// The event as one JSON object (no newline), numbered `n`; valid until the next call.
  [[nodiscard]] std::string_view format(const decode::DnsEvent& ev, std::uint64_t n);

 private:
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  void write_timestamp(Writer& w, std::int64_t ts_ns);
  void write_edns(Writer& w, const decode::DnsEvent& ev);
  void write_records(Writer& w, const char* key_name, const decode::DnsEvent& ev,
                     const std::vector<decode::Record>& records);

  rapidjson::StringBuffer buffer_;
  std::string scratch_;  // address text, rr lines
  bool rrprint_;
  Writer writer_;
  std::int64_t cached_second_ = -1;  // gmtime once per second of capture time
  char date_prefix_[24] = {};        // "YYYY-MM-DDTHH:MM:SS."
};

}  // namespace stash53::emitters

#pragma once
// The JSON event: every field name lives here (and in the README's field table).

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "decode/dns_event.h"

namespace stash53::emitters {

/// RapidJSON's Writer plus a way around its escaping where the text cannot need any.
class EventWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;
  /// An object key given quoted, as made at compile time: copied in one go (of a size known at
  /// compile time) where RawValue would copy it character by character.
  template <std::size_t N>
  void quoted_key(const char (&quoted)[N]) {
    Prefix(rapidjson::kStringType);
    std::memcpy(os_->Push(N), quoted, N);
  }
  /// A string value of printable ASCII without '"' or '\\' (mnemonics, addresses, times):
  /// copied as it is, without RapidJSON's per-character escape check.
  void plain(std::string_view s) {
    Prefix(rapidjson::kStringType);
    char* p = os_->Push(s.size() + 2);
    p[0] = '"';
    s.copy(p + 1, s.size());
    p[s.size() + 1] = '"';
  }
};

/// Serialises events with a reused buffer: no allocation per event once warm. Single thread.
class JsonFormatter {
 public:
  /// With `rrprint`, each record object also carries its zone-file line as "rr".
  explicit JsonFormatter(bool rrprint = false) : rrprint_(rrprint) {}
  /// The event as one JSON object (no newline), numbered `n`; valid until the next call.
  [[nodiscard]] std::string_view format(const decode::DnsEvent& ev, std::uint64_t n);

 private:
  using Writer = EventWriter;
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

#pragma once
// The field catalogue: every field of the event, with its name, type, help text, its place in
// the document, how to write it as JSON and how to render it as text. The JSON formatter, topic
// and key templates, emitter filters and the README's field table all read this one list.
//
// Decoded fields are defined in event/fields.cc. An enricher defines the fields of its block in
// its own file, as namespace-scope ValueField constants that register themselves here.

#include <cstdint>
#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "decode/dns_event.h"
#include "event/event_writer.h"

namespace stash53::event {

enum class FieldType : std::uint8_t { String, Integer, Number, Boolean, StringList, Object, Array };
[[nodiscard]] std::string_view field_type_name(FieldType t) noexcept;

/// Where a field goes in the document: fields are written in rank order (then registration
/// order). Decoded fields take the ranks between these anchors.
namespace rank {
inline constexpr int kSensor = 250;       // after `n`: which sensor saw it (nsid)
inline constexpr int kEnrichment = 6000;  // after `edns`: the enrichers' blocks
inline constexpr int kLast = 9000;        // `malformed`
}  // namespace rank

/// What a core field's writer may use besides the event; owned by one formatter.
struct WriteContext {
  std::uint64_t n = 0;   // the event's sequence number in its output stream
  bool nested = false;   // the message is written inside another document: no `n` of its own
  bool rrprint = false;  // records also carry their zone-file line
  std::string scratch;
  std::int64_t cached_second = -1;  // gmtime once per second of capture time
  char date_prefix[24] = {};        // "YYYY-MM-DDTHH:MM:SS."
};

/// Capture time as RFC 3339 UTC with microseconds: "2023-07-22T04:26:40.000102Z".
void write_timestamp(EventWriter& w, std::int64_t ts_ns, WriteContext& ctx);
/// An address as text: IPv4 dotted quad, IPv6 as RFC 5952.
void write_address(EventWriter& w, const decode::IpAddress& a, bool ipv6, std::string& scratch);
/// Appends the record's zone-file line: owner TTL class type data.
void append_zone_line(std::string& out, const decode::DnsEvent& ev, const decode::Record& rr);

struct Field {
  std::string name;  // dotted inside a block: "geoip.country_code"
  FieldType type = FieldType::String;
  std::string help;
  int rank = 0;
  std::vector<std::string> values;  // the closed set of its texts, when there is one
  /// Decoded fields: writes key and value, or nothing when the event lacks the field.
  void (*write)(EventWriter&, const decode::DnsEvent&, WriteContext&) = nullptr;
  /// Decoded fields: appends the text form and returns true, or false when absent. Null for
  /// fields without one (objects, arrays).
  bool (*text)(const decode::DnsEvent&, std::string& out) = nullptr;
  /// Enricher fields: the slot in DnsEvent::values; -1 for decoded fields.
  int slot = -1;

  [[nodiscard]] bool has_text() const noexcept { return text != nullptr || slot >= 0; }
  /// Appends the field's text (lists joined by ','); false when the event lacks it.
  bool append_text(const decode::DnsEvent& ev, std::string& out) const;
};

/// The catalogue. Fields are added during static initialisation only; afterwards it is read-only
/// and may be read from any thread.
class Catalogue {
 public:
  static Catalogue& instance();

  /// Adds a field; returns its index. Throws std::logic_error for a duplicate name.
  std::size_t add(Field f);
  [[nodiscard]] const Field& at(std::size_t index) const { return fields_[index]; }
  /// The field called `name`, or null.
  [[nodiscard]] const Field* find(std::string_view name) const;
  /// Every field in document order.
  [[nodiscard]] const std::vector<const Field*>& ordered() const;
  /// The names of the fields with a text form, for error messages.
  [[nodiscard]] std::string text_field_names() const;
  /// The README's field table (markdown), from the help texts.
  [[nodiscard]] std::string markdown_table() const;

  /// Writes the whole event as one JSON object.
  void write(EventWriter& w, const decode::DnsEvent& ev, WriteContext& ctx) const;
  /// Writes the value of enricher field `f` (no key); false, writing nothing, when the event
  /// lacks it or `f` is a decoded field.
  bool write_value(EventWriter& w, const Field& f, const decode::DnsEvent& ev) const;
  /// Writes, as members of an object the caller opened, every field with a text form under its
  /// full dotted name, lists joined by ',': the flat view (no objects, no arrays) record logs use.
  void write_flat(EventWriter& w, const decode::DnsEvent& ev, WriteContext& ctx) const;

 private:
  struct Entry {
    // What write() looks at for every field, here rather than through `field`: a cache line
    // per field otherwise.
    void (*write)(EventWriter&, const decode::DnsEvent&, WriteContext&);
    int slot;
    const Field* field;
    std::string quoted_leaf;           // "\"country_code\""
    std::string quoted_name;           // "\"geoip.country_code\""
    std::vector<std::string> parents;  // "geoip", "location": the blocks it sits in
  };
  void seal() const;
  void build_entries() const;

  std::deque<Field> fields_;
  std::size_t slots_ = 0;
  mutable std::vector<const Field*> ordered_;
  mutable std::vector<Entry> entries_;
  mutable std::once_flag seal_once_;
  mutable std::atomic<bool> sealed_{false};
};

/// A field an enricher fills: declare one per field at namespace scope in the enricher's file,
/// e.g. `const event::ValueField kCity("geoip.city", FieldType::String, rank, "help")`. Setters
/// copy text into the event's arena. Pipeline thread.
class ValueField {
 public:
  ValueField(std::string name, FieldType type, int rank, std::string help,
             std::vector<std::string> values = {});

  void set_text(decode::DnsEvent& ev, std::string_view s) const;
  void set_number(decode::DnsEvent& ev, std::uint64_t v) const { ev.values.set(slot_).number = v; }
  /// A Number field: kept as its shortest decimal text, written as a JSON number.
  void set_real(decode::DnsEvent& ev, double v) const;
  /// A Number field given as decimal text already (made once, e.g. in a cache).
  void set_number_text(decode::DnsEvent& ev, std::string_view decimal) const { set_text(ev, decimal); }
  /// Appends an item to a StringList field.
  void add_item(decode::DnsEvent& ev, std::string_view item) const;

  [[nodiscard]] bool has(const decode::DnsEvent& ev) const noexcept { return ev.values.has(slot_); }

 private:
  std::size_t slot_;
};

}  // namespace stash53::event

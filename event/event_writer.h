#pragma once
// RapidJSON's Writer plus a way around its escaping where the text cannot need any.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <string_view>

namespace stash53::event {

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
  /// An object key given already quoted ("\"name\""), made once at start-up.
  void quoted_key(std::string_view quoted) {
    Prefix(rapidjson::kStringType);
    std::memcpy(os_->Push(quoted.size()), quoted.data(), quoted.size());
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
  /// Members written by another writer ("\"k\":v,\"k2\":v2"), appended as they are inside the
  /// open object; at least one member must precede them (so the next key gets its comma).
  void raw_members(std::string_view members) {
    if (members.empty()) return;
    *os_->Push(1) = ',';
    std::memcpy(os_->Push(members.size()), members.data(), members.size());
  }
  /// Any string value, escaped as JSON requires.
  void text(std::string_view s) { String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
};

// A key as a quoted literal made at compile time: written with no length count or escape check.
template <std::size_t N>
struct QuotedKey {
  char text[N + 1];
  consteval QuotedKey(const char (&k)[N]) : text{} {  // NOLINT: implicit, for key<"name">
    text[0] = '"';
    for (std::size_t i = 0; i + 1 < N; ++i) text[i + 1] = k[i];
    text[N] = '"';
  }
};

/// Writes the key `K`: key<"qname">(w).
template <QuotedKey K>
void key(EventWriter& w) {
  w.quoted_key(K.text);
}

}  // namespace stash53::event

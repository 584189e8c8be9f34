#pragma once
// The JSON writer of every document: a growable buffer and the calls of RapidJSON's Writer that
// the formats use, written for this one job. RapidJSON's Writer keeps a stack to check the
// document's shape and escapes strings a character at a time; here one flag decides the comma
// (a value or a key follows a value: comma; it follows '{', '[' or a key: none), keys come
// quoted from compile time, and text is checked eight bytes at a time. The bytes are the same
// as RapidJSON's: the same escapes (\b \t \n \f \r \" \\, other controls as \u00XX), UTF-8
// passed through, and RapidJSON's own integer conversion.

#include <rapidjson/internal/itoa.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace stash53::event {

/// memcpy for the short strings of a document (keys, mnemonics, addresses), without a call:
/// two overlapping moves cover any length from 4 to 16.
[[gnu::always_inline]] inline void copy_short(char* dst, const char* src, std::size_t n) {
  if (n >= 8) {
    if (n > 16) return (void)std::memcpy(dst, src, n);
    std::uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

/// The bytes being written; keeps its capacity across clear().
class JsonBuffer {
 public:
  JsonBuffer() = default;
  JsonBuffer(const JsonBuffer&) = delete;
  JsonBuffer& operator=(const JsonBuffer&) = delete;
  ~JsonBuffer() { std::free(data_); }

  /// Room for `n` more bytes at the end, now counted as written.
  [[gnu::always_inline]] char* push(std::size_t n) {
    if (size_ + n > capacity_) [[unlikely]] grow(n);
    char* p = data_ + size_;
    size_ += n;
    return p;
  }
  void put(char c) { *push(1) = c; }
  /// Gives back the last `n` bytes of a push() that wrote fewer.
  void unpush(std::size_t n) noexcept { size_ -= n; }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] const char* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

 private:
  [[gnu::noinline]] void grow(std::size_t n) {
    std::size_t cap = capacity_ == 0 ? 4096 : capacity_ * 2;
    while (cap < size_ + n) cap *= 2;
    auto* p = static_cast<char*>(std::realloc(data_, cap));
    if (p == nullptr) throw std::bad_alloc();
    data_ = p;
    capacity_ = cap;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

class EventWriter {
 public:
  EventWriter() = default;
  explicit EventWriter(JsonBuffer& out) : out_(&out) {}
  /// Writes into `out` from its end on, as at the start of a document.
  void Reset(JsonBuffer& out) noexcept {
    out_ = &out;
    comma_ = false;
  }

  void StartObject() { open('{'); }
  void EndObject() { close('}'); }
  void StartArray() { open('['); }
  void EndArray() { close(']'); }

  /// An object key given quoted with its colon, as made at compile time (key<"name">(w)).
  template <std::size_t N>
  void quoted_key(const char (&quoted)[N]) {
    std::memcpy(prefix(N - 1), quoted, N - 1);
    comma_ = false;
  }
  /// An object key given quoted ("\"name\""), made once at start-up.
  void quoted_key(std::string_view quoted) {
    char* p = prefix(quoted.size() + 1);
    copy_short(p, quoted.data(), quoted.size());
    p[quoted.size()] = ':';
    comma_ = false;
  }
  /// An object key of any text, escaped.
  void text_key(std::string_view s) {
    text(s);
    out_->put(':');
    comma_ = false;
  }

  /// A string value of printable ASCII without '"' or '\\' (mnemonics, addresses, times):
  /// copied as it is, without the escape check.
  void plain(std::string_view s) {
    char* p = prefix(s.size() + 2);
    p[0] = '"';
    copy_short(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    comma_ = true;
  }
  /// Any string value, escaped as JSON requires.
  void text(std::string_view s);
  /// A value already in JSON form: a number made once (e.g. in a cache), a fixed object.
  void raw(std::string_view s) {
    copy_short(prefix(s.size()), s.data(), s.size());
    comma_ = true;
  }
  /// Members written by another writer ("\"k\":v,\"k2\":v2"), appended as they are inside the
  /// open object; at least one member must precede them.
  void raw_members(std::string_view members) {
    if (members.empty()) return;
    char* p = out_->push(members.size() + 1);
    p[0] = ',';
    std::memcpy(p + 1, members.data(), members.size());
    comma_ = true;
  }

  void Uint(unsigned v) { number(rapidjson::internal::u32toa(v, scratch())); }
  void Int(int v) { number(rapidjson::internal::i32toa(v, scratch())); }
  void Uint64(std::uint64_t v) { number(rapidjson::internal::u64toa(v, scratch())); }
  void Int64(std::int64_t v) { number(rapidjson::internal::i64toa(v, scratch())); }
  void Bool(bool v) { v ? raw("true") : raw("false"); }
  void Null() { raw("null"); }

 private:
  /// Room for a value or key of `n` bytes, after its comma when one is due.
  [[gnu::always_inline]] char* prefix(std::size_t n) {
    if (!comma_) return out_->push(n);
    char* p = out_->push(n + 1);
    *p = ',';
    return p + 1;
  }
  void open(char c) {
    *prefix(1) = c;
    comma_ = false;
  }
  void close(char c) {
    out_->put(c);
    comma_ = true;
  }
  // Numbers are converted in place, in room for the longest, then the rest is given back.
  char* scratch() {
    start_ = prefix(kNumberRoom);
    return start_;
  }
  void number(const char* end) {
    out_->unpush(kNumberRoom - static_cast<std::size_t>(end - start_));
    comma_ = true;
  }
  static constexpr std::size_t kNumberRoom = 24;

  JsonBuffer* out_ = nullptr;
  char* start_ = nullptr;
  bool comma_ = false;
};

// A key as a quoted literal with its colon, made at compile time: "\"name\":".
template <std::size_t N>
struct QuotedKey {
  char text[N + 3];  // '"', the N - 1 characters, '"', ':', and a NUL that is not written
  consteval QuotedKey(const char (&k)[N]) : text{} {  // NOLINT: implicit, for key<"name">
    text[0] = '"';
    for (std::size_t i = 0; i + 1 < N; ++i) text[i + 1] = k[i];
    text[N] = '"';
    text[N + 1] = ':';
  }
};

/// Writes the key `K`: key<"qname">(w).
template <QuotedKey K>
void key(EventWriter& w) {
  w.quoted_key(K.text);
}

}  // namespace stash53::event

#include "event/event_writer.h"

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace stash53::event {
namespace {

// What follows the backslash for each byte that JSON (and RapidJSON's Writer) escapes; 0: none.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b', t['\t'] = 't', t['\n'] = 'n', t['\f'] = 'f', t['\r'] = 'r';
  t['"'] = '"', t['\\'] = '\\';
  return t;
}();

constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;

// Whether any of the eight bytes is a control character, '"' or '\\' (exact, not just likely).
constexpr bool needs_escape(std::uint64_t v) {
  const auto has_zero = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t below_space = (v - kOnes * 0x20) & ~v & kHighs;
  return (below_space | has_zero(v ^ (kOnes * '"')) | has_zero(v ^ (kOnes * '\\'))) != 0;
}

char* escape(char* q, unsigned char c) {
  const char e = kEscape[c];
  if (e == 0) {
    *q = static_cast<char>(c);
    return q + 1;
  }
  q[0] = '\\';
  q[1] = e;
  if (e != 'u') return q + 2;
  static constexpr char kHex[] = "0123456789ABCDEF";
  q[2] = '0', q[3] = '0', q[4] = kHex[c >> 4], q[5] = kHex[c & 15];
  return q + 6;
}

}  // namespace

void EventWriter::text(std::string_view s) {
  const std::size_t room = s.size() * 6 + 2;  // every byte a \u00XX at worst
  char* const start = prefix(room);
  char* q = start;
  *q++ = '"';
  const auto* in = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
#if defined(__SSE2__)
  // Long texts (TXT, base64 keys and signatures) sixteen bytes at a time.
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                control = _mm_set1_epi8(0x1f);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));  // v <= 0x1f
    if (_mm_movemask_epi8(special) == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q), v);
      q += 16;
      continue;
    }
    for (std::size_t j = 0; j < 16; ++j) q = escape(q, in[i + j]);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, in + i, 8);
    if (!needs_escape(v)) {
      std::memcpy(q, &v, 8);
      q += 8;
      continue;
    }
    for (std::size_t j = 0; j < 8; ++j) q = escape(q, in[i + j]);
  }
  if (i < n) {
    // The last 1-7 bytes: checked as one word too (overlapping what went before, two
    // overlapping halves, or padded with a letter), and copied at once when none needs an
    // escape. Loads of a size known at compile time: no call to memcpy.
    std::uint64_t v = kOnes * 'a';
    if (n >= 8) {
      std::memcpy(&v, in + n - 8, 8);
    } else if (n >= 4) {
      std::uint32_t lo, hi;
      std::memcpy(&lo, in, 4);
      std::memcpy(&hi, in + n - 4, 4);
      v = std::uint64_t{hi} << 32 | lo;
    } else {
      for (std::size_t j = 0; j < n; ++j) v = (v << 8) | in[j];
    }
    if (!needs_escape(v)) {
      copy_short(q, s.data() + i, n - i);
      q += n - i;
    } else {
      for (; i < n; ++i) q = escape(q, in[i]);
    }
  }
  *q++ = '"';
  out_->unpush(room - static_cast<std::size_t>(q - start));
  comma_ = true;
}

}  // namespace stash53::event

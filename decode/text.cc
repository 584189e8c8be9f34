#include "decode/text.h"

#include <array>
#include <charconv>

namespace stash53::decode::text {
namespace {

void append_decimal_escape(std::string& out, std::uint8_t c) {
  const char buf[4] = {'\\', static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                       static_cast<char>('0' + c % 10)};
  out.append(buf, 4);
}

// Bytes a name's label shows as they are: printable, and not special in zone files.
constexpr auto kPlainNameByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x21; c < 0x7f; ++c) t[c] = true;
  for (const unsigned char c : {'.', ';', '\\', '(', ')', '"', '@', '$'}) t[c] = false;
  return t;
}();
bool is_plain_name_byte(std::uint8_t c) { return kPlainNameByte[c]; }

}  // namespace

void append_label(std::string& out, const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    // Most bytes need no escape: append runs of them at once.
    std::size_t run = i;
    while (run < n && is_plain_name_byte(p[run])) ++run;
    out.append(reinterpret_cast<const char*>(p + i), run - i);
    if (run == n) return;
    const std::uint8_t c = p[run];
    if (c > 0x20 && c < 0x7f) {  // special in zone files: `\.`, `\;`, …
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      append_decimal_escape(out, c);
    }
    i = run + 1;
  }
}

void append_quoted(std::string& out, const std::uint8_t* p, std::size_t n) {
  out.push_back('"');
  for (std::size_t i = 0; i < n;) {
    // Runs of bytes shown as they are, appended at once (TXT records are mostly text).
    std::size_t run = i;
    while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\') ++run;
    out.append(reinterpret_cast<const char*>(p + i), run - i);
    if (run == n) break;
    const std::uint8_t c = p[run];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      append_decimal_escape(out, c);
    }
    i = run + 1;
  }
  out.push_back('"');
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

namespace {
void append_hex_digits(std::string& out, const std::uint8_t* p, std::size_t n, const char* digits) {
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
}
}  // namespace

void append_hex(std::string& out, const std::uint8_t* p, std::size_t n) {
  append_hex_digits(out, p, n, "0123456789ABCDEF");
}

void append_hex_lower(std::string& out, const std::uint8_t* p, std::size_t n) {
  append_hex_digits(out, p, n, "0123456789abcdef");
}

void append_escaped(std::string& out, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
      out.push_back(static_cast<char>(p[i]));
    else
      append_decimal_escape(out, p[i]);
  }
}

void append_base64(std::string& out, const std::uint8_t* p, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Into the string's own room, made once: keys and signatures are hundreds of bytes.
  const std::size_t start = out.size();
  out.resize(start + n / 3 * 4);
  char* q = out.data() + start;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3, q += 4) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16 | std::uint32_t{p[i + 1]} << 8 | p[i + 2];
    q[0] = kAlphabet[v >> 18];
    q[1] = kAlphabet[v >> 12 & 63];
    q[2] = kAlphabet[v >> 6 & 63];
    q[3] = kAlphabet[v & 63];
  }
  if (const std::size_t rest = n - i; rest > 0) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16 | (rest == 2 ? std::uint32_t{p[i + 1]} << 8 : 0);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(rest == 2 ? kAlphabet[v >> 6 & 63] : '=');
    out.push_back('=');
  }
}

void append_ipv4(std::string& out, const std::uint8_t* p) {
  char buf[16];
  char* q = buf;
  for (int i = 0; i < 4; ++i) {
    const unsigned v = p[i];
    if (v >= 100) *q++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *q++ = static_cast<char>('0' + v / 10 % 10);
    *q++ = static_cast<char>('0' + v % 10);
    *q++ = '.';
  }
  out.append(buf, static_cast<std::size_t>(q - buf - 1));
}

// glibc's inet_ntop formats each group with sprintf, a sixth of the decoder's time on a capture
// with IPv6 clients: the same text (RFC 5952, and glibc's choice of dotted quads for
// IPv4-mapped and IPv4-compatible addresses; tests/unit/test_text.cc compares the two).
void append_ipv6(std::string& out, const std::uint8_t* p) {
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<unsigned>(p[2 * i]) << 8 | p[2 * i + 1];
  int best = -1, best_len = 0;  // the first longest run of two or more zero groups
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j;
  }
  char buf[48];
  char* q = buf;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      *q++ = ':';
      if (best + best_len == 8) *q++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i > 0) *q++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      std::string v4;
      append_ipv4(v4, p + 12);
      out.append(buf, static_cast<std::size_t>(q - buf));
      out += v4;
      return;
    }
    const unsigned w = words[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = w >> shift & 15;
      if (d != 0 || started || shift == 0) *q++ = kHex[d], started = true;
    }
  }
  out.append(buf, static_cast<std::size_t>(q - buf));
}

// Days since 1970-01-01 to the civil date (H. Hinnant's algorithm): strftime per RRSIG time
// was a tenth of the decoder's time on a signed zone's answers.
void append_dnssec_time(std::string& out, std::uint32_t t) {
  const std::int64_t z = t / 86400 + 719468, secs = t % 86400;
  const std::int64_t era = z / 146097, doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2);
  char buf[14];
  const auto put = [&](int at, std::int64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, year, 4), put(4, month, 2), put(6, day, 2);
  put(8, secs / 3600, 2), put(10, secs / 60 % 60, 2), put(12, secs % 60, 2);
  out.append(buf, 14);
}

}  // namespace stash53::decode::text

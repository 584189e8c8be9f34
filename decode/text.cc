#include "decode/text.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <ctime>

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
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      append_decimal_escape(out, c);
    }
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
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16 | std::uint32_t{p[i + 1]} << 8 | p[i + 2];
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(kAlphabet[v >> 6 & 63]);
    out.push_back(kAlphabet[v & 63]);
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

void append_ipv6(std::string& out, const std::uint8_t* p) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, p, buf, sizeof buf)) out.append(buf);
}

void append_dnssec_time(std::string& out, std::uint32_t t) {
  const std::time_t secs = t;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  out.append(buf, n);
}

}  // namespace stash53::decode::text

#include "enrich/cryptopan.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/bytes.h"
#include "decode/dns_event.h"

namespace stash53::enrich {
namespace {

constexpr std::size_t kBlock = 16;  // AES block size
constexpr unsigned kMaxBits = 128;

// The first `n` bits set, for n in [0, 64] (a shift by 64 is undefined, hence the branch).
std::uint64_t leading_mask(unsigned n) noexcept {
  return n == 0 ? 0 : ~std::uint64_t{0} << (64 - n);
}

[[noreturn]] void throw_openssl(const char* what) {
  std::string msg = std::string("Crypto-PAn: ") + what + " failed";
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  throw std::runtime_error(msg);
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::uint8_t hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  return static_cast<std::uint8_t>(c - 'A' + 10);
}

}  // namespace

void CryptoPan::CtxFree::operator()(evp_cipher_ctx_st* ctx) const noexcept {
  // Frees the expanded AES key schedule with OPENSSL_clear_free.
  EVP_CIPHER_CTX_free(ctx);
}

CryptoPan::CryptoPan(std::span<const std::uint8_t, kKeySize> key) : ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_) throw_openssl("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(ctx_.get(), EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1) {
    throw_openssl("AES-128-ECB setup");
  }
  // Whole blocks only: without this, ECB would hold back the last block for padding.
  if (EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) != 1) throw_openssl("EVP_CIPHER_CTX_set_padding");
  std::uint8_t pad[kBlock];
  int out_len = 0;
  if (EVP_EncryptUpdate(ctx_.get(), pad, &out_len, key.data() + kBlock, kBlock) != 1 ||
      out_len != static_cast<int>(kBlock)) {
    OPENSSL_cleanse(pad, sizeof pad);
    throw_openssl("encrypting the pad");
  }
  pad_.hi = be64(pad);
  pad_.lo = be64(pad + 8);
  OPENSSL_cleanse(pad, sizeof pad);
}

CryptoPan::~CryptoPan() { OPENSSL_cleanse(&pad_, sizeof pad_); }

bool CryptoPan::one_time_pad(Bits128 addr, unsigned bits, Bits128& otp) noexcept {
  // Every PRF input depends only on the address and the pad, not on earlier outputs, so all
  // `bits` blocks go to OpenSSL in one ECB call: one dispatch per address, and AES-NI pipelines
  // the independent blocks.
  alignas(16) std::uint8_t blocks[kMaxBits * kBlock];
  for (unsigned pos = 0; pos < bits; ++pos) {
    // Input `pos` is the address's first `pos` bits followed by the pad's remaining 128 - pos
    // bits (panonymizer.cpp: first4bytes_input, with bytes 4-15 of the pad for IPv4).
    std::uint64_t in_hi, in_lo;
    if (pos <= 64) {
      const std::uint64_t keep = leading_mask(pos);
      in_hi = (addr.hi & keep) | (pad_.hi & ~keep);
      in_lo = pad_.lo;
    } else {
      const std::uint64_t keep = leading_mask(pos - 64);
      in_hi = addr.hi;
      in_lo = (addr.lo & keep) | (pad_.lo & ~keep);
    }
    store_be64(blocks + pos * kBlock, in_hi);
    store_be64(blocks + pos * kBlock + 8, in_lo);
  }
  const int len = static_cast<int>(bits * kBlock);
  int out_len = 0;
  // ECB may encrypt in place (OpenSSL only refuses partially overlapping buffers).
  if (EVP_EncryptUpdate(ctx_.get(), blocks, &out_len, blocks, len) != 1 || out_len != len) {
    ERR_clear_error();
    return false;
  }
  // Bit `pos` of the pad is the most significant bit of output block `pos`, as in the reference
  // (`rin_output[0] >> 7`); later implementations kept this for compatibility.
  otp = {};
  for (unsigned pos = 0; pos < bits; ++pos) {
    const std::uint64_t bit = blocks[pos * kBlock] >> 7;
    if (pos < 64) {
      otp.hi |= bit << (63 - pos);
    } else {
      otp.lo |= bit << (127 - pos);
    }
  }
  return true;
}

void CryptoPan::anonymize_v4(std::uint8_t addr[4]) noexcept {
  const Bits128 in{std::uint64_t{be32(addr)} << 32, 0};
  Bits128 otp;
  if (!one_time_pad(in, 32, otp)) {
    std::memset(addr, 0, 4);
    ++failures_;
    return;
  }
  store_be32(addr, static_cast<std::uint32_t>((in.hi ^ otp.hi) >> 32));
}

void CryptoPan::anonymize_v6(std::uint8_t addr[16]) noexcept {
  const Bits128 in{be64(addr), be64(addr + 8)};
  Bits128 otp;
  if (!one_time_pad(in, 128, otp)) {
    std::memset(addr, 0, 16);
    ++failures_;
    return;
  }
  store_be64(addr, in.hi ^ otp.hi);
  store_be64(addr + 8, in.lo ^ otp.lo);
}

void CryptoPan::anonymize(std::uint8_t* addr, bool ipv6) noexcept {
  if (!ipv6) {
    anonymize_v4(addr);
  } else if (decode::is_ipv4_mapped(addr)) {
    anonymize_v4(addr + 12);
  } else {
    anonymize_v6(addr);
  }
}

std::array<std::uint8_t, CryptoPan::kKeySize> parse_cryptopan_key(std::string_view text) {
  std::array<std::uint8_t, CryptoPan::kKeySize> key{};
  std::string_view hex = text;
  while (!hex.empty() &&
         (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ' || hex.back() == '\t')) {
    hex.remove_suffix(1);
  }
  if (hex.size() == 2 * key.size()) {
    for (std::size_t i = 0; i < hex.size(); ++i) {
      // Report the position only: the character itself is key material.
      if (!is_hex(hex[i])) {
        throw std::invalid_argument(
            "Crypto-PAn key: expected 64 hex digits, found a non-hex character at position " +
            std::to_string(i + 1));
      }
    }
    for (std::size_t i = 0; i < key.size(); ++i) {
      key[i] = static_cast<std::uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    }
    return key;
  }
  std::string_view raw = text;
  if (raw.size() == key.size() + 1 && raw.back() == '\n') raw.remove_suffix(1);
  if (raw.size() == key.size()) {
    bool all_hex = true;
    for (char c : raw) all_hex = all_hex && is_hex(c);
    // A random 32-byte key is all hex digits with probability (22/256)^32: this is a 16-byte
    // key written in hex, too short for Crypto-PAn.
    if (all_hex) {
      throw std::invalid_argument(
          "Crypto-PAn key: got 32 hex digits (16 bytes); expected 64 hex digits or 32 raw bytes");
    }
    std::memcpy(key.data(), raw.data(), key.size());
    return key;
  }
  throw std::invalid_argument(
      "Crypto-PAn key: expected 64 hex digits or 32 raw bytes (optionally followed by a "
      "newline), got " +
      std::to_string(text.size()) + " bytes");
}

void truncate_address(std::uint8_t* addr, bool ipv6, unsigned prefix) noexcept {
  const unsigned width = ipv6 ? 128 : 32;
  if (prefix >= width) return;
  unsigned byte = prefix / 8;
  if (const unsigned rem = prefix % 8; rem != 0) {
    addr[byte] = static_cast<std::uint8_t>(addr[byte] & (0xff << (8 - rem)));
    ++byte;
  }
  std::memset(addr + byte, 0, width / 8 - byte);
}

}  // namespace stash53::enrich

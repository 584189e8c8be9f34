#pragma once
// Crypto-PAn: prefix-preserving pseudonymisation of IP addresses (J. Xu, J. Fan, M. Ammar, S. Moon,
// "Prefix-Preserving IP Address Anonymization: Measurement-based Security Evaluation and a New
// Cryptography-based Scheme", ICNP 2002). Two addresses sharing a k-bit prefix map to pseudonyms
// sharing exactly a k-bit prefix; the mapping is one-to-one and depends only on the key, so
// sensors sharing a key agree on pseudonyms. IPv4 output equals the authors' panonymizer.cpp.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

// OpenSSL's EVP_CIPHER_CTX, declared here so this header does not pull in OpenSSL.
struct evp_cipher_ctx_st;

namespace stash53::enrich {

/// A Crypto-PAn instance keyed once, then used for any number of addresses.
///
/// Key layout as in panonymizer.cpp: bytes 0-15 are the AES-128 key, bytes 16-31 are encrypted
/// with it to form the secret pad. IPv6 runs the same construction over 128 bits, one PRF call per
/// bit, like the Go package github.com/Yawning/cryptopan and the Python package yacryptopan (whose
/// published IPv6 vectors this reproduces).
///
/// Holds one OpenSSL cipher context, which encryption mutates: an instance is not thread-safe, so
/// give each thread its own (construction is cheap). Not copyable or movable. The anonymize calls
/// never allocate, block or throw.
class CryptoPan {
 public:
  /// Size of the keying material: the AES key followed by the pad seed.
  static constexpr std::size_t kKeySize = 32;

  /// Keys AES-128 with `key[0:16]` and derives the pad from `key[16:32]`; keeps no reference to
  /// `key`. Throws std::runtime_error if OpenSSL cannot set up AES-128-ECB.
  explicit CryptoPan(std::span<const std::uint8_t, kKeySize> key);
  /// Frees the cipher context and wipes the pad.
  ~CryptoPan();
  CryptoPan(const CryptoPan&) = delete;
  CryptoPan& operator=(const CryptoPan&) = delete;

  /// Replaces the 4-byte IPv4 address `addr` (network byte order) by its pseudonym, in place.
  /// Costs 32 AES blocks, issued as one ECB call. If OpenSSL fails, `addr` is zeroed (never left
  /// in clear) and failures() grows.
  void anonymize_v4(std::uint8_t addr[4]) noexcept;

  /// Replaces the 16-byte IPv6 address `addr` (network byte order) by its pseudonym, in place,
  /// running Crypto-PAn over all 128 bits (128 AES blocks, one ECB call). An IPv4-mapped address
  /// is treated as any other here; use anonymize() to map it like its IPv4 address. On an
  /// OpenSSL failure, as anonymize_v4().
  void anonymize_v6(std::uint8_t addr[16]) noexcept;

  /// Anonymises a 4-byte (`ipv6` false) or 16-byte (`ipv6` true) address in place. An
  /// IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) keeps its ::ffff: prefix and
  /// its last 4 bytes map as anonymize_v4() maps a.b.c.d, so a dual-stack socket's view of a
  /// client and the plain IPv4 view give one pseudonym.
  void anonymize(std::uint8_t* addr, bool ipv6) noexcept;

  /// How many addresses were zeroed because OpenSSL failed (expected to stay 0).
  [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }

 private:
  struct CtxFree {
    void operator()(evp_cipher_ctx_st* ctx) const noexcept;
  };

  // 128 bits as two big-endian halves: `hi` holds bytes 0-7.
  struct Bits128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
  };

  // Sets `otp` to the one-time pad for `addr`, an address of `bits` bits (32 or 128) aligned to
  // the left of the 128; the pad is aligned likewise. False if OpenSSL failed.
  [[nodiscard]] bool one_time_pad(Bits128 addr, unsigned bits, Bits128& otp) noexcept;

  std::unique_ptr<evp_cipher_ctx_st, CtxFree> ctx_;
  Bits128 pad_;  // AES(key[16:32])
  std::uint64_t failures_ = 0;
};

/// Parses a Crypto-PAn key given either as 64 hex digits (either case; trailing whitespace
/// ignored) or as exactly 32 raw bytes, the content of a key file with an optional single
/// trailing '\n'. Throws std::invalid_argument saying which forms are expected and what length
/// was seen; the message never contains key material. 32 bytes that are all hex digits are
/// rejected as a probable 16-byte hex key rather than taken as a raw key.
[[nodiscard]] std::array<std::uint8_t, CryptoPan::kKeySize> parse_cryptopan_key(
    std::string_view text);

/// Zeroes the host bits of a 4-byte (`ipv6` false) or 16-byte (`ipv6` true) address in place,
/// keeping its `prefix` leading bits; a prefix at or beyond the address width changes nothing.
void truncate_address(std::uint8_t* addr, bool ipv6, unsigned prefix) noexcept;

}  // namespace stash53::enrich

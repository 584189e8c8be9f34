#pragma once
// The OPT pseudo-record (RFC 6891 §6) and the EDNS options operators look at.

#include <cstddef>
#include <cstdint>

#include "decode/dns_event.h"

namespace stash53::decode {

namespace edns_option {
inline constexpr std::uint16_t Nsid = 3, ClientSubnet = 8, Keepalive = 11, Padding = 12,
                               Cookie = 10, ExtendedError = 15;
}  // namespace edns_option

/// Fills ev.edns from the OPT record's class (UDP size), TTL (extended rcode, version, DO) and
/// RDATA (options). An option that overruns the RDATA or does not fit its layout gives BadEdns;
/// the options before it are kept. Never throws.
[[nodiscard]] Malformed parse_opt(const std::uint8_t* rdata, std::size_t len, std::uint16_t klass,
                                  std::uint32_t ttl, DnsEvent& ev) noexcept;

}  // namespace stash53::decode

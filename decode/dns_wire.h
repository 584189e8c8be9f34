#pragma once
// The DNS message wire format (RFC 1035 §4): header, names with compression, sections.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "decode/dns_event.h"

namespace stash53::decode {

/// A bounds-checked view of one whole DNS message; compression pointers are offsets into it.
struct WireMessage {
  const std::uint8_t* data;
  std::size_t size;
};

/// Reads the possibly compressed name at `pos` and appends its presentation form (trailing dot,
/// "." for the root) to `out`. On success `next` is the offset just after the name where it
/// started. `truncated_as` is the reason reported when the message ends inside the name.
/// Never reads outside `msg`; pointer loops, pointers past the end, labels of type 0x40/0x80 and
/// names over 255 octets are reported as such.
[[nodiscard]] Malformed read_name(WireMessage msg, std::size_t pos, std::string& out,
                                  std::size_t& next, Malformed truncated_as) noexcept;

/// Appends the RDATA at [off, off+len) of `type` in zone-file presentation format, as dig prints
/// it; unknown types in RFC 3597 form (`\# len hex`); empty RDATA as nothing. Returns BadRdata when the RDATA does not
/// match its type's layout (then nothing useful was appended; the caller falls back to RFC 3597).
[[nodiscard]] Malformed append_rdata(WireMessage msg, std::size_t off, std::size_t len,
                                     std::uint16_t type, std::string& out) noexcept;

/// RFC 3597 generic form: `\# <len> <HEX>`.
void append_generic_rdata(const std::uint8_t* p, std::size_t len, std::string& out);

/// Decodes one complete DNS message into `ev` (whose ts and net the caller has set). Every field
/// decoded before a fault is kept; the fault goes to ev.malformed. `mdns` reads the top bit of
/// classes as mDNS's QU / cache-flush bits. Never throws.
void parse_message(std::span<const std::uint8_t> msg, DnsEvent& ev, bool mdns = false) noexcept;

}  // namespace stash53::decode

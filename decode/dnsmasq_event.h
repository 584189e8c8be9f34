#pragma once
// A dnsmasq log event (capture/dnsmasq/joiner.h) as a stash53 event: what the log says maps to
// the fields a DNS message would have (qname, qtype, the client, the rcode), the rest stays in
// the `dnsmasq`, `dhcp` or `log` block, which point to the log event itself.

#include "capture/dnsmasq/joiner.h"
#include "decode/dns_event.h"

namespace stash53::decode {

/// Refills `ev` from `log` (which must outlive the use of `ev`). Never throws.
void fill_from_dnsmasq(const capture::dnsmasq::Event& log, DnsEvent& ev) noexcept;

/// The type number of a mnemonic as dnsmasq logs it (`A`, `TYPE65280`, `type=65`); 0 if unknown.
[[nodiscard]] std::uint16_t type_from_name(std::string_view name) noexcept;

}  // namespace stash53::decode

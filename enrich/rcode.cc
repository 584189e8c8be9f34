#include "decode/mnemonics.h"
#include "enrich/enrichers.h"

namespace stash53::enrich {

RcodeEnricher::RcodeEnricher() : names_(4096) {
  decode::MnemonicBuffer buf;
  for (std::uint16_t r = 0; r < names_.size(); ++r) names_[r] = decode::rcode_name(r, buf);
}

void RcodeEnricher::enrich(decode::DnsEvent& ev) noexcept {
  if (ev.hdr.size < 4) return;  // the rcode is in the header's 4th byte
  ev.rcode_name = names_[ev.rcode() & 0xFFF];
}

}  // namespace stash53::enrich

#include "emitters/event_filter.h"

#include <algorithm>

#include "decode/mnemonics.h"

namespace stash53::emitters {

EventFilter::EventFilter(config::OptionReader& options) {
  config::OptionReader o = options.section("filter");
  std::string msg_type;
  o.read("msg_type", msg_type, "query or response");
  if (msg_type == "query" || msg_type == "response")
    msg_type_ = msg_type == "response";
  else if (!msg_type.empty())
    o.fail("msg_type", "expected query or response, got '" + msg_type + "'");
  o.read("qtype", qtypes_, "a list of RR type mnemonics (A, AAAA, TYPE65280, ...)");
  o.read("rcode", rcodes_, "a list of rcode names (NOERROR, NXDOMAIN, ...)");
  o.read_range("sample", sample_, 1, 1'000'000'000);
  o.finish();
}

bool EventFilter::accepts(const decode::DnsEvent& ev) noexcept {
  decode::MnemonicBuffer buf;
  if (msg_type_ >= 0 && (ev.hdr.size < 4 || ev.hdr.qr != (msg_type_ == 1))) return false;
  if (!qtypes_.empty() &&
      (!ev.has_question ||
       std::find(qtypes_.begin(), qtypes_.end(), decode::type_name(ev.qtype, buf)) == qtypes_.end()))
    return false;
  if (!rcodes_.empty() && (ev.hdr.size < 4 || std::find(rcodes_.begin(), rcodes_.end(),
                                                        decode::rcode_name(ev.rcode(), buf)) ==
                                                  rcodes_.end()))
    return false;
  return sample_ == 1 || seen_++ % sample_ == 0;
}

}  // namespace stash53::emitters

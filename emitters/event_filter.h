#pragma once
// Per-emitter event selection (option `filter`), decided on the pipeline thread before an event
// is queued: `{msg_type: response, qtype: [A, AAAA], rcode: [NXDOMAIN, SERVFAIL], sample: 10}`.
// Every key but `sample` and `security` is a catalogue field with a text form (event/fields.h),
// given one value or a list: the event passes when the field's text is one of them.

#include <cstdint>
#include <string>
#include <vector>

#include "config/option_reader.h"
#include "decode/dns_event.h"
#include "event/fields.h"

namespace stash53::emitters {

class EventFilter {
 public:
  /// Reads the `filter` section of `options`; throws config::ConfigError naming a bad key.
  explicit EventFilter(config::OptionReader& options);
  /// True when the event goes to this emitter. Pipeline thread only (sampling keeps state).
  [[nodiscard]] bool accepts(const decode::DnsEvent& ev) noexcept;

 private:
  struct Match {
    const event::Field* field;
    std::vector<std::string> accepted;
  };
  std::vector<Match> matches_;
  std::string scratch_;
  std::uint64_t sample_ = 1;  // keep 1 in N of the events that pass the rest
  std::uint64_t seen_ = 0;
};

}  // namespace stash53::emitters

#pragma once
// One query/response exchange, as the transaction table (correlate/transactions.h) completes it.

#include <cstdint>
#include <string_view>

#include "decode/dns_event.h"

namespace stash53::correlate {

enum class Status : std::uint8_t {
  Answered,     // a query and its response
  Unanswered,   // a query whose response did not come within the timeout (or before shutdown)
  Unsolicited,  // a response to no query seen
  Multicast,    // an mDNS message: multicast traffic, paired with nothing
  Logged,       // a dnsmasq log event: joined from its log lines already, or not DNS
};
[[nodiscard]] std::string_view status_name(Status s) noexcept;

struct Exchange {
  const decode::DnsEvent* query = nullptr;     // null when unsolicited
  const decode::DnsEvent* response = nullptr;  // null when unanswered
  Status status = Status::Answered;
  std::uint32_t retransmissions = 0;  // repeats of the query while it waited
  bool evicted = false;  // unanswered because the table was full, before its timeout

  /// The message filters and topic templates look at: the response, else the query.
  [[nodiscard]] const decode::DnsEvent& primary() const noexcept {
    return response != nullptr ? *response : *query;
  }
  /// The first message of the exchange (its time is the exchange's).
  [[nodiscard]] const decode::DnsEvent& first() const noexcept {
    return query != nullptr ? *query : *response;
  }
  /// From the (first) query's packet to the response's, in nanoseconds; answered only.
  [[nodiscard]] std::int64_t latency_ns() const noexcept {
    return query != nullptr && response != nullptr ? response->ts_ns - query->ts_ns : 0;
  }
};

}  // namespace stash53::correlate

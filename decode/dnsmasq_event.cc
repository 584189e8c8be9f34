#include "decode/dnsmasq_event.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>
#include <unordered_map>

#include "decode/mnemonics.h"

namespace stash53::decode {
namespace {

namespace dm = capture::dnsmasq;

constexpr std::uint8_t kNoError = 0, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5;

// Severity 3 (LOG_ERR) or worse from dnsmasq is a service error (the LogZilla trigger).
constexpr int kWorstNormalSeverity = 3;

bool parse_address(const std::string& text, IpAddress& out, bool& ipv6) {
  if (inet_pton(AF_INET, text.c_str(), out.bytes) == 1) return ipv6 = false, true;
  if (inet_pton(AF_INET6, text.c_str(), out.bytes) == 1) return ipv6 = true, true;
  return false;
}

void fill_query(const dm::DnsQueryEvent& q, DnsEvent& ev) {
  ev.dnsmasq_query = &q;
  if (!q.qname.empty()) {
    ev.has_question = true;
    // dnsmasq logs names without the root's dot; events carry it (as on the wire).
    const auto off = static_cast<std::uint32_t>(ev.text.size());
    ev.text += q.qname;
    if (q.qname.back() != '.') ev.text += '.';
    ev.qname = {off, static_cast<std::uint32_t>(ev.text.size() - off)};
    ev.qtype = type_from_name(q.qtype);
    ev.qclass = 1;  // dnsmasq logs class IN queries only
  }
  ev.has_client = !q.client.empty() && parse_address(q.client, ev.net.src, ev.net.ipv6);
  ev.net.sport = q.client_port;
  // The outcome stands for the response's rcode (NODATA is NOERROR without answers).
  switch (q.outcome) {
    case dm::Outcome::NxDomain: ev.hdr.rcode = kNxDomain; break;
    case dm::Outcome::ServFail: ev.hdr.rcode = kServFail; break;
    case dm::Outcome::Refused: ev.hdr.rcode = kRefused; break;
    case dm::Outcome::NotImp: ev.hdr.rcode = kNotImp; break;
    default: ev.hdr.rcode = kNoError; break;
  }
}

void fill_dhcp(const dm::DhcpEvent& d, DnsEvent& ev) {
  ev.dhcp = &d;
  ev.has_client = false;
  if (d.message_type == "DHCPNAK") ev.alert = Alert::DhcpNak;
  // rfc2131.c: "no address available" for a DISCOVER the pool cannot serve (also DHCPv6's).
  if (d.reason.starts_with("no address available") || d.reason.starts_with("no addresses available"))
    ev.alert = Alert::DhcpPoolExhausted;
}

void fill_log(const dm::InfoEvent& l, DnsEvent& ev) {
  ev.log_line = &l;
  ev.has_client = false;
  if (l.severity >= 0 && l.severity <= kWorstNormalSeverity) ev.alert = Alert::ServiceError;
}

}  // namespace

std::uint16_t type_from_name(std::string_view name) noexcept {
  static const auto* const kByName = [] {
    auto* m = new std::unordered_map<std::string, std::uint16_t>;
    MnemonicBuffer buf;
    for (unsigned t = 1; t <= 1024; ++t) (*m)[std::string(type_name(static_cast<std::uint16_t>(t), buf))] = static_cast<std::uint16_t>(t);
    for (const unsigned t : {32768u, 32769u}) (*m)[std::string(type_name(static_cast<std::uint16_t>(t), buf))] = static_cast<std::uint16_t>(t);
    return m;
  }();
  for (const std::string_view prefix : {"TYPE", "type="})
    if (name.starts_with(prefix)) {
      unsigned v = 0;
      const auto* end = name.data() + name.size();
      const auto [p, ec] = std::from_chars(name.data() + prefix.size(), end, v);
      return ec == std::errc() && p == end && v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
    }
  const auto it = kByName->find(std::string(name));
  return it == kByName->end() ? 0 : it->second;
}

std::string_view alert_name(Alert a) noexcept {
  switch (a) {
    case Alert::None: return "none";
    case Alert::DhcpNak: return "dhcp-nak";
    case Alert::DhcpPoolExhausted: return "dhcp-pool-exhausted";
    case Alert::TxtQuery: return "txt-query";
    case Alert::AnyQuery: return "any-query";
    case Alert::ServiceError: return "service-error";
  }
  return "none";
}

void fill_from_dnsmasq(const dm::Event& log, DnsEvent& ev) noexcept {
  ev.clear();
  ev.source = EventSource::Dnsmasq;
  std::visit(
      [&ev](const auto& e) {
        ev.ts_ns = e.time_ns;
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, dm::DnsQueryEvent>) fill_query(e, ev);
        else if constexpr (std::is_same_v<T, dm::DhcpEvent>) fill_dhcp(e, ev);
        else fill_log(e, ev);
      },
      log);
}

}  // namespace stash53::decode

#pragma once
// Link layer → IP → UDP/TCP: finds the DNS payload of a captured packet.

#include <cstdint>
#include <span>
#include <string_view>

#include "capture/source.h"
#include "decode/dns_event.h"

namespace stash53::decode {

/// What the layers below DNS made of a packet. Names are stable counter labels.
enum class PacketKind : std::uint8_t {
  Dns,             // payload found on a DNS port
  TruncatedFrame,  // cut short before the transport payload (snaplen or damage)
  NotIp,           // ARP, LLDP, … — anything but IPv4/IPv6
  BadHeader,     // wrong IP version, header or UDP/TCP length field
  IpFragment,      // part of a fragmented datagram
  NotUdpTcp,       // ICMP, ESP, …
  NotDnsPort,      // neither port is in the configured set
  NoPayload,       // TCP segment without data (SYN, ACK, FIN, …)
  kCount
};
[[nodiscard]] std::string_view packet_kind_name(PacketKind k) noexcept;

/// The configured DNS ports (default 53 and 5353), as a bitmap for one lookup per packet.
class PortSet {
 public:
  PortSet();  // 53 and 5353
  void clear() noexcept;
  void add(std::uint16_t port) noexcept { bits_[port >> 6] |= std::uint64_t{1} << (port & 63); }
  [[nodiscard]] bool contains(std::uint16_t port) const noexcept {
    return bits_[port >> 6] >> (port & 63) & 1;
  }

 private:
  std::uint64_t bits_[1024] = {};
};

struct Layers {
  NetInfo net;
  std::span<const std::uint8_t> payload;  // UDP payload, or TCP segment data
};

/// Parses the link, IP and transport headers of `pkt`. Fills `out` when the result is Dns.
/// Reads nothing outside pkt.bytes; trims Ethernet padding using the IP length fields.
[[nodiscard]] PacketKind parse_layers(const capture::Packet& pkt, const PortSet& ports,
                                      Layers& out) noexcept;

}  // namespace stash53::decode

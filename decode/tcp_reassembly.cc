#include "decode/tcp_reassembly.h"

#include <algorithm>
#include <cstring>

namespace stash53::decode {
namespace {

// Sequence numbers wrap (RFC 793 §3.3): compare by signed distance.
std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b); }

}  // namespace

std::string_view tcp_event_name(TcpEvent e) noexcept {
  switch (e) {
    case TcpEvent::Midstream: return "tcp-midstream";
    case TcpEvent::Retransmitted: return "tcp-retransmitted";
    case TcpEvent::OutOfOrder: return "tcp-out-of-order";
    case TcpEvent::Gap: return "tcp-gap";
    case TcpEvent::FlowLimit: return "tcp-flow-limit";
    case TcpEvent::Partial: return "tcp-partial";
    case TcpEvent::Snaplen: return "tcp-snaplen";
    case TcpEvent::RstData: return "tcp-rst-data";
    case TcpEvent::kCount: break;
  }
  return "unknown";
}

const char* tcp_event_help(TcpEvent e) noexcept {
  switch (e) {
    case TcpEvent::Midstream:
      return "TCP segments skipped until one of whole messages shows where messages start";
    case TcpEvent::Retransmitted: return "TCP segments of data seen before";
    case TcpEvent::OutOfOrder: return "TCP segments held until the gap before them is filled";
    case TcpEvent::Gap: return "TCP segments dropped, with their flow's data: a gap not filled";
    case TcpEvent::FlowLimit: return "TCP segments dropped: no room for another flow";
    case TcpEvent::Partial: return "TCP segments holding part of a message completed later";
    case TcpEvent::Snaplen:
      return "TCP segments whose data the snaplen lost: cut before a length, or the rest of a "
             "message cut earlier";
    case TcpEvent::RstData: return "TCP data on a RST, dropped with the connection";
    case TcpEvent::kCount: break;
  }
  return "TCP segments";
}

bool TcpReassembler::Key::operator==(const Key& o) const noexcept {
  return ipv6 == o.ipv6 && sport == o.sport && dport == o.dport &&
         std::memcmp(src.bytes, o.src.bytes, 16) == 0 &&
         std::memcmp(dst.bytes, o.dst.bytes, 16) == 0;
}

std::size_t TcpReassembler::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h = (std::size_t{k.sport} << 16 | k.dport) * 0x9E3779B97F4A7C15ull ^ k.ipv6;
  for (int i = 0; i < 16; ++i)
    h = (h ^ k.src.bytes[i] ^ (std::size_t{k.dst.bytes[i]} << 8)) * 0x100000001B3ull;
  return h;
}

void TcpReassembler::erase(FlowMap::iterator it) {
  bytes_ -= it->second.stream.size() + it->second.later_bytes;
  flows_.erase(it);
}

void TcpReassembler::close(FlowMap::iterator it) {
  // Segments still waiting for a gap may yet arrive (reordered before the FIN): leave those
  // flows to the idle timeout.
  if (it->second.later.empty()) erase(it);
}

void TcpReassembler::close(const Layers& seg) {
  const Key key{seg.net.ipv6, seg.net.src, seg.net.dst, seg.net.sport, seg.net.dport};
  if (auto it = flows_.find(key); it != flows_.end()) close(it);
}

void TcpReassembler::expire(std::int64_t now_ns) {
  if (now_ns - last_expiry_ns_ < 1'000'000'000) return;  // at most once a second
  last_expiry_ns_ = now_ns;
  for (auto it = flows_.begin(); it != flows_.end();) {
    auto next = std::next(it);
    if (now_ns - it->second.last_seen_ns > limits_.idle_timeout_ns) {
      if (!it->second.later.empty()) gaps_expired_.add();
      erase(it);
    }
    it = next;
  }
}

TcpReassembler::Flow* TcpReassembler::flow_for(const Layers& seg, std::int64_t now_ns) {
  const Key key{seg.net.ipv6, seg.net.src, seg.net.dst, seg.net.sport, seg.net.dport};
  auto it = flows_.find(key);
  const bool data = !seg.payload.empty() || seg.tcp_cut > 0;  // cut data is data too
  if (seg.tcp_flags & tcp_flag::Rst) {  // the connection is gone, and so is its partial data
    if (it != flows_.end()) erase(it);
    if (data) note(TcpEvent::RstData);
    return nullptr;
  }
  if (seg.tcp_flags & tcp_flag::Syn) {
    if (it != flows_.end()) erase(it);
    if (flows_.size() >= limits_.max_flows) {
      note(TcpEvent::FlowLimit);
      return nullptr;
    }
    Flow& f = flows_[key];
    f.synced = true;
    f.next_seq = seg.tcp_seq + 1;  // the SYN takes one sequence number
    f.last_seen_ns = now_ns;
    return data ? &f : nullptr;
  }
  if (!data) {  // a bare ACK or FIN
    if (it != flows_.end() && (seg.tcp_flags & tcp_flag::Fin)) close(it);
    return nullptr;
  }
  if (it == flows_.end()) {
    if (flows_.size() >= limits_.max_flows) {
      note(TcpEvent::FlowLimit);
      return nullptr;
    }
    it = flows_.emplace(key, Flow{}).first;
  }
  it->second.last_seen_ns = now_ns;
  return &it->second;
}

namespace {

// True when `data` is one or more whole length-prefixed messages and nothing else.
bool frames_exactly(std::span<const std::uint8_t> data) {
  std::size_t pos = 0;
  while (data.size() - pos >= 2) {
    const std::size_t len = static_cast<std::size_t>(data[pos] << 8 | data[pos + 1]);
    if (len < 12 || data.size() - pos - 2 < len) return false;  // 12: a DNS header
    pos += 2 + len;
  }
  return pos == data.size();
}

}  // namespace

bool TcpReassembler::accept(Flow& f, std::uint32_t seq, std::span<const std::uint8_t> data,
                            std::uint32_t cut, std::uint32_t& hole) {
  if (!f.synced) {
    // Without the SYN, where messages start is unknown: rather than guess, wait for a segment
    // that is exactly whole messages (the common case: one query or answer per segment).
    if (cut > 0 || !frames_exactly(data)) {
      note(TcpEvent::Midstream);
      return false;
    }
    f.synced = true;
    f.next_seq = seq;
  }
  const std::int32_t d = seq_diff(seq, f.next_seq);
  if (d > 0 && cut > 0) {
    // Held, its hole would have to be placed when the gap fills: rare enough to drop instead.
    note(TcpEvent::Snaplen);
    return false;
  }
  if (d > 0) {  // a gap before it: hold it
    if (f.stream.size() + f.later_bytes + data.size() > limits_.max_flow_bytes ||
        bytes_ + data.size() > limits_.max_bytes) {
      // The gap will not be filled within bounds: give up what this flow holds.
      note(TcpEvent::Gap);
      bytes_ -= f.stream.size() + f.later_bytes;
      f.stream.clear();
      f.later.clear();
      f.later_bytes = 0;
      f.next_seq = seq + static_cast<std::uint32_t>(data.size());
      f.position += static_cast<std::uint64_t>(d) + data.size();
      return false;
    }
    note(TcpEvent::OutOfOrder);
    auto& held = f.later[f.position + static_cast<std::uint64_t>(d)];
    if (held.size() < data.size()) {
      f.later_bytes += data.size() - held.size();
      bytes_ += data.size() - held.size();
      held.assign(reinterpret_cast<const char*>(data.data()), data.size());
    }
    return false;
  }
  // Skip what was seen already (retransmission, overlap). Unsigned 32-bit distance: -d
  // would overflow for a segment 2^31 bytes away.
  const std::size_t seen = f.next_seq - seq;
  if (seen >= data.size() + cut) {
    const bool rest = seq_diff(seq, f.rest_begin) >= 0 && seq_diff(seq, f.rest_end) < 0;
    note(rest ? TcpEvent::Snaplen : TcpEvent::Retransmitted);
    return false;
  }
  const auto fresh = data.subspan(std::min(seen, data.size()));
  if (f.stream.size() + fresh.size() > limits_.max_flow_bytes ||
      bytes_ + fresh.size() > limits_.max_bytes) {
    note(TcpEvent::Gap);
    return false;
  }
  f.stream.append(reinterpret_cast<const char*>(fresh.data()), fresh.size());
  bytes_ += fresh.size();
  f.next_seq += static_cast<std::uint32_t>(fresh.size());
  f.position += fresh.size();
  hole = static_cast<std::uint32_t>(data.size() + cut - std::max(seen, data.size()));
  if (hole == 0) follow_on(f);  // else after cut(): held segments lie beyond the hole
  return true;
}

void TcpReassembler::follow_on(Flow& f) {
  for (auto it = f.later.begin(); it != f.later.end();) {
    if (it->first > f.position) break;
    const std::size_t overlap = std::min<std::uint64_t>(f.position - it->first, it->second.size());
    f.stream.append(it->second, overlap);
    f.next_seq += static_cast<std::uint32_t>(it->second.size() - overlap);
    f.position += it->second.size() - overlap;
    bytes_ -= overlap;  // the rest moved from `later` into `stream`
    f.later_bytes -= it->second.size();
    it = f.later.erase(it);
  }
}

}  // namespace stash53::decode

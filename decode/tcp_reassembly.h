#pragma once
// DNS over TCP (RFC 7766): per-direction stream reassembly and the 2-byte length framing, so
// answers split over segments, several messages per segment, out-of-order and retransmitted
// segments and whole zone transfers all decode. Memory is bounded per flow and in total. A
// segment cut by the snaplen ends its message where the capture does (the IP length tells how
// much is missing), and the stream goes on at the next message.

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>

#include "common/counter.h"
#include "decode/net_layers.h"

namespace stash53::decode {

/// Config keys decode.tcp.*.
struct TcpLimits {
  std::size_t max_flows = 65536;             // directions tracked at once
  std::size_t max_flow_bytes = 256u << 10;   // buffered per direction (in order + out of order)
  std::size_t max_bytes = 64u << 20;         // buffered in all
  std::int64_t idle_timeout_ns = 60'000'000'000;  // capture time
};

/// What became of a TCP segment with data that yielded no message: one per segment, so that
/// every packet is a message or a counted reason. Stable counter labels.
enum class TcpEvent : std::uint8_t {
  Midstream,      // data of a flow whose message boundaries are unknown (seen without its SYN,
                  // or after a snaplen cut that hid a length prefix), skipped until a segment
                  // that holds whole messages shows where messages start
  Retransmitted,  // data seen before, ignored
  OutOfOrder,     // segment held until the gap before it is filled
  Gap,            // no room to hold the segment: the flow's buffered data dropped
  FlowLimit,      // no room for another flow: its data dropped
  Partial,        // part of a message, buffered: a later segment completes (or cuts) it
  Snaplen,        // data lost to the snaplen: cut before a message's length prefix, or the rest
                  // of a message that an earlier cut segment ended
  RstData,        // data on a RST, dropped with the connection
  kCount
};
[[nodiscard]] std::string_view tcp_event_name(TcpEvent e) noexcept;
[[nodiscard]] const char* tcp_event_help(TcpEvent e) noexcept;

/// Pipeline thread only.
class TcpReassembler {
 public:
  explicit TcpReassembler(const TcpLimits& limits) : limits_(limits) {}

  /// Feeds one segment (any flags, maybe no data) seen at `now_ns`; calls `on_message(span)`
  /// for every DNS message it completes (without its length prefix; valid during the call).
  template <typename OnMessage>
  void add(const Layers& seg, std::int64_t now_ns, OnMessage&& on_message);

  /// Forgets flows idle longer than the timeout; cheap unless a second of capture time passed.
  void expire(std::int64_t now_ns);
  [[nodiscard]] std::uint64_t count(TcpEvent e) const noexcept { return counter(e).get(); }
  [[nodiscard]] const Counter& counter(TcpEvent e) const noexcept {
    return counters_[static_cast<std::size_t>(e)];
  }
  /// Flows forgotten at the idle timeout with segments still held for a gap (per flow: those
  /// segments were counted OutOfOrder).
  [[nodiscard]] const Counter& gaps_expired() const noexcept { return gaps_expired_; }

 private:
  struct Key {
    bool ipv6;
    IpAddress src, dst;
    std::uint16_t sport, dport;
    bool operator==(const Key& o) const noexcept;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Flow {
    bool synced = false;                    // a message boundary is known (SYN, or see accept)
    std::uint32_t next_seq = 0;             // the next byte expected in order
    std::string stream;                     // in-order bytes not yet framed into messages
    std::uint64_t position = 0;             // stream offset of next_seq (no 2^32 wrap)
    std::map<std::uint64_t, std::string> later;  // out-of-order segments by stream offset
    std::size_t later_bytes = 0;
    std::int64_t last_seen_ns = 0;
    // Sequence numbers of the rest of a message cut by the snaplen, skipped: not retransmissions.
    std::uint32_t rest_begin = 0, rest_end = 0;
  };
  using FlowMap = std::unordered_map<Key, Flow, KeyHash>;

  // Returns the flow's place, or nullptr when the segment is to be ignored.
  Flow* flow_for(const Layers& seg, std::int64_t now_ns);
  // Takes the segment's data into flow.stream in sequence order; false if nothing new. `cut`:
  // bytes after `data` the capture lacks; `hole` is set to those not seen before.
  bool accept(Flow& f, std::uint32_t seq, std::span<const std::uint8_t> data, std::uint32_t cut,
              std::uint32_t& hole);
  // Moves held segments that now follow on into flow.stream.
  void follow_on(Flow& f);
  // Passes on every whole message at the start of flow.stream; true if there was one.
  template <typename OnMessage>
  bool frame(Flow& f, OnMessage& on_message);
  // The capture lacks the `hole` bytes after flow.stream: passes on the message they cut as far
  // as it was captured; true if there was one.
  template <typename OnMessage>
  bool cut(Flow& f, std::uint32_t hole, OnMessage& on_message);
  void erase(FlowMap::iterator it);
  // A FIN: forget the flow unless segments still wait for a gap.
  void close(FlowMap::iterator it);
  void close(const Layers& seg);
  void note(TcpEvent e) { counters_[static_cast<std::size_t>(e)].add(); }

  TcpLimits limits_;
  FlowMap flows_;
  std::size_t bytes_ = 0;
  std::int64_t last_expiry_ns_ = 0;
  std::array<Counter, static_cast<std::size_t>(TcpEvent::kCount)> counters_;
  Counter gaps_expired_;
};

template <typename OnMessage>
void TcpReassembler::add(const Layers& seg, std::int64_t now_ns, OnMessage&& on_message) {
  Flow* f = flow_for(seg, now_ns);
  // Data on a SYN (TCP Fast Open) starts after the SYN's own sequence number.
  const std::uint32_t seq = seg.tcp_seq + ((seg.tcp_flags & tcp_flag::Syn) ? 1 : 0);
  std::uint32_t hole = 0;
  if (f == nullptr || !accept(*f, seq, seg.payload, seg.tcp_cut, hole)) return;
  bool yielded = frame(*f, on_message);
  if (hole > 0) {
    yielded |= cut(*f, hole, on_message);
    follow_on(*f);
    yielded |= frame(*f, on_message);
  }
  if (!yielded) note(hole > 0 ? TcpEvent::Snaplen : TcpEvent::Partial);
  if (seg.tcp_flags & tcp_flag::Fin) close(seg);
}

template <typename OnMessage>
bool TcpReassembler::frame(Flow& f, OnMessage& on_message) {
  // Frame: a 2-byte length, then the message (RFC 1035 §4.2.2).
  std::size_t pos = 0;
  const auto* s = reinterpret_cast<const std::uint8_t*>(f.stream.data());
  while (f.stream.size() - pos >= 2) {
    const std::size_t len = static_cast<std::size_t>(s[pos] << 8 | s[pos + 1]);
    // A zero length is passed on too: it is an (empty, malformed) message, as tshark shows it.
    if (f.stream.size() - pos - 2 < len) break;
    on_message(std::span<const std::uint8_t>(s + pos + 2, len));
    pos += 2 + len;
  }
  bytes_ -= pos;
  f.stream.erase(0, pos);
  return pos > 0;
}

template <typename OnMessage>
bool TcpReassembler::cut(Flow& f, std::uint32_t hole, OnMessage& on_message) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(f.stream.data());
  const bool has_length = f.stream.size() >= 2;  // frame() left less than a whole message
  std::size_t skip = hole;  // bytes after f.stream to skip: the hole, or the rest of the message
  bool in_step = false;     // a message starts after the skip
  if (has_length) {
    // What was captured, as UDP cut by the snaplen: the parser says where the message ends early.
    on_message(std::span<const std::uint8_t>(s + 2, f.stream.size() - 2));
    const std::size_t rest = static_cast<std::size_t>(s[0] << 8 | s[1]) - (f.stream.size() - 2);
    if (rest >= hole) {
      f.rest_begin = f.next_seq + hole;
      f.rest_end = f.next_seq + static_cast<std::uint32_t>(rest);
      skip = rest;
      in_step = true;
    }
  }
  if (!in_step) {  // the hole holds the next length prefix: where messages start is lost
    f.synced = false;
    bytes_ -= f.later_bytes;
    f.later.clear();
    f.later_bytes = 0;
  }
  bytes_ -= f.stream.size();
  f.stream.clear();
  f.next_seq += static_cast<std::uint32_t>(skip);
  f.position += skip;
  return has_length;
}

}  // namespace stash53::decode

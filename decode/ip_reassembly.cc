#include "decode/ip_reassembly.h"

#include <algorithm>
#include <cstring>

namespace stash53::decode {
namespace {
constexpr std::size_t kMaxDatagram = 65535;
}  // namespace

std::string_view fragment_drop_name(FragmentDrop d) noexcept {
  switch (d) {
    case FragmentDrop::Timeout: return "frag-timeout";
    case FragmentDrop::Overlap: return "frag-overlap";
    case FragmentDrop::TooBig: return "frag-too-big";
    case FragmentDrop::Limit: return "frag-limit";
    case FragmentDrop::kCount: break;
  }
  return "unknown";
}

bool IpReassembler::Key::operator==(const Key& o) const noexcept {
  return ipv6 == o.ipv6 && proto == o.proto && id == o.id &&
         std::memcmp(src.bytes, o.src.bytes, 16) == 0 &&
         std::memcmp(dst.bytes, o.dst.bytes, 16) == 0;
}

std::size_t IpReassembler::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h = k.id * 0x9E3779B97F4A7C15ull ^ k.proto ^ (std::size_t{k.ipv6} << 8);
  for (int i = 0; i < 16; ++i) h = (h ^ k.src.bytes[i] ^ (std::size_t{k.dst.bytes[i]} << 8)) * 0x100000001B3ull;
  return h;
}

bool IpReassembler::drop(std::unordered_map<Key, Pending, KeyHash>::iterator it, FragmentDrop why) {
  bytes_ -= 2 * it->second.data.size();
  pending_.erase(it);
  counters_.dropped[static_cast<std::size_t>(why)].add();
  return false;
}

void IpReassembler::expire(std::int64_t now_ns) {
  // Sweep at most once a second of capture time; the map is small.
  if (now_ns - last_expiry_ns_ < 1'000'000'000) return;
  last_expiry_ns_ = now_ns;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (now_ns - it->second.first_seen_ns > limits_.timeout_ns) (void)drop(it, FragmentDrop::Timeout);
    it = next;
  }
}

bool IpReassembler::add(IpDatagram& d, std::int64_t now_ns) noexcept {
  Key key{d.net.ipv6, d.proto, d.frag_id, d.net.src, d.net.dst};
  auto it = pending_.find(key);
  const std::size_t begin = d.frag_offset, end = begin + d.payload.size();
  if (it == pending_.end()) {
    if (end > kMaxDatagram) {
      counters_.dropped[static_cast<std::size_t>(FragmentDrop::TooBig)].add();
      return false;
    }
    if (pending_.size() >= limits_.max_datagrams) {
      counters_.dropped[static_cast<std::size_t>(FragmentDrop::Limit)].add();
      return false;
    }
    it = pending_.emplace(key, Pending{}).first;
    it->second.first_seen_ns = now_ns;
  }
  Pending& p = it->second;
  if (end > kMaxDatagram || (p.total != 0 && end > p.total)) return drop(it, FragmentDrop::TooBig);
  if (!d.more_fragments) {
    // The last fragment fixes the length; a second, different "last" is a conflict.
    if ((p.total != 0 && p.total != end) || end < p.data.size())
      return drop(it, FragmentDrop::Overlap);
    p.total = end;
  }
  if (++p.fragments > limits_.max_fragments) return drop(it, FragmentDrop::Limit);
  if (end > p.data.size()) {
    const std::size_t grow = 2 * (end - p.data.size());  // the bytes and their `have` flags
    if (bytes_ + grow > limits_.max_bytes) return drop(it, FragmentDrop::Limit);
    bytes_ += grow;
    p.data.resize(end);
    p.have.resize(end);
  }
  const bool overlaps = std::any_of(p.have.begin() + static_cast<std::ptrdiff_t>(begin),
                                    p.have.begin() + static_cast<std::ptrdiff_t>(end),
                                    [](std::uint8_t h) { return h != 0; });
  if (overlaps && d.net.ipv6) return drop(it, FragmentDrop::Overlap);  // RFC 5722 §4
  // IPv4: keep the bytes that arrived first, as Linux and Wireshark do.
  for (std::size_t i = begin; i < end; ++i)
    if (!p.have[i]) p.data[i] = d.payload[i - begin], p.have[i] = 1;
  if (p.total == 0 ||
      std::find(p.have.begin(), p.have.begin() + static_cast<std::ptrdiff_t>(p.total), 0) !=
          p.have.begin() + static_cast<std::ptrdiff_t>(p.total))
    return false;
  assembled_.swap(p.data);
  assembled_.resize(p.total);
  bytes_ -= 2 * p.have.size();
  pending_.erase(it);
  counters_.reassembled.add();
  d.payload = assembled_;
  d.fragment = false;
  return true;
}

}  // namespace stash53::decode

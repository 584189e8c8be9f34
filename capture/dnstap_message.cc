#include "capture/dnstap_message.h"

#include <cstring>
#include <vector>

#include "capture/dnstap.pb-c.h"  // generated from capture/dnstap.proto
#include "common/clock.h"

namespace stash53::capture {
namespace {

bool copy_address(const ProtobufCBinaryData& b, bool has, decode::IpAddress& out, bool ipv6) {
  if (!has || b.len != (ipv6 ? 16u : 4u)) return false;
  std::memcpy(out.bytes, b.data, b.len);
  return true;
}

// Seconds and nanoseconds → ns; -1 (absent) past the int64 range (the year 2262).
std::int64_t time_ns(std::uint64_t sec, bool has_nsec, std::uint32_t nsec) {
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(sec, 1'000'000'000, &ns) || __builtin_add_overflow(ns, has_nsec ? nsec : 0, &ns))
    return -1;
  return ns;
}

// protobuf-c stores any number it reads into an enum field: read it as the int it is (loading
// an enum a value it does not name is undefined behaviour).
template <typename Enum>
int enum_value(const Enum& field) noexcept {
  static_assert(sizeof(Enum) == sizeof(int));
  int v = 0;
  std::memcpy(&v, &field, sizeof v);
  return v;
}

}  // namespace

// protobuf-c's unpack allocates every submessage and bytes field: from this arena instead, which
// the next message reuses, so nothing is malloc'ed per message once it has grown (no Debian
// library offers this; protobuf-c takes any allocator).
class DnstapUnpacker::Arena {
 public:
  Arena() { allocator_ = {&Arena::alloc, &Arena::release, this}; }
  ProtobufCAllocator* allocator() noexcept { return &allocator_; }
  /// Forgets every allocation; a message that did not fit grows the block for the next ones.
  void reset() {
    if (overflow_ > 0) block_.resize(block_.size() + overflow_ * 2);
    used_ = overflow_ = 0;
    extra_.clear();
  }

 private:
  static void* alloc(void* self, std::size_t n) {
    auto& a = *static_cast<Arena*>(self);
    n = (n + 15) & ~std::size_t{15};
    if (a.used_ + n <= a.block_.size() * sizeof(Chunk)) {
      void* p = reinterpret_cast<char*>(a.block_.data()) + a.used_;
      a.used_ += n;
      return p;
    }
    a.overflow_ += n / sizeof(Chunk) + 1;
    return a.extra_.emplace_back(new Chunk[n / sizeof(Chunk) + 1]).get();
  }
  static void release(void*, void*) {}  // all at once, in reset()

  struct alignas(16) Chunk {
    unsigned char bytes[16];
  };
  ProtobufCAllocator allocator_;
  std::vector<Chunk> block_ = std::vector<Chunk>(4096);  // 64 KiB
  std::size_t used_ = 0, overflow_ = 0;                   // bytes; chunks
  std::vector<std::unique_ptr<Chunk[]>> extra_;
};

DnstapUnpacker::DnstapUnpacker() : arena_(std::make_unique<Arena>()) {}
DnstapUnpacker::~DnstapUnpacker() = default;

bool DnstapUnpacker::unpack(std::string_view frame, Message& m) noexcept {
  arena_->reset();
  const Dnstap__Dnstap* current = dnstap__dnstap__unpack(
      arena_->allocator(), frame.size(), reinterpret_cast<const std::uint8_t*>(frame.data()));
  if (current == nullptr) {
    counters_.bad_frames.add();
    return false;
  }
  const Dnstap__Message* msg = current->message;
  if (enum_value(current->type) != DNSTAP__DNSTAP__TYPE__MESSAGE || msg == nullptr) {
    counters_.not_message.add();
    return false;
  }
  const int type = enum_value(msg->type), protocol = enum_value(msg->socket_protocol);
  auto& t = m.dnstap;
  t = {};
  t.type = type >= 1 && type < static_cast<int>(kDnstapTypes) ? static_cast<std::uint8_t>(type) : 0;
  counters_.by_type[t.type].add();
  if (msg->has_socket_protocol && protocol > 0 && protocol < 256)
    t.protocol = static_cast<std::uint8_t>(protocol);
  t.ipv6 = msg->has_socket_family ? enum_value(msg->socket_family) == DNSTAP__SOCKET_FAMILY__INET6
                                  : (msg->has_query_address && msg->query_address.len == 16) ||
                                        (msg->has_response_address && msg->response_address.len == 16);
  t.has_query_address = copy_address(msg->query_address, msg->has_query_address, t.query_address, t.ipv6);
  t.has_response_address =
      copy_address(msg->response_address, msg->has_response_address, t.response_address, t.ipv6);
  // Port 0 is no port (Unbound 1.17 sends it for its own TCP queries): absent.
  t.has_query_port = msg->has_query_port && msg->query_port > 0 && msg->query_port <= 65535;
  t.has_response_port = msg->has_response_port && msg->response_port > 0 && msg->response_port <= 65535;
  t.query_port = static_cast<std::uint16_t>(msg->query_port);
  t.response_port = static_cast<std::uint16_t>(msg->response_port);
  if (msg->has_query_time_sec)
    t.query_time_ns = time_ns(msg->query_time_sec, msg->has_query_time_nsec, msg->query_time_nsec);
  if (msg->has_response_time_sec)
    t.response_time_ns = time_ns(msg->response_time_sec, msg->has_response_time_nsec, msg->response_time_nsec);
  const auto text = [](const ProtobufCBinaryData& b, bool has) {
    return has ? std::string_view(reinterpret_cast<const char*>(b.data), b.len) : std::string_view();
  };
  m.identity = text(current->identity, current->has_identity);
  m.version = text(current->version, current->has_version);
  m.query_zone = text(msg->query_zone, msg->has_query_zone);

  // Odd types are queries, even ones responses (dnstap.proto); each carries its own message
  // (the servers seen send a response without the query).
  const bool query = (type & 1) != 0;
  const ProtobufCBinaryData& wire = query ? msg->query_message : msg->response_message;
  const bool has_wire = query ? msg->has_query_message : msg->has_response_message;
  if (!has_wire) counters_.no_dns.add();
  m.bytes = has_wire ? std::span<const std::uint8_t>(wire.data, wire.len) : std::span<const std::uint8_t>();
  const std::int64_t own = query ? t.query_time_ns : t.response_time_ns;
  const std::int64_t other = query ? t.response_time_ns : t.query_time_ns;
  m.ts_ns = own >= 0 ? own : other >= 0 ? other : wall_ns();

  auto& n = m.net;
  n = {};
  n.ipv6 = t.ipv6;
  n.transport = t.protocol == 1 || t.protocol == 5 || t.protocol == 7 || t.protocol == 0
                    ? decode::Transport::Udp
                    : decode::Transport::Tcp;
  // A query goes from the query side to the server, a response back.
  n.src = query ? t.query_address : t.response_address;
  n.dst = query ? t.response_address : t.query_address;
  n.sport = query ? t.query_port : t.response_port;
  n.dport = query ? t.response_port : t.query_port;
  return true;
}

}  // namespace stash53::capture

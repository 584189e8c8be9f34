#pragma once
// The transaction table: holds each query until its response, its timeout or shutdown, and
// hands every completed exchange to a sink. Matching is on the whole exchange, never on the ID
// alone: client address and port, server address and port, transport, ID, and the question
// (name case-insensitively, type, class). Time is capture time: packets move it on, and a live
// capture's idle tick moves it to the wall clock.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/counter.h"
#include "common/metrics.h"
#include "correlate/exchange.h"
#include "decode/dns_event.h"

namespace stash53::correlate {

struct TransactionOptions {
  std::int64_t timeout_ns = 5'000'000'000;  // a query unanswered this long is emitted as such
  std::size_t max_entries = 100'000;        // queries held at once
  std::size_t max_bytes = 64u << 20;        // their memory, estimated
};

class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  /// Called synchronously; the exchange and its messages are valid only during the call.
  virtual void on_exchange(const Exchange& x) noexcept = 0;
};

class TransactionTable {
 public:
  explicit TransactionTable(TransactionOptions options);
  ~TransactionTable();
  TransactionTable(const TransactionTable&) = delete;
  TransactionTable& operator=(const TransactionTable&) = delete;

  /// One message: first expires what its capture time has timed out, then holds it (a query),
  /// completes its exchange (a response) or passes it through (mDNS).
  void observe(const decode::DnsEvent& ev, ExchangeSink& out);
  /// Time moved on without a packet (a live capture's idle tick): expires by `now_ns`.
  void advance(std::int64_t now_ns, ExchangeSink& out);
  /// Shutdown (or no one wants exchanges any more): every held query, as unanswered.
  void flush(ExchangeSink& out);

  [[nodiscard]] std::size_t size() const noexcept { return entries_.load(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_.load(); }
  /// Under component "transactions".
  void register_metrics(MetricRegistry& registry) const;

 private:
  // Who talks to whom about which ID: the query's view (client = its source).
  struct FlowKey {
    std::uint8_t client[16], server[16];
    std::uint16_t client_port, server_port, id;
    std::uint8_t transport, ipv6;
    bool operator==(const FlowKey&) const = default;
  };
  struct FlowHash {
    std::size_t operator()(const FlowKey& k) const noexcept;
  };
  struct Pending;
  struct Deadline {
    std::int64_t at;
    Pending* entry;
    std::uint64_t serial;  // stale once the entry was answered, re-armed or reused
  };
  using Bucket = std::vector<Pending*>;  // queries of one flow and ID (almost always one)

  static FlowKey query_key(const decode::DnsEvent& ev);
  static FlowKey response_key(const decode::DnsEvent& ev);
  void hold(const decode::DnsEvent& ev, ExchangeSink& out);
  void answer(const decode::DnsEvent& ev, ExchangeSink& out);
  void expire_until(std::int64_t now_ns, ExchangeSink& out);
  void evict_oldest(ExchangeSink& out);
  void emit_unanswered(Pending* p, bool evicted, ExchangeSink& out);
  void remove(Pending* p);
  Pending* take_free();

  TransactionOptions options_;
  std::unordered_map<FlowKey, Bucket, FlowHash> table_;
  std::deque<Deadline> deadlines_;  // in arrival order: by deadline when time only moves on
  std::vector<std::unique_ptr<Pending>> all_;  // every entry ever made, reused from free_
  std::vector<Pending*> free_;
  std::int64_t now_ns_ = 0;  // the latest capture time seen
  std::uint64_t serial_ = 0;
  // Written by the pipeline thread only; atomic because the metrics read them.
  std::atomic<std::size_t> entries_{0}, bytes_{0};
  Counter matched_, unanswered_, unsolicited_, retransmitted_, evicted_, multicast_, logged_;
};

}  // namespace stash53::correlate

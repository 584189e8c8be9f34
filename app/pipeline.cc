#include "app/pipeline.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/thread_name.h"

namespace stash53::app {

Pipeline::Pipeline(capture::Source& source, const decode::DecodeOptions& decode_options,
                   std::vector<std::unique_ptr<enrich::Enricher>> enrichers,
                   std::vector<std::unique_ptr<emitters::Emitter>>& emitters)
    : source_(source),
      decoder_(decode_options),
      enrichers_(std::move(enrichers)),
      emitters_(emitters),
      formatter_(decode_options.rrprint) {}

bool Pipeline::run() noexcept {
  set_thread_name("s53/pipe");
  capture::Packet pkt;
  std::uint32_t since_snapshot = 0;
  for (;;) {
    switch (source_.next(pkt)) {
      case capture::Source::Next::Packet:
        decoder_.decode(pkt, event_, *this);
        // pcap_stats is a system call: ask now and then, not per packet.
        if (++since_snapshot == 65536) {
          since_snapshot = 0;
          snapshot_source_stats();
        }
        break;
      case capture::Source::Next::Idle:
        snapshot_source_stats();
        break;
      case capture::Source::Next::End:
        snapshot_source_stats();
        return true;
      case capture::Source::Next::Error:
        snapshot_source_stats();
        log::error("capture", "Capture failed: {}.", source_.error());
        return false;
    }
  }
}

void Pipeline::on_message(decode::DnsEvent& ev) noexcept {
  for (auto& e : enrichers_) e->enrich(ev);
  const std::string_view json = formatter_.format(ev, ++sequence_);
  emitted_.add();
  for (auto& em : emitters_) (void)em->offer(ev, json);  // each emitter counts its own drops
}

void Pipeline::snapshot_source_stats() noexcept {
  const auto s = source_.stats();
  // libpcap's counters are cumulative; store them as they are.
  if (s.kernel_dropped > kernel_dropped_.get())
    kernel_dropped_.add(s.kernel_dropped - kernel_dropped_.get());
  if (s.interface_dropped > interface_dropped_.get())
    interface_dropped_.add(s.interface_dropped - interface_dropped_.get());
}

std::string Pipeline::stats_line() const {
  const auto& c = decoder_.counters();
  std::string line = fmt::format("packets={}", c.packets.get());
  for (std::size_t k = 1; k < c.by_kind.size(); ++k)  // 0 is "dns", shown as messages
    if (const auto v = c.by_kind[k].get())
      line += fmt::format(" {}={}", decode::packet_kind_name(static_cast<decode::PacketKind>(k)), v);
  if (const auto v = c.tcp_no_payload.get()) line += fmt::format(" tcp-no-payload={}", v);
  const auto& f = decoder_.fragment_counters();
  if (const auto v = f.reassembled.get()) line += fmt::format(" frag-reassembled={}", v);
  for (std::size_t d = 0; d < f.dropped.size(); ++d)
    if (const auto v = f.dropped[d].get())
      line += fmt::format(" {}={}", decode::fragment_drop_name(static_cast<decode::FragmentDrop>(d)), v);
  for (std::size_t e = 0; e < static_cast<std::size_t>(decode::TcpEvent::kCount); ++e)
    if (const auto v = decoder_.tcp().count(static_cast<decode::TcpEvent>(e)))
      line += fmt::format(" {}={}", decode::tcp_event_name(static_cast<decode::TcpEvent>(e)), v);
  line += fmt::format(" messages={}", c.messages.get());
  std::uint64_t malformed = 0;
  std::string reasons;
  for (std::size_t m = 1; m < c.malformed.size(); ++m)
    if (const auto v = c.malformed[m].get()) {
      malformed += v;
      reasons += fmt::format("{}{}={}", reasons.empty() ? "" : ",",
                             decode::malformed_name(static_cast<decode::Malformed>(m)), v);
    }
  line += fmt::format(" malformed={}", malformed);
  if (!reasons.empty()) line += " (" + reasons + ")";
  line += fmt::format(" emitted={}", emitted_.get());
  if (const auto v = kernel_dropped_.get()) line += fmt::format(" pcap-dropped={}", v);
  if (const auto v = interface_dropped_.get()) line += fmt::format(" if-dropped={}", v);
  for (const auto& em : emitters_) {
    const auto s = em->stats();
    line += fmt::format(
        " | {} queued={} sent={} filtered={} dropped-full={} dropped-error={} reconnects={} "
        "depth={}",
        em->name(), s.queued, s.sent, s.filtered, s.dropped_full, s.dropped_error, s.reconnects,
        s.depth);
  }
  return line;
}

}  // namespace stash53::app

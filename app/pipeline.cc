#include "app/pipeline.h"

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

void Pipeline::register_metrics(MetricRegistry& r) const {
  decoder_.register_metrics(r);
  r.add({"", "", "emitted", {}, "events handed to the emitters"}, emitted_);
  r.add({"", "", "pcap-dropped", {}, "packets the kernel dropped (pcap_stats ps_drop, live)",
         MetricType::Counter, true},
        kernel_dropped_);
  r.add({"", "", "if-dropped", {}, "packets the interface dropped (pcap_stats ps_ifdrop, live)",
         MetricType::Counter, true},
        interface_dropped_);
  for (const auto& e : enrichers_) e->register_metrics(r);
}

}  // namespace stash53::app

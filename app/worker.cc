#include "app/worker.h"

#include "app/live_stats.h"
#include "decode/dnsmasq_event.h"

namespace stash53::app {

Worker::Worker(std::size_t index, const decode::DecodeOptions& decode_options,
               const correlate::TransactionOptions& transaction_options, StreamNumbers& numbers,
               Enrichers enrichers, const std::vector<emitters::Emitter*>& emitters,
               LiveStats* live)
    : decoder_(decode_options),
      enrichers_(std::move(enrichers)),
      live_(live),
      outputs_({decode_options.rrprint}, transaction_options, index, numbers) {
  outputs_.set_emitters(emitters);
}

void Worker::log(const capture::dnsmasq::Event& log) noexcept {
  decode::fill_from_dnsmasq(log, event_);
  on_message(event_);
}

void Worker::on_message(decode::DnsEvent& ev) noexcept {
  for (auto& e : enrichers_) e->enrich(ev);
  if (live_ != nullptr) live_->observe(ev);
  emitted_.add();
  outputs_.on_message(ev);
}

void Worker::adopt(Enrichers* enrichers, const std::vector<emitters::Emitter*>& emitters,
                   LiveStats* live) {
  outputs_.set_emitters(emitters);  // before the old ones retire: held queries go there
  live_ = live;
  if (enrichers != nullptr) std::swap(enrichers_, *enrichers);
}

void Worker::register_metrics(MetricRegistry& r) const {
  decoder_.register_metrics(r);
  r.add({"", "", "emitted", {}, "messages handed to the output streams"}, emitted_);
  for (const auto& e : enrichers_) e->register_metrics(r);
  outputs_.register_metrics(r);
}

}  // namespace stash53::app

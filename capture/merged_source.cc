#include "capture/merged_source.h"

#include <poll.h>

namespace stash53::capture {

MergedSource::MergedSource(std::vector<std::unique_ptr<Source>> sources)
    : sources_(std::move(sources)), ended_(sources_.size(), false) {}

void MergedSource::start() {
  for (auto& s : sources_) s->start();
}

Source::Next MergedSource::next(Input& in) noexcept {
  // One round over the sources that have not ended, from the one whose turn it is. A busy one
  // keeps its turn for kStreak inputs (a wake-up per input would be slow), then passes it on,
  // so none starves. The sources wait little or not at all (see sources.cc): when every one is
  // quiet, the round sleeps a little before it reports Idle.
  constexpr unsigned kStreak = 256;
  constexpr int kQuietMs = 10;
  std::size_t live = 0;
  for (std::size_t k = 0; k < sources_.size(); ++k) {
    const std::size_t i = (turn_ + k) % sources_.size();
    if (ended_[i]) continue;
    ++live;
    switch (const Next n = sources_[i]->next(in)) {
      case Next::Packet:
      case Next::Message:
      case Next::Log:
        streak_ = i == turn_ ? streak_ + 1 : 1;
        turn_ = i;
        if (streak_ >= kStreak) turn_ = (i + 1) % sources_.size(), streak_ = 0;
        return n;
      case Next::Idle:
        break;
      case Next::End:
        ended_[i] = true;
        break;
      case Next::Error:
        error_ = sources_[i]->error();
        return Next::Error;
    }
  }
  if (live == 0) return Next::End;
  ::poll(nullptr, 0, kQuietMs);
  return Next::Idle;
}

void MergedSource::stop() noexcept {
  for (auto& s : sources_) s->stop();
}

SourceStats MergedSource::stats() const noexcept {
  SourceStats total;
  for (const auto& s : sources_) {
    const auto st = s->stats();
    total.received += st.received;
    total.kernel_dropped += st.kernel_dropped;
    total.interface_dropped += st.interface_dropped;
  }
  return total;
}

void MergedSource::register_metrics(MetricRegistry& registry) const {
  for (const auto& s : sources_) s->register_metrics(registry);
}

}  // namespace stash53::capture

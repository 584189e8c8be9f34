#include "app/outputs.h"

#include "common/log.h"

namespace stash53::app {

using format::Mode;

std::atomic<std::uint64_t>& StreamNumbers::of(format::Mode mode, const std::string& format) {
  std::lock_guard lock(mutex_);
  return next_.try_emplace({mode, format}).first->second;
}

Outputs::Outputs(const format::FormatOptions& format_options,
                 const correlate::TransactionOptions& transaction_options, std::size_t worker,
                 StreamNumbers& numbers)
    : format_options_(format_options), worker_(worker), numbers_(numbers), table_(transaction_options) {}

void Outputs::set_emitters(const std::vector<emitters::Emitter*>& list) {
  bool transactions = false;
  for (const auto* em : list) transactions |= em->mode() == Mode::Transaction;
  if (transactions_ && !transactions) table_.flush(*this);
  for (auto& s : streams_) s->emitters.clear();
  for (auto* em : list) {
    Stream* stream = nullptr;
    for (auto& s : streams_)
      if (s->mode == em->mode() && s->format_name == em->format()) stream = s.get();
    if (stream == nullptr) {
      auto format = format::make_format(em->format(), format_options_);
      if (!format) {  // checked when the emitter read its options
        log::error("output", "No format {}; emitter {} gets nothing.", em->format(), em->name());
        continue;
      }
      stream = streams_.emplace_back(std::make_unique<Stream>()).get();
      stream->mode = em->mode();
      stream->format_name = em->format();
      stream->format = std::move(format);
      stream->docs.number_from(numbers_.of(stream->mode, stream->format_name));
    }
    stream->emitters.push_back(em);
  }
  transactions_ = transactions;
}

void Outputs::deliver(Stream& s, const decode::DnsEvent& ev) noexcept {
  const auto docs = s.docs.views();
  if (docs.empty()) return s.empty.add();
  s.documents.add(docs.size());
  for (auto* em : s.emitters) (void)em->offer(worker_, ev, docs);  // each counts its own drops
}

void Outputs::on_message(const decode::DnsEvent& ev) noexcept {
  for (auto& s : streams_) {
    if (s->emitters.empty() || s->mode == Mode::Transaction) continue;
    s->docs.clear();
    if (s->mode == Mode::Message)
      s->format->message(ev, s->docs);
    else
      s->format->records(ev, s->docs);
    deliver(*s, ev);
  }
  if (transactions_) table_.observe(ev, *this);
}

void Outputs::on_exchange(const correlate::Exchange& x) noexcept {
  for (auto& s : streams_) {
    if (s->emitters.empty() || s->mode != Mode::Transaction) continue;
    s->docs.clear();
    s->format->exchange(x, s->docs);
    deliver(*s, x.primary());
  }
}

void Outputs::on_idle(std::int64_t now_ns) noexcept {
  if (transactions_) table_.advance(now_ns, *this);
}

void Outputs::finish() noexcept {
  if (transactions_) table_.flush(*this);
}

void Outputs::register_metrics(MetricRegistry& r) const {
  if (transactions_) table_.register_metrics(r);
  for (const auto& s : streams_) {
    const std::string instance = std::string(format::mode_name(s->mode)) + "/" + s->format_name;
    r.add({"output", instance, "documents", {}, "documents made for the emitters of this mode and format"},
          s->documents);
    r.add({"output", instance, "empty", {}, "inputs this format makes no document of (stash53: queries)",
           MetricType::Counter, true},
          s->empty);
  }
}

}  // namespace stash53::app

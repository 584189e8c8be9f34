// `tld`: the last label of qname, lower case; nothing for the root.
#include "enrich/enricher.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

const event::ValueField kTld("tld", event::FieldType::String, event::rank::kEnrichment,
                             "last label of qname, lower case; absent for the root");

class TldEnricher final : public Enricher {
 public:
  explicit TldEnricher(const EnricherSpec&) {}
  void enrich(decode::DnsEvent& ev) noexcept override {
    const std::string_view qname = ev.has_question ? ev.view(ev.qname) : std::string_view();
    if (qname.size() < 2) return misses_.add();  // no question, or the root "."
    // The last label starts after the last dot that is not escaped (`\.`, `\046`).
    const std::size_t end = qname.size() - 1;
    std::size_t start = 0;
    for (std::size_t i = 0; i < end; ++i) {
      if (qname[i] == '\\')
        i += (qname[i + 1] >= '0' && qname[i + 1] <= '9') ? 3 : 1;
      else if (qname[i] == '.')
        start = i + 1;
    }
    label_.assign(qname.substr(start, end - start));
    for (char& c : label_)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    kTld.set_text(ev, label_);
    hits_.add();
  }

 private:
  std::string label_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("tld", TldEnricher, Annotate, true);

}  // namespace stash53::enrich

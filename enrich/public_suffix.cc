// `public_suffix`: the registered domain (eTLD+1) of qname and its public suffix, from the Public
// Suffix List (libpsl, with Debian's publicsuffix data).
#include <libpsl.h>

#include <memory>

#include "enrich/enricher.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

const event::ValueField kRegistered(
    "registered_domain", event::FieldType::String, event::rank::kEnrichment + 1,
    "qname's registered domain (public suffix plus one label, eTLD+1), lower case, no trailing "
    "dot: `example.co.uk`; absent for the root and for a name that is itself a public suffix "
    "(enricher `public_suffix`)");
const event::ValueField kSuffix(
    "public_suffix", event::FieldType::String, event::rank::kEnrichment + 2,
    "qname's public suffix by the Public Suffix List, private section included: `co.uk`, "
    "`github.io`; a TLD not on the list counts as one (enricher `public_suffix`)");

class PublicSuffixEnricher final : public Enricher {
 public:
  explicit PublicSuffixEnricher(const EnricherSpec& spec) : psl_(nullptr, &psl_free) {
    std::string file;
    spec.options->read("file", file, "a public suffix list (.dat or .dafsa); default: the newest "
                                     "of libpsl's built-in list and Debian's publicsuffix package");
    psl_.reset(file.empty() ? psl_latest(nullptr) : psl_load_file(file.c_str()));
    if (!psl_) spec.options->fail("file", "cannot load the public suffix list '" + file + "'");
  }

  void enrich(decode::DnsEvent& ev) noexcept override {
    const std::string_view qname = ev.has_question ? ev.view(ev.qname) : std::string_view();
    if (qname.size() < 2) return misses_.add();  // no question, or the root
    // Lower case, no trailing dot. A label with an escape (`\.`, `\DDD`) cannot be on the list:
    // the probe has a placeholder instead, so an escaped dot is never taken for a label boundary.
    name_.assign(qname.substr(0, qname.size() - 1));
    probe_.clear();
    starts_.clear();
    bool escaped = false;
    for (std::size_t i = 0, label = 0; i <= name_.size(); ++i) {
      if (i == name_.size() || (name_[i] == '.' && !escaped)) {
        const std::string_view l(name_.data() + label, i - label);
        starts_.push_back(label);
        probe_ += l.find('\\') == std::string_view::npos ? l : std::string_view("x--escaped");
        if (i < name_.size()) probe_ += '.';
        label = i + 1;
        continue;
      }
      char& c = name_[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      escaped = !escaped && c == '\\';
      if (escaped && i + 1 < name_.size() && name_[i + 1] >= '0' && name_[i + 1] <= '9') {
        i += 3;  // \DDD: never a boundary
        escaped = false;
      }
    }
    const char* suffix = psl_unregistrable_domain(psl_.get(), probe_.c_str());
    if (suffix == nullptr) return misses_.add();
    // Count the suffix's labels, then take as many (plus one) of the original's.
    std::size_t labels = 1;
    for (const char* p = suffix; *p; ++p) labels += *p == '.';
    if (labels > starts_.size()) return misses_.add();
    kSuffix.set_text(ev, std::string_view(name_).substr(starts_[starts_.size() - labels]));
    if (labels < starts_.size())
      kRegistered.set_text(ev, std::string_view(name_).substr(starts_[starts_.size() - labels - 1]));
    hits_.add();
  }

 private:
  std::unique_ptr<psl_ctx_t, decltype(&psl_free)> psl_;
  std::string name_, probe_;
  std::vector<std::size_t> starts_;  // where each label of name_ starts
};

}  // namespace

STASH53_REGISTER_ENRICHER("public_suffix", PublicSuffixEnricher, Annotate, true);

}  // namespace stash53::enrich

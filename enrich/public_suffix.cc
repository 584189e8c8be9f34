// `public_suffix`: the registered domain (eTLD+1) of qname and its public suffix, from the Public
// Suffix List (enrich/public_suffix_list.h).

#include <stdexcept>

#include "enrich/enricher.h"
#include "enrich/public_suffix_list.h"
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
  explicit PublicSuffixEnricher(const EnricherSpec& spec) : list_(read_file(*spec.options)) {}

  void enrich(decode::DnsEvent& ev) noexcept override {
    PublicSuffixList::Split s;
    if (!ev.has_question || !list_.split(ev.view(ev.qname), s)) return misses_.add();
    kSuffix.set_text(ev, s.suffix);
    if (!s.registered.empty()) kRegistered.set_text(ev, s.registered);
    hits_.add();
  }

 private:
  static PublicSuffixList read_file(config::OptionReader& o) {
    std::string file;
    o.read("file", file, "a public suffix list (.dat or .dafsa); default: the newest of libpsl's "
                         "built-in list and Debian's publicsuffix package");
    try {
      return PublicSuffixList(file);
    } catch (const std::runtime_error& e) {
      o.fail("file", e.what());
    }
  }

  PublicSuffixList list_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("public_suffix", PublicSuffixEnricher, Annotate, true);

}  // namespace stash53::enrich

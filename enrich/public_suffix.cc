// `public_suffix`: the registered domain (eTLD+1) of qname and its public suffix, from the Public
// Suffix List (libpsl, with Debian's publicsuffix data).
#include <libpsl.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>

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
    read_deep_tails(file.empty() ? "/usr/share/publicsuffix/public_suffix_list.dat" : file);
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
    const std::size_t labels = suffix_labels();
    if (labels == 0 || labels > starts_.size()) return misses_.add();
    kSuffix.set_text(ev, std::string_view(name_).substr(starts_[starts_.size() - labels]));
    if (labels < starts_.size())
      kRegistered.set_text(ev, std::string_view(name_).substr(starts_[starts_.size() - labels - 1]));
    hits_.add();
  }

 private:
  // The answer for a name depends only on as many of its trailing labels as the longest rule
  // that could match has: most names need only their last two labels (no rule of three or more
  // labels ends in them), the others kMaxRuleLabels. Those labels are the key of a small
  // direct-mapped cache that spares most calls into libpsl, a fifth of the pipeline's time
  // without it. libpsl does not list its rules, so the deep tails come from the list's text.
  void read_deep_tails(const std::string& dat) {
    std::ifstream in(dat);
    if (!in || dat.ends_with(".dafsa")) return (void)(all_deep_ = true);  // every key long
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line.starts_with("//")) continue;
      line = line.substr(0, line.find_first_of(" \t\r"));
      std::size_t labels = 1;
      for (const char c : line) labels += c == '.';
      if (labels < 3) continue;
      const std::size_t tld = line.rfind('.'), second = line.rfind('.', tld - 1);
      std::string tail = line.substr(second + 1);
      const bool ascii = std::all_of(tail.begin(), tail.end(), [](char c) { return c > 0; });
      // An IDN label is punycode in DNS names: mark its whole (ASCII) TLD instead.
      deep_.insert(ascii ? tail : line.substr(tld + 1));
    }
  }

  std::size_t suffix_labels() noexcept {
    std::string_view key = probe_;
    const std::size_t tld = key.rfind('.');
    const std::size_t second = tld == std::string_view::npos || tld == 0 ? std::string_view::npos
                                                                        : key.rfind('.', tld - 1);
    const bool deep = all_deep_ || key.find("xn--") != std::string_view::npos ||
                      (tld != std::string_view::npos && deep_.contains(key.substr(tld + 1))) ||
                      (second != std::string_view::npos && deep_.contains(key.substr(second + 1)));
    for (std::size_t dots = 0, i = key.size(); i-- > 0;)
      if (key[i] == '.' && ++dots == (deep ? kMaxRuleLabels : 2)) {
        key.remove_prefix(i + 1);
        break;
      }
    const std::size_t h = std::hash<std::string_view>{}(key);
    auto& slot = cache_[h & (cache_.size() - 1)];
    if (slot.used && slot.key == key) return slot.labels;
    const char* suffix = psl_unregistrable_domain(psl_.get(), key.data());
    std::size_t labels = 0;
    if (suffix != nullptr)
      for (labels = 1; *suffix; ++suffix) labels += *suffix == '.';
    slot.key.assign(key);
    slot.labels = labels;
    slot.used = true;
    return labels;
  }

  static constexpr std::size_t kMaxRuleLabels = 6;  // the list's longest rule has 5
  struct Slot {
    std::string key;
    std::size_t labels = 0;
    bool used = false;
  };
  std::unique_ptr<psl_ctx_t, decltype(&psl_free)> psl_;
  std::string name_, probe_;
  std::vector<std::size_t> starts_;  // where each label of name_ starts
  std::vector<Slot> cache_ = std::vector<Slot>(8192);
  std::set<std::string, std::less<>> deep_;  // two-label tails (or TLDs) of longer rules
  bool all_deep_ = false;
};

}  // namespace

STASH53_REGISTER_ENRICHER("public_suffix", PublicSuffixEnricher, Annotate, true);

}  // namespace stash53::enrich

#pragma once
// The Public Suffix List (libpsl, with Debian's publicsuffix data) for DNS names in presentation
// format: their public suffix and registered domain (eTLD+1). Used by the public_suffix enricher
// for qname and by the privacy enricher for every question.

#include <libpsl.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stash53::enrich {

class PublicSuffixList {
 public:
  /// `file`: a .dat or .dafsa list; empty: the newest of libpsl's built-in list and Debian's
  /// publicsuffix package. Throws std::runtime_error when it cannot be loaded.
  explicit PublicSuffixList(const std::string& file);

  struct Split {
    std::string_view suffix;      // "co.uk"; empty when the name has none
    std::string_view registered;  // "example.co.uk"; empty for a public suffix itself
  };
  /// `name` with its trailing dot, any case, dig's escapes; the views are lower case, without
  /// the dot, and valid until the next call. False for the root and names without a suffix.
  bool split(std::string_view name, Split& out) noexcept;

 private:
  // The answer for a name depends only on as many of its trailing labels as the longest rule
  // that could match has: most names need only their last two labels (no rule of three or more
  // labels ends in them), the others kMaxRuleLabels. Those labels are the key of a small
  // direct-mapped cache that spares most calls into libpsl, a fifth of the pipeline's time
  // without it; the two-label tails have a cache of their own that also says whether the
  // name needs more. libpsl does not list its rules, so the deep tails come from the list's
  // text.
  void read_deep_tails(const std::string& dat);
  std::size_t suffix_labels() noexcept;
  std::size_t lookup(std::string_view key) noexcept;  // labels of key's public suffix

  static constexpr std::size_t kMaxRuleLabels = 6;  // the list's longest rule has 5
  struct Slot {
    std::string key;
    std::size_t labels = 0;
    bool used = false;
    bool deep = false;  // tails_: a longer rule may end in these two labels
  };
  std::unique_ptr<psl_ctx_t, decltype(&psl_free)> psl_;
  std::string name_, probe_;
  std::vector<std::size_t> starts_;  // where each label of name_ starts
  std::vector<Slot> tails_ = std::vector<Slot>(4096);
  std::vector<Slot> cache_ = std::vector<Slot>(8192);
  std::set<std::string, std::less<>> deep_;  // two-label tails (or TLDs) of longer rules
  bool all_deep_ = false;
};

}  // namespace stash53::enrich

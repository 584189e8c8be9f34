#include "enrich/public_suffix_list.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace stash53::enrich {

PublicSuffixList::PublicSuffixList(const std::string& file) : psl_(nullptr, &psl_free) {
  psl_.reset(file.empty() ? psl_latest(nullptr) : psl_load_file(file.c_str()));
  if (!psl_) throw std::runtime_error("cannot load the public suffix list '" + file + "'");
  read_deep_tails(file.empty() ? "/usr/share/publicsuffix/public_suffix_list.dat" : file);
}

bool PublicSuffixList::split(std::string_view qname, Split& out) noexcept {
  out = {};
  if (qname.size() < 2) return false;  // the root
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
  if (labels == 0 || labels > starts_.size()) return false;
  out.suffix = std::string_view(name_).substr(starts_[starts_.size() - labels]);
  if (labels < starts_.size())
    out.registered = std::string_view(name_).substr(starts_[starts_.size() - labels - 1]);
  return true;
}

void PublicSuffixList::read_deep_tails(const std::string& dat) {
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

namespace {

// The last `n` labels of a dotted name (all of it when it has fewer).
std::string_view last_labels(std::string_view name, std::size_t n) {
  for (std::size_t dots = 0, i = name.size(); i-- > 0;)
    if (name[i] == '.' && ++dots == n) return name.substr(i + 1);
  return name;
}

}  // namespace

std::size_t PublicSuffixList::lookup(std::string_view key) noexcept {
  const char* suffix = psl_unregistrable_domain(psl_.get(), key.data());
  std::size_t labels = 0;
  if (suffix != nullptr)
    for (labels = 1; *suffix; ++suffix) labels += *suffix == '.';
  return labels;
}

std::size_t PublicSuffixList::suffix_labels() noexcept {
  const std::string_view key = probe_;
  // First by the last two labels: whether a longer rule could end in them, and if not the
  // answer. A key is a suffix of probe_, so it ends where probe_'s NUL is, as libpsl wants.
  const std::string_view tail = last_labels(key, 2);
  auto& t = tails_[std::hash<std::string_view>{}(tail) & (tails_.size() - 1)];
  if (!t.used || t.key != tail) {
    const std::size_t dot = tail.rfind('.');
    t.key.assign(tail);
    t.used = true;
    t.deep = all_deep_ || tail.find("xn--") != std::string_view::npos ||
             deep_.contains(dot == std::string_view::npos ? tail : tail.substr(dot + 1)) ||
             (dot != std::string_view::npos && deep_.contains(tail));
    t.labels = t.deep ? 0 : lookup(tail);
  }
  if (!t.deep) return t.labels;
  const std::string_view deep_key = last_labels(key, kMaxRuleLabels);
  auto& slot = cache_[std::hash<std::string_view>{}(deep_key) & (cache_.size() - 1)];
  if (slot.used && slot.key == deep_key) return slot.labels;
  slot.key.assign(deep_key);
  slot.labels = lookup(deep_key);
  slot.used = true;
  return slot.labels;
}

}  // namespace stash53::enrich

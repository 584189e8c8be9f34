// Security classification; see security_classifier.h for the API and the options.
//
// How the benign names that look odd stay silent:
// - Reverse lookups: an in-addr.arpa name of decimal octets or an ip6.arpa name of nibbles (32
//   labels, 73 characters) is not judged by the name heuristics nor counted in windows. Other
//   names under arpa are: reverse zones are delegated to whoever holds the addresses.
// - DNSBL, DNSWL, hash and reputation lookups: exempt_suffixes. A DNSBL missing from that list
//   still stays out of the windows: a name that starts with an IPv4 address (4 decimal labels)
//   or IPv6 nibbles (32 labels) followed by at most two zone labels is an address lookup.
// - mDNS/DNS-SD and Kubernetes (`svc.cluster.local`, search-path expansions) are under `local`.
// - Chrome's random probes are single labels: no registered domain, so no window counts them.
//   NXDOMAIN is counted per distinct registered domain, so search-path expansions under one
//   corporate domain count once however many names they produce.
// - CDN names have short labels, and the public suffix list's private section makes
//   `dscx.akamaiedge.net`, `g2.akamai.net` and each `*.cloudfront.net` their own registered
//   domains, so their subdomains do not pile up under one key.
// - Identifiers of 128 bits or less (MD5, SES DKIM selectors, Lambda and EKS endpoints) are at
//   most 32 characters, under entropy_min_label_length. UUIDs have four dashes and the entropy
//   of hex. Readable long names are dashed words of low entropy; punycode (`xn--`) is skipped.
//
// Per message: one pass over the qname, eight octets at a time, that decodes escapes, folds case
// and hashes each label; two more passes over the octets of a label only when it is long
// enough to be judged (rare in ordinary traffic); one pass over the registered domain; O(1)
// table work. No std::regex, no allocation once the tables have filled.

#include "enrich/security_classifier.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>

namespace stash53::enrich {
namespace {

constexpr std::size_t kReasonCount = static_cast<std::size_t>(SecurityReason::kCount);

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "txt-query",       "any-query",  "long-qname",    "long-label",    "high-entropy-label",
    "many-subdomains", "null-qtype", "private-qtype", "nxdomain-ratio"};

// ATT&CK: T1071.004 names DNS tunnelling as a C2 channel; T1568.002 is the DGA technique, whose
// observable is the burst of NXDOMAIN answers; T1048.003 covers data sent out over DNS when it
// is not (visibly) the C2 channel, which is all that a stream of subdomains alone shows.
constexpr MitreTechnique kDnsC2{"T1071.004", "Application Layer Protocol: DNS",
                                "Command and Control"};
constexpr MitreTechnique kDga{"T1568.002", "Dynamic Resolution: Domain Generation Algorithms",
                              "Command and Control"};
constexpr MitreTechnique kExfil{"T1048.003",
                                "Exfiltration Over Alternative Protocol: Exfiltration Over "
                                "Unencrypted Non-C2 Protocol",
                                "Exfiltration"};

constexpr std::uint16_t kTypeNull = 10, kTypeTxt = 16, kTypeAny = 255;
constexpr std::uint16_t kTypePrivateFirst = 65280, kTypePrivateLast = 65534;  // RFC 6895 §3.1
constexpr std::uint16_t kRcodeNoError = 0, kRcodeNxDomain = 3;

constexpr std::uint32_t bit(SecurityReason r) { return std::uint32_t{1} << static_cast<int>(r); }

// Byte classes of a case-folded octet.
enum : std::uint8_t { kDigit = 1, kLetter = 2, kHex = 4, kSeparator = 8 };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit | kHex;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLetter;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  t['-'] = t['_'] = kSeparator;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClass = make_classes();

// Letter pairs common in English: bit b of kCommonPair[a] is set when the pair ('a' + a,
// 'a' + b) is among the 284 pairs that make up 98% of the letter pairs in the English text of
// Debian 12's manual pages (sections 1, 5, 8) and package READMEs (18 M words). Readable names,
// technical ones included, have few pairs outside this set; random letters have about 58%.
constexpr std::array<std::uint32_t, 26> kCommonPair = {
    0x1bebd6e, 0x1164911, 0x11ecd95, 0x0164119, 0x1eff97f, 0x11ac933, 0x0166995,
    0x00ad111, 0x2aef87f, 0x0004010, 0x0140111, 0x11cc959, 0x114d913, 0x13c697d,
    0x07eff7f, 0x11ec999, 0x0100000, 0x13efd7f, 0x11ecd95, 0x15ec995, 0x00eb95f,
    0x0001111, 0x0004191, 0x0088111, 0x006f000, 0x0004011};

constexpr std::array<std::uint8_t, 256> make_fold() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  return t;
}
constexpr std::array<std::uint8_t, 256> kFold = make_fold();

// Hashes. A label hashes its case-folded octets, eight at a time, keyed with a seed drawn per
// classifier; a name chains its labels' hashes from the right, so that every suffix of a name
// (and an exempt suffix parsed the same way) has a hash. Hits that matter for silence (exempt
// suffixes, TXT labels, the registered domain) are confirmed by comparing text, so a collision
// can only make two windows share state: 64-bit keys, about n^2 / 2^65 for n live keys.
constexpr std::uint64_t kRootHash = 0x6a09e667f3bcc908ULL;

constexpr std::uint64_t mix(std::uint64_t x) {  // the splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
constexpr std::uint64_t chain(std::uint64_t label, std::uint64_t suffix) {
  return mix(label ^ (suffix * 0x9e3779b97f4a7c15ULL));
}
// `p` holds `n` octets followed by at least 8 zero octets.
std::uint64_t hash_octets(const std::uint8_t* p, std::size_t n, std::uint64_t seed) noexcept {
  std::uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  return h;  // chain() mixes it again; NameSet only needs its low bits spread
}

constexpr std::uint32_t kMaxLabels = 128;  // a name of 255 octets has at most 127
constexpr std::size_t kLabelOctets = 256;  // octets of a label kept (a valid one has <= 63)

// The escape at s[i] (a backslash): passes its octet to octet(), returns the index after it.
template <typename Octet>
std::size_t decode_escape(std::string_view s, std::size_t i, Octet&& octet) noexcept {
  const std::size_t n = s.size();
  const auto digit = [&s](std::size_t k) { return s[k] >= '0' && s[k] <= '9'; };
  if (i + 1 == n) {  // a lone trailing backslash stands for itself
    octet('\\');
    return n;
  }
  if (i + 3 < n && digit(i + 1) && digit(i + 2) && digit(i + 3)) {  // `\DDD`
    octet(static_cast<std::uint8_t>(
        ((s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 + (s[i + 3] - '0')) & 0xFF));
    return i + 4;
  }
  octet(static_cast<std::uint8_t>(s[i + 1]));  // `\.`, `\\`, ...
  return i + 2;
}

// Decodes a name in presentation format (`\.`, `\DDD`): octet(b) for each octet of a label,
// end(begin, end) after each label with its offsets in `s` (also for empty ones: the root,
// after the trailing dot).
template <typename Octet, typename End>
void decode_name(std::string_view s, Octet&& octet, End&& end) noexcept {
  std::size_t i = 0, start = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      end(start, i);
      start = ++i;
    } else if (c != '\\') {
      octet(c);
      ++i;
    } else {
      i = decode_escape(s, i, octet);
    }
  }
  end(start, s.size());
}

// SWAR on eight octets: the high bit of each octet equal to `b` (exact for the lowest one, the
// classic "has zero byte" test), and the word with A-Z folded to a-z (its range variant).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
constexpr std::uint64_t byte_mask(std::uint64_t w, std::uint8_t b) {
  const std::uint64_t x = w ^ (kOnes * b);
  return (x - kOnes) & ~x & kHighs;
}
constexpr std::uint64_t fold8(std::uint64_t w) {
  const std::uint64_t low7 = w & ~kHighs;
  const std::uint64_t ge_a = low7 + kOnes * (0x80 - 'A');  // high bit set where >= 'A'
  const std::uint64_t gt_z = low7 + kOnes * (0x7F - 'Z');  // high bit set where > 'Z'
  const std::uint64_t upper = ge_a & ~gt_z & ~w & kHighs;  // ASCII and in 'A'..'Z'
  return w | (upper >> 2);                                 // 0x80 >> 2 == 0x20
}
static_assert(fold8(0x5A41402D7A615B00ULL) == 0x7A61402D7A615B00ULL);  // "\0[az-@AZ" little end.
static_assert(std::countr_zero(byte_mask(0x2E002E0000000000ULL, '.')) == 47 &&
              byte_mask(0x2D2D2D2D2D2D2D2DULL, '.') == 0);

struct NameHash {
  std::uint64_t hash = kRootHash;
  std::uint32_t labels = 0;
  std::uint32_t length = 0;  // octets and inner dots
  bool valid = false;        // 1..kMaxLabels labels of 1..63 octets
};

// A name parsed like a qname (for option values: exempt suffixes, TXT labels, reverse zones).
NameHash hash_name(std::string_view text, std::uint64_t seed) {
  std::vector<std::uint64_t> hashes;
  std::array<std::uint8_t, kLabelOctets + 8> buf{};
  std::size_t len = 0;
  bool ok = true;
  NameHash out;
  decode_name(
      text,
      [&](std::uint8_t b) {
        if (len < kLabelOctets) buf[len] = kFold[b];
        ++len;
      },
      [&](std::size_t, std::size_t) {
        if (len == 0) return;
        ok = ok && len <= 63;
        std::memset(buf.data() + std::min(len, kLabelOctets), 0, 8);
        hashes.push_back(hash_octets(buf.data(), std::min(len, kLabelOctets), seed));
        out.length += static_cast<std::uint32_t>(len) + (hashes.size() > 1 ? 1 : 0);
        len = 0;
      });
  out.labels = static_cast<std::uint32_t>(hashes.size());
  out.valid = ok && out.labels > 0 && out.labels <= kMaxLabels;
  for (std::size_t i = hashes.size(); i-- > 0;) out.hash = chain(hashes[i], out.hash);
  return out;
}

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (kFold[static_cast<unsigned char>(a[i])] != kFold[static_cast<unsigned char>(b[i])])
      return false;
  return true;
}

std::string lower_name(std::string_view s) {
  std::string out;
  for (const char c : s) out += static_cast<char>(kFold[static_cast<unsigned char>(c)]);
  while (!out.empty() && out.back() == '.' && (out.size() < 2 || out[out.size() - 2] != '\\'))
    out.pop_back();
  return out;
}

// A fixed-capacity LRU map from 64-bit keys (already hashes) to Value. No Debian library fits:
// Boost's LRU caches allocate per insertion. Linear-probing index with backward-shift deletion
// (no tombstones), nodes in one preallocated array on an intrusive recency list. Every
// operation is O(1) expected and allocation-free; distinct keys are never merged (a full 64-bit
// compare), so the only collisions are of the callers' hashes, see above.
template <typename Value>
class HashLru {
 public:
  explicit HashLru(std::uint32_t capacity) : capacity_(capacity) {
    std::size_t slots = 2;
    while (slots < std::size_t{capacity} * 2) slots <<= 1;
    index_.assign(slots, Slot{});
    mask_ = slots - 1;
    nodes_.reserve(capacity);
  }

  // The value of `key`, now the most recently used; null when absent.
  Value* find(std::uint64_t key) noexcept {
    const std::uint32_t n = index_[locate(key)].node;
    if (n == kNone) return nullptr;
    touch(n);
    return &nodes_[n].value;
  }

  // The value of `key`, inserted value-initialised (evicting the least recently used entry when
  // full) if absent.
  Value& get(std::uint64_t key, bool& inserted, bool& evicted) noexcept {
    std::size_t slot = locate(key);
    inserted = evicted = false;
    if (index_[slot].node != kNone) {
      touch(index_[slot].node);
      return nodes_[index_[slot].node].value;
    }
    inserted = true;
    std::uint32_t n;
    if (nodes_.size() < capacity_) {
      n = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();  // within the reserved capacity: no allocation
    } else {
      n = tail_;
      unlink(n);
      erase_slot(locate(nodes_[n].key));
      slot = locate(key);  // the deletion may have shifted entries
      evicted = true;
    }
    nodes_[n].key = key;
    nodes_[n].value = Value{};
    index_[slot] = {key, n};
    push_front(n);
    return nodes_[n].value;
  }

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t node = kNone;
  };
  struct Node {
    std::uint64_t key = 0;
    std::uint32_t prev = kNone, next = kNone;
    Value value{};
  };

  std::size_t locate(std::uint64_t key) const noexcept {
    std::size_t i = key & mask_;
    while (index_[i].node != kNone && index_[i].key != key) i = (i + 1) & mask_;
    return i;
  }
  void erase_slot(std::size_t i) noexcept {
    // Backward shift: move later entries of the probe run into the hole unless their home slot
    // lies cyclically in (hole, entry].
    for (std::size_t j = (i + 1) & mask_; index_[j].node != kNone; j = (j + 1) & mask_) {
      const std::size_t home = index_[j].key & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        index_[i] = index_[j];
        i = j;
      }
    }
    index_[i].node = kNone;
  }
  void unlink(std::uint32_t n) noexcept {
    Node& x = nodes_[n];
    (x.prev == kNone ? head_ : nodes_[x.prev].next) = x.next;
    (x.next == kNone ? tail_ : nodes_[x.next].prev) = x.prev;
    x.prev = x.next = kNone;
  }
  void push_front(std::uint32_t n) noexcept {
    nodes_[n].next = head_;
    nodes_[n].prev = kNone;
    (head_ == kNone ? tail_ : nodes_[head_].prev) = n;
    head_ = n;
  }
  void touch(std::uint32_t n) noexcept {
    if (n == head_) return;
    unlink(n);
    push_front(n);
  }

  std::uint32_t capacity_;
  std::size_t mask_ = 0;
  std::vector<Slot> index_;
  std::vector<Node> nodes_;
  std::uint32_t head_ = kNone, tail_ = kNone;
};

// 256-bit sketch of a set of hashes, read by linear counting (Whang et al. 1990): n distinct
// items set about m(1 - e^(-n/m)) bits, so n ≈ m ln(m / zero bits). Accurate to a few percent
// up to several hundred items; saturates near 1400.
struct Bits256 {
  std::array<std::uint64_t, 4> w{};
  static constexpr unsigned pos(std::uint64_t h) { return static_cast<unsigned>(h >> 56); }
  void set(std::uint64_t h) noexcept { w[pos(h) >> 6] |= std::uint64_t{1} << (pos(h) & 63); }
};
unsigned union_popcount(const Bits256& a, const Bits256& b) noexcept {
  unsigned n = 0;
  for (std::size_t i = 0; i < 4; ++i) n += static_cast<unsigned>(std::popcount(a.w[i] | b.w[i]));
  return n;
}
bool union_test(const Bits256& a, const Bits256& b, std::uint64_t h) noexcept {
  const unsigned p = Bits256::pos(h);
  return (((a.w[p >> 6] | b.w[p >> 6]) >> (p & 63)) & 1) != 0;
}

// A window of two half-window buckets; `start` opens the current one. Counting covers the last
// half-window to window of capture time. A timestamp older than `start` (reordered packets)
// counts in the current bucket.
template <typename S>
void advance(S& s, std::int64_t ts, std::int64_t half) noexcept {
  if (ts - s.start < half) return;
  if (ts - s.start < 2 * half) {
    s.rotate();
    s.start += half;
  } else {
    s.rotate();
    s.rotate();
    s.start = ts;
  }
}

struct DomainState {  // one client, one registered domain
  std::int64_t start = 0;
  Bits256 cur, prev;  // subdomains (full-name hashes)
  void rotate() noexcept {
    prev = cur;
    cur = {};
  }
};

struct ClientState {
  std::int64_t start = 0;
  std::uint32_t answers_cur = 0, answers_prev = 0;
  Bits256 nx_cur, nx_prev;  // registered domains answered NXDOMAIN
  Bits256 ok_cur, ok_prev;  // registered domains answered NOERROR
  void rotate() noexcept {
    answers_prev = answers_cur;
    answers_cur = 0;
    nx_prev = nx_cur;
    nx_cur = {};
    ok_prev = ok_cur;
    ok_cur = {};
  }
};

// A set of names keyed by hash, with their text to confirm a hit: open addressing, built once.
class NameSet {
 public:
  void add(std::uint64_t hash, std::string text) {
    entries_.emplace_back(hash, std::move(text));
    std::size_t size = 4;
    while (size < entries_.size() * 4) size <<= 1;
    slots_.assign(size, kEmpty);
    mask_ = size - 1;
    for (std::uint32_t e = 0; e < entries_.size(); ++e) {
      std::size_t i = entries_[e].first & mask_;
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = e;
    }
  }
  // True when a member has this hash and its text equals `text`, ignoring ASCII case.
  [[nodiscard]] bool contains(std::uint64_t hash, std::string_view text) const noexcept {
    if (slots_.empty()) return false;
    for (std::size_t i = hash & mask_; slots_[i] != kEmpty; i = (i + 1) & mask_) {
      const auto& [h, t] = entries_[slots_[i]];
      if (h == hash && iequals(text, t)) return true;
    }
    return false;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFF;
  std::vector<std::pair<std::uint64_t, std::string>> entries_;
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
};

struct Problem {
  const char* key;
  std::string text;
};

bool valid_name_list(const std::vector<std::string>& names) {
  return std::all_of(names.begin(), names.end(), [](const std::string& n) {
    const NameHash h = hash_name(n, 0);
    return h.valid && h.length <= 253;
  });
}

std::string known_reasons() {
  std::string s;
  for (const auto n : kReasonNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

// What read_security_options and the constructor reject beyond the integer ranges.
std::optional<Problem> check(const SecurityOptions& o) {
  for (const auto& n : o.disabled_reasons) {
    SecurityReason r{};
    if (!security_reason_from_name(n, r))
      return Problem{"disabled_reasons",
                     "unknown reason '" + n + "' (known: " + known_reasons() + ")"};
  }
  if (!valid_name_list(o.exempt_suffixes))
    return Problem{"exempt_suffixes", "expected domain names such as spamhaus.org"};
  for (const auto& l : o.txt_exempt_labels) {
    const NameHash h = hash_name(l, 0);
    if (h.labels != 1 || h.length > 63)
      return Problem{"txt_exempt_labels", "expected single labels such as _dmarc, got '" + l + "'"};
  }
  if (!(o.entropy_threshold >= 0 && o.entropy_threshold <= 8))
    return Problem{"entropy_threshold", "expected a number of bits per octet from 0 to 8"};
  const auto out_of = [](std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
    return v < lo || v > hi;
  };
  if (out_of(o.max_qname_length, 1, 255)) return Problem{"max_qname_length", "expected 1..255"};
  if (out_of(o.max_label_length, 1, 63)) return Problem{"max_label_length", "expected 1..63"};
  if (out_of(o.entropy_min_label_length, 1, 63))
    return Problem{"entropy_min_label_length", "expected 1..63"};
  if (out_of(o.min_run_length, 1, 63)) return Problem{"min_run_length", "expected 1..63"};
  if (out_of(o.rare_pair_percent, 0, 100)) return Problem{"rare_pair_percent", "expected 0..100"};
  if (out_of(o.subdomain_threshold, 1, 1000))
    return Problem{"subdomain_threshold", "expected 1..1000"};
  if (out_of(o.subdomain_min_length, 0, 253))
    return Problem{"subdomain_min_length", "expected 0..253"};
  if (out_of(o.subdomain_window_s, 2, 86400))
    return Problem{"subdomain_window_s", "expected 2..86400"};
  if (out_of(o.nxdomain_min_count, 1, 1000))
    return Problem{"nxdomain_min_count", "expected 1..1000"};
  if (out_of(o.nxdomain_ratio_percent, 0, 100))
    return Problem{"nxdomain_ratio_percent", "expected 0..100"};
  if (out_of(o.nxdomain_window_s, 2, 86400))
    return Problem{"nxdomain_window_s", "expected 2..86400"};
  if (out_of(o.max_domains, 1, 1 << 24)) return Problem{"max_domains", "expected 1..16777216"};
  if (out_of(o.max_clients, 1, 1 << 24)) return Problem{"max_clients", "expected 1..16777216"};
  return std::nullopt;
}

// What the one pass over the qname found.
struct NameScan {
  std::uint32_t labels = 0;
  std::uint32_t length = 0;  // octets and inner dots
  bool overflow = false;     // more than kMaxLabels labels: no suffix hashes
  bool encoded = false;      // some label looks encoded
  bool long_label = false;   // some label is long and not dashed words
  bool txt_exempt_label = false;
  std::uint32_t leading_octets = 0;                  // leading labels that are decimal 0..255
  std::uint32_t leading_nibbles = 0;                 // leading labels that are one hex digit
  std::array<std::uint64_t, kMaxLabels + 1> suffix;  // [i]: labels i.. chained; [labels]: root
  std::array<std::uint64_t, kMaxLabels> label_hash;
  std::array<std::uint32_t, kMaxLabels> begin, end;  // a label's text in the qname
};

// Character statistics of one long label.
struct LabelStats {
  std::uint32_t digits = 0, letters = 0, others = 0;
  std::uint32_t pairs = 0, rare_pairs = 0;  // adjacent letters, and those rare in English
  std::uint32_t max_run = 0;                // octets without `-` or `_`
  std::uint32_t distinct = 0;
  float sum_clog2c = 0;  // sum over distinct octets of count * log2(count)
  bool hex_only = true;
};

}  // namespace

std::string_view security_reason_name(SecurityReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kReasonCount ? kReasonNames[i] : std::string_view("unknown");
}

bool security_reason_from_name(std::string_view name, SecurityReason& out) noexcept {
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    if (kReasonNames[i] == name) {
      out = static_cast<SecurityReason>(i);
      return true;
    }
  }
  return false;
}

MitreTechnique security_reason_technique(SecurityReason r) noexcept {
  switch (r) {
    case SecurityReason::NxdomainRatio:
      return kDga;
    case SecurityReason::ManySubdomains:
      return kExfil;
    default:
      return kDnsC2;
  }
}

void read_security_options(config::OptionReader& o, SecurityOptions& opts) {
  o.read("disabled_reasons", opts.disabled_reasons, "a list of reason names");
  o.read("exempt_suffixes", opts.exempt_suffixes, "a list of domain names");
  o.read("txt_exempt_labels", opts.txt_exempt_labels, "a list of labels such as _dmarc");
  o.read("txt_exempt_apex", opts.txt_exempt_apex, "true or false");
  o.read_range("max_qname_length", opts.max_qname_length, 1, 255);
  o.read_range("max_label_length", opts.max_label_length, 1, 63);
  o.read_range("entropy_min_label_length", opts.entropy_min_label_length, 1, 63);
  o.read_range("min_run_length", opts.min_run_length, 1, 63);
  o.read("entropy_threshold", opts.entropy_threshold, "a number of bits per octet from 0 to 8");
  o.read_range("rare_pair_percent", opts.rare_pair_percent, 0, 100);
  o.read_range("subdomain_threshold", opts.subdomain_threshold, 1, 1000);
  o.read_range("subdomain_min_length", opts.subdomain_min_length, 0, 253);
  o.read_range("subdomain_window_s", opts.subdomain_window_s, 2, 86400);
  o.read_range("max_domains", opts.max_domains, 1, 1 << 24);
  o.read_range("nxdomain_min_count", opts.nxdomain_min_count, 1, 1000);
  o.read_range("nxdomain_ratio_percent", opts.nxdomain_ratio_percent, 0, 100);
  o.read_range("nxdomain_window_s", opts.nxdomain_window_s, 2, 86400);
  o.read_range("max_clients", opts.max_clients, 1, 1 << 24);
  o.read("count_iterative", opts.count_iterative, "true or false");
  if (const auto p = check(opts)) o.fail(p->key, p->text);
}

struct SecurityClassifier::State {
  explicit State(const SecurityOptions& o)
      : opts(validated(o)), domains(o.max_domains), clients(o.max_clients) {
    // A random key: names cannot be crafted offline to share a sketch bit or a window.
    seed = o.hash_seed;
    if (seed == 0) {
      std::random_device random;
      seed = (std::uint64_t{random()} << 32) ^ random();
    }
    for (const auto& n : o.disabled_reasons) {
      SecurityReason r{};
      (void)security_reason_from_name(n, r);
      disabled |= bit(r);
    }
    for (const auto& s : o.exempt_suffixes) {
      const NameHash h = hash_name(s, seed);
      exempt.add(h.hash, lower_name(s));
      exempt_depth = std::max(exempt_depth, h.labels);
    }
    for (const auto& l : o.txt_exempt_labels) {
      std::array<std::uint8_t, 64 + 8> b{};
      const std::string low = lower_name(l);
      std::memcpy(b.data(), low.data(), std::min<std::size_t>(low.size(), 64));
      txt_labels.add(hash_octets(b.data(), low.size(), seed), low);
    }
    in_addr_arpa = hash_name("in-addr.arpa", seed).hash;
    ip6_arpa = hash_name("ip6.arpa", seed).hash;
    judge_from = std::min(o.entropy_min_label_length, o.max_label_length + 1);
    sub_half_ns = std::int64_t{o.subdomain_window_s} * 500'000'000;
    nx_half_ns = std::int64_t{o.nxdomain_window_s} * 500'000'000;
    for (std::size_t c = 1; c < clog2c.size(); ++c)
      clog2c[c] = static_cast<float>(static_cast<double>(c) * std::log2(static_cast<double>(c)));
    for (std::size_t z = 1; z <= 256; ++z)
      estimate[256 - z] =
          static_cast<std::uint32_t>(std::lround(256.0 * std::log(256.0 / static_cast<double>(z))));
    estimate[256] = 1500;
    sub_bits = 257;
    for (std::uint32_t pc = 0; pc <= 256 && sub_bits == 257; ++pc)
      if (estimate[pc] >= o.subdomain_threshold) sub_bits = pc;
  }

  static const SecurityOptions& validated(const SecurityOptions& o) {
    if (const auto p = check(o))
      throw std::invalid_argument("security options: " + std::string(p->key) + ": " + p->text);
    return o;
  }

  void scan(std::string_view qname, bool txt) noexcept;
  void end_label(std::size_t len, std::uint32_t begin, std::uint32_t end, bool txt) noexcept;
  void judge(std::size_t len) noexcept;
  [[nodiscard]] bool exempt_name() const noexcept;
  // The text of labels first..last of the qname.
  [[nodiscard]] std::string_view labels_text(std::uint32_t first,
                                             std::uint32_t last) const noexcept {
    return qname.substr(name.begin[first], name.end[last] - name.begin[first]);
  }
  [[nodiscard]] bool nx_burst(const ClientState& c) const noexcept {
    const std::uint32_t nx = estimate[union_popcount(c.nx_cur, c.nx_prev)];
    const std::uint64_t answers = std::uint64_t{c.answers_cur} + c.answers_prev;
    return nx >= opts.nxdomain_min_count &&
           std::uint64_t{nx} * 100 >= answers * opts.nxdomain_ratio_percent;
  }

  SecurityOptions opts;
  std::uint64_t seed = 0;
  std::uint32_t disabled = 0;
  NameSet exempt;                  // suffix hashes
  std::uint32_t exempt_depth = 0;  // labels of the longest
  NameSet txt_labels;              // label hashes
  std::uint64_t in_addr_arpa = 0, ip6_arpa = 0;
  std::size_t judge_from = 0;  // labels this long get their characters looked at
  std::int64_t sub_half_ns = 0, nx_half_ns = 0;
  std::array<float, kLabelOctets + 1> clog2c{};  // c log2 c
  std::array<std::uint32_t, 257> estimate{};     // linear-counting estimate by popcount
  std::uint32_t sub_bits = 0;                    // popcount reaching subdomain_threshold

  HashLru<DomainState> domains;
  HashLru<ClientState> clients;
  Counter messages, flagged, client_evictions, domain_evictions;
  std::array<Counter, kReasonCount> per_reason;

  // Per message.
  std::string_view qname;
  NameScan name;
  std::array<std::uint8_t, kLabelOctets + 8> label{};  // the current label, folded
  std::array<std::uint16_t, 256> hist{};               // octet counts, zero between labels
};

void SecurityClassifier::State::scan(std::string_view q, bool txt) noexcept {
  qname = q;
  NameScan& n = name;
  n.labels = n.length = 0;
  n.overflow = n.encoded = n.long_label = n.txt_exempt_label = false;
  n.leading_octets = n.leading_nibbles = 0;
  // The length lives in a local: stores into the octet buffer could alias a member.
  std::size_t len = 0;
  std::uint8_t* const buf = label.data();
  const auto octet = [&len, buf](std::uint8_t b) {
    if (len < kLabelOctets) buf[len] = kFold[b];
    ++len;
  };
  const auto end = [&len, txt, this](std::size_t b, std::size_t e) {
    if (len > 0)  // empty labels (the root, after the trailing dot) are no labels
      end_label(len, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), txt);
    len = 0;
  };
  // Eight octets at a time up to the next `.` or `\` (little-endian hosts), that one by
  // decode_name's rules.
  const std::size_t size = q.size();
  std::size_t i = 0, start = 0;
  while (i < size) {
    if (std::endian::native == std::endian::little && i + 8 <= size && len + 8 <= kLabelOctets) {
      std::uint64_t w;
      std::memcpy(&w, q.data() + i, sizeof w);
      const std::uint64_t folded = fold8(w);
      std::memcpy(buf + len, &folded, sizeof folded);
      const std::uint64_t special = byte_mask(w, '.') | byte_mask(w, '\\');
      const std::size_t plain = special == 0 ? 8 : std::countr_zero(special) / 8;
      len += plain;
      i += plain;
      if (plain == 8) continue;
    }
    const auto c = static_cast<unsigned char>(q[i]);
    if (c == '.') {
      end(start, i);
      start = ++i;
    } else if (c != '\\') {
      octet(c);
      ++i;
    } else {
      i = decode_escape(q, i, octet);
    }
  }
  end(start, size);
  if (n.labels > kMaxLabels) n.overflow = true;
  const std::uint32_t stored = std::min(n.labels, kMaxLabels);
  n.suffix[stored] = kRootHash;
  for (std::uint32_t l = stored; l-- > 0;) n.suffix[l] = chain(n.label_hash[l], n.suffix[l + 1]);
}

void SecurityClassifier::State::end_label(std::size_t len, std::uint32_t begin, std::uint32_t end,
                                          bool txt) noexcept {
  NameScan& n = name;
  const std::size_t kept = std::min(len, kLabelOctets);
  std::memset(label.data() + kept, 0, 8);
  const std::uint64_t h = hash_octets(label.data(), kept, seed);
  const std::uint32_t i = n.labels++;
  if (i < kMaxLabels) {
    n.label_hash[i] = h;
    n.begin[i] = begin;
    n.end[i] = end;
  }
  n.length += static_cast<std::uint32_t>(len) + (i > 0 ? 1 : 0);
  if (n.leading_octets == i && len <= 3) {
    std::uint32_t v = 0;
    bool digits = true;
    for (std::size_t j = 0; j < len; ++j) {
      digits = digits && (kClass[label[j]] & kDigit) != 0;
      v = v * 10 + static_cast<std::uint32_t>(label[j] - '0');
    }
    if (digits && v <= 255) ++n.leading_octets;
  }
  if (n.leading_nibbles == i && len == 1 && (kClass[label[0]] & kHex) != 0) ++n.leading_nibbles;
  if (len >= judge_from) judge(len);
  if (txt && !n.txt_exempt_label && txt_labels.contains(h, qname.substr(begin, end - begin)))
    n.txt_exempt_label = true;
}

// The long-label and high-entropy-label tests, for labels of judge_from octets or more. Two
// passes over the label's octets, which short labels (almost all) never pay for.
void SecurityClassifier::State::judge(std::size_t len) noexcept {
  NameScan& n = name;
  const std::size_t kept = std::min(len, kLabelOctets);
  LabelStats st;
  std::uint32_t run = 0;
  int prev_letter = -1;  // 0..25, or -1 after a non-letter
  for (std::size_t j = 0; j < kept; ++j) {
    const std::uint8_t f = label[j];
    const std::uint8_t k = kClass[f];
    ++hist[f];
    st.digits += k & kDigit;
    st.others += k == 0 ? 1 : 0;
    st.hex_only = st.hex_only && (k & kHex) != 0;
    run = (k & kSeparator) != 0 ? 0 : run + 1;
    st.max_run = std::max(st.max_run, run);
    if ((k & kLetter) != 0) {
      ++st.letters;
      const int cur = f - 'a';
      if (prev_letter >= 0) {
        ++st.pairs;
        st.rare_pairs += (kCommonPair[static_cast<std::size_t>(prev_letter)] >> cur & 1) ^ 1;
      }
      prev_letter = cur;
    } else {
      prev_letter = -1;
    }
  }
  for (std::size_t j = 0; j < kept; ++j) {  // each distinct octet once: its count, then zero
    const std::uint16_t c = hist[label[j]];
    st.sum_clog2c += clog2c[c];
    st.distinct += c != 0 ? 1 : 0;
    hist[label[j]] = 0;
  }
  const bool runs = st.max_run >= opts.min_run_length;
  // A long label of dashed words is readable: only long unbroken runs make a long label.
  if (len > opts.max_label_length && runs) n.long_label = true;
  if (n.encoded || len < opts.entropy_min_label_length || len > 255 || !runs) return;
  if (len > 4 && std::memcmp(label.data(), "xn--", 4) == 0) return;  // punycode (RFC 3492)
  // Hex carries at most 4 bits per character, no more than prose: judge it by its alphabet.
  if (st.hex_only && st.digits > 0 && st.letters > 0) {
    n.encoded = true;
    return;
  }
  // Shannon entropy with the Miller-Madow correction for short samples, so that one threshold
  // fits labels of 33 and of 63 characters.
  const auto fl = static_cast<float>(len);
  const float h = std::log2(fl) - st.sum_clog2c / fl +
                  static_cast<float>(st.distinct - 1) / (2.0F * fl * 0.6931472F);
  if (h < static_cast<float>(opts.entropy_threshold)) return;
  // Entropy alone cannot tell random characters from words run together with digits
  // ("windows10x64enterprise22h2update"); the share of letter pairs rare in English can.
  // Binary encodings (iodine base128, raw) have few letters: judge them by their other octets.
  n.encoded = (st.pairs > 0 && st.rare_pairs * 100 >= st.pairs * opts.rare_pair_percent) ||
              std::size_t{4} * st.others >= len;
}

bool SecurityClassifier::State::exempt_name() const noexcept {
  if (name.overflow) return false;
  const std::uint32_t depth = std::min(exempt_depth, name.labels);
  for (std::uint32_t d = 1; d <= depth; ++d) {
    const std::uint32_t first = name.labels - d;
    if (exempt.contains(name.suffix[first], labels_text(first, name.labels - 1))) return true;
  }
  return false;
}

SecurityClassifier::SecurityClassifier(const SecurityOptions& opts)
    : state_(std::make_unique<State>(opts)) {}
SecurityClassifier::~SecurityClassifier() = default;
SecurityClassifier::SecurityClassifier(SecurityClassifier&&) noexcept = default;
SecurityClassifier& SecurityClassifier::operator=(SecurityClassifier&&) noexcept = default;

SecurityVerdict SecurityClassifier::classify(const SecurityInput& in) noexcept {
  State& s = *state_;
  s.messages.add();
  SecurityVerdict v;
  if (!in.has_question) return v;
  const bool txt = in.qtype == kTypeTxt;
  s.scan(in.qname, txt);
  const NameScan& n = s.name;
  if (s.exempt_name()) return v;

  // The registered domain, if the name ends with it.
  std::uint32_t rd_labels = 0, rd_length = 0;
  if (!in.registered_domain.empty() && !n.overflow) {
    std::string_view text = in.registered_domain;
    if (text.size() > 1 && text.back() == '.' && text[text.size() - 2] != '\\')
      text.remove_suffix(1);
    std::uint32_t octets = 0, labels = 0, length = 0;
    decode_name(
        text, [&](std::uint8_t) { ++octets; },
        [&](std::size_t, std::size_t) {
          if (octets > 0) length += octets + (labels++ > 0 ? 1 : 0);
          octets = 0;
        });
    if (labels > 0 && labels <= n.labels &&
        iequals(s.labels_text(n.labels - labels, n.labels - 1), text)) {
      rd_labels = labels;
      rd_length = length;
    }
  }
  const bool rd_valid = rd_labels > 0;
  const std::uint64_t rd_hash = rd_valid ? n.suffix[n.labels - rd_labels] : 0;
  const std::uint32_t sub_labels = rd_valid ? n.labels - rd_labels : 0;
  const std::uint32_t sub_length = sub_labels > 0 ? n.length - rd_length - 1 : 0;

  SecurityReasons r;
  if (txt && !n.txt_exempt_label && !(s.opts.txt_exempt_apex && rd_valid && sub_labels == 0))
    r.set(SecurityReason::TxtQuery);
  if (in.qtype == kTypeAny) r.set(SecurityReason::AnyQuery);
  if (in.qtype == kTypeNull) r.set(SecurityReason::NullQtype);
  if (in.qtype >= kTypePrivateFirst && in.qtype <= kTypePrivateLast)
    r.set(SecurityReason::PrivateQtype);

  // A well-formed reverse name is as long as an address makes it (ip6.arpa: 72 characters).
  const bool arpa2 = n.labels >= 2 && !n.overflow;
  const bool reverse = arpa2 && ((n.suffix[n.labels - 2] == s.in_addr_arpa &&
                                  n.leading_octets == n.labels - 2 && n.labels <= 6) ||
                                 (n.suffix[n.labels - 2] == s.ip6_arpa &&
                                  n.leading_nibbles == n.labels - 2 && n.labels <= 34));
  if (!reverse) {
    if (n.length > s.opts.max_qname_length) r.set(SecurityReason::LongQname);
    if (n.long_label) r.set(SecurityReason::LongLabel);
    if (n.encoded) r.set(SecurityReason::HighEntropyLabel);
  }

  // An address lookup in a DNSBL-style zone: IPv4 octets or IPv6 nibbles, then at most two zone
  // labels before the registered domain (`4.3.2.1.zen.spamhaus.org`).
  const std::uint32_t prefix = n.leading_nibbles >= 32 ? 32 : n.leading_octets >= 4 ? 4 : 0;
  const bool address_lookup = prefix > 0 && sub_labels >= prefix && sub_labels - prefix <= 2;

  if (rd_valid && in.client != nullptr && !reverse && !address_lookup &&
      (in.recursion_desired || s.opts.count_iterative)) {
    std::array<std::uint8_t, 16 + 8> addr{};
    const std::size_t addr_len = in.ipv6 ? 16 : 4;
    std::memcpy(addr.data(), in.client, addr_len);
    const std::uint64_t client = mix(hash_octets(addr.data(), addr_len, s.seed ^ addr_len));

    if ((s.disabled & bit(SecurityReason::ManySubdomains)) == 0 && sub_labels > 0 &&
        sub_length >= s.opts.subdomain_min_length) {
      const std::uint64_t key = chain(client, rd_hash);
      const std::uint64_t sub = n.suffix[0];  // the whole name: distinct per subdomain here
      DomainState* d = nullptr;
      if (!in.response) {
        bool inserted = false, evicted = false;
        d = &s.domains.get(key, inserted, evicted);
        if (evicted) s.domain_evictions.add();
        if (inserted) d->start = in.ts_ns;
        advance(*d, in.ts_ns, s.sub_half_ns);
        d->cur.set(sub);
      } else {
        d = s.domains.find(key);
        if (d != nullptr) advance(*d, in.ts_ns, s.sub_half_ns);
      }
      // A response is flagged only for a subdomain its query was counted with.
      if (d != nullptr && union_popcount(d->cur, d->prev) >= s.sub_bits &&
          union_test(d->cur, d->prev, sub))
        r.set(SecurityReason::ManySubdomains);
    }

    if ((s.disabled & bit(SecurityReason::NxdomainRatio)) == 0) {
      if (in.response) {
        bool inserted = false, evicted = false;
        ClientState& c = s.clients.get(client, inserted, evicted);
        if (evicted) s.client_evictions.add();
        if (inserted) c.start = in.ts_ns;
        advance(c, in.ts_ns, s.nx_half_ns);
        ++c.answers_cur;
        if (in.rcode == kRcodeNxDomain) c.nx_cur.set(rd_hash);
        if (in.rcode == kRcodeNoError) c.ok_cur.set(rd_hash);
        if (in.rcode == kRcodeNxDomain && s.nx_burst(c)) r.set(SecurityReason::NxdomainRatio);
      } else if (sub_labels == 0) {
        // During a burst, queries for registered domains themselves (what DGAs ask for) that
        // have not resolved for this client are part of it: most answers will be NXDOMAIN.
        ClientState* c = s.clients.find(client);
        if (c != nullptr) advance(*c, in.ts_ns, s.nx_half_ns);
        if (c != nullptr && s.nx_burst(*c) && !union_test(c->ok_cur, c->ok_prev, rd_hash))
          r.set(SecurityReason::NxdomainRatio);
      }
    }
  }

  r.for_each([&](SecurityReason x) {
    if ((s.disabled & bit(x)) == 0) v.reasons.set(x);
  });
  if (!v.reasons.any()) return v;
  s.flagged.add();
  v.reasons.for_each([&](SecurityReason x) { s.per_reason[static_cast<std::size_t>(x)].add(); });
  const MitreTechnique& t = v.reasons.test(SecurityReason::NxdomainRatio) ? kDga
                            : (v.reasons.mask() & ~bit(SecurityReason::ManySubdomains)) != 0
                                ? kDnsC2
                                : kExfil;
  v.mitre_technique = t.id;
  v.mitre_technique_name = t.name;
  v.mitre_tactic = t.tactic;
  return v;
}

const Counter& SecurityClassifier::messages() const noexcept { return state_->messages; }
const Counter& SecurityClassifier::flagged() const noexcept { return state_->flagged; }
const Counter& SecurityClassifier::flagged(SecurityReason r) const noexcept {
  return state_->per_reason[std::min(static_cast<std::size_t>(r), kReasonCount - 1)];
}
const Counter& SecurityClassifier::client_evictions() const noexcept {
  return state_->client_evictions;
}
const Counter& SecurityClassifier::domain_evictions() const noexcept {
  return state_->domain_evictions;
}
std::size_t SecurityClassifier::clients_tracked() const noexcept { return state_->clients.size(); }
std::size_t SecurityClassifier::domains_tracked() const noexcept { return state_->domains.size(); }

}  // namespace stash53::enrich

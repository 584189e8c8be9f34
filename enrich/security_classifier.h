#pragma once
// Security classification of DNS messages, for security teams reading events in a SIEM.
//
// The seed is the LogZilla dnsmasq rule: TXT and ANY queries are `event_class: security`,
// `mitre_technique: T1071.004`, `mitre_tactic: Command and Control`. Beyond it, heuristics for
// DNS tunnelling (iodine, dnscat2), slow exfiltration and DGA bursts, each with its threshold in
// the config and a short stable reason name. The aim is silence on ordinary traffic that merely
// looks odd: reverse and DNSBL lookups, CDN and Kubernetes names, hash-lookup services, mDNS,
// e-mail authentication records, Chrome's random probes (see the .cc for how each is handled).
//
// Windowed state (per client; per client and registered domain) lives in LRU tables of bounded
// size, keyed on 64-bit hashes, and ages on capture time (SecurityInput::ts_ns), never on the
// wall clock, so a pcap replays as it was captured. tests/security/ builds labelled traces and
// scores stash53's events against them.

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/counter.h"
#include "config/option_reader.h"

namespace stash53::enrich {

/// Why a message is security-relevant. The names (security_reason_name) are stable: they appear
/// in events (`security_reasons`) and as counter labels.
enum class SecurityReason : std::uint8_t {
  TxtQuery,          // "txt-query": qtype TXT (the LogZilla rule)
  AnyQuery,          // "any-query": qtype ANY (the LogZilla rule)
  LongQname,         // "long-qname": the name is longer than max_qname_length
  LongLabel,         // "long-label": a label is longer than max_label_length
  HighEntropyLabel,  // "high-entropy-label": a label looks base32/base64/hex/binary encoded
  ManySubdomains,    // "many-subdomains": a client asks for many distinct subdomains of one domain
  NullQtype,         // "null-qtype": qtype NULL (10), iodine's default
  PrivateQtype,      // "private-qtype": qtype 65280..65534 (RFC 6895 private use)
  NxdomainRatio,     // "nxdomain-ratio": a client gets NXDOMAIN for many distinct domains
  kCount
};

/// The stable name of `r` ("txt-query", "any-query", "long-qname", "long-label",
/// "high-entropy-label", "many-subdomains", "null-qtype", "private-qtype", "nxdomain-ratio").
[[nodiscard]] std::string_view security_reason_name(SecurityReason r) noexcept;
/// The reason whose name is `name` into `out`; false (and `out` untouched) when there is none.
[[nodiscard]] bool security_reason_from_name(std::string_view name, SecurityReason& out) noexcept;

/// A MITRE ATT&CK technique and the tactic it serves; static strings.
struct MitreTechnique {
  std::string_view id;      // "T1071.004"
  std::string_view name;    // "Application Layer Protocol: DNS"
  std::string_view tactic;  // "Command and Control"
};
/// The technique `r` is evidence of: T1568.002 (DGA) for nxdomain-ratio, T1048.003
/// (exfiltration over an unencrypted non-C2 protocol) for many-subdomains, T1071.004
/// (application layer protocol: DNS, i.e. DNS C2 and tunnelling) for every other reason.
[[nodiscard]] MitreTechnique security_reason_technique(SecurityReason r) noexcept;

/// A set of reasons, one bit each. A plain value.
class SecurityReasons {
 public:
  constexpr void set(SecurityReason r) noexcept { mask_ |= bit(r); }
  constexpr void reset(SecurityReason r) noexcept { mask_ &= ~bit(r); }
  [[nodiscard]] constexpr bool test(SecurityReason r) const noexcept {
    return (mask_ & bit(r)) != 0;
  }
  [[nodiscard]] constexpr bool any() const noexcept { return mask_ != 0; }
  /// True when a reason other than the LogZilla TXT/ANY rule is set.
  [[nodiscard]] constexpr bool heuristic() const noexcept {
    return (mask_ & ~(bit(SecurityReason::TxtQuery) | bit(SecurityReason::AnyQuery))) != 0;
  }
  /// Bit i is SecurityReason i.
  [[nodiscard]] constexpr std::uint32_t mask() const noexcept { return mask_; }
  /// Calls f(SecurityReason) for each reason in the set, in enum order.
  template <typename F>
  constexpr void for_each(F&& f) const {
    for (std::uint32_t m = mask_; m != 0; m &= m - 1)
      f(static_cast<SecurityReason>(std::countr_zero(m)));
  }
  friend constexpr bool operator==(SecurityReasons, SecurityReasons) = default;

 private:
  static constexpr std::uint32_t bit(SecurityReason r) noexcept {
    return std::uint32_t{1} << static_cast<std::uint8_t>(r);
  }
  std::uint32_t mask_ = 0;
};

/// Every threshold, window and bound of the classifier. Each initial value is the default of
/// the config key of the same name (read_security_options). Distinct counts are estimated by
/// linear counting over 256 bits: within a few percent of the true count up to several hundred.
struct SecurityOptions {
  /// Reasons never reported, by name (e.g. ["txt-query"] to drop the LogZilla TXT rule).
  std::vector<std::string> disabled_reasons;
  /// Names at or under these are never flagged, not even by the TXT/ANY rule: the suffix is
  /// not one an attacker can answer for. `local` is mDNS/DNS-SD (RFC 6762/6763: ANY probes,
  /// instance TXT records) and Kubernetes `cluster.local`; the rest are DNSBL/DNSWL and
  /// hash/reputation services whose lookups carry IPs, domains and hashes by design.
  std::vector<std::string> exempt_suffixes = {
      "local",     "spamhaus.org", "spamcop.net",     "sorbs.net",      "barracudacentral.org",
      "surbl.org", "uribl.com",    "mailspike.net",   "dnswl.org",      "abuseat.org",
      "cymru.com", "sophosxl.net", "avqs.mcafee.com", "avts.mcafee.com"};
  /// A TXT question with one of these labels is not a `txt-query`: e-mail authentication
  /// (DMARC, DKIM, MTA-STS, TLS-RPT `_smtp._tls`, BIMI, SPF includes such as `_spf.google.com`),
  /// ACME dns-01 (`_acme-challenge`), ESNI keys (`_esni`) and DNS-SD service instances
  /// (`_tcp`/`_udp`, RFC 6763 §6). The heuristics still judge those names.
  std::vector<std::string> txt_exempt_labels = {"_dmarc", "_domainkey", "_mta-sts",        "_tls",
                                                "_bimi",  "_spf",       "_acme-challenge", "_esni",
                                                "_tcp",   "_udp"};
  /// A TXT question for the registered domain itself (SPF, site-verification records) is not
  /// a `txt-query`. C2 that polls an apex TXT record is then only caught by the heuristics.
  bool txt_exempt_apex = true;

  /// `long-qname`: the name, dotted, escapes decoded, without the trailing dot, is longer.
  std::uint32_t max_qname_length = 100;
  /// `long-label`: a label is longer (octets) and has a run of min_run_length octets without
  /// `-` or `_`. iodine fills labels to 57 octets, dnscat2 to 62.
  std::uint32_t max_label_length = 52;
  /// Readable long labels are words joined by dashes, encoders emit long unbroken runs: a label
  /// without a run of this many octets free of `-` and `_` is neither a long nor an encoded one.
  std::uint32_t min_run_length = 16;
  /// `high-entropy-label`: only labels at least this long (and with a min_run_length run) are
  /// judged. 32 octets and less are left alone: 128-bit identifiers in hex or base32 (MD5,
  /// UUIDs without dashes, SES DKIM selectors, EKS and Lambda endpoints) are that long.
  std::uint32_t entropy_min_label_length = 33;
  /// A judged label is encoded when its length-corrected (Miller-Madow) Shannon entropy,
  /// case folded, is at least this many bits per octet and at least rare_pair_percent of its
  /// adjacent letter pairs are rare in English (or a quarter of its octets are neither letters,
  /// digits, `-` nor `_`: base128/binary). Hex-only labels with digits and letters are encoded
  /// whatever their entropy: hex carries at most 4 bits per character, like prose.
  double entropy_threshold = 4.0;
  std::uint32_t rare_pair_percent = 30;

  /// `many-subdomains`: distinct subdomains of one registered domain queried by one client
  /// within the window. Counted on queries; subdomains shorter than subdomain_min_length
  /// (octets left of the registered domain) carry too little data to count.
  std::uint32_t subdomain_threshold = 30;
  std::uint32_t subdomain_min_length = 16;
  /// The window: counts cover the current and the previous half-window.
  std::uint32_t subdomain_window_s = 1800;
  /// Bound of the (client, registered domain) table; the least recently used entry goes.
  std::uint32_t max_domains = 65536;

  /// `nxdomain-ratio`: within the window, a client got NXDOMAIN for at least this many
  /// distinct registered domains, and those are at least nxdomain_ratio_percent of its
  /// answers. Counted on responses (the client is the destination); while that holds, the
  /// client's queries for registered domains that have not resolved for it are flagged too.
  std::uint32_t nxdomain_min_count = 10;
  std::uint32_t nxdomain_ratio_percent = 50;
  std::uint32_t nxdomain_window_s = 300;
  /// Bound of the client table; the least recently used entry goes.
  std::uint32_t max_clients = 65536;
  /// Whether the windowed heuristics count iterative messages (RD clear). By default they do
  /// not: a resolver's upstream traffic aggregates all its users under one "client" (hundreds
  /// of googlevideo or nflxvideo subdomains an hour), and the stub's own recursive query, which
  /// the resolver answers, is counted already when the sensor sees the client side.
  bool count_iterative = false;

  /// Not a config key: the key of the hashes, 0 for a random one per classifier (so that names
  /// cannot be crafted to collide). Tests and reproducible evaluations fix it.
  std::uint64_t hash_seed = 0;
};

/// Reads the options from the enricher's config section; each key's default is the field's
/// initial value. Throws config::ConfigError naming the key for a bad value.
void read_security_options(config::OptionReader& o, SecurityOptions& opts);

/// One DNS message, as the classifier needs it. Views must stay valid during classify().
struct SecurityInput {
  /// Presentation format as dig prints it: trailing dot, escapes `\.` and `\DDD`, case as on
  /// the wire.
  std::string_view qname;
  /// eTLD+1 from the public suffix list, lower case, no trailing dot; empty when unknown. The
  /// windowed heuristics skip a name without one (or one that is not a suffix of qname).
  std::string_view registered_domain;
  std::uint16_t qtype = 0;
  bool has_question = false;
  bool response = false;
  std::uint16_t rcode = 0;  // full rcode; only meaningful for responses (3 = NXDOMAIN)
  /// The client: a query's source, a response's destination; 4 or 16 bytes (`ipv6`). Null
  /// turns the windowed heuristics off for this message.
  const std::uint8_t* client = nullptr;
  bool ipv6 = false;
  /// The RD bit (a response copies it). Clear on iterative queries, from a resolver to
  /// authoritative servers, and on mDNS: see SecurityOptions::count_iterative.
  bool recursion_desired = true;
  std::int64_t ts_ns = 0;  // capture time
};

/// The outcome for one message. The MITRE fields are static strings, empty when no reason is
/// set; they name the technique of the most specific reason: nxdomain-ratio (DGA), then any
/// per-message or qtype reason (DNS C2/tunnelling), then many-subdomains alone (exfiltration).
struct SecurityVerdict {
  SecurityReasons reasons;
  std::string_view mitre_technique;       // "T1071.004"
  std::string_view mitre_technique_name;  // "Application Layer Protocol: DNS"
  std::string_view mitre_tactic;          // "Command and Control"
  [[nodiscard]] bool security() const noexcept { return reasons.any(); }
};

/// The classifier. One per pipeline thread: not thread-safe; its counters may be read from any
/// thread. Memory is bounded by max_clients and max_domains; nothing is allocated per message
/// once the tables have filled to the traffic's size.
class SecurityClassifier {
 public:
  /// Throws std::invalid_argument for options read_security_options would reject.
  explicit SecurityClassifier(const SecurityOptions& opts);
  ~SecurityClassifier();
  /// A moved-from classifier may only be destroyed or assigned to.
  SecurityClassifier(SecurityClassifier&&) noexcept;
  SecurityClassifier& operator=(SecurityClassifier&&) noexcept;

  /// Judges one message and updates the windowed state. Never throws, never allocates once warm.
  [[nodiscard]] SecurityVerdict classify(const SecurityInput& in) noexcept;

  /// Messages classified.
  [[nodiscard]] const Counter& messages() const noexcept;
  /// Messages with at least one reason.
  [[nodiscard]] const Counter& flagged() const noexcept;
  /// Messages flagged with `r`.
  [[nodiscard]] const Counter& flagged(SecurityReason r) const noexcept;
  /// Entries dropped from the client table / the (client, domain) table because it was full.
  [[nodiscard]] const Counter& client_evictions() const noexcept;
  [[nodiscard]] const Counter& domain_evictions() const noexcept;
  /// Entries in use (pipeline thread only).
  [[nodiscard]] std::size_t clients_tracked() const noexcept;
  [[nodiscard]] std::size_t domains_tracked() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace stash53::enrich

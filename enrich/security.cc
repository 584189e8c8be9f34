// `security`: every event gets `event_class` (`security` or `network`); a security event also
// `security_reasons` and the MITRE ATT&CK technique and tactic they are evidence of. The rules
// and heuristics, their thresholds and their bounded state are in enrich/security_classifier.h.
#include "enrich/enricher.h"
#include "enrich/security_classifier.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

using event::FieldType;
constexpr int kRank = event::rank::kEnrichment + 20;

const event::ValueField kClass(
    "event_class", FieldType::String, kRank,
    "`security` when a rule or heuristic of the `security` enricher fired, else `network`; a "
    "dnsmasq DHCP message or log line: `alert` when it raises one (see `alert`), else `dhcp` or "
    "`log`",
    {"security", "network", "alert", "dhcp", "log"});
const event::ValueField kReasons(
    "security_reasons", FieldType::StringList, kRank,
    "why, as stable names: `txt-query`, `any-query` (the LogZilla rule), `long-qname`, "
    "`long-label`, `high-entropy-label`, `many-subdomains`, `null-qtype`, `private-qtype`, "
    "`nxdomain-ratio`");
const event::ValueField kTechnique(
    "mitre_technique", FieldType::String, kRank,
    "MITRE ATT&CK technique of the reasons: `T1071.004` (DNS as C2 channel: TXT/ANY, tunnelling), "
    "`T1568.002` (domain generation algorithms), `T1048.003` (exfiltration)");
const event::ValueField kTactic("mitre_tactic", FieldType::String, kRank,
                                "its tactic: `Command and Control` or `Exfiltration`");

class SecurityEnricher final : public Enricher {
 public:
  explicit SecurityEnricher(const EnricherSpec& spec)
      : classifier_([&] {
          SecurityOptions opts;
          read_security_options(*spec.options, opts);
          return opts;
        }()),
        registered_(event::Catalogue::instance().find("registered_domain")) {}

  void enrich(decode::DnsEvent& ev) noexcept override {
    if (ev.dhcp != nullptr || ev.log_line != nullptr) {  // not DNS: nothing to classify
      kClass.set_text(ev, ev.alert != decode::Alert::None ? "alert" : ev.dhcp != nullptr ? "dhcp" : "log");
      return misses_.add();
    }
    SecurityInput in;
    in.has_question = ev.has_question;
    if (ev.has_question) in.qname = ev.view(ev.qname), in.qtype = ev.qtype;
    domain_.clear();
    if (registered_ != nullptr && registered_->append_text(ev, domain_)) in.registered_domain = domain_;
    if (ev.hdr.size >= 4) {
      in.response = ev.hdr.qr;
      in.rcode = ev.rcode();
      in.recursion_desired = ev.hdr.rd;  // RD clear: a resolver's own lookups (see the options)
      in.client = ev.client().bytes;  // unknown without the QR bit: no windowed state then
    }
    in.ipv6 = ev.net.ipv6;
    in.ts_ns = ev.ts_ns;
    const SecurityVerdict v = classifier_.classify(in);
    if (!v.security()) {
      kClass.set_text(ev, "network");
      return misses_.add();
    }
    kClass.set_text(ev, "security");
    // The LogZilla rule's TXT and ANY queries are also alerts (the seed's triggers).
    if (v.reasons.test(SecurityReason::TxtQuery)) ev.alert = decode::Alert::TxtQuery;
    else if (v.reasons.test(SecurityReason::AnyQuery)) ev.alert = decode::Alert::AnyQuery;
    v.reasons.for_each([&](SecurityReason r) { kReasons.add_item(ev, security_reason_name(r)); });
    kTechnique.set_text(ev, v.mitre_technique);
    kTactic.set_text(ev, v.mitre_tactic);
    hits_.add();
  }

  void register_metrics(MetricRegistry& r) const override {
    const std::string& name = type();
    r.add({"enricher", name, "security", {}, "events classified security"}, hits_);
    r.add({"enricher", name, "network", {}, "events classified network"}, misses_);
    for (std::size_t i = 0; i < static_cast<std::size_t>(SecurityReason::kCount); ++i) {
      const auto reason = static_cast<SecurityReason>(i);
      r.add({"enricher", name, "reasons", {{"reason", std::string(security_reason_name(reason))}},
             "security events by reason"},
            classifier_.flagged(reason));
    }
    r.add({"enricher", name, "client-evictions", {}, "clients dropped from the full client table",
           MetricType::Counter, true},
          classifier_.client_evictions());
    r.add({"enricher", name, "domain-evictions", {},
           "(client, domain) pairs dropped from the full table", MetricType::Counter, true},
          classifier_.domain_evictions());
  }

 private:
  SecurityClassifier classifier_;
  const event::Field* registered_;
  std::string domain_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("security", SecurityEnricher, Classify, true);

}  // namespace stash53::enrich

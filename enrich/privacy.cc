// `privacy`: client addresses that no longer identify a person, in every output. Runs last (stage
// Privacy), after GeoIP and the security state have used the real addresses. Truncation keeps a
// prefix (default /24 and /56); pseudonymisation replaces addresses by keyed, prefix-preserving
// Crypto-PAn pseudonyms (enrich/cryptopan.h), so one client stays one pseudonym across sensors
// sharing the key. Optionally the server's and the ECS address too, and every question's name
// cut to its registered domain.
#include <fstream>
#include <optional>
#include <sstream>

#include "decode/text.h"
#include "enrich/cryptopan.h"
#include "enrich/enricher.h"
#include "enrich/public_suffix_list.h"

namespace stash53::enrich {
namespace {

class PrivacyEnricher final : public Enricher {
 public:
  explicit PrivacyEnricher(const EnricherSpec& spec) {
    auto& o = *spec.options;
    std::string mode = "truncate";
    o.read("addresses", mode, "truncate or pseudonymize");
    if (mode != "truncate" && mode != "pseudonymize")
      o.fail("addresses", "expected truncate or pseudonymize, got '" + mode + "'");
    o.read_range("ipv4_prefix", v4_prefix_, 0, 32);
    o.read_range("ipv6_prefix", v6_prefix_, 0, 128);
    o.read("server", server_, "true or false (also the server's address)");
    o.read("ecs", ecs_, "true or false (also the EDNS Client Subnet address)");
    std::string qname = "full";
    o.read("qname", qname, "full or registered_domain");
    if (qname != "full" && qname != "registered_domain")
      o.fail("qname", "expected full or registered_domain, got '" + qname + "'");
    if (qname == "registered_domain") {
      try {
        psl_.emplace("");
      } catch (const std::runtime_error& e) {
        o.fail("qname", e.what());
      }
    }
    std::string key;
    o.read_secret("key", key, "the Crypto-PAn key: 64 hex digits or 32 raw bytes", true);
    if (mode == "pseudonymize") {
      if (key.empty()) o.fail("key", "pseudonymize needs a key: key, key_file or key_env");
      try {
        auto bytes = parse_cryptopan_key(key);
        pan_.emplace(bytes);
        bytes.fill(0);
      } catch (const std::invalid_argument& e) {
        o.fail("key", e.what());
      }
      key.assign(key.size(), '\0');
    } else if (!key.empty()) {
      o.fail("key", "only used with addresses: pseudonymize");
    }
  }

  void enrich(decode::DnsEvent& ev) noexcept override {
    auto& net = ev.net;
    // Without the QR bit (a cut header) the client is unknown: both addresses count as it.
    const bool known = ev.hdr.size >= 4;
    if (!known || !ev.hdr.qr || server_) hide(net.src.bytes, net.ipv6);
    if (!known || ev.hdr.qr || server_) hide(net.dst.bytes, net.ipv6);
    auto& e = ev.edns;
    if (ecs_ && e.has_ecs && (e.ecs_family == 1 || e.ecs_family == 2)) {
      const bool v6 = e.ecs_family == 2;
      hide(e.ecs_bytes.bytes, v6);
      truncate_address(e.ecs_bytes.bytes, v6, e.ecs_source);  // no more than the client sent
      scratch_.clear();
      decode::text::append_ip(scratch_, e.ecs_bytes.bytes, v6);
      e.ecs_address = ev.add_text(scratch_);
    }
    if (psl_) {
      // Every question: a second one (mDNS asks several) would tell as much as the first.
      for (auto& q : ev.questions) {
        enrich::PublicSuffixList::Split s;
        if (!psl_->split(ev.view(q.name), s) || s.registered.empty()) continue;
        scratch_.assign(s.registered) += '.';
        q.name = ev.add_text(scratch_);
      }
      if (ev.has_question) ev.qname = ev.questions.front().name;
    }
    hits_.add();
  }

 private:
  void hide(std::uint8_t* addr, bool ipv6) noexcept {
    if (pan_)
      pan_->anonymize(addr, ipv6);
    else
      truncate_address(addr, ipv6, ipv6 ? v6_prefix_ : v4_prefix_);
  }

  unsigned v4_prefix_ = 24, v6_prefix_ = 56;
  bool server_ = false, ecs_ = true;
  std::optional<PublicSuffixList> psl_;  // qname: registered_domain
  std::optional<CryptoPan> pan_;
  std::string scratch_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("privacy", PrivacyEnricher, Privacy, false);

}  // namespace stash53::enrich

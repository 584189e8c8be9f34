#pragma once
// The built-in enrichers.

#include <string>
#include <vector>

#include "enrich/enricher.h"

namespace stash53::enrich {

/// `rcode`: the name of the full 12-bit rcode (header bits plus EDNS extended rcode).
class RcodeEnricher final : public Enricher {
 public:
  RcodeEnricher();
  std::string_view type() const noexcept override { return "rcode"; }
  void enrich(decode::DnsEvent& ev) noexcept override;

 private:
  std::vector<std::string> names_;  // all 4096 names, so events can point at them
};

/// `tld`: the last label of qname, lower case; nothing for the root.
class TldEnricher final : public Enricher {
 public:
  std::string_view type() const noexcept override { return "tld"; }
  void enrich(decode::DnsEvent& ev) noexcept override;
};

/// `nsid`: the sensor's label (option `label`, default the host name), so events from many
/// sensors can be told apart. Not the EDNS NSID option.
class NsidEnricher final : public Enricher {
 public:
  explicit NsidEnricher(config::OptionReader& options);
  std::string_view type() const noexcept override { return "nsid"; }
  void enrich(decode::DnsEvent& ev) noexcept override { ev.nsid = label_; }

 private:
  std::string label_;
};

}  // namespace stash53::enrich

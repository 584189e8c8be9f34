#include <functional>
#include <map>

#include "enrich/enricher.h"
#include "enrich/enrichers.h"

namespace stash53::enrich {

std::unique_ptr<Enricher> make_enricher(const std::string& type, config::OptionReader& options) {
  using Factory = std::function<std::unique_ptr<Enricher>(config::OptionReader&)>;
  static const std::map<std::string, Factory> factories = {
      {"rcode", [](config::OptionReader&) { return std::make_unique<RcodeEnricher>(); }},
      {"tld", [](config::OptionReader&) { return std::make_unique<TldEnricher>(); }},
      {"nsid", [](config::OptionReader& o) { return std::make_unique<NsidEnricher>(o); }},
  };
  const auto it = factories.find(type);
  if (it == factories.end()) {
    std::string known;
    for (const auto& [name, _] : factories) known += (known.empty() ? "" : ", ") + name;
    options.fail("type", "unknown enricher '" + type + "' (known: " + known + ")");
  }
  return it->second(options);
}

std::vector<std::string> default_enrichers() { return {"rcode", "tld", "nsid"}; }

}  // namespace stash53::enrich

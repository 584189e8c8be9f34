#include <algorithm>
#include <map>

#include "enrich/enricher.h"

namespace stash53::enrich {
namespace {

struct Registration {
  EnricherFactory factory;
  Stage stage;
  bool on_by_default;
};

// Function-local, so registration from other files' static initialisers finds it constructed.
std::map<std::string, Registration>& registrations() {
  static std::map<std::string, Registration> map;
  return map;
}

}  // namespace

void Enricher::register_metrics(MetricRegistry& registry) const {
  const std::string& name = type_;
  registry.add({"enricher", name, "hits", {}, "events this enricher added its block to"}, hits_);
  registry.add({"enricher", name, "misses", {}, "events it had nothing to add to"}, misses_);
  registry.add({"enricher", name, "errors", {}, "lookups that failed"}, errors_);
}

bool register_enricher(const char* type, EnricherFactory factory, Stage stage, bool on_by_default) {
  registrations()[type] = {factory, stage, on_by_default};
  return true;
}

std::unique_ptr<Enricher> make_enricher(const EnricherSpec& spec) {
  const auto it = registrations().find(spec.type);
  if (it == registrations().end()) spec.options->fail("type", unknown_enricher(spec.type));
  auto enricher = it->second.factory(spec);
  if (enricher) enricher->type_ = spec.type;
  return enricher;
}

Stage stage_of(const std::string& type) {
  const auto it = registrations().find(type);
  return it == registrations().end() ? Stage::Annotate : it->second.stage;
}

std::vector<std::string> default_enrichers() {
  std::vector<std::string> out;
  for (const auto& [type, r] : registrations())
    if (r.on_by_default) out.push_back(type);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return stage_of(a) < stage_of(b); });
  return out;
}

bool is_enricher(const std::string& type) { return registrations().contains(type); }

std::string unknown_enricher(const std::string& type) {
  std::string known;
  for (const auto& [t, _] : registrations()) known += (known.empty() ? "" : ", ") + t;
  return "unknown enricher '" + type + "' (known: " + known + ")";
}

}  // namespace stash53::enrich

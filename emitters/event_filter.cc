#include "emitters/event_filter.h"

#include <algorithm>

namespace stash53::emitters {

EventFilter::EventFilter(config::OptionReader& options) {
  config::OptionReader o = options.section("filter");
  const auto& catalogue = event::Catalogue::instance();
  for (const auto& key : o.keys()) {
    if (key == "sample") {
      o.read_range("sample", sample_, 1, 1'000'000'000);
      continue;
    }
    Match m{nullptr, {}};
    if (key == "security") {
      // Shorthand for `event_class: security`, the security enricher's verdict.
      bool security = false;
      o.read(key, security, "true or false");
      m.field = catalogue.find("event_class");
      if (m.field == nullptr) o.fail(key, "needs the security enricher, which this build lacks");
      m.accepted = {security ? "security" : "network"};
    } else {
      m.field = catalogue.find(key);
      if (m.field == nullptr || !m.field->has_text())
        o.fail(key, "not a field to filter on (known: sample, security, " +
                        catalogue.text_field_names() + ")");
      o.read_list(key, m.accepted, "a value or a list of values of the field");
      if (m.accepted.empty()) o.fail(key, "must list at least one value");
      for (const auto& v : m.accepted)
        if (!m.field->values.empty() &&
            std::find(m.field->values.begin(), m.field->values.end(), v) == m.field->values.end()) {
          std::string known;
          for (const auto& k : m.field->values) known += (known.empty() ? "" : " or ") + k;
          o.fail(key, "expected " + known + ", got '" + v + "'");
        }
    }
    matches_.push_back(std::move(m));
  }
  o.finish();
}

bool EventFilter::accepts(const decode::DnsEvent& ev) noexcept {
  for (const auto& m : matches_) {
    scratch_.clear();
    if (!m.field->append_text(ev, scratch_) ||
        std::find(m.accepted.begin(), m.accepted.end(), scratch_) == m.accepted.end())
      return false;
  }
  return sample_ == 1 || seen_++ % sample_ == 0;
}

}  // namespace stash53::emitters

#include "emitters/template.h"

namespace stash53::emitters {

Template::Template(std::string_view text, const config::OptionReader& where, const std::string& key)
    : text_(text) {
  const auto& catalogue = event::Catalogue::instance();
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') where.fail(key, "'}' without '{' in \"" + std::string(text) + "\"");
    if (text[i] != '{') {
      literal += text[i];
      continue;
    }
    const std::size_t close = text.find('}', i);
    if (close == std::string_view::npos)
      where.fail(key, "'{' without '}' in \"" + std::string(text) + "\"");
    const std::string_view name = text.substr(i + 1, close - i - 1);
    const event::Field* field = catalogue.find(name);
    if (field == nullptr || !field->has_text())
      where.fail(key, "unknown field {" + std::string(name) + "} (known: " +
                          catalogue.text_field_names() + ")");
    parts_.push_back({std::move(literal), field});
    literal.clear();
    i = close;
  }
  if (!literal.empty() || parts_.empty()) parts_.push_back({std::move(literal), nullptr});
}

void Template::render(const decode::DnsEvent& ev, std::string& out) const {
  for (const auto& p : parts_) {
    out += p.literal;
    if (p.field != nullptr && !p.field->append_text(ev, out)) out += '-';
  }
}

}  // namespace stash53::emitters

#include "enrich/enrichers.h"

namespace stash53::enrich {

void TldEnricher::enrich(decode::DnsEvent& ev) noexcept {
  if (!ev.has_question) return;
  const std::string_view qname = ev.view(ev.qname);
  if (qname.size() < 2) return;  // the root "."
  // The last label starts after the last dot that is not escaped (`\.`, `\046`).
  const std::size_t end = qname.size() - 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < end; ++i) {
    if (qname[i] == '\\')
      i += (qname[i + 1] >= '0' && qname[i + 1] <= '9') ? 3 : 1;
    else if (qname[i] == '.')
      start = i + 1;
  }
  // Appending may move the arena, so copy by index rather than through `qname`.
  const auto off = static_cast<std::uint32_t>(ev.text.size());
  for (std::size_t i = ev.qname.off + start; i < ev.qname.off + end; ++i) {
    const char c = ev.text[i];
    ev.text.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  ev.tld = {off, static_cast<std::uint32_t>(end - start)};
  ev.has_tld = true;
}

}  // namespace stash53::enrich

#include "format/format.h"

#include <fmt/format.h>

#include <map>

namespace stash53::format {
namespace {

struct Entry {
  FormatFactory factory;
  bool modes[kModes] = {};
  std::string help;
};

// Function-local, so registration from other files' static initialisers finds it constructed.
std::map<std::string, Entry, std::less<>>& registry() {
  static std::map<std::string, Entry, std::less<>> map;
  return map;
}

constexpr std::string_view kModeNames[kModes] = {"message", "transaction", "record"};

}  // namespace

std::string_view mode_name(Mode m) noexcept { return kModeNames[static_cast<std::size_t>(m)]; }

std::optional<Mode> parse_mode(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kModes; ++i)
    if (kModeNames[i] == name) return static_cast<Mode>(i);
  return std::nullopt;
}


void Documents::clear() noexcept {
  buffer_.clear();
  ends_.clear();
  views_.clear();
}

event::EventWriter& Documents::begin() {
  ctx_.n = next_->fetch_add(1, std::memory_order_relaxed) + 1;
  writer_.Reset(buffer_);  // keeps what the buffer holds: documents follow one another
  return writer_;
}

void Documents::end() { ends_.push_back(buffer_.size()); }

std::span<const std::string_view> Documents::views() {
  // Made once all are written: the buffer may have moved while it grew.
  views_.clear();
  std::size_t start = 0;
  for (const auto end : ends_) {
    views_.emplace_back(buffer_.data() + start, end - start);
    start = end;
  }
  return views_;
}

bool register_format(const char* name, FormatFactory factory, std::initializer_list<Mode> modes,
                     const char* help) {
  Entry e{factory, {}, help};
  for (const Mode m : modes) e.modes[static_cast<std::size_t>(m)] = true;
  registry()[name] = std::move(e);
  return true;
}

std::unique_ptr<Format> make_format(std::string_view name, const FormatOptions& o) {
  const auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.factory(o);
}

std::vector<std::string> formats() {
  std::vector<std::string> names;
  for (const auto& [name, _] : registry()) names.push_back(name);
  return names;
}

std::string format_names() {
  std::string names;
  for (const auto& name : formats()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

std::string check_format(std::string_view name, Mode mode) {
  const auto it = registry().find(name);
  if (it == registry().end())
    return fmt::format("unknown format '{}' (known: {})", name, format_names());
  if (it->second.modes[static_cast<std::size_t>(mode)]) return {};
  std::string modes;
  for (std::size_t i = 0; i < kModes; ++i)
    if (it->second.modes[i]) modes += (modes.empty() ? "" : ", ") + std::string(kModeNames[i]);
  return fmt::format("format {} has no {} mode (it has: {})", name, mode_name(mode), modes);
}

std::string markdown_table() {
  std::string out = "| format | modes | shape |\n| --- | --- | --- |\n";
  for (const auto& [name, e] : registry()) {
    std::string modes;
    for (std::size_t i = 0; i < kModes; ++i)
      if (e.modes[i]) modes += (modes.empty() ? "" : ", ") + std::string(kModeNames[i]);
    out += fmt::format("| `{}` | {} | {} |\n", name, modes, e.help);
  }
  return out;
}

}  // namespace stash53::format


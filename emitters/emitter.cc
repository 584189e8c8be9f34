#include <map>

#include "emitters/emitter.h"

namespace stash53::emitters {
namespace {

// Function-local, so registration from other files' static initialisers finds it constructed.
std::map<std::string, EmitterFactory>& factories() {
  static std::map<std::string, EmitterFactory> map;
  return map;
}

}  // namespace

bool register_emitter(const char* type, EmitterFactory factory) {
  factories()[type] = factory;
  return true;
}

std::unique_ptr<Emitter> make_emitter(const EmitterSpec& spec) {
  const auto it = factories().find(spec.type);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [type, _] : factories()) known += (known.empty() ? "" : ", ") + type;
    spec.options->fail("type", "unknown emitter type '" + spec.type + "' (known: " + known + ")");
  }
  return it->second(spec);
}

}  // namespace stash53::emitters

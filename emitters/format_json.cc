#include "emitters/format_json.h"

namespace stash53::emitters {

std::string_view JsonFormatter::format(const decode::DnsEvent& ev, std::uint64_t n) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  ctx_.n = n;
  catalogue_.write(writer_, ev, ctx_);
  return {buffer_.GetString(), buffer_.GetSize()};
}

}  // namespace stash53::emitters

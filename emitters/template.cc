#include "emitters/template.h"

#include <algorithm>

#include "decode/mnemonics.h"
#include "decode/text.h"

namespace stash53::emitters {
namespace {

enum Field { kNsid, kQtype, kQclass, kRcode, kOpcode, kMsgType, kTransport, kTld, kSaddr, kDaddr };

void append_address(const decode::IpAddress& a, bool ipv6, std::string& out) {
  if (ipv6)
    decode::text::append_ipv6(out, a.bytes);
  else
    decode::text::append_ipv4(out, a.bytes);
}

}  // namespace

const std::vector<std::string_view>& Template::fields() {
  static const std::vector<std::string_view> names = {
      "nsid", "qtype", "qclass", "rcode", "opcode", "msg_type", "transport", "tld", "s_addr", "d_addr"};
  return names;
}

Template::Template(std::string_view text, const config::OptionReader& where, const std::string& key) {
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
    const auto& names = fields();
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
      where.fail(key, "unknown field {" + std::string(name) + "} (known: " + known + ")");
    }
    parts_.push_back({std::move(literal), static_cast<int>(it - names.begin())});
    literal.clear();
    i = close;
  }
  if (!literal.empty() || parts_.empty()) parts_.push_back({std::move(literal), -1});
}

void Template::render(const decode::DnsEvent& ev, std::string& out) const {
  decode::MnemonicBuffer buf;
  const auto& h = ev.hdr;
  for (const auto& p : parts_) {
    out += p.literal;
    switch (p.field) {
      case -1: break;
      case kNsid: out += ev.nsid.empty() ? "-" : ev.nsid; break;
      case kQtype: out += ev.has_question ? decode::type_name(ev.qtype, buf) : "-"; break;
      case kQclass: out += ev.has_question ? decode::class_name(ev.qclass, buf) : "-"; break;
      case kRcode: out += h.size >= 4 ? decode::rcode_name(ev.rcode(), buf) : "-"; break;
      case kOpcode: out += h.size >= 4 ? decode::opcode_name(h.opcode, buf) : "-"; break;
      case kMsgType: out += h.size < 4 ? "-" : h.qr ? "response" : "query"; break;
      case kTransport: out += ev.net.transport == decode::Transport::Tcp ? "tcp" : "udp"; break;
      case kTld: out += ev.has_tld ? ev.view(ev.tld) : "-"; break;
      case kSaddr: append_address(ev.net.src, ev.net.ipv6, out); break;
      case kDaddr: append_address(ev.net.dst, ev.net.ipv6, out); break;
      default: break;
    }
  }
}

}  // namespace stash53::emitters

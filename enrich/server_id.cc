// `server_id`: which server answered (or was asked): the EDNS NSID it sent (RFC 5001), else the
// name the config gives its address, else nothing.
#include <arpa/inet.h>

#include <cstring>
#include <map>

#include "decode/text.h"
#include "enrich/enricher.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

const event::ValueField kServerId(
    "server_id", event::FieldType::String, event::rank::kEnrichment + 3,
    "the server of the exchange: for a response its EDNS NSID (text when printable, else hex), "
    "else the name `server_id.servers` gives the server's address (a query's destination, a "
    "response's source); absent otherwise (enricher `server_id`)");

class ServerIdEnricher final : public Enricher {
 public:
  explicit ServerIdEnricher(const EnricherSpec& spec) {
    config::OptionReader servers = spec.options->section("servers");
    for (const auto& address : servers.keys()) {
      std::string name;
      servers.require(address, name, "the server's name");
      Key k{};
      if (inet_pton(AF_INET, address.c_str(), k.bytes.bytes) == 1)
        k.ipv6 = false;
      else if (inet_pton(AF_INET6, address.c_str(), k.bytes.bytes) == 1)
        k.ipv6 = true;
      else
        servers.fail(address, "not an IPv4 or IPv6 address");
      names_[k] = name;
    }
    servers.finish();
  }

  void enrich(decode::DnsEvent& ev) noexcept override {
    const auto& e = ev.edns;
    if (ev.hdr.qr && e.has_nsid && e.nsid_hex.len > 0) {
      // The view points into the arena, which set_text may grow: it copies by index.
      kServerId.set_text(ev, ev.view(e.nsid_printable ? e.nsid_text : e.nsid_hex));
      return hits_.add();
    }
    if (!names_.empty() && ev.hdr.size >= 4) {
      const auto it = names_.find(Key{ev.server(), ev.net.ipv6});
      if (it != names_.end()) {
        kServerId.set_text(ev, it->second);
        return hits_.add();
      }
    }
    misses_.add();
  }

 private:
  struct Key {
    decode::IpAddress bytes;
    bool ipv6 = false;
    bool operator<(const Key& o) const {
      if (ipv6 != o.ipv6) return ipv6 < o.ipv6;
      return std::memcmp(bytes.bytes, o.bytes.bytes, sizeof bytes.bytes) < 0;
    }
  };
  std::map<Key, std::string> names_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("server_id", ServerIdEnricher, Annotate, true);

}  // namespace stash53::enrich

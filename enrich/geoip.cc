// `geoip`: where an address is and who routes it, from MaxMind DB files (libmaxminddb) of either
// schema (enrich/geoip_db.h): a `geoip` block for the client, optionally `server_geoip` and
// `ecs_geoip`. Several databases at once (city + ASN, an IPv4 and an IPv6 file): the first one
// that knows a field gives it. Private, reserved and unknown addresses get no block.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common/log.h"
#include "enrich/enricher.h"
#include "enrich/geoip_db.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

using event::FieldType;

/// The fields of one block (`geoip`, `server_geoip`, `ecs_geoip`).
struct GeoFields {
  GeoFields(const std::string& block, int rank, const std::string& whose)
      : country_code(block + ".country_code", FieldType::String, rank,
                     "ISO 3166 country code of " + whose),
        country(block + ".country", FieldType::String, rank,
                "English country name (MaxMind databases; the free DB-IP one has none)"),
        city(block + ".city", FieldType::String, rank, "English city name"),
        lat(block + ".location.lat", FieldType::Number, rank,
            "latitude: `location` is an Elasticsearch geo_point `{lat, lon}`"),
        lon(block + ".location.lon", FieldType::Number, rank, "longitude"),
        asn(block + ".asn", FieldType::Integer, rank, "autonomous system number (ASN database)"),
        as_org(block + ".as_org", FieldType::String, rank, "autonomous system organisation") {}

  void set(decode::DnsEvent& ev, const GeoRecord& r, const std::string& lat_text,
           const std::string& lon_text) const {
    if (!r.country_code.empty()) country_code.set_text(ev, r.country_code);
    if (!r.country.empty()) country.set_text(ev, r.country);
    if (!r.city.empty()) city.set_text(ev, r.city);
    if (r.has_location) {
      lat.set_number_text(ev, lat_text);
      lon.set_number_text(ev, lon_text);
    }
    if (r.asn != 0) asn.set_number(ev, r.asn);
    if (!r.as_org.empty()) as_org.set_text(ev, r.as_org);
  }

  event::ValueField country_code, country, city, lat, lon, asn, as_org;
};

const GeoFields kClient("geoip", event::rank::kEnrichment + 10,
                        "the client (a query's source, a response's destination)");
const GeoFields kServer("server_geoip", event::rank::kEnrichment + 11,
                        "the server (option `server: true`)");
const GeoFields kEcs("ecs_geoip", event::rank::kEnrichment + 12,
                     "the EDNS Client Subnet address (option `use_ecs: true`)");

/// The databases the build fetched (deploy/fetch-geoip.sh), found without configuration.
std::vector<std::string> bundled_databases() {
  std::vector<std::string> out;
  // The build's (running from the build tree), then where `make install` put them.
  for (const char* dir : {STASH53_GEOIP_DIR, STASH53_INSTALLED_GEOIP_DIR, "/usr/share/stash53/geoip"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".mmdb") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    if (!out.empty()) break;
  }
  return out;
}

/// A bounded cache of lookups, direct-mapped on a hash of the address: a new address replaces
/// whatever shared its slot. No Debian library offers a small fixed-size cache like this.
class GeoCache {
 public:
  explicit GeoCache(std::size_t slots) : slots_(std::bit_ceil(std::max<std::size_t>(slots, 1))) {}
  /// The slot for `addr`; `hit` tells whether it holds that address's record.
  struct Slot {
    decode::IpAddress addr;
    bool ipv6 = false, used = false, found = false;
    GeoRecord record;
    std::string lat, lon;  // as decimal text, made once per lookup
  };
  Slot& find(const decode::IpAddress& a, bool ipv6, bool& hit) noexcept {
    std::uint64_t h = 0xcbf29ce484222325u ^ ipv6;  // FNV-1a over the bytes used
    for (std::size_t i = 0; i < (ipv6 ? 16u : 4u); ++i) h = (h ^ a.bytes[i]) * 0x100000001b3u;
    Slot& s = slots_[h & (slots_.size() - 1)];
    hit = s.used && s.ipv6 == ipv6 && std::memcmp(s.addr.bytes, a.bytes, 16) == 0;
    return s;
  }

 private:
  std::vector<Slot> slots_;
};

class GeoipEnricher final : public Enricher {
 public:
  explicit GeoipEnricher(const EnricherSpec& spec) {
    auto& o = *spec.options;
    std::vector<std::string> paths;
    o.read("databases", paths, "a list of .mmdb files (city, country, ASN; MaxMind or DB-IP)");
    o.read("client", client_, "true or false (the `geoip` block)");
    o.read("server", server_, "true or false (the `server_geoip` block)");
    o.read("use_ecs", ecs_, "true or false (the `ecs_geoip` block)");
    std::size_t cache = 16384;
    o.read_range("cache_size", cache, 1, 16'777'216);
    cache_.emplace(cache);
    if (!o.has("databases")) {
      paths = bundled_databases();
      o.show("databases", paths);
    }
    if (paths.empty()) {
      if (spec.by_default) return;  // make_enricher_or_skip() below drops it
      o.fail("databases", "no database given, and none was fetched into " STASH53_GEOIP_DIR);
    }
    for (const auto& p : paths) dbs_.push_back(std::make_unique<GeoDatabase>(p));  // throws
  }

  [[nodiscard]] bool usable() const noexcept { return !dbs_.empty(); }

  std::string describe() const override {
    std::string d = type() + " (";
    for (const auto& db : dbs_) {
      const std::time_t t = static_cast<std::time_t>(db->build_epoch());
      char built[16];
      std::strftime(built, sizeof built, "%Y-%m-%d", std::gmtime(&t));
      d += fmt::format("{}{} {} built {}", d.back() == '(' ? "" : ", ", db->path(),
                       db->database_type(), built);
    }
    return d + ")";
  }

  void enrich(decode::DnsEvent& ev) noexcept override {
    bool any = false;
    if (client_ && ev.hdr.size >= 4) any |= lookup(ev, ev.client(), ev.net.ipv6, kClient);
    if (server_ && ev.hdr.size >= 4) any |= lookup(ev, ev.server(), ev.net.ipv6, kServer);
    const auto& e = ev.edns;
    if (ecs_ && e.has_ecs && (e.ecs_family == 1 || e.ecs_family == 2))
      any |= lookup(ev, e.ecs_bytes, e.ecs_family == 2, kEcs);
    any ? hits_.add() : misses_.add();
  }

  void register_metrics(MetricRegistry& r) const override {
    Enricher::register_metrics(r);
    r.add({"enricher", type(), "cache-hits", {}, "lookups answered from the cache"}, cache_hits_);
  }

 private:
  bool lookup(decode::DnsEvent& ev, const decode::IpAddress& a, bool ipv6, const GeoFields& f) {
    if (!is_global_address(a.bytes, ipv6)) return false;
    bool hit = false;
    auto& slot = cache_->find(a, ipv6, hit);
    if (hit) {
      cache_hits_.add();
    } else {
      slot.record.clear();
      slot.found = false;
      for (const auto& db : dbs_) slot.found |= db->lookup(a.bytes, ipv6, slot.record);
      slot.addr = a, slot.ipv6 = ipv6, slot.used = true;
      // Six decimals (about 0.1 m): a float in the database holds no more, and the JSON stays
      // free of the float's binary noise (37.422001 rather than 37.42200088500977).
      slot.lat = fmt::format("{}", std::round(slot.record.lat * 1e6) / 1e6);
      slot.lon = fmt::format("{}", std::round(slot.record.lon * 1e6) / 1e6);
    }
    if (!slot.found || slot.record.empty()) return false;
    f.set(ev, slot.record, slot.lat, slot.lon);
    return true;
  }

  bool client_ = true, server_ = false, ecs_ = false;
  std::vector<std::unique_ptr<GeoDatabase>> dbs_;
  std::optional<GeoCache> cache_;
  Counter cache_hits_;
};

// The default geoip steps aside (with a note) when the build fetched no database.
std::unique_ptr<Enricher> make_geoip(const EnricherSpec& spec) {
  auto e = std::make_unique<GeoipEnricher>(spec);
  if (e->usable()) return e;
  log::info("enrich", "geoip: no database in " STASH53_GEOIP_DIR " (deploy/fetch-geoip.sh), so "
                      "events carry no geoip block.");
  return nullptr;
}

}  // namespace

[[maybe_unused]] static const bool stash53_enricher_registered_geoip =
    register_enricher("geoip", make_geoip, Stage::Annotate, true);

}  // namespace stash53::enrich

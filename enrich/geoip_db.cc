#include "enrich/geoip_db.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/bytes.h"
#include "decode/dns_event.h"

namespace stash53::enrich {

bool GeoRecord::empty() const noexcept {
  return country_code.empty() && country.empty() && city.empty() && as_org.empty() &&
         !has_location && asn == 0;
}

void GeoRecord::clear() noexcept {
  country_code.clear();
  country.clear();
  city.clear();
  as_org.clear();
  has_location = false;
  lat = 0;
  lon = 0;
  asn = 0;
}

namespace {

// Paths for MMDB_aget_value, NULL-terminated. MaxMind GeoIP2/GeoLite2 first, then the flat keys
// of @ip-location-db (built by sapics/ip-location-to-mmdb: utf8 strings, float32 lat/lon,
// uint32 ASN; the ASN keys are the same in both schemas).
constexpr const char* kCountryIso[] = {"country", "iso_code", nullptr};
constexpr const char* kCountryName[] = {"country", "names", "en", nullptr};
constexpr const char* kRegisteredIso[] = {"registered_country", "iso_code", nullptr};
constexpr const char* kRegisteredName[] = {"registered_country", "names", "en", nullptr};
constexpr const char* kCityName[] = {"city", "names", "en", nullptr};
constexpr const char* kLatitude[] = {"location", "latitude", nullptr};
constexpr const char* kLongitude[] = {"location", "longitude", nullptr};
constexpr const char* kAsn[] = {"autonomous_system_number", nullptr};
constexpr const char* kAsOrg[] = {"autonomous_system_organization", nullptr};
constexpr const char* kFlatCountry[] = {"country_code", nullptr};
constexpr const char* kFlatCity[] = {"city", nullptr};
constexpr const char* kFlatLatitude[] = {"latitude", nullptr};
constexpr const char* kFlatLongitude[] = {"longitude", nullptr};

// The value at `path`, or has_data false when the path is missing or does not match the data
// (e.g. "city"/"names" in a flat database, where "city" is a string).
MMDB_entry_data_s value_at(MMDB_entry_s& entry, const char* const* path) noexcept {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS) data.has_data = false;
  return data;
}

// Assigns the UTF-8 string at `path` to `dst`; false when absent, not a string or empty.
bool read_string(MMDB_entry_s& entry, const char* const* path, std::string& dst) {
  const MMDB_entry_data_s d = value_at(entry, path);
  if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0) return false;
  dst.assign(d.utf8_string, d.data_size);  // not NUL-terminated
  return true;
}

bool read_number(MMDB_entry_s& entry, const char* const* path, double& dst) noexcept {
  const MMDB_entry_data_s d = value_at(entry, path);
  if (!d.has_data) return false;
  switch (d.type) {
    case MMDB_DATA_TYPE_DOUBLE:
      dst = d.double_value;
      return true;
    case MMDB_DATA_TYPE_FLOAT:
      dst = static_cast<double>(d.float_value);
      return true;
    case MMDB_DATA_TYPE_UINT16:
      dst = d.uint16;
      return true;
    case MMDB_DATA_TYPE_UINT32:
      dst = d.uint32;
      return true;
    case MMDB_DATA_TYPE_INT32:
      dst = d.int32;
      return true;
    case MMDB_DATA_TYPE_UINT64:
      dst = static_cast<double>(d.uint64);
      return true;
    default:
      return false;
  }
}

bool read_asn(MMDB_entry_s& entry, std::uint32_t& dst) noexcept {
  const MMDB_entry_data_s d = value_at(entry, kAsn);
  if (!d.has_data) return false;
  std::uint64_t v = 0;
  switch (d.type) {
    case MMDB_DATA_TYPE_UINT16:
      v = d.uint16;
      break;
    case MMDB_DATA_TYPE_UINT32:
      v = d.uint32;
      break;
    case MMDB_DATA_TYPE_UINT64:
      v = d.uint64;
      break;
    case MMDB_DATA_TYPE_INT32:
      if (d.int32 <= 0) return false;
      v = static_cast<std::uint64_t>(d.int32);
      break;
    default:
      return false;
  }
  if (v == 0 || v > std::numeric_limits<std::uint32_t>::max()) return false;
  dst = static_cast<std::uint32_t>(v);
  return true;
}

bool read_location(MMDB_entry_s& entry, const char* const* lat_path, const char* const* lon_path,
                   GeoRecord& out) noexcept {
  double lat = 0;
  double lon = 0;
  if (!read_number(entry, lat_path, lat) || !read_number(entry, lon_path, lon)) return false;
  out.lat = lat;
  out.lon = lon;
  out.has_location = true;
  return true;
}

// Tries the keys of both schemas: a record has one schema's or the other's.
void fill(MMDB_entry_s& entry, GeoRecord& out) {
  if (out.country_code.empty() || out.country.empty()) {
    bool done = false;
    {
      // Take code and name from the same map: `country` (where the address is), else
      // `registered_country` (who holds the block; all some GeoIP2 records have).
      const MMDB_entry_data_s code = value_at(entry, kCountryIso);
      const bool has_country = code.has_data && code.type == MMDB_DATA_TYPE_UTF8_STRING;
      const char* const* iso = has_country ? kCountryIso : kRegisteredIso;
      const char* const* name = has_country ? kCountryName : kRegisteredName;
      done = !out.country_code.empty() || read_string(entry, iso, out.country_code);
      if (out.country.empty()) read_string(entry, name, out.country);
    }
    if (!done) read_string(entry, kFlatCountry, out.country_code);
  }
  if (out.city.empty()) {
    const bool done = read_string(entry, kCityName, out.city);
    if (!done) read_string(entry, kFlatCity, out.city);
  }
  if (!out.has_location) {
    const bool done = read_location(entry, kLatitude, kLongitude, out);
    if (!done)
      read_location(entry, kFlatLatitude, kFlatLongitude, out);
  }
  if (out.asn == 0) read_asn(entry, out.asn);
  if (out.as_org.empty()) read_string(entry, kAsOrg, out.as_org);
}

}  // namespace

void GeoDatabase::Closer::operator()(MMDB_s* db) const noexcept {
  MMDB_close(db);
  delete db;
}

GeoDatabase::GeoDatabase(const std::string& path) : path_(path) {
  auto db = std::make_unique<MMDB_s>();
  errno = 0;
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db.get());
  if (status != MMDB_SUCCESS) {
    const int err = errno;
    // On failure MMDB_open has already freed what it allocated: no MMDB_close.
    std::string msg = "geoip: cannot open '" + path + "': " + MMDB_strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && err != 0)
      msg += " (" + std::generic_category().message(err) + ")";
    throw std::runtime_error(msg);
  }
  db_.reset(db.release());
}

GeoDatabase::~GeoDatabase() = default;

std::string_view GeoDatabase::database_type() const noexcept {
  const char* t = db_->metadata.database_type;
  return t != nullptr ? std::string_view(t) : std::string_view();
}

unsigned GeoDatabase::ip_version() const noexcept { return db_->metadata.ip_version; }
std::uint64_t GeoDatabase::build_epoch() const noexcept { return db_->metadata.build_epoch; }

bool GeoDatabase::lookup(const std::uint8_t* addr, bool ipv6, GeoRecord& out) const noexcept {
  if (addr == nullptr) return false;
  const std::uint8_t* v4 = !ipv6 ? addr : (decode::is_ipv4_mapped(addr) ? addr + 12 : nullptr);
  const bool v6_db = db_->metadata.ip_version == 6;
  int err = MMDB_SUCCESS;
  MMDB_lookup_result_s res{};
  // Built by hand rather than with getaddrinfo (MMDB_lookup_string): no parsing, no locks.
  if (v4 != nullptr) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, v4, 4);
    // In an IPv6 database libmaxminddb looks an AF_INET address up under ::/96, where MaxMind
    // puts IPv4 (with ::ffff:0:0/96 as an alias).
    res = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&sin), &err);
    if (v6_db && (err != MMDB_SUCCESS || !res.found_entry)) {
      // Writers that disable the alias may have put IPv4 under ::ffff:0:0/96 only.
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr.s6_addr[10] = 0xff;
      sin6.sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&sin6.sin6_addr.s6_addr[12], v4, 4);
      err = MMDB_SUCCESS;
      res = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&sin6), &err);
    }
  } else {
    // libmaxminddb would report MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR: that is only a miss.
    if (!v6_db) return false;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, addr, 16);
    res = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&sin6), &err);
  }
  if (err != MMDB_SUCCESS || !res.found_entry) return false;
  try {
    fill(res.entry, out);
  } catch (...) {
    // Only std::string growth can throw (bad_alloc); keep what was filled.
  }
  return true;
}

namespace {

struct V4Range {
  std::uint32_t net;
  unsigned len;
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// RFC 6890 / the IANA special-purpose registry, less the blocks that are globally reachable.
constexpr V4Range kNonGlobalV4[] = {
    {v4(0, 0, 0, 0), 8},     {v4(10, 0, 0, 0), 8},      {v4(100, 64, 0, 0), 10},
    {v4(127, 0, 0, 0), 8},   {v4(169, 254, 0, 0), 16},  {v4(172, 16, 0, 0), 12},
    {v4(192, 0, 0, 0), 24},  {v4(192, 0, 2, 0), 24},    {v4(192, 168, 0, 0), 16},
    {v4(198, 18, 0, 0), 15}, {v4(198, 51, 100, 0), 24}, {v4(203, 0, 113, 0), 24},
    {v4(224, 0, 0, 0), 4},   {v4(240, 0, 0, 0), 4},
};

bool is_global_v4(std::uint32_t a) noexcept {
  for (const V4Range& r : kNonGlobalV4) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - r.len);
    if ((a & mask) == r.net) return false;
  }
  return true;
}

}  // namespace

bool is_global_address(const std::uint8_t* addr, bool ipv6) noexcept {
  if (addr == nullptr) return false;
  if (!ipv6) return is_global_v4(be32(addr));
  if (decode::is_ipv4_mapped(addr)) return is_global_v4(be32(addr + 12));
  // RFC 6052 well-known NAT64 prefix 64:ff9b::/96 carries the IPv4 address in the last 32 bits.
  static constexpr std::uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(addr, kNat64, sizeof kNat64) == 0) return is_global_v4(be32(addr + 12));
  // RFC 3056 6to4 2002:V4ADDR::/48.
  if (addr[0] == 0x20 && addr[1] == 0x02) return is_global_v4(be32(addr + 2));
  // Global unicast is 2000::/3 (RFC 4291 §2.4); everything else (::, ::1, ULA, link-local,
  // site-local, multicast, discard-only 100::/64) has no location.
  if ((addr[0] & 0xe0) != 0x20) return false;
  const std::uint32_t hi = be32(addr);
  const unsigned third = (unsigned{addr[4]} << 8) | addr[5];
  if (hi == 0x20010db8) return false;                 // RFC 3849 documentation
  if (hi == 0x20010002 && third == 0) return false;   // RFC 5180 benchmarking 2001:2::/48
  if ((hi & 0xfffff000) == 0x3fff0000) return false;  // RFC 9637 documentation 3fff::/20
  return true;
}

}  // namespace stash53::enrich

#pragma once
// Read-only access to MaxMind DB (.mmdb) files for the `geoip` enricher. Understands both the
// MaxMind GeoIP2/GeoLite2 schema (nested `country.iso_code`, `city.names.en`, `location.*`) and
// the flat schema of the @ip-location-db packages (`country_code`, `city`, `latitude`, ...),
// city and ASN databases alike.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct MMDB_s;

namespace stash53::enrich {

/// What one or more databases know about an address. Fields are empty/0 when unknown. A plain
/// value; reuse one per thread so its strings keep their capacity.
struct GeoRecord {
  /// ISO 3166-1 alpha-2, e.g. "GB".
  std::string country_code;
  /// English country name (MaxMind schema only; the flat schema has no names).
  std::string country;
  /// English city name.
  std::string city;
  /// The autonomous system's organization.
  std::string as_org;
  /// True when `lat` and `lon` hold a location.
  bool has_location = false;
  /// Latitude in degrees, valid when `has_location`.
  double lat = 0;
  /// Longitude in degrees, valid when `has_location`.
  double lon = 0;
  /// Autonomous system number; 0 when unknown.
  std::uint32_t asn = 0;

  /// True when no field is known.
  [[nodiscard]] bool empty() const noexcept;
  /// Forgets every field; keeps the strings' capacity so the next lookup need not allocate.
  void clear() noexcept;
};

/// One MMDB file, opened with MMDB_MODE_MMAP and closed by the destructor. Non-copyable and
/// non-movable. lookup() only reads the mapping, so one instance may be shared by any number of
/// threads once constructed. lookup() tries the keys of both schemas on every record.
class GeoDatabase {
 public:
  /// Opens and memory-maps `path`. Throws std::runtime_error
  /// "geoip: cannot open '<path>': <MMDB_strerror>" when the file is missing or unreadable, is
  /// not an MMDB file or is corrupt.
  explicit GeoDatabase(const std::string& path);
  ~GeoDatabase();
  GeoDatabase(const GeoDatabase&) = delete;
  GeoDatabase& operator=(const GeoDatabase&) = delete;
  GeoDatabase(GeoDatabase&&) = delete;
  GeoDatabase& operator=(GeoDatabase&&) = delete;

  /// Looks up a 4-byte (`ipv6` false) or 16-byte (`ipv6` true) address in network byte order
  /// and fills only the fields of `out` that are still empty (0 / !has_location), so several
  /// databases can be merged into one record in priority order. An IPv4-mapped address
  /// (::ffff:a.b.c.d) is looked up as its IPv4 address; an IPv6 address in an IPv4-only database
  /// is a miss. Returns true when the database had an entry for the address (even if it filled
  /// nothing). Does not allocate once `out`'s strings have the capacity; never throws, never
  /// blocks (beyond page faults on the mapping).
  bool lookup(const std::uint8_t* addr, bool ipv6, GeoRecord& out) const noexcept;

  /// The path given to the constructor.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The metadata's database_type, e.g. "GeoIP2-City", "GeoLite2-ASN" or "city ipv4"; valid
  /// while this object lives.
  [[nodiscard]] std::string_view database_type() const noexcept;
  /// The metadata's build_epoch: when the database was made (seconds since 1970).
  [[nodiscard]] std::uint64_t build_epoch() const noexcept;
  /// The metadata's ip_version: 4 or 6.
  [[nodiscard]] unsigned ip_version() const noexcept;

 private:
  struct Closer {
    void operator()(MMDB_s* db) const noexcept;
  };
  std::string path_;
  std::unique_ptr<MMDB_s, Closer> db_;
  // Which groups of keys (a `Keys` bit set in the .cc) the database's records have, sampled at
  // open, so that lookup() does not search each record for keys this database never has.
};

/// True for addresses GeoIP can say something about, false for those no database has an entry
/// for. IPv4 (`ipv6` false, 4 bytes): false for 0/8, 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16,
/// 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24,
/// 224/4 (multicast), 240/4 (with 255.255.255.255). IPv6 (16 bytes): ::ffff:0:0/96,
/// 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) are judged by their embedded IPv4 address;
/// otherwise only 2000::/3 is global, less 2001:2::/48 (benchmarking), 2001:db8::/32 and
/// 3fff::/20 (documentation). So ::, ::1, fc00::/7, fe80::/10, fec0::/10 and ff00::/8 are
/// false. `addr` is in network byte order.
[[nodiscard]] bool is_global_address(const std::uint8_t* addr, bool ipv6) noexcept;

}  // namespace stash53::enrich

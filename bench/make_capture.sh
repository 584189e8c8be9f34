#!/bin/bash
# Builds a large DNS capture for the benchmark: dnsperf queries a real nsd on a private loopback
# while tcpdump records lo. Reproducible: the zone and the query list are generated from fixed
# formulas (no randomness); only ports, DNS ids and times differ between runs.
#
# Usage: bench/make_capture.sh OUT.pcap [QUERIES]     (as root; QUERIES defaults to 500000,
#        i.e. about 1,000,000 packets: one query and one response each)
# Tuning: QPS (default 50000) caps dnsperf's rate so that tcpdump keeps up on 2 cores.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT.pcap [QUERIES]" >&2; exit 2; }
out=$(realpath -m "$1")
queries=${2:-500000}
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
nsd_pid= tcpdump_pid=
cleanup() {
    # Only the processes this script started, by PID.
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null && wait "$tcpdump_pid" || true
    [ -n "$nsd_pid" ] && kill "$nsd_pid" 2>/dev/null && wait "$nsd_pid" || true
    rm -rf "$work"
}
trap cleanup EXIT

hosts=3000
# Zone: h0..h2999.bench.test, each with A, AAAA, MX and a two-string TXT.
awk -v n=$hosts 'BEGIN {
    print "$ORIGIN bench.test.\n$TTL 300"
    print "@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 300"
    print "@ IN NS ns1.bench.test.\nns1 IN A 127.0.0.1"
    for (i = 0; i < n; i++) {
        printf "h%d IN A 198.51.100.%d\nh%d IN AAAA 2001:db8::%x\n", i, i % 256, i, i
        printf "h%d IN MX 10 mx%d.bench.test.\n", i, i % 16
        printf "h%d IN TXT \"host %d\" \"bench\"\n", i, i
    }
}' >"$work/zone.db"
# Queries: a fixed walk over the names, types cycling A/AAAA/MX/TXT, every 10th one NXDOMAIN.
awk -v n=$hosts -v q="$queries" 'BEGIN {
    split("A AAAA MX TXT", t, " ")
    for (i = 0; i < q; i++)
        if (i % 10 == 9) printf "nx%d.bench.test A\n", i % n
        else printf "h%d.bench.test %s\n", (i * 7919) % n, t[i % 4 + 1]
}' >"$work/queries"

cat >"$work/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: 53
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$work"
    pidfile: "$work/nsd.pid"
    zonelistfile: "$work/nsd.zonelist"
    xfrdfile: "$work/nsd.xfrd"
    xfrdir: "$work"
    server-count: 1
    # NSD's response rate limiting would drop most of a load test from one address.
    rrl-ratelimit: 0
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: bench.test
    zonefile: zone.db
EOF
nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 &
nsd_pid=$!
for _ in $(seq 50); do
    kdig +short +timeout=1 +retry=0 @127.0.0.1 bench.test SOA 2>/dev/null | grep -q . && break
    sleep 0.1
done
kdig +short +timeout=1 +retry=0 @127.0.0.1 bench.test SOA | grep -q . \
    || { echo "nsd did not start:" >&2; cat "$work/nsd.log" >&2; exit 1; }

# -B: a 256 MiB kernel buffer, so bursts do not overflow the ring while tcpdump writes;
# -Z root: keep root, so OUT may be in any directory root can write.
tcpdump -n -i lo -s 0 -B 262144 -Z root -w "$out" 'port 53' 2>"$work/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
grep -q listening "$work/tcpdump.err" || { cat "$work/tcpdump.err" >&2; exit 1; }

start=$(date +%s.%N)
# -n 1: the query file is sent once; -l bounds the time even if the rate collapses.
dnsperf -s 127.0.0.1 -d "$work/queries" -n 1 -c 4 -q 200 -t 2 -Q "$qps" \
    -l $((queries / qps * 3 + 30)) >"$work/dnsperf.out" 2>&1 \
    || { cat "$work/dnsperf.out" >&2; exit 1; }
# Packets still in the kernel ring are handed over within tcpdump's 1 s buffer timeout.
sleep 2
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
end=$(date +%s.%N)

grep -E 'Queries (sent|completed|lost)|Queries per second' "$work/dnsperf.out"
grep -E 'packets (captured|dropped)' "$work/tcpdump.err"
echo "packets written to $out: $(capinfos -c -M "$out" | awk '/Number of packets/ {print $NF}')"
awk -v s="$start" -v e="$end" 'BEGIN { printf "capture took %.1f s\n", e - s }'

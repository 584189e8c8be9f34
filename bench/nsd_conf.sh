#!/bin/bash
# The benchmarks' nsd.conf (make_capture.sh, live.sh): port 53 of ADDRESSES, the ZONES' files
# in WORK, one server process, response rate limiting off; SERVER_OPTIONs go to `server:`.
# Usage: bench/nsd_conf.sh WORK "ADDRESS..." "ZONE..." [SERVER_OPTION...] >WORK/nsd.conf
set -eu
work=$1 addresses=$2 zones=$3
shift 3
echo "server:"
for a in $addresses; do echo "    ip-address: $a"; done
cat <<CONF
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
CONF
for option in "$@"; do echo "    $option"; done
cat <<CONF
    # NSD's response rate limiting would drop most of a load test from one address.
    rrl-ratelimit: 0
    verbosity: 0
remote-control:
    control-enable: no
CONF
for zone in $zones; do printf 'zone:\n    name: %s\n    zonefile: %s\n' "$zone" "$zone"; done

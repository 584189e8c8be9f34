#!/bin/sh
# Usage: bench/enricher_costs.sh [BUILD_DIR [PCAP]]     (defaults: build, tests/data/sample.pcap)
#
# What each default enricher costs, in instructions per message counted by callgrind (which
# repeat run to run, whatever else the machine does): stash53 -r PCAP -o /dev/null with every
# default enricher, then without each one, then without any. Each figure is the run on PCAP less
# the same run on PCAP's first two packets, so start-up (opening databases) is left out. Use a
# capture with public client addresses (tests/data/readdress.py), or geoip has nothing to look up.
set -eu
build=${1:-build}
pcap=${2:-tests/data/sample.pcap}
tmp=$(mktemp -d /tmp/stash53-costs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
messages=$("$build/stash53" -r "$pcap" -o /dev/null 2>&1 | grep -o ' messages=[0-9]*' | tail -n 1 | cut -d= -f2)
tcpdump -r "$pcap" -c 2 -w "$tmp/start.pcap" 2>/dev/null
instructions() {  # of one whole run on $1
  input=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$build/stash53" -r "$input" -o /dev/null "$@" \
    >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  sed -n 's/^summary: //p' "$tmp/out"
}
count() { echo $(( $(instructions "$pcap" "$@") - $(instructions "$tmp/start.pcap" "$@") )); }
enrichers=$("$build/stash53" --help >/dev/null; "$build/stash53" -r "$pcap" -o /dev/null 2>&1 |
  grep -o 'enricher:[a-z_]*' | cut -d: -f2 | sort -u)
all=$(count)
none=$(count $(for e in $enrichers; do printf -- '--no-enrich %s ' "$e"; done))
echo "capture: $pcap, $messages messages"
printf '%-24s %8d instructions/message\n' "all default enrichers" $((all / messages))
printf '%-24s %8d instructions/message (enrichers: %d%% of the total)\n' "none" \
  $((none / messages)) $(( (all - none) * 100 / all ))
for e in $enrichers; do
  without=$(count --no-enrich "$e")
  printf '%-24s %8d instructions/message: it costs %d (%d%% of the total)\n' "without $e" \
    $((without / messages)) $(( (all - without) / messages )) $(( (all - without) * 100 / all ))
done

#!/bin/bash
# bench_zmq.sh BUILD_DIR PCAP [RUNS]: the zmq emitter's throughput against a plain ZeroMQ
# publisher, RUNS interleaved rounds (default 1), medians.
# Env: BENCH_RESULTS  a file to append the figures to as key=value lines (performance.sh)
# The same C++ SUB (BUILD_DIR/zmq_ceiling sub) receives from both, over loopback:
#   ceiling: zmq_ceiling pub sends as many [topic, json] messages as PCAP has events, each of
#            the events' average size, from a bare send loop on an XPUB set up like the emitter's;
#   stash53: stash53 -r PCAP --zmq tcp://127.0.0.1:PORT?topic=dns.{qtype}
#            (and once more with events_per_message=10).
# Rates are events/s counted at the receiver, from the first message received to the last (it
# must receive every event); prints the ratio. On a loaded machine rates swing with the other
# processes, so the sender's CPU time per event is printed too (stash53 -o /dev/null gives the
# pipeline's own share of it). About 12 s a round for 1 M events, plus some 8 s once.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ ${3:-1} =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 BUILD_DIR PCAP [RUNS]" >&2
  exit 2
fi
build=$1 pcap=$2 runs=${3:-1}
stash53=$build/stash53 ceiling=$build/zmq_ceiling
for f in "$stash53" "$ceiling"; do
  [ -x "$f" ] || { echo "$0: $f not built" >&2; exit 2; }
done
tmp=$(mktemp -d)
sub_pid=
cleanup() {
  if [ -n "$sub_pid" ]; then kill "$sub_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The events, their average JSON size and the pipeline's own rate (to a pipe, no ZeroMQ).
start=$(date +%s.%N)
read -r events json_bytes < <("$stash53" -r "$pcap" -N bench --stdout 2>/dev/null |
  awk '{ n++; b += length($0) } END { printf "%d %.0f\n", n, n ? b / n : 0 }')
end=$(date +%s.%N)
[ "$events" -gt 0 ] || { echo "$0: no events in $pcap" >&2; exit 1; }
echo "capture: $pcap, $events events, average JSON $json_bytes bytes"
awk -v n="$events" -v s="$start" -v e="$end" \
  'BEGIN { printf "stash53 --stdout (pipe, whole run): %.0f events/s\n", n / (e - s) }'

# cpu_us LABEL COMMAND...: runs COMMAND, prints its CPU time (user + sys) per event.
cpu_us() {
  local label=$1 t
  shift
  t=$( { TIMEFORMAT='%U %S'; time "$@" > /dev/null 2> "$tmp/sender.err"; } 2>&1 ) ||
    { cat "$tmp/sender.err" >&2; exit 1; }
  awk -v t="$t" -v n="$events" -v l="$label" \
    'BEGIN { split(t, a, " "); printf "%s: %.2f us CPU per event\n", l, (a[1] + a[2]) * 1e6 / n }' >&2
}

cpu_us "stash53 -o /dev/null" "$stash53" -r "$pcap" -N bench -o /dev/null

# run_sub LABEL SENDER...: starts the receiver on a free port (PORT in the sender's
# arguments), runs the sender, prints and returns the receiver's rate.
run_sub() {
  local label=$1 port
  shift
  port=$(free_port)
  "$ceiling" sub "tcp://127.0.0.1:$port" "$events" > "$tmp/sub.out" &
  sub_pid=$!
  # The SUB binds before the sender starts, so the sender connects to a listening port.
  for _ in $(seq 200); do grep -q ready "$tmp/sub.out" 2>/dev/null && break; sleep 0.05; done
  grep -q ready "$tmp/sub.out" || { echo "$label: the receiver did not start" >&2; exit 1; }
  cpu_us "$label sender" "${@//PORT/$port}"
  if ! wait "$sub_pid"; then
    sub_pid=
    echo "$label: receiver incomplete: $(tail -1 "$tmp/sub.out")" >&2
    exit 1
  fi
  sub_pid=
  local line
  line=$(tail -1 "$tmp/sub.out")
  echo "$label: $line" >&2
  echo "${line##*rate=}"
}

: >"$tmp/ceiling"; : >"$tmp/zmq"; : >"$tmp/packed"
for round in $(seq "$runs"); do
  echo "round $round of $runs" >&2
  run_sub "ceiling (plain publisher)" "$ceiling" pub tcp://127.0.0.1:PORT "$events" 6 "$json_bytes" \
    >>"$tmp/ceiling"
  run_sub "stash53 --zmq" "$stash53" -r "$pcap" -N bench --zmq "tcp://127.0.0.1:PORT?topic=dns.{qtype}" \
    >>"$tmp/zmq"
  run_sub "stash53 --zmq events_per_message=10" "$stash53" -r "$pcap" -N bench \
    --zmq "tcp://127.0.0.1:PORT?topic=dns.{qtype}&events_per_message=10" >>"$tmp/packed"
done
median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ceiling_rate=$(median "$tmp/ceiling") zmq_rate=$(median "$tmp/zmq") packed_rate=$(median "$tmp/packed")
awk -v c="$ceiling_rate" -v z="$zmq_rate" -v p="$packed_rate" -v r="$runs" 'BEGIN {
  printf "medians of %d round(s): ceiling %.0f events/s; stash53 %.0f events/s = %.1f%% of it (target >= 70%%); packed by 10: %.0f events/s = %.1f%%\n",
         r, c, z, 100 * z / c, p, 100 * p / c }'
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf '%s\n' "zmq.events=$events" "zmq.size=$json_bytes" "zmq.ceiling=$ceiling_rate" \
    "zmq.stash53=$zmq_rate" "zmq.packed=$packed_rate" >>"$BENCH_RESULTS"
fi

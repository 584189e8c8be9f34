#!/bin/bash
# bench_zmq.sh BUILD_DIR PCAP: the zmq emitter's throughput against a plain ZeroMQ publisher.
# The same C++ SUB (BUILD_DIR/zmq_ceiling sub) receives from both, over loopback:
#   ceiling: zmq_ceiling pub sends as many [topic, json] messages as PCAP has events, each of
#            the events' average size, from a bare send loop on an XPUB set up like the emitter's;
#   stash53: stash53 -r PCAP --zmq tcp://127.0.0.1:PORT?topic=dns.{qtype}
#            (and once more with events_per_message=10).
# Rates are events/s from the first message received to the last; prints the ratio. On a
# loaded machine rates swing with the other processes, so the sender's CPU time per event is
# printed too (stash53 -o /dev/null gives the pipeline's own share of it).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR PCAP" >&2
  exit 2
fi
build=$1 pcap=$2
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
read -r events json_bytes < <("$stash53" -r "$pcap" --stdout 2>/dev/null |
  awk '{ n++; b += length($0) } END { printf "%d %d\n", n, n ? b / n : 0 }')
end=$(date +%s.%N)
echo "events: $events, average JSON: $json_bytes bytes"
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

cpu_us "stash53 -o /dev/null" "$stash53" -r "$pcap" -o /dev/null

# run_sub LABEL SENDER...: starts the receiver on a free port (PORT in the sender's
# arguments), runs the sender, prints and returns the receiver's rate.
run_sub() {
  local label=$1 port
  shift
  port=$(free_port)
  "$ceiling" sub "tcp://127.0.0.1:$port" "$events" > "$tmp/sub.out" &
  sub_pid=$!
  # The SUB binds before the sender starts, so the sender connects to a listening port.
  until grep -q ready "$tmp/sub.out" 2>/dev/null; do sleep 0.05; done
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

ceiling_rate=$(run_sub "ceiling (plain publisher)" "$ceiling" pub tcp://127.0.0.1:PORT "$events" 6 "$json_bytes")
zmq_rate=$(run_sub "stash53 --zmq" "$stash53" -r "$pcap" --zmq "tcp://127.0.0.1:PORT?topic=dns.{qtype}")
packed_rate=$(run_sub "stash53 --zmq events_per_message=10" "$stash53" -r "$pcap" \
  --zmq "tcp://127.0.0.1:PORT?topic=dns.{qtype}&events_per_message=10")
awk -v c="$ceiling_rate" -v z="$zmq_rate" -v p="$packed_rate" 'BEGIN {
  printf "ceiling %.0f events/s; stash53 %.0f events/s = %.1f%% of it; packed by 10: %.0f events/s = %.1f%%\n",
         c, z, 100 * z / c, p, 100 * p / c }'

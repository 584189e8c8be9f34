#!/bin/bash
# bench_nats.sh BUILD_DIR PCAP [RUNS]: stash53's nats emitter into JetStream, acknowledged, with
# streams of 1 and of 3 replicas, against a bare libnats JetStream publisher (BUILD_DIR/nats_probe
# publish: asynchronous, acknowledged, a Nats-Msg-Id each, up to 4096 pending, the same as the
# emitter's default) with as many messages as PCAP has events, each the events' average JSON
# size. RUNS interleaved rounds (default 1), medians. The servers: a 3-node nats-server cluster
# on 127.0.0.1, file storage in a temporary directory; stash53 and the ceiling connect to all
# three. stash53's rate is its events over its wall time (start to exit: every event
# acknowledged), and a run whose counters do not show every event sent is marked LOST.
# Env: BENCH_RESULTS  a file to append the figures to as key=value lines
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ ${3:-1} =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 BUILD_DIR PCAP [RUNS]" >&2
  exit 2
fi
build=$1 pcap=$2 runs=${3:-1}
stash53=$build/stash53 probe=$build/nats_probe
for f in "$stash53" "$probe"; do
  [ -x "$f" ] || { echo "$0: $f not built" >&2; exit 2; }
done
command -v nats-server >/dev/null || { echo "$0: nats-server missing (apt-get install nats-server)" >&2; exit 2; }
work=$(mktemp -d)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ports=() routes=()
for i in 1 2 3; do ports+=("$(free_port)"); routes+=("$(free_port)"); done
route_list=$(printf 'nats://127.0.0.1:%s,' "${routes[@]}"); route_list=${route_list%,}
for i in 0 1 2; do
  nats-server -n "n$i" -a 127.0.0.1 -p "${ports[$i]}" -js -sd "$work/js$i" --cluster_name bench \
    --cluster "nats://127.0.0.1:${routes[$i]}" --routes "$route_list" >"$work/n$i.log" 2>&1 &
  pids+=($!)
done
servers=$(printf '127.0.0.1:%s,' "${ports[@]}"); servers=${servers%,}
probe_servers=$(printf 'nats://127.0.0.1:%s,' "${ports[@]}"); probe_servers=${probe_servers%,}

read -r events bytes < <("$stash53" -r "$pcap" -N bench --stdout 2>/dev/null | wc -lc)
[ "$events" -gt 0 ] || { echo "$0: no events in $pcap" >&2; exit 1; }
size=$(( (bytes - events + events / 2) / events ))
echo "capture: $pcap, $events events, average JSON $size bytes; 3-node cluster on 127.0.0.1:${ports[*]}"

# The streams, made by stash53 itself (create_stream) once the cluster has elected its leader.
for r in 1 3; do
  for _ in $(seq 60); do
    if "$stash53" -r "$pcap" -N bench --drain-ms 3000 --nats \
        "nats://$servers?subject=r$r.{qtype}&stream=R$r&create_stream=1&stream_replicas=$r" \
        >/dev/null 2>"$work/create.log"; then break; fi
    sleep 0.5
  done
  grep -q "sent=$events " "$work/create.log" || { echo "$0: cannot create stream R$r:" >&2; tail -3 "$work/create.log" >&2; exit 1; }
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A rates
lost=0
for round in $(seq "$runs"); do
  for r in 1 3; do
    ceiling=$("$probe" publish "$probe_servers" "r$r.bench" "R$r" "$events" "$size" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
    start=$(date +%s.%N)
    "$stash53" -r "$pcap" -N bench --nats "nats://$servers?subject=r$r.{qtype}&stream=R$r${NATS_EXTRA:-}" \
      >/dev/null 2>"$work/run.log"
    took=$(echo "$(date +%s.%N) - $start" | bc -l)
    rate=$(echo "$events / $took" | bc -l | cut -d. -f1)
    note=""
    grep -q "sent=$events " "$work/run.log" || { note=" LOST"; lost=1; }
    echo "round $round: replicas $r: ceiling $ceiling/s, stash53 $rate events/s$note"
    rates[c$r]+="$ceiling "; rates[s$r]+="$rate "
  done
done
for r in 1 3; do
  c=$(tr ' ' '\n' <<<"${rates[c$r]}" | grep . | median)
  s=$(tr ' ' '\n' <<<"${rates[s$r]}" | grep . | median)
  pct=$(echo "100 * $s / $c" | bc -l | cut -d. -f1)
  echo "replicas $r: bare libnats JetStream publisher $c/s; stash53 --nats $s events/s = $pct% of it (medians of $runs)"
  if [ -n "${BENCH_RESULTS:-}" ]; then
    echo "nats_r${r}_ceiling=$c" >>"$BENCH_RESULTS"
    echo "nats_r${r}_stash53=$s" >>"$BENCH_RESULTS"
  fi
done
exit $lost

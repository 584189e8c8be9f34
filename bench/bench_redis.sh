#!/bin/bash
# Redis emitter throughput against redis-server's own ceiling, measured in the same run.
#
# Usage: bench/bench_redis.sh BUILD_DIR PCAP [RUNS]      (RUNS interleaved rounds, default 1)
# Env:   BENCH_RESULTS  a file to append the figures to as key=value lines (performance.sh)
#
# On a private redis-server on 127.0.0.1 (--save '' --appendonly no):
#   ceiling: redis-benchmark -t rpush -P 256 -n EVENTS -d SIZE, SIZE the average JSON size of
#            PCAP's events (what the list emitter pushes: one document per event, no newline),
#            EVENTS as many as PCAP has;
#   stash53: stash53 -r PCAP --redis redis://127.0.0.1:PORT?key=dns:bench, end to end: the
#            events in the list (LLEN, which must equal the emitted count) over stash53's wall
#            time, from start to exit (its queue drained);
#   null:    the same into the null emitter, what the pipeline alone manages here.
# Each round runs the three once; the figures are medians. About 10 s a round for 1 M events.
set -euo pipefail
usage() { echo "usage: $0 BUILD_DIR PCAP [RUNS]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
build=$1 pcap=$2 runs=${3:-1}
[[ $runs =~ ^[1-9][0-9]*$ ]] || usage
stash53=$build/stash53
[ -x "$stash53" ] || { echo "$0: $stash53 not built" >&2; exit 2; }
for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "$0: $tool missing (apt-get install redis)" >&2; exit 2; }
done
work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$port" ping >/dev/null || { echo "redis did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }

# The events and their average size, with the sensor label of the runs below.
read -r events bytes < <("$stash53" -r "$pcap" -N bench --stdout 2>/dev/null | wc -lc)
[ "$events" -gt 0 ] || { echo "$0: no events in $pcap" >&2; exit 1; }
size=$(( (bytes - events + events / 2) / events ))
echo "capture: $pcap, $events events, average JSON $size bytes; redis-server 127.0.0.1:$port"

# Wall seconds of "$@" (stash53), its stderr in $work/stderr; sets emitted and secs.
run() {
  local start end rc=0
  start=$(date +%s.%N)
  "$stash53" -r "$pcap" -N bench "$@" 2>"$work/stderr" >/dev/null || rc=$?
  end=$(date +%s.%N)
  [ "$rc" = 0 ] || { echo "stash53 exited with $rc:" >&2; tail -n 3 "$work/stderr" >&2; }
  emitted=$(grep -o 'emitted=[0-9]*' "$work/stderr" | tail -1 | cut -d= -f2)
  secs=$(echo "$end - $start" | bc -l)
}
printf 'emitters:\n  - type: "null"\n' >"$work/null.yml"
ok=1
: >"$work/ceiling" ; : >"$work/redis" ; : >"$work/null"
for round in $(seq "$runs"); do
  redis-cli -p "$port" flushall >/dev/null
  c=$(redis-benchmark -p "$port" -t rpush -P 256 -n "$events" -d "$size" -q | tr '\r' '\n' |
      sed -n 's/^RPUSH: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
  [ -n "$c" ] || { echo "redis-benchmark printed no RPUSH rate" >&2; exit 1; }
  redis-cli -p "$port" flushall >/dev/null
  echo "$c" >>"$work/ceiling"

  run -c "$work/null.yml"
  echo "$emitted / $secs" | bc -l >>"$work/null"
  null_rate=$(tail -1 "$work/null")

  run --redis "redis://127.0.0.1:$port?key=dns:bench"
  llen=$(redis-cli -p "$port" llen dns:bench)
  redis-cli -p "$port" flushall >/dev/null
  if [ "$llen" != "$events" ]; then
    echo "round $round: LLEN $llen, emitted ${emitted:-?}, expected $events: events lost" >&2
    ok=0
  fi
  echo "$llen / $secs" | bc -l >>"$work/redis"
  printf 'round %s: redis-benchmark %.0f/s, stash53 --redis %.0f events/s (LLEN %s), null %.0f events/s\n' \
    "$round" "$c" "$(tail -1 "$work/redis")" "$llen" "$null_rate"
done
median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ceiling=$(median "$work/ceiling") rate=$(median "$work/redis") null_rate=$(median "$work/null")
printf 'redis-benchmark rpush -P 256, %s-byte values (ceiling): %s/s\n' "$size" "$ceiling"
printf 'stash53 --redis, end to end (LLEN / wall):             %s events/s%s\n' "$rate" \
  "$([ "$ok" = 1 ] || echo ' (EVENTS LOST)')"
printf 'stash53 null emitter (pipeline alone):                %s events/s\n' "$null_rate"
printf 'medians of %s round(s); ratio to the ceiling: %.0f%% (target >= 70%%); to the null pipeline: %.0f%%\n' \
  "$runs" "$(echo "100 * $rate / $ceiling" | bc -l)" "$(echo "100 * $rate / $null_rate" | bc -l)"
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf '%s\n' "redis.events=$events" "redis.size=$size" "redis.ceiling=$ceiling" \
    "redis.stash53=$rate" "redis.null=$null_rate" "redis.ok=$ok" >>"$BENCH_RESULTS"
fi
[ "$ok" = 1 ]

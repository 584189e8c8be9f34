#!/bin/bash
# Redis emitter throughput: redis-server's own ceiling for pipelined RPUSH (redis-benchmark),
# then stash53 -r PCAP --redis end to end (events emitted / wall time, LLEN checked), and the
# ratio. A null-emitter run shows what the pipeline alone manages on this machine.
# Usage: bench/bench_redis.sh BUILD_DIR PCAP
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR PCAP}
pcap=${2:?usage: $0 BUILD_DIR PCAP}
work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

ceiling=$(redis-benchmark -p "$port" -t rpush -P 256 -n 1000000 -q | tr '\r' '\n' |
          sed -n 's/^RPUSH: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
redis-cli -p "$port" flushall >/dev/null

# Seconds with nanoseconds; events = the summary's emitted count.
run() {
  local start end
  start=$(date +%s.%N)
  "$build/stash53" -r "$pcap" -N bench "$@" 2>"$work/stderr" >/dev/null
  end=$(date +%s.%N)
  emitted=$(grep -o 'emitted=[0-9]*' "$work/stderr" | tail -1 | cut -d= -f2)
  rate=$(echo "$emitted / ($end - $start)" | bc -l)
}
printf 'emitters:\n  - type: "null"\n' >"$work/null.yml"
run -c "$work/null.yml"
null_rate=$rate
run --redis "redis://127.0.0.1:$port?key=dns:bench"
llen=$(redis-cli -p "$port" llen dns:bench)
if [ "$llen" != "$emitted" ]; then
  echo "FAIL: LLEN $llen, emitted $emitted" >&2
  exit 1
fi
# The same ceiling with values the size of an event: what Redis itself manages for this load.
size=$(redis-cli -p "$port" lindex dns:bench 0 | wc -c)
redis-cli -p "$port" flushall >/dev/null
sized=$(redis-benchmark -p "$port" -t rpush -P 256 -n 1000000 -d "$size" -q | tr '\r' '\n' |
        sed -n 's/^RPUSH: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
printf 'redis-benchmark rpush -P 256 (ceiling): %.0f/s\n' "$ceiling"
printf 'the same with %s-byte values:        %.0f/s\n' "$size" "$sized"
printf 'stash53 null emitter (pipeline alone):   %.0f events/s\n' "$null_rate"
printf 'stash53 --redis, end to end:             %.0f events/s (%s events, LLEN %s)\n' \
  "$rate" "$emitted" "$llen"
printf 'ratio to the ceiling: %.0f%%; to the event-sized ceiling: %.0f%%; to the null pipeline: %.0f%%\n' \
  "$(echo "100 * $rate / $ceiling" | bc -l)" "$(echo "100 * $rate / $sized" | bc -l)" \
  "$(echo "100 * $rate / $null_rate" | bc -l)"

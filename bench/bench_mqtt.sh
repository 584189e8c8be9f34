#!/bin/bash
# bench_mqtt.sh BUILD_DIR PCAP [RUNS]: stash53's mqtt emitter against the ceiling of its own
# client library, RUNS interleaved rounds (default 1), medians.
# Env: BENCH_RESULTS  a file to append the figures to as key=value lines (performance.sh)
# The ceiling is BUILD_DIR/mqtt_ceiling (a bare Paho publisher loop, same window of 1000) at QoS
# 0 and 1, as many messages as PCAP has events, each the events' average JSON size; then
# stash53 -r PCAP --mqtt at QoS 0 and 1 with events_per_message 1 and 50. All to a private
# mosquitto on 127.0.0.1, each run with a counting subscriber: stash53's rate is the events the
# subscriber received over stash53's wall time (start to exit, its queue drained), and a run
# whose count falls short is marked LOST. Prints events/s and the ratio to the ceiling of the
# same QoS. Some 30 k (QoS 1) to 60 k (QoS 0) messages/s here: 300,000 events take some 25 s a
# round.
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ ${3:-1} =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 BUILD_DIR PCAP [RUNS]" >&2
  exit 2
fi
build=$1 pcap=$2 runs=${3:-1}
stash53=$build/stash53 ceiling_bin=$build/mqtt_ceiling
for f in "$stash53" "$ceiling_bin"; do
  [ -x "$f" ] || { echo "$0: $f not built" >&2; exit 2; }
done
for tool in mosquitto mosquitto_sub; do
  command -v "$tool" >/dev/null || { echo "$0: $tool missing (apt-get install mosquitto mosquitto-clients)" >&2; exit 2; }
done
work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/m.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
# 0: unlimited. The default 1000 silently drops what a slow subscriber has not taken yet.
max_queued_messages 0
max_inflight_messages 1000
EOF
mosquitto -c "$work/m.conf" 2>"$work/mosquitto.log" &
broker=$!
sub=
cleanup() {
  if [[ -n $sub ]]; then kill "$sub" 2>/dev/null || true; fi
  kill "$broker" 2>/dev/null || true
  wait "$broker" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "mosquitto did not start:" >&2; cat "$work/mosquitto.log" >&2; exit 1; }

# Starts a subscriber on dns/# writing into $work/count: one line per event, packed or not (a
# packed payload ends in a newline of its own, so the empty lines after them are not counted).
start_sub() {
  : >"$work/count"
  mosquitto_sub -h 127.0.0.1 -p "$port" -t 'dns/#' -q 1 >"$work/count" &
  sub=$!
  sleep 0.3
}
# Waits until the subscriber has $1 lines or stopped growing; prints the count.
stop_sub() {
  local last=-1 n
  for _ in $(seq 100); do
    n=$(grep -c . "$work/count" || true)
    [[ $n -ge $1 || $n -eq $last ]] && break
    last=$n
    sleep 0.2
  done
  kill "$sub"; wait "$sub" 2>/dev/null || true; sub=
  echo "$n"
}

# The events and their average size (without the newline), with the label of the runs below.
read -r events bytes < <("$stash53" -r "$pcap" -N bench --stdout 2>/dev/null | wc -lc)
[ "$events" -gt 0 ] || { echo "$0: no events in $pcap" >&2; exit 1; }
size=$(( (bytes - events + events / 2) / events ))
echo "capture: $pcap, $events events, average JSON $size bytes; broker 127.0.0.1:$port"
lost=0
for round in $(seq "$runs"); do
  echo "round $round of $runs"
  for qos in 0 1; do
    start_sub
    line=$("$ceiling_bin" "tcp://127.0.0.1:$port" dns/bench/A "$qos" "$events" "$size" 1000)
    got=$(stop_sub "$events")
    echo "${line##*rate=}" >>"$work/ceiling$qos"
    echo "  ceiling qos=$qos: $line received=$got"
  done
  for qos in 0 1; do
    for epm in 1 50; do
      start_sub
      t0=$(date +%s.%N)
      summary=$("$stash53" -r "$pcap" -N bench \
        --mqtt "tcp://127.0.0.1:$port?topic=dns/{nsid}/{qtype}&qos=$qos&events_per_message=$epm" 2>&1 |
        grep -o '| mqtt.*' | tr -d '"' || true)
      t1=$(date +%s.%N)
      got=$(stop_sub "$events")
      [ "$got" = "$events" ] || lost=1
      rate=$(echo "$got / ($t1 - $t0)" | bc -l)
      echo "$rate" >>"$work/stash53_${qos}_$epm"
      printf '  stash53 qos=%s events_per_message=%s: %.0f events/s, received=%s%s %s\n' \
        "$qos" "$epm" "$rate" "$got" "$([ "$got" = "$events" ] || echo ' LOST')" "$summary"
    done
  done
done
median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "medians of $runs round(s):"
for qos in 0 1; do
  c=$(median "$work/ceiling$qos")
  for epm in 1 50; do
    s=$(median "$work/stash53_${qos}_$epm")
    printf 'qos=%s events_per_message=%s: stash53 %s events/s, ceiling %s messages/s: %.0f%%%s\n' \
      "$qos" "$epm" "$s" "$c" "$(echo "100 * $s / $c" | bc -l)" \
      "$([ "$epm" = 1 ] && echo ' (target >= 70%)')"
    [ -z "${BENCH_RESULTS:-}" ] || echo "mqtt.qos$qos.epm$epm=$s" >>"$BENCH_RESULTS"
  done
  [ -z "${BENCH_RESULTS:-}" ] || echo "mqtt.qos$qos.ceiling=$c" >>"$BENCH_RESULTS"
done
[ "$lost" = 0 ] || echo "some runs LOST events (see above)"
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf '%s\n' "mqtt.events=$events" "mqtt.size=$size" "mqtt.ok=$((1 - lost))" >>"$BENCH_RESULTS"
fi
[ "$lost" = 0 ]

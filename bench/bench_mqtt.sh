#!/bin/bash
# bench_mqtt.sh BUILD_DIR PCAP: stash53's mqtt emitter against the ceiling of its own client
# library. The ceiling is BUILD_DIR/mqtt_ceiling (a bare Paho publisher loop, same payload
# size and window) at QoS 0 and 1; then stash53 -r PCAP --mqtt at QoS 0 and 1 with
# events_per_message 1 and 50. All to a private mosquitto on 127.0.0.1, each run with a counting
# subscriber (its count of events must match, or the run is marked LOST). Prints events/s and the
# ratio to the ceiling of the same QoS.
set -euo pipefail
build=${1:?usage: bench_mqtt.sh BUILD_DIR PCAP}
pcap=${2:?usage: bench_mqtt.sh BUILD_DIR PCAP}
stash53=$build/stash53 ceiling_bin=$build/mqtt_ceiling
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
sleep 0.5

# Starts a subscriber on dns/# writing into $work/count: one line per event, packed or not (a
# packed payload ends in a newline of its own, so the empty lines after them are not counted).
start_sub() {
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

events=$("$stash53" -r "$pcap" -N t -o /dev/null 2>&1 | grep -o 'emitted=[0-9]*' | cut -d= -f2)
size=$("$stash53" -r "$pcap" -N t 2>/dev/null | head -n 10000 | wc -c)
size=$((size / 10000 - 1))
echo "capture: $events events, mean JSON $size bytes; broker 127.0.0.1:$port"
declare -A ceiling
for qos in 0 1; do
  start_sub
  line=$("$ceiling_bin" "tcp://127.0.0.1:$port" dns/t/A "$qos" "$events" "$size" 1000)
  got=$(stop_sub "$events")
  rate=$(sed 's/.*rate=//' <<<"$line")
  ceiling[$qos]=$rate
  echo "ceiling qos=$qos: $line received=$got"
done
for qos in 0 1; do
  for epm in 1 50; do
    start_sub
    t0=$(date +%s.%N)
    summary=$("$stash53" -r "$pcap" -N t \
      --mqtt "tcp://127.0.0.1:$port?topic=dns/{nsid}/{qtype}&qos=$qos&events_per_message=$epm" 2>&1 |
      grep -o '| mqtt.*' | tr -d '"')
    t1=$(date +%s.%N)
    got=$(stop_sub "$events")
    /usr/bin/python3 - "$events" "$t0" "$t1" "${ceiling[$qos]}" "$got" "$qos" "$epm" "$summary" <<'EOF'
import sys
events, t0, t1, ceiling, got = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rate = events / (t1 - t0)
print(f"stash53 qos={sys.argv[6]} events_per_message={sys.argv[7]}: {rate:,.0f} events/s, "
      f"{rate / ceiling:.0%} of the ceiling, received={got}{'' if got == events else ' LOST'} "
      f"{sys.argv[8]}")
EOF
  done
done

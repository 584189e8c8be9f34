#!/bin/sh
# Installs the Debian 12 packages stash53 builds, runs and tests with; only those missing.
set -eu
packages="build-essential cmake make pkg-config
libpcap-dev libwiretap-dev libwsutil-dev libglib2.0-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev rapidjson-dev libboost-test-dev
libpsl-dev publicsuffix libmaxminddb-dev libssl-dev libcap-ng-dev libcpp-httplib-dev
prometheus chromium help2man logrotate systemd groff-base man-db
libhiredis-dev libzmq3-dev cppzmq-dev libpaho-mqttpp-dev libpaho-mqtt-dev
tshark nsd knot-dnsutils tcpdump dnsperf python3 python3-scapy python3-zmq iproute2 util-linux
libmaxmind-db-writer-perl mmdb-bin python3-cryptography curl ca-certificates
redis-server redis-tools mosquitto mosquitto-clients openssl clang libclang-rt-14-dev llvm
libfstrm-dev libprotobuf-c-dev protobuf-c-compiler golang-github-dnstap-golang-dnstap-dev fstrm-bin
bind9 bind9-dnsutils unbound knot knot-module-dnstap dnsdist dnsmasq-base rsyslog busybox isc-dhcp-client wireshark-common
golang-github-dnstap-golang-dnstap-cli
dnscap bind9-utils
nats-server libnats-dev"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

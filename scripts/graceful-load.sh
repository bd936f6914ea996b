#!/usr/bin/env bash
# Graceful restarts under wrk load, per MPM: wrk -t1 -c20 keep-alive for
# 12 s while `httpdg -k graceful` runs 5 times (every 2 s); prints wrk's
# socket errors and non-2xx answers, which must be 0. The same check runs
# in `go test` with a Go load generator (TestGracefulUnderLoadDropsNothing);
# this script shows it with wrk, the tool the issue measured Apache
# (31 read errors) and nginx (105) with.
#
# Usage: scripts/graceful-load.sh ; needs wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not installed: apt-get install -y wrk (nothing measured)"
	exit 0
fi
work=$(mktemp -d /tmp/httpdg-graceful.XXXX)
go build -o "$work/httpdg" ./cmd/httpdg
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18211)
mkdir -p "$work/root/conf" "$work/root/htdocs"
head -c 4096 /dev/zero | tr '\0' 'a' > "$work/root/htdocs/index.html"
declare -A settings=(
	[prefork]="StartServers 24
MinSpareServers 4
MaxSpareServers 64
ServerLimit 64
MaxRequestWorkers 64"
	[worker]="StartServers 2
ThreadsPerChild 25"
	[event]="StartServers 2
ThreadsPerChild 25"
)
cleanup() { "$work/httpdg" -d "$work/root" -k stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
status=0
for mpm in prefork worker event; do
	cat > "$work/root/conf/httpd.conf" <<C
Listen 127.0.0.1:$port
ServerName localhost
MPM $mpm
${settings[$mpm]}
C
	"$work/httpdg" -d "$work/root" -k start
	wrk -t1 -c20 -d12s "http://127.0.0.1:$port/index.html" > "$work/wrk.out" &
	wrkpid=$!
	for i in 1 2 3 4 5; do
		sleep 2
		"$work/httpdg" -d "$work/root" -k graceful
	done
	wait "$wrkpid"
	reqs=$(awk '/requests in/{print $1}' "$work/wrk.out")
	errors=$(grep -E 'Socket errors|Non-2xx' "$work/wrk.out" || true)
	printf '%-8s %9s requests, 5 graceful restarts: %s\n' "$mpm" "$reqs" "${errors:-no socket errors, no non-2xx}"
	[[ -z $errors ]] || status=1
	"$work/httpdg" -d "$work/root" -k stop
done
exit $status

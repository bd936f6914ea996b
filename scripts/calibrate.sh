#!/usr/bin/env bash
# What a bare Go HTTP server reaches on this machine, in 1, 2 and 3
# processes sharing one port, beside nginx: wrk -t1 -c50 on a 4 KB answer,
# keep-alive, 100 requests per connection (Apache's MaxKeepAliveRequests).
# It separates httpdg's own per-request work from the Go runtime's cost of
# running several processes on few cores (see README, Performance).
#
# Usage: scripts/calibrate.sh      (DUR=4s ROUNDS=2 override)
# Needs: Go and wrk (apt-get install -y wrk); nginx is optional.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${DUR:-4s} rounds=${ROUNDS:-2}
if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not installed: apt-get install -y wrk"
	exit 1
fi
w=$(mktemp -d /tmp/httpdg-calibrate.XXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$w/nginx.pid" ] && kill "$(cat "$w/nginx.pid")" 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT
go build -o "$w/calibrate" ./scripts/calibrate
mkdir -p "$w/htdocs"
head -c 4096 /dev/zero | tr '\0' 'a' > "$w/htdocs/index.html"

start() { # port processes [GOMAXPROCS]
	local i
	for i in $(seq "$2"); do
		GOMAXPROCS=${3:-} "$w/calibrate" -addr "127.0.0.1:$1" -stat "$w/htdocs/index.html" >/dev/null &
		pids+=($!)
	done
}
start 18196 1
start 18197 2 1
start 18198 3 1
targets="18196:go-1-process 18197:go-2-processes 18198:go-3-processes"
if command -v nginx >/dev/null 2>&1; then
	cat > "$w/nginx.conf" <<C
worker_processes 2;
pid $w/nginx.pid;
error_log $w/nginx_error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:18195; root $w/htdocs; } }
C
	nginx -c "$w/nginx.conf" && targets="18195:nginx-2-workers $targets"
else
	echo "nginx not installed: apt-get install -y nginx (its row is skipped)"
fi
for t in $targets; do # wait until each answers
	for _ in $(seq 50); do
		curl -fso /dev/null "http://127.0.0.1:${t%%:*}/index.html" 2>/dev/null && break
		sleep 0.1
	done
done
for r in $(seq "$rounds"); do
	for t in $targets; do
		rps=$(wrk -t1 -c50 -d"$dur" "http://127.0.0.1:${t%%:*}/index.html" | awk '/Requests\/sec/{print $2}')
		printf '%-16s round %d  %10s req/s\n' "${t#*:}" "$r" "$rps"
	done
done

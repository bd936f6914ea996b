#!/usr/bin/env bash
# httpdg benchmarks.
#
# What runs today: the config benchmark (reading and processing a 10,000-line
# config), `go test ./config -bench Load10k`.
#
# Planned (SPEC section 10): wrk on loopback against a static file and the Lua
# hello handler, per MPM, beside Apache httpd and nginx when they are
# installed. Those need httpdg to serve HTTP (the MPM and HTTP issues), not built yet.
#
# Usage: scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== config: go test ./config -run '^\$' -bench Load10k -benchtime 20x"
if grep -qs 'func BenchmarkLoad10k' config/*_test.go; then
	go test ./config -run '^$' -bench Load10k -benchtime 20x
else
	echo "config benchmark not there yet: no BenchmarkLoad10k in config/*_test.go; skipped"
fi

echo
echo "== serving (wrk)"
if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not installed: apt-get install -y wrk"
fi
echo "serving benchmarks need httpdg to serve HTTP (the MPM and HTTP issues), which is not built yet; skipped"

#!/usr/bin/env bash
# Differential runner: httpdg against a local Apache httpd 2.4 on the same
# tree and config, request by request.
#
# It builds httpdg, writes the parity fixture (cmd/httpdg/httpdgtest/parity:
# one document tree, the config both servers share, the requests) under a
# temporary directory, gives each server its own ServerRoot there (config,
# pid file, logs), starts Apache (apache2 -k start with its own PidFile) and
# httpdg (-X, in the background) on free loopback ports, sends every
# request of the parity table to both as raw bytes, and prints a table:
# request | Apache's status, key headers and kind of body | httpdg's |
# same? | whether Apache still gives the answer the table recorded (which
# TestApacheParity holds httpdg to). Then the combined access-log lines
# that differ (time and port masked). Both servers are stopped by pid on
# exit.
#
# Usage: scripts/apache-diff.sh [-v]   (-v: both heads, byte for byte, of
#                                       each difference)
#        scripts/apache-diff.sh -emit  (Apache's answers as the fields of
#                                       parity.Cases rows, "name<TAB>fields",
#                                       to record after changing requests)
# Needs: Go; Apache httpd 2.4 (apt-get install -y apache2; APACHE and
# APACHE_MODULES override /usr/sbin/apache2 and /usr/lib/apache2/modules).
# Without apache2 it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

APACHE=${APACHE:-/usr/sbin/apache2}
MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
if [[ ! -x $APACHE ]]; then
	echo "apache-diff: $APACHE not found (apt-get install -y apache2, or set APACHE=path): nothing compared"
	exit 0
fi

work=$(mktemp -d /tmp/httpdg-apache-diff.XXXX)
chmod 755 "$work"
# One document tree; each server has its own ServerRoot for its config,
# pid file and logs.
tree=$work/tree aroot=$work/apache hroot=$work/httpdg
apache_pid='' httpdg_pid=''
cleanup() {
	# Stop both servers by pid, then remove the tree. Apache's pid is read
	# here too in case the script failed between its start and the read.
	if [[ -z $apache_pid && -s $aroot/logs/apache.pid ]]; then
		apache_pid=$(cat "$aroot/logs/apache.pid")
	fi
	if [[ -n $apache_pid ]] && kill -0 "$apache_pid" 2>/dev/null; then
		kill -TERM "$apache_pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$apache_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	if [[ -n $httpdg_pid ]] && kill -0 "$httpdg_pid" 2>/dev/null; then
		kill -TERM "$httpdg_pid" 2>/dev/null || true
		wait "$httpdg_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building httpdg and the runner" >&2
mkdir -p "$work/bin"
go build -o "$work/bin/httpdg" ./cmd/httpdg
go build -o "$work/bin/apachediff" ./scripts/apachediff

# Four free loopback ports: each server has a main one and one for the
# TraceEnable-off virtual host.
mkdir -p "$tree" "$aroot/conf" "$aroot/logs" "$hroot/conf" "$hroot/logs"
chmod 755 "$aroot" "$hroot"
"$work/bin/apachediff" tree "$tree"
read -r ap1 ap2 hp1 hp2 < <("$work/bin/apachediff" ports 4)

# Apache needs its modules loaded and a place for its run-time files;
# started as root it also needs an unprivileged User for its children.
# httpdg compiles every module in. (mod_log_config and mod_unixd are
# compiled into the Debian apache2 binary: no LoadModule for them.)
{
	for m in mpm_event authz_core mime dir alias autoindex headers; do
		echo "LoadModule ${m}_module $MODULES/mod_${m}.so"
	done
	echo "DefaultRuntimeDir $aroot/logs"
	echo "PidFile $aroot/logs/apache.pid"
	if [[ $(id -u) == 0 ]]; then
		echo "User nobody"
		echo "Group nogroup"
	fi
	"$work/bin/apachediff" config "$tree" "$ap1" "$ap2"
} > "$aroot/conf/apache.conf"
{
	echo "PidFile $hroot/logs/httpdg.pid"
	"$work/bin/apachediff" config "$tree" "$hp1" "$hp2"
} > "$hroot/conf/httpd.conf"

# wait_for FILE PATTERN: up to 15 s for PATTERN to appear in FILE.
wait_for() {
	for _ in $(seq 150); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "apache-diff: no '$2' in $1 after 15 s:" >&2
	cat "$1" >&2 || true
	return 1
}

echo "== starting $("$APACHE" -v | head -1 | sed 's/^Server version: //') on $ap1,$ap2" >&2
"$APACHE" -d "$aroot" -f conf/apache.conf -k start
wait_for "$aroot/logs/error_log" 'resuming normal operations'
apache_pid=$(cat "$aroot/logs/apache.pid")

echo "== starting httpdg -X on $hp1,$hp2" >&2
"$work/bin/httpdg" -d "$hroot" -X 2>"$hroot/logs/stderr" &
httpdg_pid=$!
wait_for "$hroot/logs/error_log" 'resuming normal operations'

cmd=diff
if [[ ${1:-} == -emit ]]; then
	cmd=emit
	shift
fi
"$work/bin/apachediff" "$cmd" -apache "$ap1,$ap2" -httpdg "$hp1,$hp2" \
	-apache-log "$aroot/logs/access_log" -httpdg-log "$hroot/logs/access_log" "$@"

#!/usr/bin/env bash
# Paired comparison of two httpdg binaries on the anchors benchmark's
# config (event MPM, StartServers 2, ThreadsPerChild 25): runs A and B
# alternately, each on a fresh start, wrk -t1 -c50 for DUR, and prints
# every run and each side's median of req/s and of server CPU time per
# request (the master's and children's user+system time from /proc over
# the run). On a small shared machine one run varies by 10% or more (the
# same binary twice: 63k-76k req/s), so compare medians of many rounds,
# and prefer the CPU per request, which varies less.
#
# Usage: scripts/ab.sh BIN_A BIN_B [rounds] [path]
#        (DUR=3s; path /index.html or /lua; ENV_A/ENV_B add environment)
# Needs: wrk (apt-get install -y wrk).
set -euo pipefail
a=${1:?usage: scripts/ab.sh BIN_A BIN_B [rounds] [path]} b=${2:?usage: scripts/ab.sh BIN_A BIN_B [rounds] [path]}
rounds=${3:-6} path=${4:-/index.html} dur=${DUR:-3s}
if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not installed: apt-get install -y wrk"
	exit 1
fi
a=$(realpath "$a") b=$(realpath "$b")
w=$(mktemp -d /tmp/httpdg-ab.XXXX)
port=$((20000 + RANDOM % 20000))
pid=
stop() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		pid=
	fi
}
trap 'stop; rm -rf "$w"' EXIT
mkdir -p "$w/conf" "$w/htdocs" "$w/logs" "$w/lua"
head -c 4096 /dev/zero | tr '\0' 'a' | fold -w 76 > "$w/htdocs/index.html"
cat > "$w/lua/hello.lua" <<'L'
function handle(r)
  r.content_type = "text/plain"
  r:puts("hello, world\n")
  return apache2.OK
end
L
cat > "$w/conf/httpd.conf" <<C
ServerRoot $w
Listen 127.0.0.1:$port
PidFile logs/httpdg.pid
ErrorLog logs/error_log
ServerName localhost
DocumentRoot htdocs
<Directory $w/htdocs>
  Require all granted
</Directory>
StartServers 2
ServerLimit 16
MaxRequestWorkers 400
ThreadsPerChild 25
LuaScope thread
LuaCodeCache forever
LuaMapHandler ^/lua\$ $w/lua/hello.lua handle
C

# cpu_ticks PID...: user+system clock ticks of the processes' threads.
cpu_ticks() {
	local t=0 p v
	for p in "$@"; do
		v=$(cat /proc/"$p"/task/*/stat 2>/dev/null | awk '{s += $14 + $15} END {print s + 0}')
		t=$((t + v))
	done
	echo "$t"
}

# run BIN ENV: one measurement, "req/s us/request".
run() {
	env $2 "$1" -d "$w" -D FOREGROUND 2>/dev/null &
	pid=$!
	for _ in $(seq 100); do curl -fso /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.1; done
	wrk -t1 -c50 -d1s "http://127.0.0.1:$port$path" >/dev/null # warm up, let the children settle
	local procs t0 t1 out rps reqs
	procs="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
	t0=$(cpu_ticks $procs)
	out=$(wrk -t1 -c50 -d"$dur" "http://127.0.0.1:$port$path")
	t1=$(cpu_ticks $procs)
	stop
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	awk -v r="$rps" -v d="$((t1 - t0))" -v n="$reqs" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.0f %.1f\n", r, d * 1e6 / hz / n}'
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ra=() rb=() ca=() cb=()
for i in $(seq "$rounds"); do
	run "$a" "${ENV_A:-}" >"$w/result"
	read -r r c <"$w/result"
	ra+=("$r") ca+=("$c")
	echo "round $i A: $r req/s, $c us/request"
	run "$b" "${ENV_B:-}" >"$w/result"
	read -r r c <"$w/result"
	rb+=("$r") cb+=("$c")
	echo "round $i B: $r req/s, $c us/request"
done
echo "A median: $(printf '%s\n' "${ra[@]}" | median) req/s, $(printf '%s\n' "${ca[@]}" | median) us/request ($a)"
echo "B median: $(printf '%s\n' "${rb[@]}" | median) req/s, $(printf '%s\n' "${cb[@]}" | median) us/request ($b)"

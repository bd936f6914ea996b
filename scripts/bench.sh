#!/usr/bin/env bash
# httpdg benchmarks: the config load, then wrk on loopback against a 4 KB
# static file and the Lua hello handler, and, when Apache httpd and nginx
# are installed, ../shared/bench/anchors.sh beside them in the same run.
#
# Usage: scripts/bench.sh            (DUR=4s CONNS=50 override wrk's settings)
# Needs: Go; for the serving part wrk (apt-get install -y wrk); for the
# anchors apache2, nginx and libnginx-mod-http-lua.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${DUR:-4s} conns=${CONNS:-50}

echo "== config: 10,000 lines, 1,000 virtual hosts"
go test ./config -run '^$' -bench Load10k -benchtime 20x | grep -E 'Benchmark|ok'

if ! command -v wrk >/dev/null 2>&1; then
	echo
	echo "wrk not installed: apt-get install -y wrk  (serving benchmarks skipped)"
	exit 0
fi

bin=$(mktemp -d /tmp/httpdg-bench.XXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/httpdg" ./cmd/httpdg
root="$bin/root"
mkdir -p "$root/conf" "$root/htdocs" "$root/lua"
head -c 4096 /dev/zero | tr '\0' 'a' | fold -w 76 > "$root/htdocs/index.html"
cat > "$root/lua/hello.lua" <<'L'
function handle(r)
  r.content_type = "text/plain"
  r:puts("hello, world\n")
  return apache2.OK
end
L
port=18190
declare -A mpmconf=(
	[prefork]="StartServers 64
MinSpareServers 8
MaxSpareServers 128
ServerLimit 128
MaxRequestWorkers 128"
	[worker]="StartServers 2
ThreadsPerChild 25"
	[event]="StartServers 2
ThreadsPerChild 25"
)
trap 'rm -rf "$bin"' EXIT
echo
echo "== serving: wrk -t1 -c$conns -d$dur ($(nproc) cores), per MPM"
for mpm in prefork worker event; do
	cat > "$root/conf/httpd.conf" <<C
Listen 127.0.0.1:$port
ServerName localhost
MPM $mpm
${mpmconf[$mpm]}
DocumentRoot htdocs
<Directory htdocs>
  Require all granted
</Directory>
LuaScope thread
LuaCodeCache forever
LuaMapHandler ^/lua\$ $root/lua/hello.lua handle
C
	t0=$(date +%s%N)
	"$bin/httpdg" -d "$root" -k start
	until curl -s -o /dev/null "http://127.0.0.1:$port/index.html"; do :; done
	t1=$(date +%s%N)
	echo "-- $mpm: -k start to the first 200: $(( (t1 - t0) / 1000000 )) ms"
	master=$(cat "$root/logs/httpd.pid" 2>/dev/null || cat "$root/logs/httpdg.pid")
	kids=$(pgrep -P "$master" | head -4)
	for k in $kids; do
		awk -v pid="$k" '/^Rss:/{r=$2} /^Pss:/{p=$2} END{printf "   child %s idle: RSS %d KiB, PSS %d KiB\n", pid, r, p}' "/proc/$k/smaps_rollup"
	done
	for path in index.html lua; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$path" || true)
		if [[ $code != 200 ]]; then
			echo "   /$path answers $code: skipped"
			continue
		fi
		rps=$(wrk -t1 -c"$conns" -d"$dur" "http://127.0.0.1:$port/$path" | awk '/Requests\/sec/{print $2}')
		printf '   %-12s %10s req/s\n' "/$path" "$rps"
	done
	"$bin/httpdg" -d "$root" -k stop || true
done

anchors=../shared/bench/anchors.sh
if [[ -x $anchors || -f $anchors ]] && command -v apache2 >/dev/null && command -v nginx >/dev/null; then
	echo
	echo "== beside Apache httpd and nginx ($anchors)"
	bash "$anchors" "$bin/httpdg"
else
	echo
	echo "anchors skipped: needs apache2, nginx and libnginx-mod-http-lua (apt-get install -y apache2 nginx libnginx-mod-http-lua)"
fi

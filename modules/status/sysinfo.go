package status

import (
	"os"
	"strconv"
	"strings"
)

// procCPU reads a process's CPU times from /proc/<pid>/stat (fields 14 to
// 17: utime, stime, cutime, cstime, in clock ticks). mod_status gets them
// from times(2) stamped in the scoreboard by each child; reading them when
// the page is asked for costs nothing on the request path.
func procCPU(pid int) (cpuTimes, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	return parseProcStat(string(data))
}

// parseProcStat parses a /proc/<pid>/stat line. The command name (field 2)
// is in parentheses and may contain spaces or parentheses itself: fields
// are counted from the last ')'.
func parseProcStat(line string) (cpuTimes, bool) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return cpuTimes{}, false
	}
	f := strings.Fields(line[end+1:])
	// f[0] is field 3 (state): utime, field 14, is f[11].
	if len(f) < 15 {
		return cpuTimes{}, false
	}
	var v [4]int64
	for i := range v {
		n, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		v[i] = n
	}
	return cpuTimes{user: v[0], system: v[1], childUser: v[2], childSystem: v[3]}, true
}

// loadAvg is getloadavg(3) as ap_get_loadavg uses it: -1 for each figure
// it cannot read.
func loadAvg() [3]float64 {
	out := [3]float64{-1, -1, -1}
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	for i, f := range strings.Fields(string(data)) {
		if i >= 3 {
			break
		}
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			out[i] = v
		}
	}
	return out
}

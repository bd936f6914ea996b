package status

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"
)

// clockTick is sysconf(_SC_CLK_TCK), the unit of /proc's CPU times
// (USER_HZ: 100 on every Linux; Go cannot call sysconf without cgo).
const clockTick = 100

// cpuTimes are a process's CPU times in clock ticks, as times(2) and
// /proc/<pid>/stat give them: its own user and system time and those of
// its reaped children.
type cpuTimes struct {
	user, system, childUser, childSystem int64
}

func (c cpuTimes) add(o cpuTimes) cpuTimes {
	return cpuTimes{c.user + o.user, c.system + o.system, c.childUser + o.childUser, c.childSystem + o.childSystem}
}

func (c cpuTimes) total() int64 { return c.user + c.system + c.childUser + c.childSystem }

// processRow is one process slot with its workers counted by mod_status's
// rules.
type processRow struct {
	slot                  int
	info                  scoreboard.ProcessInfo
	busy, graceful, idle  int
	cpu                   cpuTimes
	oldGeneration, active bool
}

// report is what the status handlers print: mod_status's status_handler
// computations over one copy of the scoreboard.
type report struct {
	now         time.Time
	restartTime time.Time
	uptime      uint32 // seconds since restartTime
	serverName  string // ap_get_server_name
	localIP     string
	mpm         string
	built       string
	// configGeneration and mpmGeneration are Apache's
	// ParentServerConfigGeneration (httpdg's generation: 1 for the first
	// serving one) and ParentServerMPMGeneration (counted from 0).
	configGeneration, mpmGeneration int
	extended, requestTail           bool
	async                           bool // the event MPM: mod_status's is_async

	serverLimit, threadLimit    int
	maxServers, threadsPerChild int
	snap                        scoreboard.Snapshot
	// flags holds one scoreboard character per worker slot, row-major;
	// ' ' marks a disabled slot (Open, beyond MaxServers or
	// ThreadsPerChild), which the scoreboard line leaves out.
	flags []byte

	busy, graceful, idle int
	processes            []processRow // live processes (pid set)
	procs, stopping      int
	conns                scoreboard.ProcessInfo // summed connection counters

	// Totals over every worker slot that served or is serving.
	accesses   uint64
	kbytes     uint64 // whole kilobytes of the summed bytes
	bytes      uint64
	duration   time.Duration
	durationMS int64 // mod_status's Total Duration

	master  cpuTimes // the master's own and its reaped children's
	workers cpuTimes // the live children's
	load    [3]float64
}

// gather builds the report of r's server from its scoreboard (an empty
// one when the server has none).
func (m *module) gather(r *phases.Request) *report {
	rep := &report{now: m.now(), built: m.built, serverName: serverName(r), load: m.loadAvg()}
	var board *scoreboard.Board
	if r.Server != nil {
		board = r.Server.Scoreboard
		if r.Server.Config != nil {
			g := GlobalOf(r.Server.Config)
			rep.extended, rep.requestTail = g.Extended(), g.RequestTail()
			rep.mpm = r.Server.Config.MPM
		}
	}
	if r.Conn != nil {
		rep.localIP = r.Conn.LocalIP
	}
	rep.snap = board.Snapshot()
	g := rep.snap.Global
	if board != nil {
		rep.serverLimit, rep.threadLimit = board.Limits()
		rep.restartTime = g.RestartTime
		rep.configGeneration = g.Generation
		if rep.configGeneration == 0 {
			// The master has not recorded its generation (0 is never a
			// serving one): the newest of its children's stands in, so
			// their idle workers are not all taken for an old generation's.
			for _, p := range rep.snap.Processes {
				if p.Pid != 0 {
					rep.configGeneration = max(rep.configGeneration, p.Generation)
				}
			}
		}
		if g.MPM != "" {
			rep.mpm = g.MPM
		}
		if r.Server == nil || r.Server.Config == nil {
			rep.extended, rep.requestTail = g.Extended, g.RequestTail
		}
	} else {
		// No MPM scoreboard (one-process run, unit tests): the generation
		// is this process's and it started with this module's config.
		rep.restartTime = m.loaded
		if r.Server != nil && r.Server.Process != nil {
			rep.configGeneration = r.Server.Process.Generation
		}
	}
	rep.mpmGeneration = max(rep.configGeneration-1, 0)
	rep.async = rep.mpm == "event"
	if up := rep.now.Sub(rep.restartTime); up > 0 {
		rep.uptime = uint32(up / time.Second)
	}
	rep.maxServers, rep.threadsPerChild = g.MaxServers, g.ThreadsPerChild
	if rep.maxServers <= 0 || rep.maxServers > rep.serverLimit {
		rep.maxServers = rep.serverLimit
	}
	if rep.threadsPerChild <= 0 || rep.threadsPerChild > rep.threadLimit {
		rep.threadsPerChild = rep.threadLimit
	}
	rep.count()
	return rep
}

// count applies mod_status's rules to every slot.
func (rep *report) count() {
	rep.flags = make([]byte, rep.serverLimit*rep.threadLimit)
	var bytes uint64
	var duration time.Duration
	for i := 0; i < rep.serverLimit; i++ {
		ps := rep.snap.Processes[i]
		// A quiescing process is finishing: its workers are neither busy
		// nor idle; idle workers count only in the current generation
		// (they are the ones that will take new connections).
		live := ps.Pid != 0 && !ps.Quiescing
		row := processRow{slot: i, info: ps, oldGeneration: ps.Generation != rep.configGeneration, active: live}
		for j, w := range rep.snap.Workers[i] {
			flag := byte(w.State)
			if (i >= rep.maxServers || j >= rep.threadsPerChild) && w.State == scoreboard.Open {
				flag = ' '
			}
			rep.flags[i*rep.threadLimit+j] = flag
			if live {
				switch w.State {
				case scoreboard.Idle:
					if !row.oldGeneration {
						rep.idle++
					}
					row.idle++
				case scoreboard.Open, scoreboard.Starting, scoreboard.IdleKill:
				case scoreboard.Graceful:
					rep.graceful++
					row.graceful++
				default:
					rep.busy++
					row.busy++
				}
			}
			if w.Accesses != 0 || (w.State != scoreboard.Idle && w.State != scoreboard.Open) {
				rep.accesses += w.Accesses
				bytes += w.Bytes
				duration += w.Duration
			}
		}
		if ps.Pid != 0 {
			rep.procs++
			if ps.Quiescing {
				rep.stopping++
			}
			rep.conns.ConnsTotal += ps.ConnsTotal
			rep.conns.ConnsKeepAlive += ps.ConnsKeepAlive
			rep.conns.ConnsWriting += ps.ConnsWriting
			rep.conns.ConnsClosing += ps.ConnsClosing
			rep.processes = append(rep.processes, row)
		}
	}
	rep.bytes = bytes
	rep.duration = duration
	rep.durationMS = duration.Milliseconds()
	rep.kbytes = bytes >> 10
}

// readCPU reads the CPU times of the live children and of the master
// (whose children's times hold those of the children it reaped). Without
// a scoreboard the master is this process.
func (rep *report) readCPU(m *module) {
	master := rep.snap.Global.MasterPid
	if master == 0 {
		master = os.Getpid()
	}
	for i := range rep.processes {
		p := &rep.processes[i]
		if p.info.Pid != master {
			p.cpu, _ = m.procCPU(p.info.Pid)
			rep.workers = rep.workers.add(p.cpu)
		}
	}
	rep.master, _ = m.procCPU(master)
}

// scoreboardLine is mod_status's scoreboard: one character per enabled
// slot.
func (rep *report) scoreboardLine() []byte {
	out := make([]byte, 0, len(rep.flags))
	for _, f := range rep.flags {
		if f != ' ' {
			out = append(out, f)
		}
	}
	return out
}

// cpuSeconds are mod_status's CPU figures: the master's (and its reaped
// children's) plus the live children's, in seconds as C floats.
func (rep *report) cpuSeconds() (user, system, childUser, childSystem float64, total int64) {
	u := rep.master.user + rep.workers.user
	s := rep.master.system + rep.workers.system
	cu := rep.master.childUser + rep.workers.childUser
	cs := rep.master.childSystem + rep.workers.childSystem
	return float32Ratio(float64(u), clockTick), float32Ratio(float64(s), clockTick),
		float32Ratio(float64(cu), clockTick), float32Ratio(float64(cs), clockTick), u + s + cu + cs
}

// cpuLoad is mod_status's "cpu / tick / up_time * 100.": C float
// divisions, then a double multiplication.
func (rep *report) cpuLoad(total int64) float64 {
	return float64(float32(float32(total)/float32(clockTick))/float32(rep.uptime)) * 100
}

// serverName is ap_get_server_name with UseCanonicalName Off: the host the
// client asked for, else the virtual host's ServerName.
func serverName(r *phases.Request) string {
	if r.Hostname != "" {
		return r.Hostname
	}
	var name string
	if r.Vhost != nil {
		name = core.ServerOf(r.Vhost).ServerName
	}
	if name == "" && r.Server != nil && r.Server.Main != nil {
		name = core.ServerOf(r.Server.Main).ServerName
	}
	if name == "" {
		name, _ = os.Hostname()
	}
	// ServerName may carry a scheme and a port: the name is the host.
	if _, rest, ok := strings.Cut(name, "://"); ok {
		name = rest
	}
	if host, _, err := net.SplitHostPort(name); err == nil {
		name = host
	}
	return name
}

// showTime is mod_status's show_time: " 1 day 2 hours 5 seconds", each
// non-zero part with a leading space.
func showTime(secs uint32) string {
	var b strings.Builder
	part := func(n uint32, unit string) {
		if n != 0 {
			b.WriteString(" " + strconv.FormatUint(uint64(n), 10) + " " + unit)
			if n != 1 {
				b.WriteByte('s')
			}
		}
	}
	part(secs/86400, "day")
	part(secs/3600%24, "hour")
	part(secs/60%60, "minute")
	part(secs%60, "second")
	return b.String()
}

// apacheTime is ap_ht_time with mod_status's DEFAULT_TIME_FORMAT
// "%A, %d-%b-%Y %H:%M:%S %Z", in local time.
func apacheTime(t time.Time) string {
	return t.Local().Format("Monday, 02-Jan-2006 15:04:05 MST")
}

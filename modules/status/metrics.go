package status

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/mpm/scoreboard"
)

// metricsContentType is the Prometheus text exposition format, 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// stateLabel is a scoreboard state and its httpdg_workers label.
type stateLabel struct {
	state scoreboard.State
	label string
}

// workerStates are the scoreboard states in the order httpdg_workers
// lists them, with their label values.
func workerStates() [11]stateLabel {
	return [...]stateLabel{
		{scoreboard.Open, "open"}, {scoreboard.Starting, "starting"}, {scoreboard.Idle, "idle"},
		{scoreboard.Reading, "reading"}, {scoreboard.Writing, "writing"}, {scoreboard.Keepalive, "keepalive"},
		{scoreboard.Logging, "logging"}, {scoreboard.DNS, "dns"}, {scoreboard.Closing, "closing"},
		{scoreboard.Graceful, "graceful"}, {scoreboard.IdleKill, "idle_kill"},
	}
}

// metricsWriter writes families: each gets its # HELP and # TYPE lines
// before its samples, as the format requires.
type metricsWriter struct{ b *bytes.Buffer }

func (w metricsWriter) family(name, typ, help string) {
	fmt.Fprintf(w.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one sample; labels alternate names and values.
func (w metricsWriter) sample(name string, value float64, labels ...string) {
	w.b.WriteString(name)
	if len(labels) > 0 {
		w.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b.WriteByte(',')
			}
			fmt.Fprintf(w.b, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.FormatFloat(value, 'g', -1, 64))
	w.b.WriteByte('\n')
}

func (w metricsWriter) gauge(name, help string, value float64) {
	w.family(name, "gauge", help)
	w.sample(name, value)
}

func (w metricsWriter) counter(name, help string, value float64) {
	w.family(name, "counter", help)
	w.sample(name, value)
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// writeMetrics writes the report in Prometheus's text format. The counters
// are the scoreboard's, which httpdg keeps whether ExtendedStatus is on or
// off, and which survive a child's exit (they only start again from 0 when
// the server does, which Prometheus's rate() handles).
func writeMetrics(b *bytes.Buffer, rep *report) {
	w := metricsWriter{b}
	w.gauge("httpdg_up", "Whether the server answered the scrape (always 1).", 1)
	w.family("httpdg_info", "gauge", "The server's version and MPM, as labels (value 1).")
	w.sample("httpdg_info", 1, "version", version, "mpm", rep.mpm)
	w.gauge("httpdg_generation", "The master's generation: 1 for the first serving generation, +1 for each restart.", float64(rep.configGeneration))
	w.gauge("httpdg_start_time_seconds", "When the current generation started (mod_status's RestartTime), in seconds since the epoch.",
		float64(rep.restartTime.UnixNano())/1e9)
	w.gauge("httpdg_uptime_seconds", "Seconds since the current generation started (mod_status's ServerUptimeSeconds).", float64(rep.uptime))

	w.counter("httpdg_requests_total", "Requests served (mod_status's Total Accesses).", float64(rep.accesses))
	w.counter("httpdg_sent_bytes_total", "Response body bytes sent.", float64(rep.bytes))
	w.counter("httpdg_request_duration_seconds_total", "Time spent serving requests, summed over requests.", rep.duration.Seconds())

	user, system, childUser, childSystem := rep.master.add(rep.workers).seconds()
	w.family("httpdg_cpu_seconds_total", "counter", "CPU time of the master and its live children, in user and system mode; the children_* modes are the time of the processes they reaped (the master's: exited children).")
	w.sample("httpdg_cpu_seconds_total", user, "mode", "user")
	w.sample("httpdg_cpu_seconds_total", system, "mode", "system")
	w.sample("httpdg_cpu_seconds_total", childUser, "mode", "children_user")
	w.sample("httpdg_cpu_seconds_total", childSystem, "mode", "children_system")

	var byState [256]int
	for _, c := range rep.scoreboardLine() {
		byState[c]++
	}
	w.family("httpdg_workers", "gauge", "Worker slots by scoreboard state (the characters of mod_status's Scoreboard line).")
	for _, s := range workerStates() {
		w.sample("httpdg_workers", float64(byState[s.state]), "state", s.label)
	}
	w.gauge("httpdg_busy_workers", "Workers serving a request, by mod_status's rule (BusyWorkers).", float64(rep.busy))
	w.gauge("httpdg_idle_workers", "Workers of the current generation waiting for a connection (IdleWorkers).", float64(rep.idle))
	w.gauge("httpdg_graceful_workers", "Workers gracefully finishing (GracefulWorkers).", float64(rep.graceful))

	w.gauge("httpdg_processes", "Child processes (mod_status's Processes).", float64(rep.procs))
	w.gauge("httpdg_processes_stopping", "Child processes finishing after a graceful restart or stop (Stopping).", float64(rep.stopping))
	w.family("httpdg_connections", "gauge", "Connections held by the children: all of them, and those in keep-alive, write completion and closing.")
	w.sample("httpdg_connections", float64(rep.conns.ConnsTotal), "state", "total")
	w.sample("httpdg_connections", float64(rep.conns.ConnsKeepAlive), "state", "keepalive")
	w.sample("httpdg_connections", float64(rep.conns.ConnsWriting), "state", "writing")
	w.sample("httpdg_connections", float64(rep.conns.ConnsClosing), "state", "closing")

	w.gauge("httpdg_server_limit", "Process slots of the scoreboard (ServerLimit).", float64(rep.serverLimit))
	w.gauge("httpdg_thread_limit", "Worker slots per process (ThreadLimit).", float64(rep.threadLimit))
}

// seconds converts clock ticks to seconds.
func (c cpuTimes) seconds() (user, system, childUser, childSystem float64) {
	return float64(c.user) / clockTick, float64(c.system) / clockTick, float64(c.childUser) / clockTick, float64(c.childSystem) / clockTick
}

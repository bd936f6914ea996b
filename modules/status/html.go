package status

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/httpdg/httpdg/modules/logconfig"
	"github.com/httpdg/httpdg/mpm/scoreboard"
)

// statusMaxLine is mod_status's STATUS_MAXLINE: scoreboard characters per
// line of the HTML page.
const statusMaxLine = 64

const (
	kbyte = 1024
	mbyte = 1048576
	gbyte = 1073741824
)

// writeHTML writes mod_status's HTML page with httpdg's name in place of
// Apache's. Its layout is Apache 2.4's, with one addition: the
// per-process table, which Apache shows for the event MPM only, is shown
// for every MPM (its async columns are then 0).
func writeHTML(b *bytes.Buffer, rep *report, noTable bool) {
	b.WriteString(`<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">` + "\n" +
		"<html><head>\n<title>httpdg Status</title>\n</head><body>\n<h1>httpdg Server Status for ")
	fmt.Fprintf(b, "%s (via %s)</h1>\n\n", escapeHTML(rep.serverName), rep.localIP)
	fmt.Fprintf(b, "<dl><dt>Server Version: %s</dt>\n", serverVersion)
	fmt.Fprintf(b, "<dt>Server MPM: %s</dt>\n", rep.mpm)
	fmt.Fprintf(b, "<dt>Server Built: %s\n</dt></dl><hr /><dl>\n", rep.built)
	fmt.Fprintf(b, "<dt>Current Time: %s</dt>\n", apacheTime(rep.now))
	fmt.Fprintf(b, "<dt>Restart Time: %s</dt>\n", apacheTime(rep.restartTime))
	fmt.Fprintf(b, "<dt>Parent Server Config. Generation: %d</dt>\n", rep.configGeneration)
	fmt.Fprintf(b, "<dt>Parent Server MPM Generation: %d</dt>\n", rep.mpmGeneration)
	fmt.Fprintf(b, "<dt>Server uptime: %s</dt>\n", showTime(rep.uptime))
	fmt.Fprintf(b, "<dt>Server load: %s %s %s</dt>\n", aprF(rep.load[0], 2), aprF(rep.load[1], 2), aprF(rep.load[2], 2))

	if rep.extended {
		fmt.Fprintf(b, "<dt>Total accesses: %d - Total Traffic: %s - Total Duration: %d</dt>\n", rep.accesses, formatKbytes(rep.kbytes), rep.durationMS)
		user, system, childUser, childSystem, cpu := rep.cpuSeconds()
		fmt.Fprintf(b, "<dt>CPU Usage: u%s s%s cu%s cs%s", aprG(user, 6), aprG(system, 6), aprG(childUser, 6), aprG(childSystem, 6))
		if cpu != 0 && rep.uptime > 0 {
			fmt.Fprintf(b, " - %s%% CPU load</dt>\n", aprG(rep.cpuLoad(cpu), 3))
		} else {
			b.WriteString("</dt>\n")
		}
		b.WriteString("<dt>")
		if rep.uptime > 0 {
			fmt.Fprintf(b, "%s requests/sec - %s/second", aprG(float32Ratio(float64(rep.accesses), float64(rep.uptime)), 3),
				formatBytes(uint64(kbyteRatio(rep.kbytes, float64(rep.uptime)))))
		}
		if rep.accesses > 0 {
			if rep.uptime > 0 {
				b.WriteString(" - ")
			}
			fmt.Fprintf(b, "%s/request - %s ms/request", formatBytes(uint64(kbyteRatio(rep.kbytes, float64(rep.accesses)))),
				aprG(float32Ratio(float64(rep.durationMS), float64(rep.accesses)), 6))
		}
		b.WriteString("</dt>\n")
	}
	fmt.Fprintf(b, "<dt>%d requests currently being processed, %d workers gracefully restarting, %d idle workers</dt>\n", rep.busy, rep.graceful, rep.idle)
	b.WriteString("</dl>")

	writeProcessTable(b, rep)

	b.WriteString("<pre>")
	for i, c := range rep.scoreboardLine() {
		b.WriteByte(c)
		if i%statusMaxLine == statusMaxLine-1 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("</pre>\n" + scoreboardKey)

	if !rep.extended {
		writePIDKey(b, rep)
		b.WriteString("<hr />To obtain a full report with current status information you need to use the <code>ExtendedStatus On</code> directive.\n")
	} else {
		writeWorkers(b, rep, noTable)
	}
	b.WriteString("</body></html>\n")
}

const scoreboardKey = "<p>Scoreboard Key:<br />\n" +
	"\"<b><code>_</code></b>\" Waiting for Connection, \n" +
	"\"<b><code>S</code></b>\" Starting up, \n" +
	"\"<b><code>R</code></b>\" Reading Request,<br />\n" +
	"\"<b><code>W</code></b>\" Sending Reply, \n" +
	"\"<b><code>K</code></b>\" Keepalive (read), \n" +
	"\"<b><code>D</code></b>\" DNS Lookup,<br />\n" +
	"\"<b><code>C</code></b>\" Closing connection, \n" +
	"\"<b><code>L</code></b>\" Logging, \n" +
	"\"<b><code>G</code></b>\" Gracefully finishing,<br /> \n" +
	"\"<b><code>I</code></b>\" Idle cleanup of worker, \n" +
	"\"<b><code>.</code></b>\" Open slot with no current process<br />\n" +
	"</p>\n"

// writeProcessTable is mod_status's table of processes (slot, pid,
// stopping, connections, workers by state, async connections).
func writeProcessTable(b *bytes.Buffer, rep *report) {
	b.WriteString("\n\n<table rules=\"all\" cellpadding=\"1%\">\n" +
		"<tr><th rowspan=\"2\">Slot</th><th rowspan=\"2\">PID</th><th rowspan=\"2\">Stopping</th><th colspan=\"2\">Connections</th>\n" +
		"<th colspan=\"3\">Threads</th><th colspan=\"4\">Async connections</th></tr>\n" +
		"<tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle</th>" +
		"<th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>\n")
	for _, p := range rep.processes {
		dying, accepting, old := "no", "yes", ""
		if p.info.Quiescing {
			dying, accepting = "yes", "no"
		}
		if p.oldGeneration {
			old = " (old gen)"
		}
		fmt.Fprintf(b, "<tr><td>%d</td><td>%d</td><td>%s%s</td><td>%d</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>\n",
			p.slot, p.info.Pid, dying, old, p.info.ConnsTotal, accepting, p.busy, p.graceful, p.idle,
			0, p.info.ConnsWriting, p.info.ConnsKeepAlive, p.info.ConnsClosing)
	}
	fmt.Fprintf(b, "<tr><td>Sum</td><td>%d</td><td>%d</td><td>%d</td><td>&nbsp;</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>\n</table>\n",
		rep.procs, rep.stopping, rep.conns.ConnsTotal, rep.busy, rep.graceful, rep.idle,
		0, rep.conns.ConnsWriting, rep.conns.ConnsKeepAlive, rep.conns.ConnsClosing)
}

// writePIDKey is the page's "PID Key" without ExtendedStatus: the pid and
// state of every worker with a process, three to a line.
func writePIDKey(b *bytes.Buffer, rep *report) {
	b.WriteString("PID Key: <br />\n<pre>\n")
	k := 0
	for i := 0; i < rep.serverLimit; i++ {
		for j := 0; j < rep.threadLimit; j++ {
			flag := rep.flags[i*rep.threadLimit+j]
			if flag == '.' || flag == ' ' {
				continue
			}
			fmt.Fprintf(b, "   %d in state: %c ", rep.snap.Processes[i].Pid, flag)
			if k++; k >= 3 {
				b.WriteString("\n")
				k = 0
			} else {
				b.WriteString(",")
			}
		}
	}
	b.WriteString("\n</pre>\n")
}

// stateName is a state's long name on the "?notable" page.
func stateName(s scoreboard.State) string {
	switch s {
	case scoreboard.Idle:
		return "Ready"
	case scoreboard.Starting:
		return "Starting"
	case scoreboard.Reading:
		return "<b>Read</b>"
	case scoreboard.Writing:
		return "<b>Write</b>"
	case scoreboard.Keepalive:
		return "<b>Keepalive</b>"
	case scoreboard.Logging:
		return "<b>Logging</b>"
	case scoreboard.DNS:
		return "<b>DNS lookup</b>"
	case scoreboard.Closing:
		return "<b>Closing</b>"
	case scoreboard.Open:
		return "Dead"
	case scoreboard.Graceful:
		return "Graceful"
	case scoreboard.IdleKill:
		return "Dying"
	}
	return "?STATE?"
}

// stateCell is the "M" column: busy states in bold.
func stateCell(s scoreboard.State) string {
	switch s {
	case scoreboard.Idle, scoreboard.Open, scoreboard.Graceful, scoreboard.IdleKill:
		return string(rune(s))
	case scoreboard.Starting, scoreboard.Reading, scoreboard.Writing, scoreboard.Keepalive,
		scoreboard.Logging, scoreboard.DNS, scoreboard.Closing:
		return "<b>" + string(rune(s)) + "</b>"
	}
	return "?"
}

// writeWorkers is the ExtendedStatus part: one row (or, with ?notable,
// one paragraph) per worker that served or is serving.
func writeWorkers(b *bytes.Buffer, rep *report, noTable bool) {
	if noTable {
		b.WriteString("<hr /><h2>Server Details</h2>\n\n")
	} else {
		b.WriteString("\n\n<table border=\"0\"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n</th>" +
			"<th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>" +
			"<th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n")
	}
	cpuOf := map[int]cpuTimes{}
	for _, p := range rep.processes {
		cpuOf[p.slot] = p.cpu
	}
	for i := 0; i < rep.serverLimit; i++ {
		for _, w := range rep.snap.Workers[i] {
			if w.Accesses == 0 && (w.State == scoreboard.Idle || w.State == scoreboard.Open) {
				continue
			}
			pid := rep.snap.Processes[i].Pid
			gen := max(w.Generation-1, 0) // Apache's MPM generation
			since := int64(0)
			if !w.LastUsed.IsZero() {
				since = max(int64(rep.now.Sub(w.LastUsed)/time.Second), 0)
			}
			reqMS := w.LastDuration.Milliseconds()
			durMS := w.Duration.Milliseconds()
			cpu := float64(float32(cpuOf[i].total()) / clockTick)
			request := escapeHTML(logconfig.EscapeLogItem(w.Request))
			if noTable {
				pidText := "-"
				if w.State != scoreboard.Open {
					pidText = fmt.Sprint(pid)
				}
				c := cpuOf[i]
				fmt.Fprintf(b, "<b>Server %d-%d</b> (%s): %d|%d|%d [%s] u%s s%s cu%s cs%s\n %d %d %d(",
					i, gen, pidText, w.ConnAccesses, w.ChildAccesses, w.Accesses, stateName(w.State),
					aprG(float32Ratio(float64(c.user), clockTick), 6), aprG(float32Ratio(float64(c.system), clockTick), 6),
					aprG(float32Ratio(float64(c.childUser), clockTick), 6), aprG(float32Ratio(float64(c.childSystem), clockTick), 6),
					since, reqMS, durMS)
				fmt.Fprintf(b, "%s|%s|%s)\n", formatBytes(w.ConnBytes), formatBytes(w.ChildBytes), formatBytes(w.Bytes))
				fmt.Fprintf(b, " <i>%s {%s}</i> <i>(%s)</i> <b>[%s]</b><br />\n\n",
					escapeHTML(w.Client), request, escapeHTML(protocolOf(w.Request)), escapeHTML(w.Vhost))
				continue
			}
			if w.State == scoreboard.Open {
				fmt.Fprintf(b, "<tr><td><b>%d-%d</b></td><td>-</td><td>%d/%d/%d", i, gen, w.ConnAccesses, w.ChildAccesses, w.Accesses)
			} else {
				fmt.Fprintf(b, "<tr><td><b>%d-%d</b></td><td>%d</td><td>%d/%d/%d", i, gen, pid, w.ConnAccesses, w.ChildAccesses, w.Accesses)
			}
			fmt.Fprintf(b, "</td><td>%s\n</td><td>%s</td><td>%d</td><td>%d</td><td>%d", stateCell(w.State), aprF(cpu, 2), since, reqMS, durMS)
			fmt.Fprintf(b, "</td><td>%s</td><td>%s</td><td>%s\n", aprF(float64(float32(w.ConnBytes)/kbyte), 1),
				aprF(float64(float32(w.ChildBytes)/mbyte), 2), aprF(float64(float32(w.Bytes)/mbyte), 2))
			fmt.Fprintf(b, "</td><td>%s</td><td>%s</td><td nowrap>%s</td><td nowrap>%s</td></tr>\n\n",
				escapeHTML(w.Client), escapeHTML(protocolOf(w.Request)), escapeHTML(w.Vhost), request)
		}
	}
	if !noTable {
		b.WriteString(workersKey)
	}
}

const workersKey = "</table>\n <hr /> <table>\n" +
	" <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n" +
	" <tr><th>PID</th><td>OS process ID</td></tr>\n" +
	" <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n" +
	" <tr><th>M</th><td>Mode of operation</td></tr>\n" +
	"<tr><th>CPU</th><td>CPU usage, number of seconds</td></tr>\n" +
	"<tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n" +
	" <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n" +
	" <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n" +
	" <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n" +
	" <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n" +
	" <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n" +
	" </table>\n"

// protocolOf is the "Protocol" column, which Apache takes from the
// connection ("http/1.1", "h2"); the scoreboard keeps the request line,
// whose last word names it.
func protocolOf(requestLine string) string {
	i := strings.LastIndexByte(requestLine, ' ')
	if i < 0 {
		return ""
	}
	switch p := strings.ToLower(requestLine[i+1:]); p {
	case "http/2.0", "http/2":
		return "h2"
	case "http/1.1", "http/1.0", "http/0.9":
		return p
	}
	return ""
}

// formatBytes is mod_status's format_byte_out.
func formatBytes(n uint64) string {
	switch {
	case n < 5*kbyte:
		return fmt.Sprintf("%d B", n)
	case n < mbyte/2:
		return aprF(float64(float32(n)/kbyte), 1) + " kB"
	case n < gbyte/2:
		return aprF(float64(float32(n)/mbyte), 1) + " MB"
	}
	return aprF(float64(float32(n)/gbyte), 1) + " GB"
}

// formatKbytes is mod_status's format_kbyte_out.
func formatKbytes(kb uint64) string {
	switch {
	case kb < kbyte:
		return fmt.Sprintf("%d kB", kb)
	case kb < mbyte:
		return aprF(float64(float32(kb)/kbyte), 1) + " MB"
	}
	return aprF(float64(float32(kb)/mbyte), 1) + " GB"
}

// escapeHTML is Apache's ap_escape_html: &, <, > and " only.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

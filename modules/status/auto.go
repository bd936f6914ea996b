package status

import (
	"bytes"
	"fmt"
)

// writeAuto writes the "?auto" report in Apache 2.4's machine-readable
// format: the server name, then "Key: value" lines in mod_status's order
// and number formats (APR's %g, see aprfmt.go), then the scoreboard.
// Monitoring tools (collectd, Munin, Datadog, Zabbix templates...) parse
// it by these names, so none may change:
//
//   - Total Accesses .. DurationPerReq only with ExtendedStatus On (as in
//     Apache, whose counters exist only then); CPULoad only when some CPU
//     time was used, ReqPerSec and BytesPerSec only after the first
//     second, BytesPerReq and DurationPerReq only after the first request.
//   - Processes .. ConnsAsyncClosing only for the event MPM (Apache's
//     async MPMs); ConnsAsyncWaitIO (2.4.63 and later) is always 0 here:
//     the event MPM has no connections waiting for I/O outside a worker
//     other than keep-alive ones.
func writeAuto(b *bytes.Buffer, rep *report) {
	fmt.Fprintf(b, "%s\n", rep.serverName)
	fmt.Fprintf(b, "ServerVersion: %s\n", serverVersion)
	fmt.Fprintf(b, "ServerMPM: %s\n", rep.mpm)
	fmt.Fprintf(b, "Server Built: %s\n", rep.built)
	fmt.Fprintf(b, "CurrentTime: %s\n", apacheTime(rep.now))
	fmt.Fprintf(b, "RestartTime: %s\n", apacheTime(rep.restartTime))
	fmt.Fprintf(b, "ParentServerConfigGeneration: %d\n", rep.configGeneration)
	fmt.Fprintf(b, "ParentServerMPMGeneration: %d\n", rep.mpmGeneration)
	fmt.Fprintf(b, "ServerUptimeSeconds: %d\n", rep.uptime)
	fmt.Fprintf(b, "ServerUptime:%s\n", showTime(rep.uptime))
	fmt.Fprintf(b, "Load1: %s\nLoad5: %s\nLoad15: %s\n", aprF(rep.load[0], 2), aprF(rep.load[1], 2), aprF(rep.load[2], 2))
	if rep.extended {
		fmt.Fprintf(b, "Total Accesses: %d\nTotal kBytes: %d\nTotal Duration: %d\n", rep.accesses, rep.kbytes, rep.durationMS)
		user, system, childUser, childSystem, cpu := rep.cpuSeconds()
		fmt.Fprintf(b, "CPUUser: %s\nCPUSystem: %s\nCPUChildrenUser: %s\nCPUChildrenSystem: %s\n",
			aprG(user, 6), aprG(system, 6), aprG(childUser, 6), aprG(childSystem, 6))
		// Apache divides by an uptime of 0 in the first second (and
		// prints garbage); the line is left out then.
		if cpu != 0 && rep.uptime > 0 {
			fmt.Fprintf(b, "CPULoad: %s\n", aprG(rep.cpuLoad(cpu), 6))
		}
		fmt.Fprintf(b, "Uptime: %d\n", rep.uptime)
		if rep.uptime > 0 {
			fmt.Fprintf(b, "ReqPerSec: %s\n", aprG(float32Ratio(float64(rep.accesses), float64(rep.uptime)), 6))
			fmt.Fprintf(b, "BytesPerSec: %s\n", aprG(kbyteRatio(rep.kbytes, float64(rep.uptime)), 6))
		}
		if rep.accesses > 0 {
			fmt.Fprintf(b, "BytesPerReq: %s\n", aprG(kbyteRatio(rep.kbytes, float64(rep.accesses)), 6))
			fmt.Fprintf(b, "DurationPerReq: %s\n", aprG(float32Ratio(float64(rep.durationMS), float64(rep.accesses)), 6))
		}
	}
	fmt.Fprintf(b, "BusyWorkers: %d\nGracefulWorkers: %d\nIdleWorkers: %d\n", rep.busy, rep.graceful, rep.idle)
	if rep.async {
		fmt.Fprintf(b, "Processes: %d\nStopping: %d\nConnsTotal: %d\nConnsAsyncWaitIO: %d\nConnsAsyncWriting: %d\nConnsAsyncKeepAlive: %d\nConnsAsyncClosing: %d\n",
			rep.procs, rep.stopping, rep.conns.ConnsTotal, 0, rep.conns.ConnsWriting, rep.conns.ConnsKeepAlive, rep.conns.ConnsClosing)
	}
	b.WriteString("Scoreboard: ")
	b.Write(rep.scoreboardLine())
	b.WriteByte('\n')
}

// kbyteRatio is mod_status's "KBYTE * (float) kbcount / (float) d", in C
// float arithmetic.
func kbyteRatio(kbytes uint64, d float64) float64 {
	return float64(1024 * float32(kbytes) / float32(d))
}

package status

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// recorder is the response side of a hand-built request.
type recorder struct {
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *recorder) Flush() error { return nil }

// Fixed inputs of the test module: the clock, CPU times and load.
var (
	testRestart = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	testNow     = testRestart.Add(time.Hour + 2*time.Minute + 3*time.Second)
)

const testBuilt = "2026-05-06T09:14:12"

func testModule(cpu map[int]cpuTimes) *module {
	return &module{
		built:  testBuilt,
		loaded: testRestart,
		now:    func() time.Time { return testNow },
		procCPU: func(pid int) (cpuTimes, bool) {
			c, ok := cpu[pid]
			return c, ok
		},
		loadAvg: func() [3]float64 { return [3]float64{0.5, 0.25, 1} },
	}
}

func newBoard(t *testing.T, serverLimit, threadLimit int) *scoreboard.Board {
	t.Helper()
	b, err := scoreboard.Create(serverLimit, threadLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// serve runs the handler of m for a GET of target with handler name
// handler, on a server with config conf and scoreboard board.
func serve(t *testing.T, m *module, conf string, board *scoreboard.Board, handler, method, args string) (*phases.Request, *recorder, phases.Status) {
	t.Helper()
	cfg := phasestest.MustLoad(t, conf)
	out := &recorder{}
	r := &phases.Request{
		Method: method, URI: "/server-status", Args: args, Hostname: "status.example", Handler: handler,
		HeadersOut: http.Header{}, Output: out,
		Server: &phases.Server{Config: cfg, Main: cfg.Main, Scoreboard: board, Process: &phases.Process{Generation: 1}},
		Conn:   &phases.Connection{LocalIP: "127.0.0.1", LocalPort: 80},
	}
	st, err := m.handler(r)
	if err != nil {
		t.Fatal(err)
	}
	return r, out, st
}

// eventBoard fills a board the way an event MPM with ServerLimit 4,
// ThreadLimit 4, 3 processes of 3 threads would, at generation 3:
//
//	slot 0: pid 1000, generation 3     W _ K S   (S: thread 3 beyond ThreadsPerChild but not Open)
//	slot 1: pid 1001, generation 2     _ G R I   (old generation: its idle worker does not count)
//	slot 2: pid 1002, quiescing        W _ . ' ' (finishing: counts neither busy nor idle)
//	slot 3: no process                 disabled (beyond MaxServers)
func eventBoard(t *testing.T) *scoreboard.Board {
	b := newBoard(t, 4, 4)
	b.SetMPM("event")
	b.SetRestart(3, testRestart)
	b.SetActive(3, 3)
	b.SetProcess(0, 1000, 3)
	b.SetProcess(1, 1001, 2)
	b.SetProcess(2, 1002, 3)
	b.SetQuiescing(2)
	serveN := func(slot, thread, n int, bytes int64, client, vhost, req string) {
		w := b.Worker(slot, thread)
		w.NewConnection()
		for range n {
			w.StartRequest(client, vhost, req)
			w.EndRequest(bytes)
		}
	}
	serveN(0, 0, 3, 1000, "192.0.2.1", "status.example:80", "GET /a HTTP/1.1")
	serveN(1, 2, 2, 2048, "2001:db8::2", "status.example:80", `GET /<b>&"q" HTTP/1.1`)
	serveN(2, 1, 1, 4000, "192.0.2.3", "other.example:80", "GET /c HTTP/2.0")
	states := [][]scoreboard.State{
		{scoreboard.Writing, scoreboard.Idle, scoreboard.Keepalive, scoreboard.Starting},
		{scoreboard.Idle, scoreboard.Graceful, scoreboard.Reading, scoreboard.IdleKill},
		{scoreboard.Writing, scoreboard.Idle, scoreboard.Open, scoreboard.Open},
	}
	for i, row := range states {
		for j, s := range row {
			b.Worker(i, j).SetState(s)
		}
	}
	b.SetConns(0, 10, 4, 2, 1)
	b.SetConns(1, 3, 1, 0, 0)
	b.SetConns(2, 2, 0, 1, 1)
	return b
}

// eventCPU: the master (this test process, which created the board) and
// the three children.
func eventCPU() map[int]cpuTimes {
	return map[int]cpuTimes{
		os.Getpid(): {user: 10, system: 20, childUser: 300, childSystem: 40},
		1000:        {user: 150, system: 50},
		1001:        {user: 100},
	}
}

func totalDurationMS(b *scoreboard.Board) int64 {
	var d time.Duration
	for _, row := range b.Snapshot().Workers {
		for _, w := range row {
			d += w.Duration
		}
	}
	return d.Milliseconds()
}

// TestAutoExact checks the whole ?auto report of a known board, line by
// line, in Apache 2.4's format.
func TestAutoExact(t *testing.T) {
	b := eventBoard(t)
	r, out, st := serve(t, testModule(eventCPU()), "", b, "server-status", "GET", "auto")
	if st != phases.OK || out.status != 200 {
		t.Fatalf("status %v / %d", st, out.status)
	}
	if r.ContentType != "text/plain; charset=ISO-8859-1" {
		t.Errorf("Content-Type %q", r.ContentType)
	}
	if cl := r.HeadersOut.Get("Content-Length"); cl != strconv.Itoa(out.body.Len()) {
		t.Errorf("Content-Length %s for %d bytes", cl, out.body.Len())
	}
	dur := totalDurationMS(b)
	durPerReq := aprG(float32Ratio(float64(dur), 6), 6)
	want := "status.example\n" +
		"ServerVersion: httpdg/" + version + "\n" +
		"ServerMPM: event\n" +
		"Server Built: " + testBuilt + "\n" +
		"CurrentTime: " + testNow.Local().Format("Monday, 02-Jan-2006 15:04:05 MST") + "\n" +
		"RestartTime: " + testRestart.Local().Format("Monday, 02-Jan-2006 15:04:05 MST") + "\n" +
		"ParentServerConfigGeneration: 3\n" +
		"ParentServerMPMGeneration: 2\n" +
		"ServerUptimeSeconds: 3723\n" +
		"ServerUptime: 1 hour 2 minutes 3 seconds\n" +
		"Load1: 0.50\nLoad5: 0.25\nLoad15: 1.00\n" +
		"Total Accesses: 6\n" +
		"Total kBytes: 10\n" + // 3000 + 4096 + 4000 = 11096 bytes
		"Total Duration: " + strconv.FormatInt(dur, 10) + "\n" +
		"CPUUser: 2.6\nCPUSystem: .7\nCPUChildrenUser: 3\nCPUChildrenSystem: .4\n" +
		"CPULoad: .179962\n" + // 6.7 s over 3723 s
		"Uptime: 3723\n" +
		"ReqPerSec: .0016116\n" +
		"BytesPerSec: 2.75047\n" +
		"BytesPerReq: 1706.67\n" +
		"DurationPerReq: " + durPerReq + "\n" +
		"BusyWorkers: 3\nGracefulWorkers: 1\nIdleWorkers: 1\n" +
		"Processes: 3\nStopping: 1\n" +
		"ConnsTotal: 15\nConnsAsyncWaitIO: 0\nConnsAsyncWriting: 3\nConnsAsyncKeepAlive: 5\nConnsAsyncClosing: 2\n" +
		"Scoreboard: W_KS_GRIW_.\n"
	if got := out.body.String(); got != want {
		t.Errorf("?auto:\n%s\nwant:\n%s", got, want)
	}
}

// apacheKeys are the keys of an ?auto report in order, the first line
// (the server name) as "(name)".
func apacheKeys(report string) []string {
	var keys []string
	for i, line := range strings.Split(strings.TrimSuffix(report, "\n"), "\n") {
		if i == 0 {
			keys = append(keys, "(name)")
			continue
		}
		k, _, _ := strings.Cut(line, ":")
		keys = append(keys, k)
	}
	return keys
}

// TestAutoKeysLikeApache compares the keys and their order with reports a
// live Apache 2.4.67 gave (testdata/apache-2.4.67): event and prefork with
// ExtendedStatus On, event with it Off.
func TestAutoKeysLikeApache(t *testing.T) {
	cases := []struct {
		file, mpm, conf string
	}{
		{"event-auto.txt", "event", ""},
		{"prefork-auto.txt", "prefork", ""},
		{"event-off-auto.txt", "event", "ExtendedStatus Off\n"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ref, err := os.ReadFile("testdata/apache-2.4.67/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			b := newBoard(t, 2, 2)
			b.SetMPM(c.mpm)
			b.SetRestart(1, testRestart)
			b.SetProcess(0, 1000, 1)
			w := b.Worker(0, 0)
			w.StartRequest("192.0.2.1", "v", "GET / HTTP/1.1")
			w.EndRequest(1024)
			w.SetState(scoreboard.Writing)
			// Some CPU time, as in the reference reports (CPULoad shows).
			_, out, _ := serve(t, testModule(map[int]cpuTimes{1000: {user: 3, system: 1}}), c.conf, b, "server-status", "GET", "auto")
			got, want := apacheKeys(out.body.String()), apacheKeys(string(ref))
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("keys:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// monitoringView is what the usual monitoring tools read from ?auto, each
// by its own parsing rules.
type monitoringView struct {
	// Datadog's apache check: "key: value" lines split on ": ", numbers
	// parsed as floats; Scoreboard characters counted.
	datadog map[string]float64
	// collectd's apache plugin: lines split on white space; "Total
	// Accesses:", "Total kBytes:" (3 fields), "BusyWorkers:",
	// "IdleWorkers:", "Scoreboard:" (2 fields).
	collectdRequests, collectdBytes, collectdBusy, collectdIdle float64
	// Munin's apache plugins: /^Total Accesses:\s+(\d+)/ and the like.
	muninAccesses, muninKbytes, muninBusy, muninIdle string
	scoreboard                                       map[byte]int
}

func parseLikeMonitoring(t *testing.T, report string) monitoringView {
	t.Helper()
	v := monitoringView{datadog: map[string]float64{}, scoreboard: map[byte]int{}}
	sc := bufio.NewScanner(strings.NewReader(report))
	munin := func(re string) string {
		if m := regexp.MustCompile(`(?m)^` + re + `:\s+(\d+)$`).FindStringSubmatch(report); m != nil {
			return m[1]
		}
		return ""
	}
	v.muninAccesses, v.muninKbytes = munin("Total Accesses"), munin("Total kBytes")
	v.muninBusy, v.muninIdle = munin("BusyWorkers"), munin("IdleWorkers")
	for sc.Scan() {
		line := sc.Text()
		if parts := strings.Split(line, ": "); len(parts) == 2 {
			if parts[0] == "Scoreboard" {
				for i := 0; i < len(parts[1]); i++ {
					v.scoreboard[parts[1][i]]++
				}
			} else if f, err := strconv.ParseFloat(parts[1], 64); err == nil {
				v.datadog[parts[0]] = f
			}
		}
		fields := strings.Fields(line)
		num := func(s string) float64 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Errorf("collectd cannot parse %q in %q", s, line)
			}
			return f
		}
		switch {
		case len(fields) == 3 && fields[0] == "Total" && fields[1] == "Accesses:":
			v.collectdRequests = num(fields[2])
		case len(fields) == 3 && fields[0] == "Total" && fields[1] == "kBytes:":
			v.collectdBytes = 1024 * num(fields[2])
		case len(fields) == 2 && fields[0] == "BusyWorkers:":
			v.collectdBusy = num(fields[1])
		case len(fields) == 2 && fields[0] == "IdleWorkers:":
			v.collectdIdle = num(fields[1])
		}
	}
	return v
}

// TestAutoForMonitoring parses ?auto as monitoring tools do and checks the
// figures against the board.
func TestAutoForMonitoring(t *testing.T) {
	b := eventBoard(t)
	_, out, _ := serve(t, testModule(eventCPU()), "", b, "server-status", "GET", "auto&refresh=5")
	v := parseLikeMonitoring(t, out.body.String())

	wantFloats := map[string]float64{
		"Total Accesses": 6, "Total kBytes": 10, "BusyWorkers": 3, "IdleWorkers": 1, "GracefulWorkers": 1,
		"Processes": 3, "Stopping": 1, "ConnsTotal": 15, "ConnsAsyncWriting": 3, "ConnsAsyncKeepAlive": 5,
		"ConnsAsyncClosing": 2, "ServerUptimeSeconds": 3723, "Uptime": 3723, "ParentServerConfigGeneration": 3,
		"Load1": 0.5, "CPUUser": 2.6, "CPUChildrenUser": 3, "BytesPerReq": 1706.67, "ReqPerSec": 0.0016116,
	}
	for k, want := range wantFloats {
		if got, ok := v.datadog[k]; !ok || got != want {
			t.Errorf("Datadog view: %s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if v.collectdRequests != 6 || v.collectdBytes != 10*1024 || v.collectdBusy != 3 || v.collectdIdle != 1 {
		t.Errorf("collectd view: %+v", v)
	}
	if v.muninAccesses != "6" || v.muninKbytes != "10" || v.muninBusy != "3" || v.muninIdle != "1" {
		t.Errorf("Munin view: %+v", v)
	}
	wantBoard := map[byte]int{'W': 2, '_': 3, 'K': 1, 'S': 1, 'G': 1, 'R': 1, 'I': 1, '.': 1}
	if len(v.scoreboard) != len(wantBoard) {
		t.Errorf("scoreboard counts %v, want %v", v.scoreboard, wantBoard)
	}
	for c, n := range wantBoard {
		if v.scoreboard[c] != n {
			t.Errorf("scoreboard %q: %d, want %d", c, v.scoreboard[c], n)
		}
	}
}

// TestAutoSlotsUpToLimits: without SetActive every slot of ServerLimit ×
// ThreadLimit is in the scoreboard line; with it, Open slots beyond the
// configured processes and threads are left out, as Apache does.
func TestAutoSlotsUpToLimits(t *testing.T) {
	b := newBoard(t, 16, 64)
	b.SetMPM("worker")
	b.SetRestart(1, testRestart)
	line := func() string {
		_, out, _ := serve(t, testModule(nil), "", b, "server-status", "GET", "auto")
		s := out.body.String()
		i := strings.Index(s, "Scoreboard: ")
		return strings.TrimSuffix(s[i+len("Scoreboard: "):], "\n")
	}
	if got := line(); got != strings.Repeat(".", 16*64) {
		t.Errorf("all slots: %d characters", len(got))
	}
	b.SetActive(16, 25) // Apache's worker defaults: 400 workers shown of 1024
	if got := line(); got != strings.Repeat(".", 400) {
		t.Errorf("active slots: %d characters", len(got))
	}
	b.SetProcess(0, 1000, 1)
	for j := 0; j < 25; j++ {
		b.Worker(0, j).SetState(scoreboard.Idle)
	}
	b.Worker(0, 30).SetState(scoreboard.Graceful) // beyond ThreadsPerChild but busy: shown
	if got := line(); got != strings.Repeat("_", 25)+"G"+strings.Repeat(".", 375) {
		t.Errorf("with a process: %q", got)
	}
}

func TestAutoUptimeZero(t *testing.T) {
	b := newBoard(t, 1, 1)
	b.SetMPM("prefork")
	b.SetRestart(1, testNow)
	_, out, _ := serve(t, testModule(nil), "", b, "server-status", "GET", "auto")
	got := out.body.String()
	for _, line := range []string{"\nServerUptimeSeconds: 0\n", "\nServerUptime:\n", "\nUptime: 0\n", "\nTotal Accesses: 0\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
	for _, absent := range []string{"ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq", "CPULoad", "Processes:"} {
		if strings.Contains(got, absent) {
			t.Errorf("%s present in\n%s", absent, got)
		}
	}
}

// TestNoScoreboard: a server without one (no MPM made it, unit tests)
// gets empty reports, never a panic.
func TestNoScoreboard(t *testing.T) {
	for _, h := range []struct{ handler, args string }{{"server-status", ""}, {"server-status", "auto"}, {"server-status", "notable"}, {"metrics", ""}} {
		_, out, st := serve(t, testModule(nil), "", nil, h.handler, "GET", h.args)
		if st != phases.OK || out.status != 200 || out.body.Len() == 0 {
			t.Errorf("%s?%s: %v %d %q", h.handler, h.args, st, out.status, out.body.String())
		}
		if h.args == "auto" && !strings.HasSuffix(out.body.String(), "\nBusyWorkers: 0\nGracefulWorkers: 0\nIdleWorkers: 0\nProcesses: 0\nStopping: 0\nConnsTotal: 0\nConnsAsyncWaitIO: 0\nConnsAsyncWriting: 0\nConnsAsyncKeepAlive: 0\nConnsAsyncClosing: 0\nScoreboard: \n") {
			t.Errorf("empty ?auto:\n%s", out.body.String())
		}
	}
	// Not even a server record.
	m := testModule(nil)
	out := &recorder{}
	if st, err := m.handler(&phases.Request{Method: "GET", Handler: "server-status", Args: "auto", Output: out}); err != nil || st != phases.OK {
		t.Errorf("bare request: %v %v", st, err)
	}
}

func TestHandlerSelection(t *testing.T) {
	b := eventBoard(t)
	m := testModule(nil)
	for _, c := range []struct {
		handler, method string
		want            phases.Status
	}{
		{"server-status", "GET", phases.OK},
		{"application/x-httpd-status", "GET", phases.OK},
		{"metrics", "GET", phases.OK},
		{"server-status", "HEAD", phases.OK},
		{"server-status", "POST", phases.DECLINED},
		{"Server-Status", "GET", phases.DECLINED}, // Apache compares case-sensitively
		{"", "GET", phases.DECLINED},
		{"default-handler", "GET", phases.DECLINED},
	} {
		_, out, st := serve(t, m, "", b, c.handler, c.method, "")
		if st != c.want {
			t.Errorf("%s %s: %v, want %v", c.method, c.handler, st, c.want)
		}
		if c.method == "HEAD" && (out.body.Len() != 0 || out.status != 200) {
			t.Errorf("HEAD: %d with %d bytes", out.status, out.body.Len())
		}
	}
}

// TestThroughHooks: the module registers its handler for each generation.
func TestThroughHooks(t *testing.T) {
	cfg := phasestest.MustLoad(t, "")
	sh := phases.NewServerHooks()
	if err := phases.LookupModule(ModuleName).RegisterHooks(sh, cfg); err != nil {
		t.Fatal(err)
	}
	out := &recorder{}
	r := &phases.Request{Method: "GET", Handler: "server-status", Args: "auto", HeadersOut: http.Header{}, Output: out,
		Server: &phases.Server{Config: cfg, Main: cfg.Main, Scoreboard: eventBoard(t)}}
	if st := phases.RunHook(sh.Request.Handler, r); st != phases.OK || !strings.Contains(out.body.String(), "\nScoreboard: W_KS_GRIW_.\n") {
		t.Errorf("through the handler hook: %v\n%s", st, out.body.String())
	}
	r.Handler = "something-else"
	if st := phases.RunHook(sh.Request.Handler, r); st != phases.DECLINED {
		t.Errorf("other handler: %v", st)
	}
}

func TestRefresh(t *testing.T) {
	b := eventBoard(t)
	for args, want := range map[string]string{
		"refresh": "10", "refresh=3": "3", "refresh=0": "10", "refresh=-4": "10", "auto&refresh=60": "60",
		"refresh=7x": "7", "refresh= 5": "5", "": "", "auto": "",
	} {
		r, _, _ := serve(t, testModule(nil), "", b, "server-status", "GET", args)
		if got := r.HeadersOut.Get("Refresh"); got != want {
			t.Errorf("?%s: Refresh %q, want %q", args, got, want)
		}
	}
}

func TestHTML(t *testing.T) {
	b := eventBoard(t)
	r, out, _ := serve(t, testModule(eventCPU()), "", b, "server-status", "GET", "")
	if r.ContentType != "text/html; charset=ISO-8859-1" {
		t.Errorf("Content-Type %q", r.ContentType)
	}
	page := out.body.String()
	for _, want := range []string{
		"<title>httpdg Status</title>",
		"<h1>httpdg Server Status for status.example (via 127.0.0.1)</h1>",
		"<dl><dt>Server Version: httpdg/" + version + "</dt>\n<dt>Server MPM: event</dt>\n<dt>Server Built: " + testBuilt + "\n</dt></dl><hr /><dl>\n",
		"<dt>Parent Server Config. Generation: 3</dt>\n<dt>Parent Server MPM Generation: 2</dt>\n",
		"<dt>Server uptime:  1 hour 2 minutes 3 seconds</dt>\n<dt>Server load: 0.50 0.25 1.00</dt>\n",
		"<dt>Total accesses: 6 - Total Traffic: 10 kB - Total Duration: ",
		"<dt>CPU Usage: u2.6 s.7 cu3 cs.4 - .18% CPU load</dt>\n",
		"<dt>.00161 requests/sec - 2 B/second - 1706 B/request - ",
		"<dt>3 requests currently being processed, 1 workers gracefully restarting, 1 idle workers</dt>\n</dl>",
		// The process table: slot 1 of the old generation, slot 2 stopping.
		"<tr><td>0</td><td>1000</td><td>no</td><td>10</td><td>yes</td><td>2</td><td>0</td><td>1</td><td>0</td><td>2</td><td>4</td><td>1</td></tr>\n",
		"<tr><td>1</td><td>1001</td><td>no (old gen)</td><td>3</td><td>yes</td><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td><td>1</td><td>0</td></tr>\n",
		"<tr><td>2</td><td>1002</td><td>yes</td><td>2</td><td>no</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td><td>1</td></tr>\n",
		"<tr><td>Sum</td><td>3</td><td>1</td><td>15</td><td>&nbsp;</td><td>3</td><td>1</td><td>1</td><td>0</td><td>3</td><td>5</td><td>2</td></tr>\n</table>\n",
		"<pre>W_KS_GRIW_.</pre>\n<p>Scoreboard Key:<br />\n",
		"\"<b><code>.</code></b>\" Open slot with no current process<br />\n</p>\n",
		// The workers: slot 0 thread 0 served 3 requests of 1000 bytes.
		"<tr><td><b>0-2</b></td><td>1000</td><td>3/3/3</td><td><b>W</b>\n</td><td>2.00</td><td>0</td><td>",
		"</td><td>2.9</td><td>0.00</td><td>0.00\n</td><td>192.0.2.1</td><td>http/1.1</td><td nowrap>status.example:80</td><td nowrap>GET /a HTTP/1.1</td></tr>\n\n",
		// Escaped for HTML after Apache's log-item escaping.
		"<td nowrap>GET /&lt;b&gt;&amp;\\&quot;q\\&quot; HTTP/1.1</td>",
		"<td>h2</td><td nowrap>other.example:80</td>",
		"<tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n </table>\n</body></html>\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Workers that never served and wait are not listed.
	if strings.Contains(page, "<b>3-") || strings.Count(page, "<tr><td><b>") != 8 {
		t.Errorf("%d worker rows:\n%s", strings.Count(page, "<tr><td><b>"), page)
	}
	if strings.Contains(page, "ExtendedStatus On") {
		t.Error("the ExtendedStatus hint shows with ExtendedStatus on")
	}
}

func TestHTMLNotExtended(t *testing.T) {
	b := eventBoard(t)
	_, out, _ := serve(t, testModule(eventCPU()), "ExtendedStatus Off\n", b, "server-status", "GET", "")
	page := out.body.String()
	for _, want := range []string{
		"PID Key: <br />\n<pre>\n   1000 in state: W ,   1000 in state: _ ,   1000 in state: K \n   1000 in state: S ,",
		"<hr />To obtain a full report with current status information you need to use the <code>ExtendedStatus On</code> directive.\n</body></html>\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	for _, absent := range []string{"Total accesses", "CPU Usage", "192.0.2.1"} {
		if strings.Contains(page, absent) {
			t.Errorf("page shows %q without ExtendedStatus", absent)
		}
	}
}

func TestHTMLNoTable(t *testing.T) {
	b := eventBoard(t)
	_, out, _ := serve(t, testModule(eventCPU()), "", b, "server-status", "GET", "notable")
	page := out.body.String()
	for _, want := range []string{
		"<hr /><h2>Server Details</h2>\n\n",
		"<b>Server 0-2</b> (1000): 3|3|3 [<b>Write</b>] u1.5 s.5 cu0 cs0\n 0 ",
		"(3000 B|3000 B|3000 B)\n <i>192.0.2.1 {GET /a HTTP/1.1}</i> <i>(http/1.1)</i> <b>[status.example:80]</b><br />\n\n",
		"<b>Server 2-2</b> (1002): 1|1|1 [Ready]",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<table border=\"0\">") {
		t.Error("?notable still has the workers table")
	}
}

func TestEscapes(t *testing.T) {
	if got := escapeHTML(`<a href="x">&</a>`); got != "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;" {
		t.Error(got)
	}
	for in, want := range map[string]string{"GET / HTTP/1.1": "http/1.1", "GET / HTTP/2.0": "h2", "GET /": "", "x": ""} {
		if got := protocolOf(in); got != want {
			t.Errorf("protocolOf(%q) = %q", in, got)
		}
	}
}

func TestTimeFormat(t *testing.T) {
	// Apache's DEFAULT_TIME_FORMAT, e.g. "Tuesday, 24-Nov-2026 16:29:41 UTC".
	got := apacheTime(testNow)
	if !regexp.MustCompile(`^[A-Z][a-z]+day, \d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \S+$`).MatchString(got) {
		t.Errorf("apacheTime = %q", got)
	}
}

func TestSystemReaders(t *testing.T) {
	if c, ok := procCPU(os.Getpid()); !ok || c.user < 0 {
		t.Errorf("procCPU(self) = %+v, %v", c, ok)
	}
	if _, ok := procCPU(-1); ok {
		t.Error("procCPU(-1) succeeded")
	}
	c, ok := parseProcStat("42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 11 5 20 0 1 0 100 1000 10")
	if !ok || c != (cpuTimes{user: 7, system: 3, childUser: 11, childSystem: 5}) {
		t.Errorf("parseProcStat = %+v, %v", c, ok)
	}
	if _, ok := parseProcStat("garbage"); ok {
		t.Error("garbage parsed")
	}
	for _, v := range loadAvg() {
		if v < 0 {
			t.Errorf("loadAvg = %v", loadAvg())
		}
	}
	if bt := buildTime(); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`).MatchString(bt) {
		t.Errorf("buildTime = %q", bt)
	}
}

func TestServerName(t *testing.T) {
	cfg := phasestest.MustLoad(t, "ServerName http://main.example:8080\n")
	r := &phases.Request{Server: &phases.Server{Config: cfg, Main: cfg.Main}}
	if got := serverName(r); got != "main.example" {
		t.Errorf("from ServerName: %q", got)
	}
	r.Hostname = "asked.example"
	if got := serverName(r); got != "asked.example" {
		t.Errorf("from the request: %q", got)
	}
}

// TestGenerationNotRecorded: a master that never called SetRestart leaves
// generation 0; its children's idle workers must still count.
func TestGenerationNotRecorded(t *testing.T) {
	b := newBoard(t, 2, 2)
	b.SetMPM("worker")
	b.SetProcess(0, 1000, 1)
	b.Worker(0, 0).SetState(scoreboard.Idle)
	b.Worker(0, 1).SetState(scoreboard.Idle)
	_, out, _ := serve(t, testModule(nil), "", b, "server-status", "GET", "auto")
	got := out.body.String()
	for _, want := range []string{"\nParentServerConfigGeneration: 1\n", "\nParentServerMPMGeneration: 0\n", "\nIdleWorkers: 2\n", "\nScoreboard: __..\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

package main_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// These tests run the multi-process server (-D FOREGROUND: a master and
// its children) for each MPM, send real signals, count processes in /proc
// and read the scoreboard through server-status?auto.

// master is an httpdg master process started by a test.
type master struct {
	t      *testing.T
	root   string
	port   int
	cmd    *exec.Cmd
	stderr syncBuffer
	done   chan struct{}
}

// syncBuffer is a bytes buffer safe for the process's writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mpmConf is a config for mpm on port with a server-status handler.
func mpmConf(port int, mpm string, lines ...string) string {
	return fmt.Sprintf("Listen 127.0.0.1:%d\nServerName localhost\nMPM %s\nLogLevel info\nKeepAliveTimeout 1\n"+
		"<Location /server-status>\n  SetHandler server-status\n</Location>\n", port, mpm) + strings.Join(lines, "\n") + "\n"
}

// startMaster runs `httpdg -d root -D FOREGROUND` and waits until it says
// it serves. The master (and so its children) is stopped when the test ends.
func startMaster(t *testing.T, root string, port int) *master {
	t.Helper()
	m := &master{t: t, root: root, port: port, done: make(chan struct{})}
	if err := os.WriteFile(filepath.Join(root, "htdocs", "index.html"), []byte("hello\n"), 0o644); err != nil {
		os.MkdirAll(filepath.Join(root, "htdocs"), 0o755)
		os.WriteFile(filepath.Join(root, "htdocs", "index.html"), []byte("hello\n"), 0o644)
	}
	m.cmd = exec.Command(binary, "-d", root, "-D", "FOREGROUND")
	m.cmd.Stderr = &m.stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() { m.stop(10 * time.Second) })
	m.waitLog(readyRe, 1, 20*time.Second)
	return m
}

func (m *master) pid() int { return m.cmd.Process.Pid }

func (m *master) log() string {
	b, _ := os.ReadFile(filepath.Join(m.root, "logs", "error_log"))
	return string(b)
}

// waitLog waits until the error log holds n matches of re.
func (m *master) waitLog(re *regexp.Regexp, n int, within time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for len(re.FindAllString(m.log(), -1)) < n {
		select {
		case <-m.done:
			m.t.Fatalf("httpdg exited while waiting for %s; stderr:\n%s\nerror_log:\n%s", re, m.stderr.String(), m.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("no %d× %s in error_log after %s:\n%s", n, re, within, m.log())
		}
	}
}

func (m *master) signal(sig syscall.Signal) {
	m.t.Helper()
	if err := m.cmd.Process.Signal(sig); err != nil {
		m.t.Fatal(err)
	}
}

// stop sends TERM and waits, then KILLs; it returns the exit code.
func (m *master) stop(within time.Duration) int {
	select {
	case <-m.done:
		return m.cmd.ProcessState.ExitCode()
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		return m.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		_ = m.cmd.Process.Kill()
		<-m.done
		return -1
	}
}

// children lists the live (not zombie) processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(p)
		if ok && ppid == pid && state != "Z" {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != "Z"
}

// procStat reads a process's parent and state from /proc/pid/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0], true
}

// waitChildren waits until the master has exactly n children and returns them.
func (m *master) waitChildren(n int, within time.Duration) []int {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for {
		c := children(m.pid())
		if len(c) == n {
			return c
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("master %d has %d children %v, want %d; error_log:\n%s", m.pid(), len(c), c, n, m.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auto fetches server-status?auto and parses it as monitoring tools do:
// "Key: value" lines, the Scoreboard counted by state.
func (m *master) auto() map[string]string {
	m.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/server-status?auto", m.port))
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		m.t.Fatalf("server-status?auto: %d\n%s", resp.StatusCode, body)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			out[k] = v
		}
	}
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func get(t *testing.T, port int, path string) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// mpmSettings are per-MPM lines giving two children and room to serve.
var mpmSettings = map[string][]string{
	"prefork": {"StartServers 2", "MinSpareServers 1", "MaxSpareServers 4", "ServerLimit 8", "MaxRequestWorkers 8"},
	"worker":  {"StartServers 2", "ThreadsPerChild 4", "MinSpareThreads 2", "MaxSpareThreads 16", "ServerLimit 4", "MaxRequestWorkers 16"},
	"event":   {"StartServers 2", "ThreadsPerChild 4", "MinSpareThreads 2", "MaxSpareThreads 16", "ServerLimit 4", "MaxRequestWorkers 16"},
}

var threadsPerChild = map[string]int{"prefork": 1, "worker": 4, "event": 4}

// For each MPM: start, serve, graceful restart, stop, with the process
// count checked in /proc and on the scoreboard.
func TestMPMStartServeGracefulStop(t *testing.T) {
	for _, mpm := range []string{"prefork", "worker", "event"} {
		t.Run(mpm, func(t *testing.T) {
			port := freePort(t)
			root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, mpm, mpmSettings[mpm]...)})
			m := startMaster(t, root, port)
			first := m.waitChildren(2, 5*time.Second)
			if code := get(t, port, "/"); code != 200 {
				t.Fatalf("GET / = %d", code)
			}
			checkScoreboard(t, m, mpm, 2)

			m.signal(syscall.SIGUSR1)
			m.waitLog(readyRe, 2, 20*time.Second)
			second := m.waitChildren(2, 5*time.Second)
			for _, p := range first {
				for _, q := range second {
					if p == q {
						t.Fatalf("child %d survived the graceful restart (before %v, after %v)", p, first, second)
					}
				}
			}
			if !alive(m.pid()) {
				t.Fatal("the master did not survive the graceful restart")
			}
			if code := get(t, port, "/"); code != 200 {
				t.Fatalf("GET / after graceful = %d", code)
			}
			waitFor(t, 5*time.Second, "the old children to leave the scoreboard", func() bool { return scoreboardProcesses(t, m, mpm) == 2 })

			if code := m.stop(15 * time.Second); code != 0 {
				t.Fatalf("stop: exit %d; stderr:\n%s", code, m.stderr.String())
			}
			for _, p := range second {
				if alive(p) {
					t.Errorf("child %d outlived the master", p)
				}
			}
		})
	}
}

// scoreboardProcesses counts the processes the scoreboard shows: slots
// not open ('.'), by ThreadsPerChild.
func scoreboardProcesses(t *testing.T, m *master, mpm string) int {
	a := m.auto()
	sb := a["Scoreboard"]
	used := len(sb) - strings.Count(sb, ".")
	return used / threadsPerChild[mpm]
}

func checkScoreboard(t *testing.T, m *master, mpm string, processes int) {
	t.Helper()
	a := m.auto()
	if a["ServerMPM"] != mpm {
		t.Errorf("ServerMPM = %q, want %s", a["ServerMPM"], mpm)
	}
	busy, idle := atoi(t, a["BusyWorkers"]), atoi(t, a["IdleWorkers"])
	if busy < 1 { // the status request itself
		t.Errorf("BusyWorkers = %d, want ≥ 1", busy)
	}
	if got := busy + idle; got != processes*threadsPerChild[mpm] {
		t.Errorf("BusyWorkers+IdleWorkers = %d, want %d (%d processes × %d)\n%v", got, processes*threadsPerChild[mpm], processes, threadsPerChild[mpm], a)
	}
	if got := scoreboardProcesses(t, m, mpm); got != processes {
		t.Errorf("scoreboard shows %d processes, want %d: %q", got, processes, a["Scoreboard"])
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

var startupEntry = regexp.MustCompile(`(?m)^\[[^\]]+\] - (\S+) *: process (\d+) `)
var startupConfigured = regexp.MustCompile(`(?m)^\[[^\]]+\] - post_config *: configuration is completed`)

// startupSequence reads logs/startup_log as "phase:pid" entries
// (post_config lines, which name no pid, as "post_config").
func startupSequence(t *testing.T, root string) []string {
	b, _ := os.ReadFile(filepath.Join(root, "logs", "startup_log"))
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := startupEntry.FindStringSubmatch(line); m != nil {
			out = append(out, m[1]+":"+m[2])
		} else if startupConfigured.MatchString(line) {
			out = append(out, "post_config")
		}
	}
	return out
}

// The startuplog sequence with StartServers 4 is Apache's: start logs
// open_logs post_config open_logs post_config and 4 child_init; a graceful
// restart 4 child_exit, open_logs, post_config, 4 child_init (new pids, the
// master's unchanged); stop 4 child_exit of the serving children.
func TestMasterStartupLogSequence(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", startupConf,
		"StartServers 4", "ThreadsPerChild 4", "MinSpareThreads 4", "MaxSpareThreads 64", "ServerLimit 16")})
	m := startMaster(t, root, port)
	master := strconv.Itoa(m.pid())
	gen1 := m.waitChildren(4, 5*time.Second)
	waitFor(t, 5*time.Second, "4 child_init", func() bool { return len(startupSequence(t, root)) == 8 })

	m.signal(syscall.SIGUSR1)
	m.waitLog(readyRe, 2, 20*time.Second)
	waitFor(t, 5*time.Second, "4 child_exit, open_logs, post_config, 4 child_init", func() bool { return len(startupSequence(t, root)) == 18 })
	gen2 := m.waitChildren(4, 5*time.Second)
	if code := m.stop(15 * time.Second); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	got := startupSequence(t, root)
	var want []string
	want = append(want, "open_logs:"+master, "post_config", "open_logs:"+master, "post_config")
	phase := func(p string, pids []int) []string {
		var out []string
		for range pids {
			out = append(out, p)
		}
		return out
	}
	want = append(want, phase("child_init", gen1)...)
	want = append(want, phase("child_exit", gen1)...)
	want = append(want, "open_logs:"+master, "post_config")
	want = append(want, phase("child_init", gen2)...)
	want = append(want, phase("child_exit", gen2)...)
	// The pids: child lines name the children of their generation, in any
	// order within a group of four.
	check := func(i int, pids []int) {
		var seen []int
		for _, e := range got[i : i+4] {
			p, _ := strconv.Atoi(e[strings.IndexByte(e, ':')+1:])
			seen = append(seen, p)
		}
		sort.Ints(seen)
		if fmt.Sprint(seen) != fmt.Sprint(pids) {
			t.Errorf("entries %d-%d name pids %v, want the children %v", i, i+3, seen, pids)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("startup_log:\n got %v\nwant %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("startup_log entry %d = %s, want %s\n got %v", i, got[i], want[i], got)
		}
	}
	t.Logf("startup_log: %v", got)
	check(4, gen1)
	check(8, gen1)
	check(14, gen2)
	check(18, gen2)
}

// loadResult is what the load generator saw.
type loadResult struct {
	ok, non2xx, errors int64
	firstErr           atomic.Value
}

// keepAliveLoad runs conns clients in a loop of keep-alive GETs until stop
// closes: a response saying Connection: close makes its client reconnect;
// anything else going wrong (a reset, an EOF without that word, a refused
// connection) is an error.
func keepAliveLoad(port, conns int, stop <-chan struct{}) *loadResult {
	res := &loadResult{}
	var wg sync.WaitGroup
	fail := func(err error) {
		atomic.AddInt64(&res.errors, 1)
		res.firstErr.CompareAndSwap(nil, err.Error())
	}
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var br *bufio.Reader
			for {
				select {
				case <-stop:
					if c != nil {
						c.Close()
					}
					return
				default:
				}
				if c == nil {
					var err error
					c, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
					if err != nil {
						fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					br = bufio.NewReader(c)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
					fail(err)
					c.Close()
					c = nil
					continue
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					fail(err)
					c.Close()
					c = nil
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					fail(err)
				}
				if resp.StatusCode/100 == 2 {
					atomic.AddInt64(&res.ok, 1)
				} else {
					atomic.AddInt64(&res.non2xx, 1)
				}
				if resp.Close || err != nil {
					c.Close()
					c = nil
				}
			}
		}()
	}
	go func() { wg.Wait() }()
	return res
}

// Under keep-alive load (20 connections), 5 graceful restarts in 12 s
// drop nothing: no socket error, no non-2xx, for each MPM.
func TestGracefulUnderLoadDropsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	settings := map[string][]string{
		"prefork": {"StartServers 24", "MinSpareServers 4", "MaxSpareServers 64", "ServerLimit 64", "MaxRequestWorkers 64", "KeepAliveTimeout 5"},
		"worker":  {"StartServers 2", "ThreadsPerChild 25", "MinSpareThreads 25", "MaxSpareThreads 100", "KeepAliveTimeout 5"},
		"event":   {"StartServers 2", "ThreadsPerChild 25", "MinSpareThreads 25", "MaxSpareThreads 100", "KeepAliveTimeout 5"},
	}
	for _, mpm := range []string{"prefork", "worker", "event"} {
		t.Run(mpm, func(t *testing.T) {
			port := freePort(t)
			root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, mpm, settings[mpm]...)})
			m := startMaster(t, root, port)
			stop := make(chan struct{})
			res := keepAliveLoad(port, 20, stop)
			start := time.Now()
			for i := 1; i <= 5; i++ {
				time.Sleep(time.Until(start.Add(time.Duration(i) * 2 * time.Second)))
				m.signal(syscall.SIGUSR1)
				m.waitLog(readyRe, i+1, 10*time.Second)
			}
			time.Sleep(time.Until(start.Add(12 * time.Second)))
			close(stop)
			time.Sleep(100 * time.Millisecond)
			ok, non2xx, errs := atomic.LoadInt64(&res.ok), atomic.LoadInt64(&res.non2xx), atomic.LoadInt64(&res.errors)
			t.Logf("%s: %d responses 2xx, %d non-2xx, %d errors in 12 s across 5 graceful restarts", mpm, ok, non2xx, errs)
			if errs != 0 || non2xx != 0 {
				t.Errorf("%d errors (first: %v), %d non-2xx", errs, res.firstErr.Load(), non2xx)
			}
			if ok < 1000 {
				t.Errorf("only %d responses: the load did not run", ok)
			}
		})
	}
}

// A reload with a broken config or an unbindable new port leaves the
// running generation serving; the next good reload works.
func TestMasterBrokenReloadKeepsServing(t *testing.T) {
	port := freePort(t)
	good := mpmConf(port, "event", mpmSettings["event"]...)
	root := writeConf(t, map[string]string{"conf/httpd.conf": good})
	m := startMaster(t, root, port)
	conf := filepath.Join(root, "conf", "httpd.conf")
	before := m.waitChildren(2, 5*time.Second)

	if err := os.WriteFile(conf, []byte(good+"Frobnicate on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.signal(syscall.SIGUSR1)
	m.waitLog(regexp.MustCompile(`(?s)restart aborted, generation 1 goes on serving: .*Frobnicate`), 1, 10*time.Second)
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / after a broken reload = %d", code)
	}
	if after := children(m.pid()); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("children changed on a broken reload: %v → %v", before, after)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := os.WriteFile(conf, []byte(good+"Listen "+busy.Addr().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.signal(syscall.SIGUSR1)
	m.waitLog(regexp.MustCompile(`restart aborted, generation 1 goes on serving: could not bind to address `+regexp.QuoteMeta(busy.Addr().String())), 1, 10*time.Second)
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / after an unbindable reload = %d", code)
	}

	// The same through -k graceful (the control socket): exit 1 and the
	// reason.
	if err := os.WriteFile(conf, []byte(good+"Frobnicate on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "-d", root, "-k", "graceful"); r.code != 1 || !strings.Contains(r.stderr, "Invalid command 'Frobnicate'") {
		t.Fatalf("-k graceful with a broken config: exit %d, stderr %q", r.code, r.stderr)
	}
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / after a broken -k graceful = %d", code)
	}

	if err := os.WriteFile(conf, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "-d", root, "-k", "graceful"); r.code != 0 {
		t.Fatalf("-k graceful with the good config: exit %d, stderr %q", r.code, r.stderr)
	}
	m.waitLog(regexp.MustCompile(`resuming normal operations \(generation 2\)`), 1, 10*time.Second)
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / after the good reload = %d", code)
	}
}

// kill -9 of a child: replaced within 2 s. kill -9 of the master: every
// child gone within 2 s.
func TestKillNine(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "worker",
		"StartServers 2", "ThreadsPerChild 4", "MinSpareThreads 8", "MaxSpareThreads 16", "ServerLimit 4")})
	m := startMaster(t, root, port)
	kids := m.waitChildren(2, 5*time.Second)
	// Children carry the binary's name (they are started through
	// /proc/self/exe), so ps -C, pgrep and killall find them; their
	// threads too (top -H, perf).
	for _, k := range kids {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", k)); strings.TrimSpace(string(b)) != filepath.Base(binary) {
			t.Errorf("child %d is named %q, want %q", k, strings.TrimSpace(string(b)), filepath.Base(binary))
		}
		// No descriptor inherited from the master leaks into a program a
		// child starts (CGI, io.popen): all are close-on-exec.
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", k))
		for _, info := range fds {
			fd, _ := strconv.Atoi(filepath.Base(info))
			b, err := os.ReadFile(info)
			if err != nil || fd < 3 {
				continue
			}
			var flags int64
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "flags:"); ok {
					flags, _ = strconv.ParseInt(strings.TrimSpace(v), 8, 64)
				}
			}
			if flags&syscall.O_CLOEXEC == 0 {
				target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", k, fd))
				t.Errorf("child %d: fd %d (%s) is not close-on-exec (flags %o)", k, fd, target, flags)
			}
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/comm", k))
		for _, task := range tasks {
			if b, _ := os.ReadFile(task); strings.TrimSpace(string(b)) != filepath.Base(binary) {
				t.Errorf("%s is %q, want %q", task, strings.TrimSpace(string(b)), filepath.Base(binary))
			}
		}
	}
	if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitFor(t, 2*time.Second, "the killed child to be replaced", func() bool {
		c := children(m.pid())
		return len(c) == 2 && c[0] != kids[0] && c[1] != kids[0]
	})
	t.Logf("child replaced in %s", time.Since(killed).Round(time.Millisecond))
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / = %d", code)
	}
	kids = children(m.pid())
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-m.done
	waitFor(t, 2*time.Second, "the children to leave after the master's death", func() bool {
		for _, p := range kids {
			if alive(p) {
				return false
			}
		}
		return true
	})
}

var resourcesRe = regexp.MustCompile(`master resources: (\d+) goroutines, (\d+) open files, (\d+) children`)

// 100 graceful restarts: the master's goroutines, descriptors and
// children do not grow.
func TestHundredGracefulRestartsLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", "LogLevel core:debug",
		"StartServers 1", "ThreadsPerChild 2", "MinSpareThreads 1", "MaxSpareThreads 8", "ServerLimit 4")})
	m := startMaster(t, root, port)
	var first []string
	for i := 1; i <= 100; i++ {
		m.signal(syscall.SIGUSR1)
		m.waitLog(resourcesRe, i, 20*time.Second)
		if i == 5 {
			first = resourcesRe.FindAllStringSubmatch(m.log(), -1)[4][1:]
		}
	}
	all := resourcesRe.FindAllStringSubmatch(m.log(), -1)
	last := all[len(all)-1][1:]
	t.Logf("after 5 restarts: %v goroutines/fds/children; after 100: %v", first, last)
	for i, what := range []string{"goroutines", "open files", "children"} {
		a, _ := strconv.Atoi(first[i])
		b, _ := strconv.Atoi(last[i])
		if b > a {
			t.Errorf("%s grew from %d (restart 5) to %d (restart 100)", what, a, b)
		}
	}
	if n := len(children(m.pid())); n != 1 {
		t.Errorf("%d children after 100 restarts, want 1", n)
	}
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET / = %d", code)
	}
}

// Idle maintenance (prefork): a burst of slow clients makes the master
// start 1, 2, 4 ... children a second, and once they are gone retire one
// idle child a second.
func TestPreforkIdleMaintenance(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "prefork",
		"StartServers 2", "MinSpareServers 2", "MaxSpareServers 3", "ServerLimit 32", "MaxRequestWorkers 32")})
	m := startMaster(t, root, port)
	m.waitChildren(2, 5*time.Second)

	// Ten clients that send half a request head and wait: each holds a
	// child in 'R' state.
	var slow []net.Conn
	for i := 0; i < 10; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\n")
		slow = append(slow, c)
	}
	// Record the number of children every 50 ms.
	type sample struct {
		at time.Time
		n  int
	}
	var samples []sample
	// A change within 400 ms of the previous one is the same step still
	// under way (starting 8 children takes a while on 2 cores).
	record := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			n := len(children(m.pid()))
			switch last := len(samples) - 1; {
			case last >= 0 && samples[last].n == n:
			case last >= 1 && time.Since(samples[last].at) < 400*time.Millisecond && (samples[last].n-samples[last-1].n)*(n-samples[last].n) > 0:
				samples[last].n = n
			default:
				samples = append(samples, sample{time.Now(), n})
			}
		}
	}
	record(6 * time.Second)
	var steps []int
	for i := 1; i < len(samples); i++ {
		steps = append(steps, samples[i].n-samples[i-1].n)
		if gap := samples[i].at.Sub(samples[i-1].at); i > 1 && gap < 700*time.Millisecond {
			t.Errorf("steps %d and %d only %s apart, want about a second (samples %v)", i-1, i, gap, samples)
		}
	}
	t.Logf("children count steps: %v", steps)
	// 2 busy children, 8 clients waiting: +1 (3 children, all busy), +2
	// (5), +4 (9, all busy), +8 (17: 7 idle); then 7 idle is above
	// MaxSpareServers 3: -1 a second.
	want := []int{1, 2, 4, 8}
	if len(steps) < len(want)+1 || fmt.Sprint(steps[:len(want)]) != fmt.Sprint(want) {
		t.Fatalf("children grew by %v, want %v then -1 steps (samples %v)", steps, want, samples)
	}
	for _, d := range steps[len(want):] {
		if d != -1 {
			t.Fatalf("after the growth, steps %v: want -1 each", steps[len(want):])
		}
	}
	// The scoreboard agrees with /proc (within a child leaving meanwhile).
	onBoard := scoreboardProcesses(t, m, "prefork")
	inProc := len(children(m.pid()))
	if d := onBoard - inProc; d < -1 || d > 1 {
		t.Errorf("scoreboard shows %d processes, /proc %d", onBoard, inProc)
	}
	// The slow clients leave: their children idle too, one retires a
	// second.
	for _, c := range slow {
		c.Close()
	}
	samples = samples[len(samples)-1:]
	record(3500 * time.Millisecond)
	if len(samples) < 4 {
		t.Fatalf("children did not shrink one a second: %v", samples)
	}
	for i := 1; i < len(samples); i++ {
		if d := samples[i].n - samples[i-1].n; d != -1 {
			t.Errorf("shrink step %d: %+d children, want -1 (%v)", i, d, samples)
		}
	}
	a := m.auto()
	t.Logf("scoreboard after the burst: %s", a["Scoreboard"])
}

// Started as root with User/Group, the master stays root and its
// children run as that user.
func TestChildrenRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", append(mpmSettings["event"], "User nobody", "Group #"+u.Gid)...)})
	m := startMaster(t, root, port)
	kids := m.waitChildren(2, 5*time.Second)
	uidOf := func(pid int) string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
				return f[1]
			}
		}
		return ""
	}
	if got := uidOf(m.pid()); got != "0" {
		t.Errorf("master uid %s, want 0", got)
	}
	for _, k := range kids {
		if got := uidOf(k); got != u.Uid {
			t.Errorf("child %d uid %s, want %s (nobody)", k, got, u.Uid)
		}
	}
	// The sockets and logs came from the master: the child serves (the
	// status page needs no file).
	if code := get(t, port, "/server-status?auto"); code != 200 {
		t.Errorf("server-status from a child running as nobody: %d", code)
	}
}

// A master that cannot run its children as User fails at start, with the
// reason, instead of starting none.
func TestUnknownUserFailsStart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("User applies only when started as root")
	}
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", append(mpmSettings["event"], "User no-such-user-httpdg")...)})
	r := run(t, nil, "-d", root, "-D", "FOREGROUND")
	if r.code != 1 || !strings.Contains(r.stderr, "User no-such-user-httpdg") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// A second master whose ControlSocket a running one uses refuses to start:
// it would take the first one's -k commands.
func TestSecondMasterOnSameControlSocket(t *testing.T) {
	port := freePort(t)
	first := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", mpmSettings["event"]...)})
	startMaster(t, first, port)
	port2 := freePort(t)
	second := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port2, "event", append(mpmSettings["event"],
		"ControlSocket "+filepath.Join(first, "logs", "httpdg.sock"))...)})
	r := run(t, nil, "-d", second, "-D", "FOREGROUND")
	if r.code != 1 || !strings.Contains(r.stderr, "another server uses it") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("the first server: %d", code)
	}
}

// Under systemd (Type=notify) the master says READY=1 once its children
// accept, RELOADING=1 then READY=1 around a graceful restart, STOPPING=1 on
// stop; with socket activation it serves on the socket it was given.
func TestSystemdNotifyAndSocketActivation(t *testing.T) {
	dir := t.TempDir()
	notifyPath := filepath.Join(dir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	messages := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := notify.ReadFromUnix(buf)
			if err != nil {
				return
			}
			messages <- string(buf[:n])
		}
	}()
	expect := func(prefix string) {
		t.Helper()
		select {
		case m := <-messages:
			if !strings.HasPrefix(m, prefix) {
				t.Fatalf("sd_notify got %q, want %s", m, prefix)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no %s from the master", prefix)
		}
	}

	// The socket systemd would have bound: the master must not bind it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lnFile, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", mpmSettings["event"]...), "htdocs/index.html": "hi\n"})
	// LISTEN_PID must be the master's own pid: set it in a shell that then
	// becomes the master.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, binary, "-d", root, "-D", "FOREGROUND")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath, "LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{lnFile}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lnFile.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	expect("READY=1")
	if code := get(t, port, "/"); code != 200 {
		t.Fatalf("GET on the activated socket: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	expect("RELOADING=1")
	expect("READY=1")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("STOPPING=1")
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("master did not stop")
	}
	if strings.Contains(stderr.String(), "could not bind") {
		t.Fatalf("the master bound the port itself: %s", stderr.String())
	}
}

// MaxConnectionsPerChild: a child that has served its connections retires
// (finishing what it serves) and the master replaces it; no request fails.
func TestMaxConnectionsPerChild(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "worker",
		"StartServers 1", "ThreadsPerChild 2", "MinSpareThreads 1", "MaxSpareThreads 8", "ServerLimit 4", "MaxConnectionsPerChild 5")})
	m := startMaster(t, root, port)
	first := m.waitChildren(1, 5*time.Second)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 8; i++ {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	waitFor(t, 5*time.Second, "the child to retire and be replaced", func() bool {
		c := children(m.pid())
		return len(c) >= 1 && !slicesContains(c, first[0])
	})
	m.waitLog(regexp.MustCompile(`retiring: MaxConnectionsPerChild 5 reached`), 1, 5*time.Second)
	// The first child took exactly its five: the scoreboard's per-child
	// accesses are gone with it, but the total counts all eight.
	if a := m.auto(); atoi(t, a["Total Accesses"]) < 8 {
		t.Errorf("Total Accesses %s, want ≥ 8", a["Total Accesses"])
	}
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// MaxMemPerChild: a child above it retires (and is replaced, with the
// crash backoff not involved: it left on purpose).
func TestMaxMemPerChild(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event",
		"StartServers 1", "ThreadsPerChild 2", "MinSpareThreads 1", "MaxSpareThreads 8", "ServerLimit 4", "MaxMemPerChild 1K")})
	m := startMaster(t, root, port)
	m.waitLog(regexp.MustCompile(`retiring: resident memory \d+ bytes is above MaxMemPerChild 1024`), 2, 10*time.Second)
	if strings.Contains(m.log(), "exiting repeatedly") {
		t.Errorf("a retiring child was counted as a crash:\n%s", m.log())
	}
}

// A graceful restart closes the old generation's idle keep-alive
// connections at once (SPEC §9), not when their KeepAliveTimeout (here a
// minute) runs out.
func TestGracefulClosesIdleKeepAlive(t *testing.T) {
	for _, mpm := range []string{"prefork", "worker", "event"} {
		t.Run(mpm, func(t *testing.T) {
			port := freePort(t)
			lines := append(append([]string{}, mpmSettings[mpm]...), "KeepAliveTimeout 60")
			root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, mpm, lines...)})
			m := startMaster(t, root, port)
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			closedAfterGraceful(t, m, c)
		})
	}
}

// The same over HTTPS (served by net/http).
func TestGracefulClosesIdleKeepAliveTLS(t *testing.T) {
	port := freePort(t)
	certPEM, keyPEM, cert := httpdgtest.SelfSigned(t, "localhost")
	conf := strings.Replace(mpmConf(port, "event", append(append([]string{}, mpmSettings["event"]...), "KeepAliveTimeout 60",
		"SSLEngine on", "SSLCertificateFile conf/server.crt", "SSLCertificateKeyFile conf/server.key")...),
		fmt.Sprintf("Listen 127.0.0.1:%d\n", port), fmt.Sprintf("Listen 127.0.0.1:%d https\n", port), 1)
	root := writeConf(t, map[string]string{"conf/httpd.conf": conf, "conf/server.crt": certPEM, "conf/server.key": keyPEM})
	m := startMaster(t, root, port)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port),
		&tls.Config{ServerName: "localhost", RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closedAfterGraceful(t, m, c)
}

// closedAfterGraceful gets one keep-alive answer on c, makes m restart
// gracefully and checks that the old child closes c: EOF (or a reset)
// well before the minute of KeepAliveTimeout and a 30 s deadline.
func closedAfterGraceful(t *testing.T, m *master, c net.Conn) {
	t.Helper()
	br := bufio.NewReader(c)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("first answer: %d, Connection close %v", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	m.signal(syscall.SIGUSR1)
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("a byte after the answer")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("idle keep-alive connection still open %v after a graceful restart", time.Since(start))
	}
	t.Logf("closed %v after the graceful restart", time.Since(start).Round(time.Millisecond))
}

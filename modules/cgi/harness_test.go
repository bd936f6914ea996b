package cgi_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/cgi"
	_ "github.com/httpdg/httpdg/modules/dir"
	_ "github.com/httpdg/httpdg/modules/static"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// harness runs one generation of a config in the test process, as a
// child would, and requests through every phase (the modules compiled
// into this test: cgi, core, alias, mime, auth_basic, dir, static).
type harness struct {
	t      *testing.T
	root   string
	lc     *phases.Lifecycle
	pchild *phases.Pool
	child  *phasestest.Child
}

// newHarness loads conf (ServerRoot a fresh directory, which ROOT in
// conf stands for) after writing scripts (path under the root → shell
// text) as executable files and files as plain ones.
func newHarness(t *testing.T, conf string, scripts, files map[string]string) *harness {
	t.Helper()
	root := t.TempDir()
	write := func(name, body string, mode os.FileMode) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("conf/httpd.conf", "ServerName cgi.test\nLogLevel debug\n"+strings.ReplaceAll(conf, "ROOT", root), 0o644)
	for name, body := range files {
		write(name, body, 0o644)
	}
	for name, body := range scripts {
		write(name, body, 0o755)
	}
	reg, err := phases.Directives()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Options{ServerRoot: root, Modules: phases.ModuleInfos(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	c := phasestest.StartChild(t, cfg, root)
	return &harness{t: t, root: root, lc: c.LC, pchild: c.Pchild, child: c}
}

// exit runs child_exit (before the test ends, to see what it does).
func (h *harness) exit() { h.child.Exit() }

// errorLog is the generation's error log so far.
func (h *harness) errorLog() string { return h.child.ErrorLog() }

// recorder is the response a request wrote.
type recorder struct {
	mu      sync.Mutex
	r       *phases.Request
	status  int
	header  http.Header
	ctype   string
	body    bytes.Buffer
	flushes int
}

func (w *recorder) WriteHeader(status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 {
		return
	}
	w.status = status
	w.r.Status = status
	w.header = w.r.HeadersOut.Clone()
	for k, v := range w.r.ErrHeadersOut {
		w.header[k] = append(w.header[k], v...)
	}
	w.ctype = w.r.ContentType
}

func (w *recorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	status := w.status
	w.mu.Unlock()
	if status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.Write(p)
}

// bodyString is the body written so far.
func (w *recorder) bodyString() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.String()
}

func (w *recorder) Flush() error {
	w.mu.Lock()
	w.flushes++
	w.mu.Unlock()
	return nil
}

// response is what the client got: the status written, else the status
// the phases ended with (the engine would send its error page).
type response struct {
	status int
	header http.Header
	ctype  string
	body   string
	req    *phases.Request
}

// conn is a connection's addresses as the engine fills them.
type conn struct {
	clientIP, localIP     string
	clientPort, localPort int
	https                 bool
}

var testConn = conn{clientIP: "192.0.2.7", clientPort: 40000, localIP: "127.0.0.1", localPort: 8080}

// do runs one request through every phase.
func (h *harness) do(method, uri string, header http.Header, body string) response {
	h.t.Helper()
	var src io.Reader = http.NoBody
	if body != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Content-Length", strconv.Itoa(len(body)))
		src = strings.NewReader(body)
	}
	return h.doConn(testConn, method, uri, header, src, nil)
}

// doConn runs one request that came on connection c, written to rec (a
// new recorder when nil).
func (h *harness) doConn(c conn, method, uri string, header http.Header, src io.Reader, rec *recorder) response {
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Host") == "" {
		header.Set("Host", "cgi.test:8080")
	}
	path, query, _ := strings.Cut(uri, "?")
	pc := &phases.Connection{ClientIP: c.clientIP, ClientPort: c.clientPort, LocalIP: c.localIP, LocalPort: c.localPort, Notes: map[string]string{}}
	pc.Pool = h.pchild.Sub("connection")
	defer pc.Pool.Destroy()
	if rec == nil {
		rec = &recorder{}
	}
	host := header.Get("Host")
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	r := &phases.Request{
		TheRequest: method + " " + uri + " HTTP/1.1", Method: method, UnparsedURI: uri, URI: path, Args: query,
		Protocol: "HTTP/1.1", Hostname: host, Port: c.localPort, IsHTTPS: c.https, UseragentIP: c.clientIP, RequestTime: time.Now(),
		HeadersIn: header, HeadersOut: http.Header{}, ErrHeadersOut: http.Header{},
		Notes: map[string]string{}, SubprocessEnv: map[string]string{},
		Server: h.lc.Server, Vhost: h.lc.Server.Main, Pool: pc.Pool.Sub("request"), Conn: pc,
		Body: src, Output: rec, Hooks: h.lc.Hooks.Request,
	}
	rec.mu.Lock()
	rec.r = r
	rec.mu.Unlock()
	st := phases.ProcessRequest(h.lc.Hooks.Request, r, nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.status == 0 {
		rec.status = int(st)
		if st == phases.OK || st == phases.DONE {
			rec.status = r.Status
		}
	}
	return response{status: rec.status, header: rec.header, ctype: rec.ctype, body: rec.body.String(), req: r}
}

// envOf parses the "NAME=value" lines of an env dump.
func envOf(body string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proc is a process known by its pid and start time (a pid the system
// gives again to another process is not it).
type proc struct {
	pid   int
	start string
}

// stat returns the fields of /proc/pid/stat after "(comm)": state, ppid,
// pgrp, ...; nil when there is no such process.
func stat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// readPid waits for a script to write its pid to file and returns the
// process, which must be running.
func readPid(t *testing.T, file string) proc {
	t.Helper()
	pid := 0
	waitFor(t, 10*time.Second, "the script's pid in "+file, func() bool {
		b, err := os.ReadFile(file)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	f := stat(pid)
	if len(f) < 20 {
		t.Fatalf("process %d (from %s) is not running", pid, file)
	}
	p := proc{pid: pid, start: f[19]} // starttime, field 22 of stat
	t.Cleanup(func() {
		// A failed test must not leave the script behind.
		if p.alive() {
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	return p
}

// alive reports whether p still runs: it exists, is the same process and
// is not a zombie (an orphan's zombie waits for init to reap it).
func (p proc) alive() bool {
	f := stat(p.pid)
	return len(f) >= 20 && f[19] == p.start && f[0] != "Z"
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := stat(pid); len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until p and the process group it led are gone.
func waitGone(t *testing.T, p proc) {
	t.Helper()
	waitFor(t, 10*time.Second, "script process "+strconv.Itoa(p.pid)+" and its group to be gone", func() bool {
		return !p.alive() && len(groupMembers(p.pid)) == 0
	})
}

package lua_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// counterScripts count requests in httpdg.shared.counters: /count
// increments and answers "<value> <pid>", /peek answers the request count
// and how many times post_config ran in the master.
var counterScripts = map[string]string{
	"lua/count.lua": `function handle(r)
  local n, err = httpdg.shared.counters:incr("hits", 1, 0)
  if not n then error(err) end
  r:puts(string.format("%d %d", n, httpdg.pid()))
end
function peek(r)
  r:puts(string.format("%s %s", tostring(httpdg.shared.counters:get("hits")), tostring(httpdg.shared.counters:get("configs"))))
end
function post_config(pconf, plog, ptemp, s)
  httpdg.shared.counters:incr("configs", 1, 0)
end`,
	"htdocs/index.html": "hello\n",
}

var counterLines = []string{
	"LuaSharedDict counters 1m",
	"LuaMapHandler ^/count$ lua/count.lua",
	"LuaMapHandler ^/peek$ lua/count.lua peek",
	"LuaHookPostConfig lua/count.lua post_config",
}

// fresh is a client that opens a connection per request.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func body(t testing.TB, url string) string {
	t.Helper()
	resp, err := fresh.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// Under -X: the count survives a graceful restart; a new size empties
// the dict, with a notice.
func TestSharedDictSingleProcess(t *testing.T) {
	s := serve(t, maps.Clone(counterScripts), counterLines...)
	for i := 1; i <= 3; i++ {
		if got := body(t, s.URL+"/count"); !strings.HasPrefix(got, strconv.Itoa(i)+" ") {
			t.Fatalf("request %d: %q", i, got)
		}
	}
	// post_config ran twice at start (the preflight and generation 1).
	if got := body(t, s.URL+"/peek"); got != "3 2" {
		t.Fatalf("peek: %q", got)
	}
	s.Signal(syscall.SIGUSR1)
	waitFor(t, s, regexp.MustCompile(`(?s)resuming normal operations.*resuming normal operations`))
	if got := body(t, s.URL+"/peek"); got != "3 3" {
		t.Fatalf("after a graceful restart: %q", got)
	}
	conf := filepath.Join(s.Root, "conf", "httpd.conf")
	b, _ := os.ReadFile(conf)
	os.WriteFile(conf, []byte(strings.Replace(string(b), "LuaSharedDict counters 1m", "LuaSharedDict counters 2m", 1)), 0o644)
	s.Signal(syscall.SIGUSR1)
	waitFor(t, s, regexp.MustCompile(`(?s)(resuming normal operations.*){3}`))
	if got := body(t, s.URL+"/peek"); got != "nil 1" {
		t.Fatalf("after a resize: %q", got)
	}
	waitFor(t, s, regexp.MustCompile(`\[lua:notice\].*LuaSharedDict counters: size changed from 1M to 2M \(.*httpd.conf:\d+\), recreated empty`))
}

// masterProc is an httpdg master (-D FOREGROUND) run by a test.
type masterProc struct {
	root string
	cmd  *exec.Cmd
	done chan struct{}
}

func startMasterProc(t *testing.T, root string) *masterProc {
	t.Helper()
	m := &masterProc{root: root, done: make(chan struct{})}
	m.cmd = exec.Command(httpdgtest.Binary(t), "-d", root, "-D", "FOREGROUND")
	m.cmd.Stderr = os.Stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(15 * time.Second):
			m.cmd.Process.Kill()
			<-m.done
		}
	})
	m.waitLog(t, `resuming normal operations`, 1)
	return m
}

func (m *masterProc) log() string {
	b, _ := os.ReadFile(filepath.Join(m.root, "logs", "error_log"))
	return string(b)
}

func (m *masterProc) waitLog(t *testing.T, re string, n int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for len(rx.FindAllString(m.log(), -1)) < n {
		select {
		case <-m.done:
			t.Fatalf("httpdg exited; error_log:\n%s", m.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %s in error_log:\n%s", n, re, m.log())
		}
	}
}

// Under prefork with several children, requests over separate
// connections all count in one dict, the master's post_config too, and
// the count survives a graceful restart (new children, same memory).
func TestSharedDictAcrossProcesses(t *testing.T) {
	port := httpdgtest.FreePort(t)
	lines := append([]string{"DocumentRoot htdocs", "MPM prefork", "StartServers 4", "MinSpareServers 4", "MaxSpareServers 8", "KeepAlive Off"}, counterLines...)
	files := maps.Clone(counterScripts)
	files["conf/httpd.conf"] = httpdgtest.Conf(port, lines...)
	root := httpdgtest.WriteTree(t, files)
	m := startMasterProc(t, root)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)

	const clients, each = 8, 40
	var mu sync.Mutex
	pids := map[string]int{}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				resp, err := fresh.Get(url + "/count")
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				f := strings.Fields(string(b))
				if resp.StatusCode != 200 || len(f) != 2 {
					t.Errorf("GET /count: %d %q", resp.StatusCode, b)
					return
				}
				mu.Lock()
				pids[f[1]]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("error_log:\n%s", m.log())
	}
	total := clients * each
	if len(pids) < 2 {
		t.Fatalf("every request went to one child (%v): nothing was shared", pids)
	}
	if got, want := body(t, url+"/peek"), fmt.Sprintf("%d 2", total); got != want {
		t.Fatalf("peek: %q, want %q (requests by child: %v)", got, want, pids)
	}

	m.cmd.Process.Signal(syscall.SIGUSR1)
	m.waitLog(t, `resuming normal operations`, 2)
	for i := 0; i < 10; i++ {
		body(t, url+"/count")
	}
	if got, want := body(t, url+"/peek"), fmt.Sprintf("%d 3", total+10); got != want {
		t.Fatalf("after a graceful restart: %q, want %q", got, want)
	}
}

// LuaMemoryLimit stops a script whose state keeps growing: a 500, a log
// line, the state thrown away (the next request gets a fresh one), and the
// server goes on.
func TestMemoryLimitThroughTheServer(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/grow.lua": `function handle(r)
  calls = (calls or 0) + 1
  if r.args == "table" then local t = {} while true do t[#t+1] = {calls} end end
  if r.args == "string" then local s = "x" while true do s = s .. s end end
  if r.args == "rep" then r:puts(#string.rep("x", 1e10)) end
  r:puts(calls)
end`,
	}, "LuaMemoryLimit 1M", "LuaScope thread", "LuaMapHandler ^/grow$ lua/grow.lua")
	resp, b := get(t, s.URL+"/grow")
	want(t, resp, b, 200, "1")
	resp, b = get(t, s.URL+"/grow")
	want(t, resp, b, 200, "2") // the same state, reused
	for i, arg := range []string{"table", "string", "rep"} {
		if resp, _ := get(t, s.URL+"/grow?"+arg); resp.StatusCode != 500 {
			t.Fatalf("%s: %d, want 500", arg, resp.StatusCode)
		}
		waitFor(t, s, regexp.MustCompile(fmt.Sprintf(`(?s)(lua/grow.lua:\d+: the state grew past LuaMemoryLimit \(1M; about [^)]*\) and was stopped.*){%d}`, i+1)))
		resp, b = get(t, s.URL+"/grow")
		want(t, resp, b, 200, "1") // a fresh state
	}
}

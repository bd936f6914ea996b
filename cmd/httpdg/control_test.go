package main_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// stopByPidFile ends a server a test started with -k start, by the pid in
// its PidFile (TERM, then KILL after 10 s).
func stopByPidFile(t *testing.T, root string) {
	b, err := os.ReadFile(filepath.Join(root, "logs", "httpd.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || syscall.Kill(pid, 0) != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func TestControlStartGracefulStop(t *testing.T) {
	port := freePort(t)
	conf := fmt.Sprintf("Listen 127.0.0.1:%d\n%s", port, startupConf)
	root := writeConf(t, map[string]string{"conf/httpd.conf": conf})
	t.Cleanup(func() { stopByPidFile(t, root) })

	r := run(t, nil, "-d", root, "-k", "start")
	if r.code != 0 {
		t.Fatalf("-k start: exit %d: %s", r.code, r.stderr)
	}
	// -k start returns only when the server accepts connections.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("right after -k start: %v", err)
	}
	resp.Body.Close()

	if r := run(t, nil, "-d", root, "-k", "start"); r.code != 0 || !strings.Contains(r.stderr, "already running") {
		t.Fatalf("second -k start: exit %d %q", r.code, r.stderr)
	}
	if r := run(t, nil, "-d", root, "-k", "status"); r.code != 0 || !strings.Contains(r.stdout, "is running") {
		t.Fatalf("-k status: exit %d %q", r.code, r.stdout)
	}
	// Through the control socket a successful graceful restart prints
	// nothing and exits 0.
	if r := run(t, nil, "-d", root, "-k", "graceful"); r.code != 0 || r.stderr != "" {
		t.Fatalf("-k graceful: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// A reload whose post_config fails: reported, exit 1, still serving.
	bad := fmt.Sprintf("Listen 127.0.0.1:%d\nGoHookPostConfig startuplog.PostConfig\n", port)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "-d", root, "-k", "graceful"); r.code != 1 || !strings.Contains(r.stderr, "post_config handler startuplog.PostConfig (Go) failed") {
		t.Fatalf("-k graceful with a failing post_config: exit %d %q", r.code, r.stderr)
	}
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("after the failed reload: %v", err)
	}
	resp.Body.Close()
	// A config that does not even load still lets -k stop find the server.
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte("Lisen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "-d", root, "-k", "stop"); r.code != 0 {
		t.Fatalf("-k stop: exit %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "logs", "httpd.pid")); !os.IsNotExist(err) {
		t.Fatalf("PidFile left behind: %v", err)
	}
	if r := run(t, nil, "-d", root, "-k", "stop"); r.code != 1 || !strings.Contains(r.stderr, "not running") {
		t.Fatalf("second -k stop: exit %d %q", r.code, r.stderr)
	}
	if got := strings.Count(readFile(t, root, "logs/startup_log"), "child_exit"); got < 2 {
		t.Fatalf("startup_log shows %d child_exit lines, want the restart's and the stop's", got)
	}
}

func TestControlStartReportsFailure(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": fmt.Sprintf("Listen 127.0.0.1:%d\nGoHookPostConfig startuplog.PostConfig\n", port)})
	t.Cleanup(func() { stopByPidFile(t, root) })
	r := run(t, nil, "-d", root, "-k", "start")
	if r.code != 1 || !strings.Contains(r.stderr, "post_config handler startuplog.PostConfig (Go) failed: startup_log is not open") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestControlGracefulReportsUnbindablePort(t *testing.T) {
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": fmt.Sprintf("Listen 127.0.0.1:%d\n", port)})
	t.Cleanup(func() { stopByPidFile(t, root) })
	if r := run(t, nil, "-d", root, "-k", "start"); r.code != 0 {
		t.Fatalf("-k start: exit %d: %s", r.code, r.stderr)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	conf := fmt.Sprintf("Listen 127.0.0.1:%d\nListen %s\n", port, busy.Addr())
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "-d", root, "-k", "graceful")
	if r.code != 1 || !strings.Contains(r.stderr, "could not bind to address "+busy.Addr().String()) {
		t.Fatalf("-k graceful: exit %d %q", r.code, r.stderr)
	}
	// The address that was open goes on serving.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

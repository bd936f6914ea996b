// Package httpdgtest builds the httpdg binary once per test process and
// starts real httpdg processes on free loopback ports for integration tests.
package httpdgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds ./cmd/httpdg (once per test process) and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		pkg := filepath.Join(filepath.Dir(file), "..")
		dir, err := os.MkdirTemp("", "httpdg-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "httpdg")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Dir = pkg
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WriteTree writes files (path relative to a fresh ServerRoot → content)
// and returns the root.
func WriteTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Server is a running httpdg -X process.
type Server struct {
	t      testing.TB
	Root   string
	Port   int
	URL    string // "http://127.0.0.1:<port>"
	Cmd    *exec.Cmd
	Stderr *bytes.Buffer
	done   chan struct{}
}

var ready = regexp.MustCompile(`resuming normal operations`)

// Start runs `httpdg -d root -X` and waits (up to 15 s) until it serves.
// conf must Listen on 127.0.0.1:<port>, with port from FreePort. The
// process is stopped (TERM, then KILL after 10 s) when the test ends.
func Start(t testing.TB, root string, port int) *Server {
	t.Helper()
	s := &Server{t: t, Root: root, Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), Stderr: &bytes.Buffer{}, done: make(chan struct{})}
	s.Cmd = exec.Command(Binary(t), "-d", root, "-X")
	s.Cmd.Stderr = s.Stderr
	if err := s.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for !ready.MatchString(s.ErrorLog()) {
		select {
		case <-s.done:
			t.Fatalf("httpdg exited before serving; stderr:\n%s\nerror_log:\n%s", s.Stderr, s.ErrorLog())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("httpdg not serving after 15s; error_log:\n%s", s.ErrorLog())
		}
	}
	return s
}

// ErrorLog returns logs/error_log under the server's root.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Root, "logs", "error_log"))
	return string(b)
}

// Signal sends sig to the process.
func (s *Server) Signal(sig syscall.Signal) {
	if err := s.Cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// Stop sends TERM and waits up to 10 s, then KILLs. It is safe to call twice.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.done
	}
}

// Conf returns the lines every test config needs to listen on port and log
// under root: Listen, ServerName, ErrorLog.
func Conf(port int, lines ...string) string {
	return fmt.Sprintf("Listen 127.0.0.1:%d\nServerName localhost\n", port) + strings.Join(lines, "\n") + "\n"
}

// Result is what a finished httpdg process said.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs httpdg with args to completion (at most 30 s).
func Run(t testing.TB, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running httpdg: %v", err)
		}
		code = ee.ExitCode()
	}
	return Result{stdout.String(), stderr.String(), code}
}

package cli_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/cli"
	"github.com/httpdg/httpdg/mpm/control"
)

// These tests drive -k in-process against a fake master: a control socket
// answering canned responses where the real master would listen. The real
// binary against a real master is tested in cmd/httpdg.

const waitLimit = 10 * time.Second

// serverRoot writes conf/httpd.conf (plus any extra lines) into a fresh
// ServerRoot.
func serverRoot(t *testing.T, conf string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "conf", "httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// fakeMaster serves the control socket at path with handle and returns
// the commands it receives.
func fakeMaster(t *testing.T, path string, handle func(control.Request) control.Response) <-chan string {
	t.Helper()
	l, err := control.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	done := make(chan struct{})
	go func() {
		l.Serve(func(r control.Request) control.Response {
			got <- r.Command
			return handle(r)
		})
		close(done)
	}()
	t.Cleanup(func() {
		l.Close()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("the fake master's Serve did not return")
		}
	})
	return got
}

func answer(resp control.Response) func(control.Request) control.Response {
	return func(control.Request) control.Response { return resp }
}

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = cli.Main(args, &out, &errb)
	return out.String(), errb.String(), code
}

// expectCommand checks the fake master received exactly command.
func expectCommand(t *testing.T, got <-chan string, command string) {
	t.Helper()
	select {
	case c := <-got:
		if c != command {
			t.Fatalf("the master got %q, want %q", c, command)
		}
	default:
		t.Fatalf("the master got nothing, want %q", command)
	}
	select {
	case c := <-got:
		t.Fatalf("the master got a second command %q", c)
	default:
	}
}

func TestSocketReloadOK(t *testing.T) {
	for _, command := range []string{"graceful", "restart"} {
		t.Run(command, func(t *testing.T) {
			root := serverRoot(t, "ServerName localhost\n")
			got := fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), answer(control.Response{OK: true}))
			stdout, stderr, code := runCLI("-d", root, "-k", command)
			if code != 0 || stdout != "" || stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and no output", code, stdout, stderr)
			}
			expectCommand(t, got, command)
		})
	}
}

func TestSocketReloadFailure(t *testing.T) {
	const reason = "restart aborted, the previous configuration goes on serving as generation 4: post_config handler x failed: boom"
	root := serverRoot(t, "ServerName localhost\n")
	got := fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), answer(control.Response{Error: reason}))
	stdout, stderr, code := runCLI("-d", root, "-k", "graceful")
	if code != 1 || stdout != "" || stderr != "httpdg: "+reason+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	expectCommand(t, got, "graceful")
}

func TestSocketFromControlSocketDirective(t *testing.T) {
	root := serverRoot(t, "ServerName localhost\nControlSocket run/ctl.sock\n")
	got := fakeMaster(t, filepath.Join(root, "run", "ctl.sock"), answer(control.Response{OK: true}))
	if stdout, stderr, code := runCLI("-d", root, "-k", "restart"); code != 0 || stdout+stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	expectCommand(t, got, "restart")
}

func TestSocketStatus(t *testing.T) {
	root := serverRoot(t, "ServerName localhost\n")
	summary := "httpdg (pid 123) running, generation 2\nchildren: 4, busy 1, idle 99"
	got := fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), answer(control.Response{OK: true, Message: summary}))
	stdout, stderr, code := runCLI("-d", root, "-k", "status")
	if code != 0 || stdout != summary+"\n" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	expectCommand(t, got, "status")
}

// startDummy starts a process that stands in for the master's pid.
func startDummy(t *testing.T) *exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command to stand in for the master")
	}
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // reaped, so its pid disappears once it is killed
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return cmd
}

func TestSocketStopWaitsForMaster(t *testing.T) {
	for _, command := range []string{"stop", "graceful-stop"} {
		t.Run(command, func(t *testing.T) {
			master := startDummy(t)
			root := serverRoot(t, "ServerName localhost\n")
			got := fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), func(control.Request) control.Response {
				// Answer at once and exit afterwards, as a master does.
				go master.Process.Signal(syscall.SIGTERM)
				return control.Response{OK: true, Pid: master.Process.Pid}
			})
			stdout, stderr, code := runCLI("-d", root, "-k", command)
			if code != 0 || stdout+stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if err := syscall.Kill(master.Process.Pid, 0); err == nil {
				t.Fatal("-k returned while the master's pid still exists")
			}
			expectCommand(t, got, command)
		})
	}
}

func TestSocketStopRefused(t *testing.T) {
	root := serverRoot(t, "ServerName localhost\n")
	fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), answer(control.Response{Error: "permission denied"}))
	if _, stderr, code := runCLI("-d", root, "-k", "stop"); code != 1 || stderr != "httpdg: permission denied\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestSocketWithBrokenConfig(t *testing.T) {
	// The config does not load: -k stop still reaches a master on the
	// default socket under -d.
	master := startDummy(t)
	root := serverRoot(t, "Lisen 80\n")
	got := fakeMaster(t, filepath.Join(root, "logs", "httpdg.sock"), func(control.Request) control.Response {
		go master.Process.Signal(syscall.SIGTERM)
		return control.Response{OK: true, Pid: master.Process.Pid}
	})
	_, stderr, code := runCLI("-d", root, "-k", "stop")
	if code != 0 || !strings.Contains(stderr, "Invalid command 'Lisen'") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	expectCommand(t, got, "stop")
}

func TestSocketNoAnswerIsAnError(t *testing.T) {
	// Something listens but hangs up without answering: a failure to
	// report, not a reason to fall back to signals.
	root := serverRoot(t, "ServerName localhost\n")
	path := filepath.Join(root, "logs", "httpdg.sock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// Depending on timing the request's write or the answer's read fails.
	_, stderr, code := runCLI("-d", root, "-k", "graceful")
	if code != 1 || !strings.HasPrefix(stderr, "httpdg: control socket "+path+": ") || strings.Contains(stderr, "not running") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// makeStaleSocket leaves a socket file nothing listens on, as a master
// killed with -9 does.
func makeStaleSocket(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

func TestFallbackToSignals(t *testing.T) {
	// No master on the socket (none there, or a stale one): -k graceful
	// signals the pid in the PidFile and reads the outcome from the error
	// log. The "server" is this test process: it catches USR1 and logs the
	// line a finished restart logs.
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale=%v", stale), func(t *testing.T) {
			root := serverRoot(t, "ServerName localhost\n")
			logs := filepath.Join(root, "logs")
			if stale {
				makeStaleSocket(t, filepath.Join(logs, "httpdg.sock"))
			} else if err := os.MkdirAll(logs, 0o755); err != nil {
				t.Fatal(err)
			}
			pid := os.Getpid()
			if err := os.WriteFile(filepath.Join(logs, "httpd.pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			errorLog := filepath.Join(logs, "error_log")
			if err := os.WriteFile(errorLog, nil, 0o644); err != nil {
				t.Fatal(err)
			}

			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			defer signal.Stop(usr1)
			restarted := make(chan error, 1)
			go func() {
				select {
				case <-usr1:
				case <-time.After(waitLimit):
					restarted <- fmt.Errorf("no USR1 within %v", waitLimit)
					return
				}
				f, err := os.OpenFile(errorLog, os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					_, err = fmt.Fprintf(f, "[Mon Jan 01 00:00:00.000000 2026] [mpm:notice] [pid %d] AH00489: httpdg configured -- resuming normal operations\n", pid)
					f.Close()
				}
				restarted <- err
			}()

			stdout, stderr, code := runCLI("-d", root, "-k", "graceful")
			if err := <-restarted; err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("httpdg (pid %d): restarted\n", pid); code != 0 || stdout != want || stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want the signal path's %q", code, stdout, stderr, want)
			}
		})
	}
}

func TestFallbackNotRunning(t *testing.T) {
	// Neither a socket nor a PidFile: the signal path's answer.
	root := serverRoot(t, "ServerName localhost\n")
	if _, stderr, code := runCLI("-d", root, "-k", "graceful"); code != 1 || stderr != "httpdg (no pid file) not running\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stdout, _, code := runCLI("-d", root, "-k", "status"); code != 1 || stdout != "httpdg is not running\n" {
		t.Fatalf("status: exit %d, stdout %q", code, stdout)
	}
}

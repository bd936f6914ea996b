package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	ctlsock "github.com/httpdg/httpdg/mpm/control"
	"golang.org/x/sys/unix"
)

// The -k commands other than start talk to the running master over its
// control socket (SPEC §9), which answers each with the outcome, a failed
// reload's error included. When nothing listens there (no socket file, or
// a stale one: a server that does not have the socket, or died), they fall
// back to Apache's way: signals to the pid in the PidFile, with graceful
// and restart reading their outcome from the error log.

// readyFDEnv names the descriptor a server started by -k start reports
// readiness on.
const readyFDEnv = "HTTPDG_READY_FD"

// pidFilePath is the PidFile, Apache's default logs/httpd.pid.
func pidFilePath(cfg *config.Config) string {
	if p := core.GlobalOf(cfg).PidFile; p != "" {
		return p
	}
	return filepath.Join(cfg.ServerRoot, "logs", "httpd.pid")
}

// runningPid returns the pid in the PidFile if that process is alive.
func runningPid(cfg *config.Config) (int, bool) {
	b, err := os.ReadFile(pidFilePath(cfg))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

func writePidFile(cfg *config.Config) error {
	path := pidFilePath(cfg)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

func removePidFile(cfg *config.Config) {
	if pid, _ := runningPid(cfg); pid == os.Getpid() {
		_ = os.Remove(pidFilePath(cfg))
	}
}

// control runs -k cmd.
func control(args *Args, cfg *config.Config, stdout, stderr io.Writer) int {
	pid, alive := runningPid(cfg)
	if args.Signal == "start" {
		if alive {
			fmt.Fprintf(stderr, "httpdg (pid %d) already running\n", pid)
			return 0
		}
		return startDetached(args, cfg, stderr)
	}
	if code, answered := controlBySocket(args.Signal, cfg, stdout, stderr); answered {
		return code
	}
	// Nothing listens on the control socket: signals, by the PidFile.
	if !alive {
		if args.Signal == "status" {
			fmt.Fprintln(stdout, "httpdg is not running")
			return 1
		}
		if pid == 0 {
			fmt.Fprintf(stderr, "httpdg (no pid file) not running\n")
		} else {
			fmt.Fprintf(stderr, "httpdg (pid %d?) not running\n", pid)
		}
		return 1
	}
	switch args.Signal {
	case "stop", "graceful-stop":
		sig := syscall.SIGTERM
		if args.Signal == "graceful-stop" {
			sig = syscall.SIGWINCH
		}
		if err := syscall.Kill(pid, sig); err != nil {
			fmt.Fprintf(stderr, "httpdg: signalling pid %d: %v\n", pid, err)
			return 1
		}
		if !waitGone(pid, 90*time.Second) {
			fmt.Fprintf(stderr, "httpdg (pid %d) did not stop within 90 seconds\n", pid)
			return 1
		}
		return 0
	case "graceful", "restart":
		sig := syscall.SIGUSR1
		if args.Signal == "restart" {
			sig = syscall.SIGHUP
		}
		return restartAndReport(cfg, pid, sig, stdout, stderr)
	case "status":
		fmt.Fprintf(stdout, "httpdg (pid %d) is running\nPidFile: %s\nMPM: %s\n", pid, pidFilePath(cfg), cfg.MPM)
		return 0
	}
	return 1
}

// controlSocketPath is the main server's ControlSocket, by default
// logs/httpdg.sock under ServerRoot.
func controlSocketPath(cfg *config.Config) string {
	if p := core.GlobalOf(cfg).ControlSocket; p != "" {
		return p
	}
	return filepath.Join(cfg.ServerRoot, "logs", "httpdg.sock")
}

// Limits on the master's answer over the control socket. A graceful
// restart or restart is answered once the new generation serves or has
// failed (config, open_logs, post_config, binds), so it may take long; the
// other commands are answered at once (stop and graceful-stop before the
// master has exited: the CLI then waits for the pid).
const (
	reloadAnswerTimeout = 2 * time.Minute
	answerTimeout       = 30 * time.Second
)

// stopWaitLimit is how long -k stop and graceful-stop wait for the master
// to exit: 90 seconds as Apache's scripts do, or for graceful-stop longer
// than GracefulShutdownTimeout if that is set longer.
func stopWaitLimit(cfg *config.Config, command string) time.Duration {
	limit := 90 * time.Second
	if command == "graceful-stop" {
		if drain := core.GlobalOf(cfg).GracefulShutdownTimeout + 30*time.Second; drain > limit {
			limit = drain
		}
	}
	return limit
}

// controlBySocket sends command to the master over the control socket and
// reports the answer: graceful and restart print nothing on success; stop
// and graceful-stop wait until the master is gone; status prints the
// master's summary; a failure prints "httpdg: <reason>" and gives 1.
// answered is false when nothing listens on the socket, for the caller to
// fall back to signals.
func controlBySocket(command string, cfg *config.Config, stdout, stderr io.Writer) (code int, answered bool) {
	path := controlSocketPath(cfg)
	timeout := answerTimeout
	if command == "graceful" || command == "restart" {
		timeout = reloadAnswerTimeout
	}
	resp, err := ctlsock.Send(path, ctlsock.Request{Command: command}, timeout)
	if errors.Is(err, ctlsock.ErrNoServer) {
		return 0, false
	}
	if err != nil {
		// The master is there but the exchange failed (timeout, a
		// permission error): signals would not do better, so say so.
		fmt.Fprintf(stderr, "httpdg: %v\n", err)
		return 1, true
	}
	if !resp.OK {
		reason := resp.Error
		if reason == "" {
			reason = fmt.Sprintf("the server refused -k %s without giving a reason", command)
		}
		fmt.Fprintf(stderr, "httpdg: %s\n", reason)
		return 1, true
	}
	switch command {
	case "stop", "graceful-stop":
		pid := resp.Pid
		if pid <= 0 {
			// A master always says its pid; should one not, the PidFile
			// still names it.
			pid, _ = runningPid(cfg)
		}
		if pid <= 0 {
			return 0, true
		}
		if limit := stopWaitLimit(cfg, command); !waitGone(pid, limit) {
			fmt.Fprintf(stderr, "httpdg (pid %d) did not stop within %v\n", pid, limit)
			return 1, true
		}
	case "status":
		fmt.Fprint(stdout, resp.Message)
		if resp.Message != "" && !strings.HasSuffix(resp.Message, "\n") {
			fmt.Fprintln(stdout)
		}
	}
	return 0, true
}

func waitGone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// restartAndReport signals a restart and reads its outcome from the error
// log: the new generation resuming, or the restart aborted with the reason.
func restartAndReport(cfg *config.Config, pid int, sig syscall.Signal, stdout, stderr io.Writer) int {
	logPath := core.ServerOf(cfg.Main).ErrorLog
	if logPath == "" {
		logPath = filepath.Join(cfg.ServerRoot, "logs", "error_log")
	}
	var offset int64
	if st, err := os.Stat(logPath); err == nil {
		offset = st.Size()
	}
	if err := syscall.Kill(pid, sig); err != nil {
		fmt.Fprintf(stderr, "httpdg: signalling pid %d: %v\n", pid, err)
		return 1
	}
	if strings.HasPrefix(logPath, "|") || strings.HasPrefix(strings.ToLower(logPath), "syslog") {
		fmt.Fprintf(stdout, "httpdg (pid %d): restart signalled (the outcome is in the error log)\n", pid)
		return 0
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if line, ok := scanLog(logPath, offset); ok {
			if strings.Contains(line, "restart aborted") {
				fmt.Fprintf(stderr, "httpdg: %s\n", line[strings.Index(line, "restart aborted"):])
				return 1
			}
			if i := strings.Index(line, "could not bind"); i >= 0 {
				fmt.Fprintf(stderr, "httpdg: restarted, but %s\n", line[i:])
				return 1
			}
			fmt.Fprintf(stdout, "httpdg (pid %d): restarted\n", pid)
			return 0
		}
		if syscall.Kill(pid, 0) != nil {
			fmt.Fprintf(stderr, "httpdg (pid %d) exited during the restart; see %s\n", pid, logPath)
			return 1
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(stderr, "httpdg (pid %d): no outcome of the restart in %s after 90 seconds\n", pid, logPath)
	return 1
}

// scanLog looks past offset in the error log for the line that ends a
// restart, with the message lines that follow it.
func scanLog(path string, offset int64) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", false
	}
	b, _ := io.ReadAll(f)
	sc := bufio.NewScanner(bytes.NewReader(b))
	var out []string
	found := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case found && !strings.HasPrefix(l, "["):
			out = append(out, l) // continuation of a multi-line message
		case found:
			return strings.Join(out, "\n"), true
		case strings.Contains(l, "restart aborted") || strings.Contains(l, "could not bind") || strings.Contains(l, "resuming normal operations"):
			found, out = true, []string{l}
		}
	}
	if found {
		return strings.Join(out, "\n"), true
	}
	return "", false
}

// startDetached is -k start: run the server in the background (a new
// session) and return once it accepts connections, or with its error.
func startDetached(args *Args, cfg *config.Config, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "httpdg: %v\n", err)
		return 1
	}
	argv := []string{"-d", cfg.ServerRoot}
	if args.File != "" {
		argv = append(argv, "-f", args.File)
	}
	for _, c := range args.Before {
		argv = append(argv, "-C", c)
	}
	for _, c := range args.After {
		argv = append(argv, "-c", c)
	}
	for _, d := range args.Defines {
		argv = append(argv, "-D", d)
	}
	argv = append(argv, "-D", "FOREGROUND")
	readyR, readyW, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "httpdg: %v\n", err)
		return 1
	}
	var errBuf bytes.Buffer
	cmd := exec.Command(exe, argv...)
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	cmd.Stdout, cmd.Stderr = &errBuf, &errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "httpdg: starting the server: %v\n", err)
		return 1
	}
	readyW.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	line, _ := bufio.NewReader(readyR).ReadString('\n')
	readyR.Close()
	if strings.TrimSpace(line) == "ready" {
		return 0
	}
	err = <-done // it exited before being ready: say why
	msg := strings.TrimSpace(errBuf.String())
	if msg == "" {
		msg = fmt.Sprintf("httpdg: the server exited before accepting connections (%v)", err)
	}
	fmt.Fprintln(stderr, msg)
	return 1
}

// reportReady tells the -k start that launched this process that it
// accepts connections, then stops writing to the launcher's pipes.
func reportReady() {
	fdStr := os.Getenv(readyFDEnv)
	if fdStr == "" {
		return
	}
	os.Unsetenv(readyFDEnv)
	fd, err := strconv.Atoi(fdStr)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "ready")
	_, _ = f.WriteString("ready\n")
	f.Close()
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		_ = unix.Dup2(int(null.Fd()), 1)
		_ = unix.Dup2(int(null.Fd()), 2)
		null.Close()
	}
}

// stopWithoutConfig returns a stand-in config (ServerRoot only) for -k
// stop, graceful-stop and status when the real one does not load, or nil.
// Its ControlSocket is the default, logs/httpdg.sock under ServerRoot,
// tried first as for any -k; with the socket elsewhere, the PidFile
// guessed here is the way to the server.
func stopWithoutConfig(args *Args) *config.Config {
	switch args.Signal {
	case "stop", "graceful-stop", "status":
	default:
		return nil
	}
	root := args.ServerRoot
	if root == "" {
		root, _ = os.Getwd()
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil
	}
	cfg := &config.Config{ServerRoot: abs, MPM: config.DefaultMPM}
	cfg.Main = config.NewServer(nil, false, nil)
	// Apache's default name first, then the one the shipped config uses.
	for _, name := range []string{"httpd.pid", "httpdg.pid"} {
		core.GlobalOf(cfg).PidFile = filepath.Join(abs, "logs", name)
		if _, alive := runningPid(cfg); alive {
			break
		}
	}
	return cfg
}

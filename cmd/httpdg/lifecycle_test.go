package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the life cycle of SPEC §3 in one process (-X) with the
// seed's StartupLog handlers, send real signals and read the real logs.

const startupConf = `LogLevel info
GoHookOpenLogs   startuplog.OpenLogs
GoHookPostConfig startuplog.PostConfig
GoHookChildInit  startuplog.ChildInit
GoHookChildExit  startuplog.ChildExit
`

// server is an httpdg -X process started by a test.
type server struct {
	t      *testing.T
	root   string
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
}

func startX(t *testing.T, root string) *server {
	t.Helper()
	s := &server{t: t, root: root, done: make(chan struct{})}
	s.cmd = exec.Command(binary, "-d", root, "-X")
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill() // our own child, by its pid
			<-s.done
		}
	})
	return s
}

func (s *server) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (s *server) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		s.t.Fatalf("httpdg did not exit; stderr:\n%s", s.stderr.String())
		return -1
	}
}

func (s *server) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.root, name))
	return string(b)
}

// waitLog waits until logs/name holds at least n matches of re.
func (s *server) waitLog(name string, re *regexp.Regexp, n int) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if len(re.FindAllString(s.read(name), -1)) >= n {
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("httpdg exited while waiting for %s in %s; stderr:\n%s", re, name, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("no %d× %s in %s after 15s:\n%s", n, re, name, s.read(name))
}

var startupLine = regexp.MustCompile(`(?m)^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] - (\S+) *: (.*)$`)

// phases parses logs/startup_log into "phase" entries and checks every
// message names pid.
func (s *server) phases(pid int) []string {
	s.t.Helper()
	var out []string
	for _, m := range startupLine.FindAllStringSubmatch(s.read("logs/startup_log"), -1) {
		phase, msg := m[1], m[2]
		want := map[string]string{
			"open_logs":   "process " + strconv.Itoa(pid) + " is born to reproduce",
			"post_config": "configuration is completed",
			"child_init":  "process " + strconv.Itoa(pid) + " is born to serve",
			"child_exit":  "process " + strconv.Itoa(pid) + " now exits",
		}[phase]
		if msg != want {
			s.t.Errorf("%s line says %q, want %q", phase, msg, want)
		}
		out = append(out, phase)
	}
	return out
}

var (
	childInitRe = regexp.MustCompile(`child_init : process`)
	readyRe     = regexp.MustCompile(`\[core:notice\] \[pid \d+:tid \d+\] httpdg configured -- resuming normal operations`)
)

func TestStartStopSequence(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": startupConf})
	s := startX(t, root)
	s.waitLog("logs/startup_log", childInitRe, 1)
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr.String())
	}
	got := strings.Join(s.phases(s.cmd.Process.Pid), " ")
	if want := "open_logs post_config open_logs post_config child_init child_exit"; got != want {
		t.Fatalf("startup_log phases:\n got %s\nwant %s", got, want)
	}
	errlog := s.read("logs/error_log")
	for _, want := range []string{
		"[startuplog:warn] [pid " + strconv.Itoa(s.cmd.Process.Pid),
		"opening the log file: " + filepath.Join(root, "logs/startup_log"),
		"configuration is completed (restart_count 1, generation 0)",
		"configuration is completed (restart_count 2, generation 1)",
		"caught SIGTERM, shutting down",
	} {
		if !strings.Contains(errlog, want) {
			t.Errorf("error_log lacks %q:\n%s", want, errlog)
		}
	}
}

func TestGracefulRestartSequence(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			root := writeConf(t, map[string]string{"conf/httpd.conf": startupConf})
			s := startX(t, root)
			s.waitLog("logs/startup_log", childInitRe, 1)
			s.signal(sig)
			s.waitLog("logs/startup_log", childInitRe, 2)
			s.signal(syscall.SIGTERM)
			if code := s.wait(); code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", code, s.stderr.String())
			}
			got := strings.Join(s.phases(s.cmd.Process.Pid), " ")
			want := "open_logs post_config open_logs post_config child_init child_exit open_logs post_config child_init child_exit"
			if got != want {
				t.Fatalf("startup_log phases:\n got %s\nwant %s", got, want)
			}
			if errlog := s.read("logs/error_log"); !strings.Contains(errlog, "(restart_count 3, generation 2)") {
				t.Fatalf("no third generation in error_log:\n%s", errlog)
			}
		})
	}
}

func TestRestartWithBrokenConfigKeepsGeneration(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": startupConf})
	s := startX(t, root)
	s.waitLog("logs/startup_log", childInitRe, 1)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(startupConf+"Lisen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.signal(syscall.SIGUSR1)
	s.waitLog("logs/error_log", regexp.MustCompile(`restart aborted, generation 1 goes on serving: Syntax error on line 6 of \S+httpd.conf:\nInvalid command 'Lisen'`), 1)
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := strings.Join(s.phases(s.cmd.Process.Pid), " ")
	if want := "open_logs post_config open_logs post_config child_init child_exit"; got != want {
		t.Fatalf("a failed restart must leave the generation alone:\n got %s\nwant %s", got, want)
	}
}

func TestFailingPostConfigAbortsStart(t *testing.T) {
	// Without OpenLogs, the startup_log is not open and PostConfig fails.
	root := writeConf(t, map[string]string{"conf/httpd.conf": "GoHookPostConfig startuplog.PostConfig\nGoHookChildInit startuplog.ChildInit\n"})
	s := startX(t, root)
	if code := s.wait(); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want := "httpdg: post_config handler startuplog.PostConfig (Go) failed: startup_log is not open"
	if !strings.Contains(s.stderr.String(), want) {
		t.Fatalf("stderr %q lacks %q", s.stderr.String(), want)
	}
	if strings.Contains(s.read("logs/startup_log"), "child_init") {
		t.Fatal("a child started after a failed post_config")
	}
}

func TestFailingChildInitIsLoggedAndNextRuns(t *testing.T) {
	// startup_log is a directory: each ChildInit fails to open it.
	root := writeConf(t, map[string]string{
		"conf/httpd.conf":        "GoHookChildInit startuplog.ChildInit\nGoHookChildInit startuplog.ChildInit late\n",
		"logs/startup_log/.keep": "",
	})
	s := startX(t, root)
	failure := regexp.MustCompile(`\[core:error\] \[pid \d+:tid \d+\] child_init handler startuplog.ChildInit \(Go\) failed: can't open \S+startup_log: .*is a directory`)
	s.waitLog("logs/error_log", failure, 2)
	s.waitLog("logs/error_log", readyRe, 1)
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr.String())
	}
}

func TestFailingChildExitStopsLaterHandlers(t *testing.T) {
	// Nothing opened the startup_log: the first ChildExit fails and, child_exit
	// being RUN_ALL, the second does not run; the process still exits 0.
	root := writeConf(t, map[string]string{"conf/httpd.conf": "GoHookChildExit startuplog.ChildExit\nGoHookChildExit startuplog.ChildExit late\n"})
	s := startX(t, root)
	s.waitLog("logs/error_log", readyRe, 1)
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr.String())
	}
	failures := regexp.MustCompile(`child_exit handler startuplog.ChildExit \(Go\) failed: startup_log is not open`).FindAllString(s.read("logs/error_log"), -1)
	if len(failures) != 1 {
		t.Fatalf("%d child_exit failures logged, want exactly 1:\n%s", len(failures), s.read("logs/error_log"))
	}
}

func TestDumpHooks(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": startupConf + "GoHookChildInit startuplog.ChildInit early\n"})
	r := run(t, nil, "-d", root, "-t", "-D", "DUMP_HOOKS")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stderr != "Syntax OK\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
	// Every phase, in life-cycle then request order, with its kind and
	// process; then the handlers of each in run order (other modules'
	// entries are left out of the comparison but must keep their layout).
	phases := []string{
		"pre_config (RUN_ALL, runs in the master)", "check_config (RUN_ALL, runs in the master)",
		"open_logs (RUN_ALL, runs in the master)", "post_config (RUN_ALL, runs in the master)",
		"child_init (VOID, runs in the child)", "child_exit (RUN_ALL, runs in the child)",
		"monitor (RUN_ALL, runs in the master)",
		"pre_connection (RUN_ALL, runs in the child)", "process_connection (RUN_FIRST, runs in the child)",
		"post_read_request (RUN_ALL, runs in the child)", "quick_handler (RUN_FIRST, runs in the child)",
		"translate_name (RUN_FIRST, runs in the child)", "map_to_storage (RUN_FIRST, runs in the child)",
		"header_parser (RUN_ALL, runs in the child)", "access_checker (RUN_ALL, runs in the child)",
		"check_user_id (RUN_FIRST, runs in the child)", "auth_checker (RUN_FIRST, runs in the child)",
		"type_checker (RUN_FIRST, runs in the child)", "fixups (RUN_ALL, runs in the child)",
		"insert_filter (VOID, runs in the child)", "handler (RUN_FIRST, runs in the child)",
		"log_transaction (RUN_ALL, runs in the child)", "modify_response_headers (RUN_ALL, runs in the child)",
		"custom_response (RUN_FIRST, runs in the child)",
		"start_serve_request (RUN_FIRST, runs in the child)", "start_send_file (RUN_FIRST, runs in the child)",
		"static_get_poststat_file_missing (RUN_FIRST, runs in the child)", "static_get_poststat_pre_send (RUN_FIRST, runs in the child)",
		"backend_client_assigned (RUN_FIRST, runs in the child)", "backend_response_received (RUN_FIRST, runs in the child)",
		"end_proxy_request (VOID, runs in the child)",
	}
	var gotPhases []string
	entries := map[string][]string{}
	current := ""
	entry := regexp.MustCompile(`^    (REALLY_FIRST|FIRST|MIDDLE|LAST|REALLY_LAST) +(\S.*)$`)
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if !strings.HasPrefix(line, "    ") {
			current = line
			gotPhases = append(gotPhases, line)
			continue
		}
		m := entry.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad handler line %q", line)
		}
		if strings.HasPrefix(m[2], "startuplog.") || strings.HasPrefix(m[2], "core_module") && strings.HasPrefix(current, "open_logs") {
			entries[current] = append(entries[current], m[1]+" "+m[2])
		}
	}
	if strings.Join(gotPhases, "\n") != strings.Join(phases, "\n") {
		t.Fatalf("phases:\n%s\nwant:\n%s", strings.Join(gotPhases, "\n"), strings.Join(phases, "\n"))
	}
	want := map[string][]string{
		phases[2]: {"REALLY_FIRST core_module (Go)", "MIDDLE startuplog.OpenLogs (Go)"},
		phases[3]: {"MIDDLE startuplog.PostConfig (Go)"},
		phases[4]: {"FIRST startuplog.ChildInit (Go)", "MIDDLE startuplog.ChildInit (Go)"},
		phases[5]: {"MIDDLE startuplog.ChildExit (Go)"},
	}
	if !reflect.DeepEqual(entries, want) {
		t.Fatalf("handlers %v\nwant %v\n%s", entries, want, r.stdout)
	}
}

func TestRestartWithFailingPostConfigKeepsServing(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": startupConf})
	s := startX(t, root)
	s.waitLog("logs/startup_log", childInitRe, 1)
	// The new config loads, but its post_config fails (nothing opens the
	// startup_log for PostConfig).
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte("GoHookPostConfig startuplog.PostConfig\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.signal(syscall.SIGUSR1)
	s.waitLog("logs/error_log", regexp.MustCompile(`restart aborted, the previous configuration goes on serving as generation 3: post_config handler startuplog.PostConfig \(Go\) failed`), 1)
	s.waitLog("logs/startup_log", childInitRe, 2) // the previous config's child came back
	s.signal(syscall.SIGTERM)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr.String())
	}
}

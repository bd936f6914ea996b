// Package startuplog is the seed's StartupLog (mod_perl's "Server Life Cycle
// Handlers" example) as a Go module, and the example of writing one. Its
// handlers append a line per life-cycle phase to logs/startup_log under
// ServerRoot:
//
//	GoHookOpenLogs   startuplog.OpenLogs
//	GoHookPostConfig startuplog.PostConfig
//	GoHookChildInit  startuplog.ChildInit
//	GoHookChildExit  startuplog.ChildExit
package startuplog

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// fileKey is the pool userdata key of the open startup_log.
const fileKey = "startuplog.file"

func init() {
	phases.RegisterModule(&phases.Module{
		Name: "startuplog_module",
		Handlers: map[string]any{
			"startuplog.OpenLogs":   phases.ServerHookFunc(OpenLogs),
			"startuplog.PostConfig": phases.ServerHookFunc(PostConfig),
			"startuplog.ChildInit":  phases.ChildHookFunc(ChildInit),
			"startuplog.ChildExit":  phases.ChildHookFunc(ChildExit),
		},
	})
}

// Path is where the log goes: logs/startup_log under ServerRoot.
func Path(s *phases.Server) string {
	return filepath.Join(s.Config.ServerRoot, "logs", "startup_log")
}

// OpenLogs opens the log for this generation (kept in pconf, closed when
// pconf is cleared) and says the process is born to reproduce.
func OpenLogs(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	path := Path(s)
	s.Log.Warn("startuplog", "opening the log file: %s", path)
	f, err := open(path)
	if err != nil {
		return err
	}
	pconf.SetUserdata(fileKey, f)
	pconf.CleanupRegister("startuplog.OpenLogs", f.Close)
	return say(f, "open_logs", fmt.Sprintf("process %d is born to reproduce", os.Getpid()))
}

// PostConfig says the configuration is completed.
func PostConfig(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	s.Log.Info("startuplog", "configuration is completed (restart_count %d, generation %d)", s.Process.RestartCount, s.Process.Generation)
	return say(logFile(pconf), "post_config", "configuration is completed")
}

// ChildInit says the process is born to serve. A child process has not run
// OpenLogs (it is a new process), so it opens the file itself into pchild.
func ChildInit(pchild *phases.Pool, s *phases.Server) error {
	f := logFile(pchild)
	if f == nil {
		var err error
		if f, err = open(Path(s)); err != nil {
			return err
		}
		pchild.SetUserdata(fileKey, f)
		pchild.CleanupRegister("startuplog.ChildInit", f.Close)
	}
	return say(f, "child_init", fmt.Sprintf("process %d is born to serve", os.Getpid()))
}

// ChildExit says the process now exits.
func ChildExit(pchild *phases.Pool, s *phases.Server) error {
	return say(logFile(pchild), "child_exit", fmt.Sprintf("process %d now exits", os.Getpid()))
}

// logFile finds the open log in p or the pools above it.
func logFile(p *phases.Pool) *os.File {
	for ; p != nil; p = p.Parent() {
		if v, ok := p.Userdata(fileKey); ok {
			return v.(*os.File)
		}
	}
	return nil
}

func open(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("can't open %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("can't open %s: %w", path, err)
	}
	return f, nil
}

// say writes one line in the seed's layout: "[<ctime>] - <phase>: <msg>",
// the phase padded to 11 characters. One write per line, so lines from
// several processes appending to the file do not interleave.
func say(f *os.File, phase, msg string) error {
	if f == nil {
		return fmt.Errorf("startup_log is not open (is GoHookOpenLogs startuplog.OpenLogs configured?)")
	}
	line := fmt.Sprintf("[%s] - %-11s: %s\n", time.Now().Format("Mon Jan _2 15:04:05 2006"), phase, msg)
	_, err := f.WriteString(line)
	return err
}

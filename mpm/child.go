package mpm

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"

	"golang.org/x/sys/unix"
)

// ChildEnv is the environment variable that makes the binary a child of a
// master: it holds the childSpec. Go cannot fork, so a child is a fresh
// process of the same binary given its generation through inherited
// descriptors.
const ChildEnv = "HTTPDG_CHILD"

// IsChild reports whether this process was started by a master.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// childSpec is what a master tells a child: its slot, its generation and
// where its inherited descriptors are.
type childSpec struct {
	Slot         int       `json:"slot"`
	Generation   int       `json:"generation"`
	RestartCount int       `json:"restart_count"`
	SnapshotFD   int       `json:"snapshot_fd"`   // the config snapshot (a memfd)
	ScoreboardFD int       `json:"scoreboard_fd"` // the scoreboard (a memfd)
	LifeFD       int       `json:"life_fd"`       // read end of a pipe only the master writes: EOF = the master is gone
	StatusFD     int       `json:"status_fd"`     // write end of this child's status pipe to the master
	Listeners    []fdEntry `json:"listeners"`     // by "host:port"
	Files        []fdEntry `json:"files"`         // by phases.Files key
}

type fdEntry struct {
	Key string `json:"key"`
	FD  int    `json:"fd"`
}

// Messages a child writes on its status pipe.
const (
	msgReady    = "ready"    // child_init done, accepting
	msgRetiring = "retiring" // leaving on its own (MaxConnectionsPerChild, MaxMemPerChild): replace me, I did not crash
)

// RunChild is a child process's whole life: rebuild the generation from
// the master's snapshot, child_init, serve until told to stop (TERM),
// to finish gracefully (USR1), or until the master is gone; then
// child_exit. It returns the process exit code.
func RunChild() int {
	spec, err := readChildSpec()
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpdg child: %v\n", err)
		return 1
	}
	// Signals first: a TERM that comes while the generation is being built
	// must not kill the child before child_exit can run.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1)
	// Ctrl-C and terminal resizes reach the whole process group: the
	// master decides for its children.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGWINCH, syscall.SIGPIPE)

	if path := os.Getenv("HTTPDG_CPUPROFILE"); path != "" {
		// For finding where a child's time goes: <path>.<pid>.
		if f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid())); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	if path := os.Getenv("HTTPDG_MEMPROFILE"); path != "" {
		// Allocations (every one sampled) written at exit: <path>.<pid>.
		runtime.MemProfileRate = 1
		defer func() {
			if f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid())); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	nameProcess()
	closeInheritedOnExec()
	status := os.NewFile(uintptr(spec.StatusFD), "status")
	life := os.NewFile(uintptr(spec.LifeFD), "life")
	lc, cfg, err := rebuildGeneration(spec)
	if err != nil {
		lc.Log.Error("core", "child pid %d: %v", os.Getpid(), err)
		return 1
	}
	pchild := lc.ChildInit()
	settings := SettingsOf(cfg)
	connLimit := settings.ThreadsPerChild
	if settings.MPM == "event" {
		connLimit = int(float64(settings.ThreadsPerChild) * (1 + settings.AsyncRequestWorkerFactor))
	}
	w := newWorkers(settings.ThreadsPerChild, settings.MPM == "event", connLimit, lc.Scoreboard, spec.Slot)
	w.maxConns = int64(settings.MaxConnectionsPerChild)
	w.generation = spec.Generation
	sockets := map[string]*os.File{}
	for _, l := range spec.Listeners {
		sockets[l.Key] = os.NewFile(uintptr(l.FD), "listener "+l.Key)
	}
	eng := newEngineWith(func(a phases.ListenAddr) (*os.File, error) {
		if f, ok := sockets[hostPort(a)]; ok {
			return f, nil
		}
		return nil, fmt.Errorf("the master did not hand down %s", hostPort(a))
	}, w)
	if err := eng.activate(newGeneration(lc.Server, lc.Hooks.Request, pchild)); err != nil {
		lc.Log.Error("core", "child pid %d: %v", os.Getpid(), err)
	}
	w.setAccepting(true)
	_, _ = io.WriteString(status, msgReady+"\n")

	masterGone := make(chan struct{})
	go func() {
		var b [1]byte
		_, _ = life.Read(b[:]) // only EOF ever comes
		close(masterGone)
	}()
	tick := time.NewTicker(time.Second)
	share := newCPUShare()
	shareTick := time.NewTicker(cpuShareInterval)
	defer shareTick.Stop()
	defer tick.Stop()
	grace := gracefulTimeout(cfg)
	for done := false; !done; {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM {
				eng.closeAll()
			} else {
				eng.drain(time.Now().Add(grace))
			}
			done = true
		case <-w.full:
			lc.Log.Info("core", "child pid %d retiring: MaxConnectionsPerChild %d reached", os.Getpid(), settings.MaxConnectionsPerChild)
			_, _ = io.WriteString(status, msgRetiring+"\n")
			eng.drain(time.Now().Add(grace))
			done = true
		case <-masterGone:
			// No master to replace us or to tell us more: leave within a
			// second, letting what is in flight finish if it can.
			eng.drain(time.Now().Add(500 * time.Millisecond))
			done = true
		case now := <-shareTick.C:
			share.step(now)
		case <-tick.C:
			lc.Scoreboard.SetConns(spec.Slot, int(w.open.Load()), 0, 0, 0)
			if why := retireReason(settings, w); why != "" {
				lc.Log.Info("core", "child pid %d retiring: %s", os.Getpid(), why)
				_, _ = io.WriteString(status, msgRetiring+"\n")
				eng.drain(time.Now().Add(grace))
				done = true
			}
		}
	}
	lc.ChildExit(pchild)
	status.Close()
	return 0
}

// retireReason says why a child should leave on its own, or "".
func retireReason(s Settings, w *workers) string {
	if s.MaxMemPerChild > 0 {
		if rss := residentBytes(); rss > s.MaxMemPerChild {
			return fmt.Sprintf("resident memory %d bytes is above MaxMemPerChild %d", rss, s.MaxMemPerChild)
		}
	}
	return ""
}

// residentBytes is this process's resident set size (0 if unknown).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// gracefulTimeout is GracefulShutdownTimeout, 60 s when unset (SPEC §9:
// a graceful restart's drain is bounded too).
func gracefulTimeout(cfg *config.Config) time.Duration {
	if d := core.GlobalOf(cfg).GracefulShutdownTimeout; d > 0 {
		return d
	}
	return 60 * time.Second
}

func readChildSpec() (*childSpec, error) {
	raw := os.Getenv(ChildEnv)
	os.Unsetenv(ChildEnv) // not for CGI scripts or piped loggers this child starts
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", ChildEnv, err)
	}
	return &spec, nil
}

// rebuildGeneration turns the master's snapshot, scoreboard and files into
// this child's life cycle, ready for child_init.
func rebuildGeneration(spec *childSpec) (*phases.Lifecycle, *config.Config, error) {
	lc := phases.NewLifecycle(nil)
	snapFile := os.NewFile(uintptr(spec.SnapshotFD), "snapshot")
	data, err := io.ReadAll(io.NewSectionReader(snapFile, 0, 1<<40))
	snapFile.Close()
	if err != nil {
		return lc, nil, fmt.Errorf("reading the config snapshot: %w", err)
	}
	snap, err := config.UnmarshalSnapshot(data)
	if err != nil {
		return lc, nil, err
	}
	reg, err := phases.Directives()
	if err != nil {
		return lc, nil, err
	}
	cfg, err := snap.Process(reg)
	if err != nil {
		return lc, nil, fmt.Errorf("processing the master's config: %w", err)
	}
	board, err := scoreboard.Attach(os.NewFile(uintptr(spec.ScoreboardFD), "scoreboard"))
	if err != nil {
		return lc, nil, fmt.Errorf("scoreboard: %w", err)
	}
	lc.Scoreboard = board
	var files []phases.NamedFile
	for _, f := range spec.Files {
		files = append(files, phases.NamedFile{Key: f.Key, File: os.NewFile(uintptr(f.FD), f.Key)})
	}
	err = lc.RunChildGeneration(phases.ChildGeneration{Config: cfg, RestartCount: spec.RestartCount,
		Generation: spec.Generation, Files: phases.InheritedFiles(files)})
	return lc, cfg, err
}

// closeInheritedOnExec marks every descriptor the child inherited from the
// master (listening sockets, the scoreboard, its status and life pipes,
// log files, the config snapshot) close-on-exec, so that a program a
// module starts (a CGI script, a Lua io.popen) gets none of them: one
// holding the status pipe would keep the master from seeing the child end.
// Go's exec.Cmd hands a program the files it is given by dup2, which this
// does not affect.
func closeInheritedOnExec() {
	names, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range names {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// nameProcess gives the child the master's command name: it was started
// through /proc/self/exe, so ps, pgrep and killall would see "exe". Every
// thread the runtime has started so far is renamed too (threads made later
// inherit the name), so top -H and perf show it as well.
func nameProcess() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	name := filepath.Base(exe)
	if len(name) > 15 {
		name = name[:15] // TASK_COMM_LEN
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/self/task/%d/comm", os.Getpid()), []byte(name), 0)
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		_ = os.WriteFile("/proc/self/task/"+t.Name()+"/comm", []byte(name), 0)
	}
}

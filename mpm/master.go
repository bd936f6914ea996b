package mpm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/status"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"
	"golang.org/x/sys/unix"
)

// MasterOptions are what the command line gives the master.
type MasterOptions struct {
	// Signals are the signals the master acts on (TERM, INT, HUP, USR1,
	// WINCH).
	Signals <-chan os.Signal
	// Commands are -k commands arriving on the control socket.
	Commands <-chan Command
	// Ready is called once, when the first generation's children accept
	// connections.
	Ready func()
	// Listeners are sockets the master was given already bound (systemd
	// socket activation), by "host:port"; Listen lines matching them use
	// them instead of binding.
	Listeners map[string]*os.File
	// Notify, if set, reports state changes to a service manager
	// ("READY=1", "RELOADING=1", "STOPPING=1").
	Notify func(state string)
}

// Command is one -k command and where its outcome goes.
type Command struct {
	Name  string // graceful, restart, stop, graceful-stop, status
	Reply chan<- CommandResult
}

// CommandResult is a command's outcome.
type CommandResult struct {
	Err     error
	Message string
}

// masterGen is a generation as the master hands it to children.
type masterGen struct {
	number, restartCount int
	cfg                  *config.Config
	settings             Settings
	snapshot             *os.File // memfd with the config snapshot
	files                []phases.NamedFile
	listen               []string // the "host:port" keys the generation listens on
}

// child is one child process as the master knows it.
type child struct {
	slot      int
	pid       int
	gen       *masterGen
	cmd       *exec.Cmd
	ready     bool
	quiescing bool // told to finish gracefully
	stopping  bool // told to stop
	retiring  bool // leaving on its own
}

type childEventKind int

const (
	childReady childEventKind = iota
	childRetiring
	childExited
)

type childEvent struct {
	c    *child
	kind childEventKind
	err  error // exit status
}

// restartOp is a restart in progress: the new generation's children are
// starting; reply gets the outcome once they accept.
type restartOp struct {
	gen      *masterGen
	graceful bool
	deadline time.Time
	reply    func(error)
}

// master runs the generations and keeps the children.
type master struct {
	lc       *phases.Lifecycle
	opts     MasterOptions
	board    *scoreboard.Board
	sockets  map[string]*os.File // the listening sockets, by "host:port"
	gen      *masterGen
	children map[int]*child // by scoreboard slot
	events   chan childEvent
	// life: children hold the read end; when the master dies its write
	// end closes and every child reads EOF.
	lifeR, lifeW *os.File

	started      bool // the first generation's children are up
	restart      *restartOp
	spawnRate    int
	maxLogged    bool
	crashBackoff time.Duration
	lastCrash    time.Time
	spawnAfter   time.Time
	// fatal, once set, stops the server: a restart left nothing to serve.
	fatal error
}

// RunMaster is the multi-process server: the life cycle's generations in
// this process, children (fresh processes of this binary) serving. It
// returns when the server stops.
func RunMaster(lc *phases.Lifecycle, opts MasterOptions) error {
	if err := lc.Start(); err != nil {
		return err
	}
	settings := SettingsOf(lc.Server.Config)
	board, err := scoreboard.Create(settings.ServerLimit, settings.ThreadLimit)
	if err != nil {
		lc.Shutdown()
		return fmt.Errorf("creating the scoreboard: %w", err)
	}
	defer board.Close()
	lc.Scoreboard = board
	lc.Server.Scoreboard = board
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		lc.Shutdown()
		return err
	}
	defer lifeW.Close()
	defer lifeR.Close()
	m := &master{lc: lc, opts: opts, board: board, sockets: map[string]*os.File{}, children: map[int]*child{},
		events: make(chan childEvent, 64), lifeR: lifeR, lifeW: lifeW, spawnRate: 1}
	if _, err := childCredential(lc.Server.Config); err != nil {
		lc.Shutdown()
		return err
	}
	if _, err := m.bind(lc.Server.Listen, settings.ListenBacklog); err != nil {
		lc.Log.Error("core", "%v", err)
		m.closeAllSockets()
		lc.Shutdown()
		return fmt.Errorf("%w; no listening sockets available, shutting down", err)
	}
	defer m.closeAllSockets()
	if m.gen, err = m.newGeneration(); err != nil {
		lc.Shutdown()
		return err
	}
	m.recordGeneration(m.gen)
	lc.Log.Notice("core", "httpdg (pid %d) %s MPM configured, starting %d children", os.Getpid(), settings.MPM, settings.StartServers)
	for i := 0; i < settings.StartServers; i++ {
		if err := m.spawn(m.gen); err != nil {
			lc.Log.Error("core", "%v", err)
		}
	}
	return m.loop()
}

// loop is the master's life: child events, signals, commands, and the
// once-a-second monitor and idle maintenance.
func (m *master) loop() error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	startDeadline := time.Now().Add(30 * time.Second)
	for {
		if m.fatal != nil {
			return m.stop(m.fatal)
		}
		select {
		case ev := <-m.events:
			if err := m.childEvent(ev); err != nil {
				return m.stop(err)
			}
		case sig := <-m.opts.Signals:
			switch sig {
			case syscall.SIGWINCH:
				if isTerminal(os.Stdin) {
					continue
				}
				m.lc.Log.Notice("core", "caught SIGWINCH, shutting down gracefully")
				return m.gracefulStop()
			case syscall.SIGTERM, os.Interrupt:
				m.lc.Log.Notice("core", "caught %s, shutting down", signalName(sig))
				return m.stop(nil)
			case syscall.SIGHUP, syscall.SIGUSR1:
				m.beginRestart(sig == syscall.SIGUSR1, signalName(sig), func(error) {})
			}
		case cmd := <-m.opts.Commands:
			switch cmd.Name {
			case "graceful", "restart":
				reply := cmd.Reply
				m.beginRestart(cmd.Name == "graceful", "-k "+cmd.Name, func(err error) { reply <- CommandResult{Err: err} })
			case "stop":
				cmd.Reply <- CommandResult{}
				m.lc.Log.Notice("core", "-k stop received, shutting down")
				return m.stop(nil)
			case "graceful-stop":
				cmd.Reply <- CommandResult{}
				m.lc.Log.Notice("core", "-k graceful-stop received, shutting down gracefully")
				return m.gracefulStop()
			case "status":
				cmd.Reply <- CommandResult{Message: m.statusSummary()}
			default:
				cmd.Reply <- CommandResult{Err: fmt.Errorf("unknown command %q", cmd.Name)}
			}
		case <-tick.C:
			m.lc.Monitor()
			if !m.started && time.Now().After(startDeadline) {
				m.markStarted()
			}
			if m.restart != nil && time.Now().After(m.restart.deadline) {
				m.lc.Log.Warn("core", "generation %d: not every child is up after %s; retiring the old generation anyway", m.restart.gen.number, restartWait)
				m.finishRestart()
			}
			if m.started && m.restart == nil {
				m.maintain()
			}
		}
	}
}

// restartWait bounds how long a restart waits for the new children before
// retiring the old ones regardless.
const restartWait = 30 * time.Second

// childEvent updates the master's view of a child. An error stops the
// server (no child of the first generation could start).
func (m *master) childEvent(ev childEvent) error {
	c := ev.c
	switch ev.kind {
	case childReady:
		c.ready = true
		if !m.started && c.gen == m.gen && m.allReady(m.gen) {
			m.markStarted()
		}
		if m.restart != nil && c.gen == m.restart.gen && m.allReady(m.restart.gen) {
			m.finishRestart()
		}
	case childRetiring:
		c.retiring = true
	case childExited:
		delete(m.children, c.slot)
		m.board.ClearProcess(c.slot)
		if c.quiescing || c.stopping || c.retiring {
			return nil
		}
		m.lc.Log.Error("core", "child pid %d exit %s", c.pid, exitDescription(ev.err))
		m.noteCrash()
		if !m.started && len(m.children) == 0 {
			return errors.New("no child process could start; see the error log")
		}
		if m.restart != nil && c.gen == m.restart.gen && m.allReady(m.restart.gen) {
			m.finishRestart()
		}
	}
	return nil
}

// noteCrash backs off respawning when children die one after another:
// the first is replaced at once, each next within 10 s waits twice as
// long (1 s, 2 s ... 32 s), so a crashing config never becomes a fork storm.
func (m *master) noteCrash() {
	now := time.Now()
	if now.Sub(m.lastCrash) > 10*time.Second {
		m.crashBackoff = 0
	} else if m.crashBackoff == 0 {
		m.crashBackoff = time.Second
	} else if m.crashBackoff < 32*time.Second {
		m.crashBackoff *= 2
	}
	m.lastCrash = now
	if m.crashBackoff > 0 {
		m.spawnAfter = now.Add(m.crashBackoff)
		m.lc.Log.Error("core", "children are exiting repeatedly; waiting %s before starting another", m.crashBackoff)
	}
}

func (m *master) allReady(g *masterGen) bool {
	n := 0
	for _, c := range m.children {
		if c.gen == g {
			if !c.ready {
				return false
			}
			n++
		}
	}
	return n > 0
}

func (m *master) markStarted() {
	if m.started {
		return
	}
	m.started = true
	m.lc.Log.Notice("core", "httpdg configured -- resuming normal operations (generation %d)", m.lc.Process.Generation)
	if m.opts.Ready != nil {
		m.opts.Ready()
	}
	if m.opts.Notify != nil {
		m.opts.Notify("READY=1")
	}
}

// beginRestart is a restart or graceful restart, in Apache's order: the
// old children are told to leave (graceful: after finishing what they
// serve; they stop accepting at once, and their keep-alive clients get
// Connection: close), the master runs the new generation (open_logs,
// post_config), and new children start. Connections arriving meanwhile
// wait in the listening sockets' queues, which the master keeps open, so
// none is refused.
//
// Better than Apache: the new config is read, and its new Listen
// addresses bound, before anything is retired; if that fails the running
// generation goes on untouched and reply gets the error. If open_logs or
// post_config fail later, the previous config is run again as the next
// generation, so the site stays up, and reply still gets the error.
func (m *master) beginRestart(graceful bool, why string, reply func(error)) {
	if m.restart != nil {
		reply(errors.New("a restart is already in progress"))
		return
	}
	cfg, err := m.lc.Load()
	if err != nil {
		m.lc.Log.Error("core", "restart aborted, generation %d goes on serving: %v", m.lc.Process.Generation, err)
		reply(err)
		return
	}
	if _, err := childCredential(cfg); err != nil {
		m.lc.Log.Error("core", "restart aborted, generation %d goes on serving: %v", m.lc.Process.Generation, err)
		reply(err)
		return
	}
	added, err := m.bind(core.ListenAddrs(cfg), SettingsOf(cfg).ListenBacklog)
	if err != nil {
		m.lc.Log.Error("core", "restart aborted, generation %d goes on serving: %v", m.lc.Process.Generation, err)
		reply(err)
		return
	}
	m.lc.Log.Notice("core", "%s received, restarting%s", why, map[bool]string{true: " gracefully", false: ""}[graceful])
	if m.opts.Notify != nil {
		m.opts.Notify(reloadingState())
	}
	m.retireChildren(graceful)
	previous := m.gen.cfg
	m.lc.ClearConfig()
	err = m.lc.RunGenerationFrom(cfg)
	if err != nil {
		m.closeSockets(added)
		m.lc.ClearConfig()
		if err2 := m.lc.RunGenerationFrom(previous); err2 != nil {
			m.lc.Log.Error("core", "restart failed and the previous configuration failed too, shutting down: %v; %v", err, err2)
			reply(err)
			m.fatal = fmt.Errorf("%v; and the previous configuration failed too: %w", err, err2)
			return
		}
		m.lc.Log.Error("core", "restart aborted, the previous configuration goes on serving as generation %d: %v", m.lc.Process.Generation, err)
	}
	m.lc.Server.Scoreboard = m.board
	g, gerr := m.newGeneration()
	if gerr != nil {
		reply(gerr)
		m.fatal = gerr
		return
	}
	m.replaceGeneration(g)
	m.restart = &restartOp{gen: g, graceful: graceful, deadline: time.Now().Add(restartWait), reply: func(e error) {
		if err != nil {
			e = err // the new config failed; the previous one serves again
		}
		reply(e)
	}}
	n := 0
	for i := 0; i < g.settings.StartServers; i++ {
		if serr := m.spawn(g); serr != nil {
			m.lc.Log.Error("core", "%v", serr)
			continue
		}
		n++
	}
	if n == 0 {
		m.finishRestart()
	}
}

// retireChildren tells the running children to leave (graceful: finish
// first) and gives them a moment to do so, so the new generation's
// child_init follows the old one's child_exit as in Apache. Children still
// finishing long requests go on in the background.
func (m *master) retireChildren(graceful bool) {
	old := map[int]bool{}
	for _, c := range m.children {
		if c.quiescing || c.stopping {
			continue
		}
		old[c.pid] = true
		if graceful {
			m.quiesce(c)
		} else {
			c.stopping = true
			_ = syscall.Kill(c.pid, syscall.SIGTERM)
		}
	}
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	for len(old) > 0 {
		select {
		case ev := <-m.events:
			if ev.kind == childExited {
				delete(old, ev.c.pid)
			}
			if err := m.childEvent(ev); err != nil {
				m.fatal = err
			}
		case <-deadline.C:
			return
		}
	}
}

// replaceGeneration makes g the generation new children get.
func (m *master) replaceGeneration(g *masterGen) {
	old := m.gen
	m.gen = g
	if old != nil && old.snapshot != nil {
		old.snapshot.Close()
		old.snapshot = nil
	}
	m.recordGeneration(g)
}

// recordGeneration puts g on the scoreboard's global record.
func (m *master) recordGeneration(g *masterGen) {
	m.board.SetRestart(g.number, time.Now())
	m.board.SetMPM(g.settings.MPM)
	m.board.SetActive(g.settings.MaxChildren, g.settings.ThreadsPerChild)
	st := status.GlobalOf(g.cfg)
	m.board.SetExtended(st.Extended())
	m.board.SetRequestTail(st.RequestTail())
}

// finishRestart ends a restart once the new children accept: the sockets
// the new generation no longer listens on are closed, and the outcome is
// reported.
func (m *master) finishRestart() {
	op := m.restart
	m.restart = nil
	keep := map[string]bool{}
	for _, k := range op.gen.listen {
		keep[k] = true
	}
	var drop []string
	for k := range m.sockets {
		if !keep[k] {
			drop = append(drop, k)
		}
	}
	m.closeSockets(drop)
	m.lc.Log.Notice("core", "httpdg configured -- resuming normal operations (generation %d)", op.gen.number)
	// For operators (and the leak test): what the master holds after
	// each restart stays flat.
	m.lc.Log.Debug("core", "master resources: %d goroutines, %d open files, %d children", runtime.NumGoroutine(), openFiles(), len(m.children))
	if m.opts.Notify != nil {
		m.opts.Notify("READY=1")
	}
	op.reply(nil)
}

// quiesce tells a child to finish what it serves and leave.
func (m *master) quiesce(c *child) {
	c.quiescing = true
	m.board.SetQuiescing(c.slot)
	_ = syscall.Kill(c.pid, syscall.SIGUSR1)
}

// stop is TERM: every child is told to stop at once, with Apache's
// escalation (TERM again at 3, 5 and 7 s, KILL at 9 s); then child_exit has
// run everywhere and the master's pools go.
func (m *master) stop(cause error) error {
	if m.opts.Notify != nil {
		m.opts.Notify("STOPPING=1")
	}
	for _, c := range m.children {
		c.stopping = true
		_ = syscall.Kill(c.pid, syscall.SIGTERM)
	}
	m.waitChildren(time.Now().Add(9*time.Second), []time.Duration{3 * time.Second, 5 * time.Second, 7 * time.Second})
	m.lc.Shutdown()
	return cause
}

// gracefulStop is WINCH: children finish what they serve (bounded by
// GracefulShutdownTimeout), then the stop sequence takes the rest.
func (m *master) gracefulStop() error {
	if m.opts.Notify != nil {
		m.opts.Notify("STOPPING=1")
	}
	m.closeAllSockets()
	for _, c := range m.children {
		if !c.quiescing {
			m.quiesce(c)
		}
	}
	m.waitChildren(time.Now().Add(gracefulTimeout(m.gen.cfg)+time.Second), nil)
	return m.stop(nil)
}

// waitChildren reaps children until none is left or the deadline, sending
// TERM again at each of resend (after now) and KILL at the deadline.
func (m *master) waitChildren(deadline time.Time, resend []time.Duration) {
	start := time.Now()
	next := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for len(m.children) > 0 {
		select {
		case ev := <-m.events:
			if ev.kind == childExited {
				delete(m.children, ev.c.slot)
				m.board.ClearProcess(ev.c.slot)
			}
		case <-tick.C:
			if next < len(resend) && time.Since(start) >= resend[next] {
				next++
				for _, c := range m.children {
					_ = syscall.Kill(c.pid, syscall.SIGTERM)
				}
			}
			if time.Now().After(deadline) {
				for _, c := range m.children {
					if len(resend) > 0 {
						m.lc.Log.Error("core", "child process %d still did not exit, sending a SIGKILL", c.pid)
						_ = syscall.Kill(c.pid, syscall.SIGKILL)
					} else {
						c.stopping = true
						_ = syscall.Kill(c.pid, syscall.SIGTERM)
					}
				}
				if len(resend) == 0 {
					return
				}
				deadline = time.Now().Add(time.Hour) // KILL sent: only reaping is left
			}
		}
	}
}

// maintain is Apache's idle server maintenance, once a second: below the
// minimum of idle workers, start 1, then 2, 4 ... up to 32 children a
// second; above the maximum, retire one idle child a second.
func (m *master) maintain() {
	s := m.gen.settings
	idle, total := 0, 0
	var idleChild *child
	for _, c := range m.children {
		if c.quiescing || c.stopping || c.retiring {
			continue
		}
		total++
		n := m.idleWorkers(c)
		idle += n
		if n == s.ThreadsPerChild && c.ready && (idleChild == nil || c.slot > idleChild.slot) {
			idleChild = c
		}
	}
	minIdle, maxIdle := s.MinSpareThreads, s.MaxSpareThreads
	if s.MPM == "prefork" {
		minIdle, maxIdle = s.MinSpareServers, s.MaxSpareServers
	}
	switch {
	case idle > maxIdle && idleChild != nil:
		m.quiesce(idleChild)
		m.spawnRate = 1
	case idle < minIdle:
		if total >= s.MaxChildren {
			if !m.maxLogged {
				m.maxLogged = true
				m.lc.Log.Error("core", "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting")
			}
			m.spawnRate = 1
			return
		}
		if time.Now().Before(m.spawnAfter) {
			return
		}
		n := m.spawnRate
		if n > s.MaxChildren-total {
			n = s.MaxChildren - total
		}
		if n >= 8 {
			m.lc.Log.Info("core", "server seems busy, (you may need to increase StartServers, or Min/MaxSpare%s), spawning %d children, there are %d idle, and %d total children",
				map[bool]string{true: "Servers", false: "Threads"}[s.MPM == "prefork"], n, idle, total)
		}
		for i := 0; i < n; i++ {
			if err := m.spawn(m.gen); err != nil {
				m.lc.Log.Error("core", "%v", err)
				break
			}
		}
		if m.spawnRate < 32 {
			m.spawnRate *= 2
		}
	default:
		m.spawnRate = 1
	}
}

// idleWorkers counts a child's idle workers on the scoreboard; a child
// still starting counts as idle, as in Apache.
func (m *master) idleWorkers(c *child) int {
	s := m.gen.settings
	n := 0
	for t := 0; t < s.ThreadsPerChild; t++ {
		switch m.board.Worker(c.slot, t).State() {
		case scoreboard.Idle, scoreboard.Starting:
			n++
		}
	}
	return n
}

// newGeneration packages the life cycle's current generation for
// children: its config snapshot in a memfd, its files, its sockets.
func (m *master) newGeneration() (*masterGen, error) {
	s := m.lc.Server
	data, err := s.Config.Snapshot().Marshal()
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("httpdg-config", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd for the config snapshot: %w", err)
	}
	f := os.NewFile(uintptr(fd), "httpdg-config")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the config snapshot: %w", err)
	}
	settings := SettingsOf(s.Config)
	serverLimit, threadLimit := m.board.Limits()
	if settings.ThreadsPerChild > threadLimit {
		settings.ThreadsPerChild = threadLimit
	}
	if settings.MaxChildren > serverLimit {
		settings.MaxChildren = serverLimit
	}
	g := &masterGen{number: m.lc.Process.Generation, restartCount: m.lc.Process.RestartCount, cfg: s.Config,
		settings: settings, snapshot: f, files: s.Files.Opened()}
	for _, a := range s.Listen {
		g.listen = append(g.listen, hostPort(a))
	}
	return g, nil
}

// bind opens the sockets of addrs the master does not have yet (or takes
// them from systemd). It returns the keys it added; on an error the
// sockets it added are closed again.
func (m *master) bind(addrs []phases.ListenAddr, backlog int) ([]string, error) {
	var added []string
	for _, a := range addrs {
		key := hostPort(a)
		if _, ok := m.sockets[key]; ok {
			continue
		}
		if f, ok := m.opts.Listeners[key]; ok {
			m.sockets[key] = f
			continue
		}
		f, err := bindListenerBacklog(a, backlog)
		if err != nil {
			m.closeSockets(added)
			return nil, fmt.Errorf("could not bind to address %s: %w", key, err)
		}
		m.sockets[key] = f
		added = append(added, key)
	}
	return added, nil
}

// closeAllSockets closes every socket the master holds.
func (m *master) closeAllSockets() {
	var keys []string
	for k := range m.sockets {
		keys = append(keys, k)
	}
	m.closeSockets(keys)
}

// closeSockets closes the master's copies of the named sockets; children
// holding copies keep them until they leave.
func (m *master) closeSockets(keys []string) {
	for _, k := range keys {
		if f, ok := m.sockets[k]; ok {
			f.Close()
			delete(m.sockets, k)
		}
	}
}

// freeSlot is the lowest scoreboard slot no child holds, or -1.
func (m *master) freeSlot() int {
	limit, _ := m.board.Limits()
	for i := 0; i < limit; i++ {
		if _, ok := m.children[i]; !ok {
			return i
		}
	}
	return -1
}

// spawn starts a child of generation g: this binary again, with the
// generation's snapshot, the scoreboard, the life pipe, its status pipe,
// the sockets and the log files as inherited descriptors.
func (m *master) spawn(g *masterGen) error {
	slot := m.freeSlot()
	if slot < 0 {
		return errors.New("cannot start a child: every ServerLimit slot is in use")
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("cannot start a child: %w", err)
	}
	defer statusW.Close()
	spec := childSpec{Slot: slot, Generation: g.number, RestartCount: g.restartCount}
	extra := []*os.File{g.snapshot, m.board.File(), m.lifeR, statusW}
	spec.SnapshotFD, spec.ScoreboardFD, spec.LifeFD, spec.StatusFD = 3, 4, 5, 6
	for _, key := range sortedKeys(m.sockets) {
		spec.Listeners = append(spec.Listeners, fdEntry{Key: key, FD: 3 + len(extra)})
		extra = append(extra, m.sockets[key])
	}
	for _, f := range g.files {
		spec.Files = append(spec.Files, fdEntry{Key: f.Key, FD: 3 + len(extra)})
		extra = append(extra, f.File)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		statusR.Close()
		return err
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(raw))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = extra
	if cred, err := childCredential(g.cfg); err != nil {
		statusR.Close()
		return err
	} else if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		statusR.Close()
		return fmt.Errorf("cannot start a child: %w", err)
	}
	c := &child{slot: slot, pid: cmd.Process.Pid, gen: g, cmd: cmd}
	m.children[slot] = c
	m.board.SetProcess(slot, c.pid, g.number)
	go m.watch(c, statusR)
	return nil
}

// watch reads a child's status pipe and, at its end, reaps the child.
func (m *master) watch(c *child, status *os.File) {
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		switch sc.Text() {
		case msgReady:
			m.events <- childEvent{c: c, kind: childReady}
		case msgRetiring:
			m.events <- childEvent{c: c, kind: childRetiring}
		}
	}
	status.Close()
	err := c.cmd.Wait()
	m.events <- childEvent{c: c, kind: childExited, err: err}
}

// childCredential is the User/Group children run as when the master runs
// as root; nil otherwise (children keep the master's identity).
func childCredential(cfg *config.Config) (*syscall.Credential, error) {
	g := core.GlobalOf(cfg)
	if os.Geteuid() != 0 || g.User == "" {
		return nil, nil
	}
	u, err := lookupUser(g.User)
	if err != nil {
		return nil, fmt.Errorf("User %s: %w", g.User, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if g.Group != "" {
		grp, err := lookupGroup(g.Group)
		if err != nil {
			return nil, fmt.Errorf("Group %s: %w", g.Group, err)
		}
		gid, _ = strconv.Atoi(grp.Gid)
	}
	// Apache calls initgroups(User, Group): the user's own supplementary
	// groups, never the master's (root's).
	groups := []uint32{uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil && n != gid {
				groups = append(groups, uint32(n))
			}
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}, nil
}

// lookupUser accepts a name or Apache's "#uid".
func lookupUser(name string) (*user.User, error) {
	if strings.HasPrefix(name, "#") {
		return user.LookupId(name[1:])
	}
	return user.Lookup(name)
}

// lookupGroup accepts a name or Apache's "#gid".
func lookupGroup(name string) (*user.Group, error) {
	if strings.HasPrefix(name, "#") {
		return user.LookupGroupId(name[1:])
	}
	return user.LookupGroup(name)
}

// statusSummary is -k status's one screen.
func (m *master) statusSummary() string {
	snap := m.board.Snapshot()
	busy, idle, requests := 0, 0, uint64(0)
	var pids []string
	for _, c := range m.children {
		pids = append(pids, strconv.Itoa(c.pid))
	}
	sort.Strings(pids)
	for i, ws := range snap.Workers {
		if i >= len(snap.Processes) || snap.Processes[i].Pid == 0 {
			continue
		}
		for _, w := range ws {
			requests += w.Accesses
			switch w.State {
			case scoreboard.Idle:
				idle++
			case scoreboard.Open, scoreboard.Starting, scoreboard.IdleKill:
			default:
				busy++
			}
		}
	}
	up := time.Since(snap.Global.StartTime).Round(time.Second)
	return fmt.Sprintf("httpdg (pid %d) is running\n  generation: %d (restart count %d)\n  MPM: %s\n  uptime: %s\n  children: %d (%s)\n  workers: %d busy, %d idle\n  requests: %d\n",
		os.Getpid(), m.lc.Process.Generation, m.lc.Process.RestartCount, m.gen.settings.MPM, up, len(m.children), strings.Join(pids, " "), busy, idle, requests)
}

func sortedKeys(m map[string]*os.File) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exitDescription is Apache's wording of a child's end.
func exitDescription(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				return fmt.Sprintf("signal %s (%d)", ws.Signal(), int(ws.Signal()))
			}
			return fmt.Sprintf("status %d", ws.ExitStatus())
		}
	}
	if err != nil {
		return err.Error()
	}
	return "status 0"
}

// reloadingState is sd_notify's RELOADING=1 with the monotonic time
// systemd's Type=notify-reload wants.
func reloadingState() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000)
}

// openFiles counts this process's open descriptors (-1 if unknown).
func openFiles() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

package phases

import (
	"fmt"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm/scoreboard"
)

// Lifecycle drives the server life cycle of SPEC §3 in one process: config
// generations with their pools and hooks. The MPMs build on it: the master
// runs generations, children run child_init and child_exit.
type Lifecycle struct {
	// Load reads and processes the config afresh (step 1).
	Load func() (*config.Config, error)

	Process *Process
	Pglobal *Pool
	Plog    *Pool
	Pconf   *Pool
	// Server and Hooks are those of the current generation.
	Server *Server
	Hooks  *ServerHooks
	// Log is the current error log: stderr until open_logs opens one.
	Log *ErrorLog
	// Scoreboard, when the MPM made one, is given to every generation.
	Scoreboard *scoreboard.Board

	// buildHooks collects the hooks of a generation (BuildServerHooks;
	// tests replace it). logFor is the log a generation starts with.
	buildHooks func(*config.Config) (*ServerHooks, error)
	logFor     func() *ErrorLog
}

// NewLifecycle returns a life cycle with pglobal, plog and pconf made.
func NewLifecycle(load func() (*config.Config, error)) *Lifecycle {
	lc := &Lifecycle{Load: load, Log: StderrLog(), buildHooks: BuildServerHooks, logFor: StderrLog}
	lc.Pglobal = NewPool("pglobal", func(err error) { lc.Log.Error("core", "%v", err) })
	lc.Plog = lc.Pglobal.Sub("plog")
	lc.Pconf = lc.Pglobal.Sub("pconf")
	lc.Process = &Process{State: StateStartup, Pglobal: lc.Pglobal}
	return lc
}

// Start is Apache's start-then-restart: a preflight generation (restart
// count 1), pconf cleared, then the first serving generation (restart
// count 2).
func (lc *Lifecycle) Start() error {
	if err := lc.RunGeneration(); err != nil {
		return err
	}
	lc.ClearConfig()
	return lc.RunGeneration()
}

// ClearConfig clears pconf, running its cleanups, before a new generation.
func (lc *Lifecycle) ClearConfig() { lc.Pconf.Clear() }

// Check runs steps 1–2 only (what -t does): the config and the hooks that
// judge it, without opening logs.
func (lc *Lifecycle) Check() error {
	ptemp := lc.Pconf.Sub("ptemp")
	defer ptemp.Destroy()
	cfg, hooks, err := lc.readConfig()
	if err != nil {
		return err
	}
	s := &Server{Config: cfg, Main: cfg.Main, Process: lc.Process, Log: lc.Log}
	if err := RunServerHook(hooks.PreConfig, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	return RunServerHook(hooks.CheckConfig, lc.Pconf, lc.Plog, ptemp, s)
}

// RunGeneration runs steps 1–4 of a generation: read and process the
// config, pre_config, check_config, clear plog, open_logs, post_config,
// destroy ptemp. On success the generation becomes current.
func (lc *Lifecycle) RunGeneration() error {
	p := lc.Process
	p.RestartCount++
	p.Generation = p.RestartCount - 1
	p.State = StateConfig
	ptemp := lc.Pconf.Sub("ptemp")
	defer ptemp.Destroy()
	cfg, hooks, err := lc.readConfig()
	if err != nil {
		return err
	}
	s := &Server{Config: cfg, Main: cfg.Main, Process: p, Log: lc.Log, Files: NewFiles(), Scoreboard: lc.Scoreboard}
	if err := RunServerHook(hooks.PreConfig, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	if err := RunServerHook(hooks.CheckConfig, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	lc.Plog.Clear()
	s.Log = lc.logFor() // until open_logs opens the configured log
	if err := RunServerHook(hooks.OpenLogs, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	lc.Log = s.Log
	if err := RunServerHook(hooks.PostConfig, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	lc.Server, lc.Hooks = s, hooks
	return nil
}

// ChildGeneration is what a child process is given of its master's
// generation.
type ChildGeneration struct {
	Config       *config.Config // processed from the master's snapshot
	RestartCount int
	Generation   int
	Files        *Files // the master's log files, by key
}

// RunChildGeneration rebuilds, in a child process, the generation its
// master ran: the hooks for the config, then only the open_logs and
// post_config handlers marked RerunInChild, which build the process state a
// forked child would have inherited (error and access logs over the
// master's files, TLS). pre_config, check_config and every other handler
// ran in the master and do not run again. child_init comes next
// (ChildInit).
func (lc *Lifecycle) RunChildGeneration(g ChildGeneration) error {
	p := lc.Process
	p.RestartCount, p.Generation = g.RestartCount, g.Generation
	p.State = StateConfig
	p.InChild = true
	ptemp := lc.Pconf.Sub("ptemp")
	defer ptemp.Destroy()
	hooks, err := lc.buildHooks(g.Config)
	if err != nil {
		return err
	}
	rerun := func(e Entry[ServerHookFunc]) bool { return e.RerunInChild }
	openLogs, err := hooks.OpenLogs.Only(rerun)
	if err != nil {
		return err
	}
	postConfig, err := hooks.PostConfig.Only(rerun)
	if err != nil {
		return err
	}
	s := &Server{Config: g.Config, Main: g.Config.Main, Process: p, Log: lc.Log, Files: g.Files, Scoreboard: lc.Scoreboard}
	if err := RunServerHook(openLogs, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	lc.Log = s.Log
	if err := RunServerHook(postConfig, lc.Pconf, lc.Plog, ptemp, s); err != nil {
		return err
	}
	lc.Server, lc.Hooks = s, hooks
	return nil
}

// RunGenerationFrom runs a generation from an already processed config
// instead of reading the file (a failed restart falls back on the previous
// generation's config).
func (lc *Lifecycle) RunGenerationFrom(cfg *config.Config) error {
	load := lc.Load
	lc.Load = func() (*config.Config, error) { return cfg, nil }
	defer func() { lc.Load = load }()
	return lc.RunGeneration()
}

// readConfig loads the config and collects every module's hooks for it.
func (lc *Lifecycle) readConfig() (*config.Config, *ServerHooks, error) {
	cfg, err := lc.Load()
	if err != nil {
		return nil, nil, err
	}
	hooks, err := lc.buildHooks(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, hooks, nil
}

// BuildServerHooks asks every module for its hooks for cfg and sorts them.
func BuildServerHooks(cfg *config.Config) (*ServerHooks, error) {
	hooks := NewServerHooks()
	for _, m := range Modules() {
		if m.RegisterHooks == nil {
			continue
		}
		if err := m.RegisterHooks(hooks, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	for _, sort := range []func() error{hooks.PreConfig.Sort, hooks.CheckConfig.Sort, hooks.OpenLogs.Sort,
		hooks.PostConfig.Sort, hooks.ChildInit.Sort, hooks.ChildExit.Sort, hooks.Monitor.Sort, hooks.Request.sortAll} {
		if err := sort(); err != nil {
			return nil, err
		}
	}
	return hooks, nil
}

// ChildInit starts the life of a child (or of -X's in-process child): it
// creates pchild under pconf and runs child_init, whose failures are logged.
func (lc *Lifecycle) ChildInit() *Pool {
	pchild := lc.Pconf.Sub("pchild")
	lc.Process.InChild = true
	lc.Process.State = StateRunning
	_ = RunChildHook(lc.Hooks.ChildInit, pchild, lc.Server) // VOID: logged inside
	return pchild
}

// ChildExit ends a child: child_exit runs (a failure is logged and stops
// the later handlers), then pchild is destroyed, its cleanups last first.
func (lc *Lifecycle) ChildExit(pchild *Pool) {
	lc.Process.State = StateStopping
	if err := RunChildHook(lc.Hooks.ChildExit, pchild, lc.Server); err != nil {
		lc.Log.Error("core", "%v", err)
	}
	pchild.Destroy()
	lc.Process.InChild = false
}

// Monitor runs the monitor hook (the master, once a second).
func (lc *Lifecycle) Monitor() {
	if lc.Hooks == nil {
		return
	}
	if err := RunChildHook(lc.Hooks.Monitor, lc.Pglobal, lc.Server); err != nil {
		lc.Log.Error("core", "%v", err)
	}
}

// Shutdown clears pconf and pglobal on the way out.
func (lc *Lifecycle) Shutdown() {
	lc.Process.State = StateStopping
	lc.Pconf.Clear()
	lc.Log = StderrLog() // plog's cleanups close the configured log
	lc.Pglobal.Destroy()
}

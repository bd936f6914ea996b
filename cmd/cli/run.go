package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm"
	ctlsock "github.com/httpdg/httpdg/mpm/control"
	"github.com/httpdg/httpdg/mpm/systemd"
	"github.com/httpdg/httpdg/phases"
)

// newLifecycle returns the life cycle of the config the flags name.
func newLifecycle(args *Args) *phases.Lifecycle {
	return phases.NewLifecycle(func() (*config.Config, error) { return loadConfig(args) })
}

// checkConfig is -t: steps 1–2 of the life cycle (config, pre_config,
// check_config), nothing opened.
func checkConfig(args *Args) error {
	return newLifecycle(args).Check()
}

// run starts the server: -X in one process, -D FOREGROUND as a master
// with child processes; or acts on a running one (-k). -k start runs the
// master in the background.
func run(args *Args, cfg *config.Config, stdout, stderr io.Writer) int {
	if args.Signal != "" && !args.Defined("FOREGROUND") {
		return control(args, cfg, stdout, stderr)
	}
	if !args.Debug && !args.Defined("FOREGROUND") {
		// Apache's plain "httpd" starts in the background, like -k start.
		args.Signal = "start"
		return control(args, cfg, stdout, stderr)
	}
	if pid, alive := runningPid(cfg); alive && pid != os.Getpid() {
		fmt.Fprintf(stderr, "httpdg (pid %d) already running\n", pid)
		return 1
	}
	if path := os.Getenv("HTTPDG_CPUPROFILE"); path != "" {
		// For finding where the time goes: a CPU profile of the whole run.
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	first := true
	ready := func() {
		if !first {
			return
		}
		first = false
		if err := writePidFile(cfg); err != nil {
			fmt.Fprintf(stderr, "httpdg: could not write PidFile: %v\n", err)
		}
		reportReady()
	}
	var err error
	if args.Debug {
		err = mpm.RunSingle(newLifecycle(args), sigs, ready)
	} else {
		err = runMaster(args, cfg, sigs, ready, stderr)
	}
	removePidFile(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "httpdg: %v\n", err)
		return 1
	}
	return 0
}

// dumpHooks is -t -D DUMP_HOOKS.
func dumpHooks(w io.Writer, cfg *config.Config) error {
	hooks, err := phases.BuildServerHooks(cfg)
	if err != nil {
		return err
	}
	infos, err := hooks.Describe()
	if err != nil {
		return err
	}
	return phases.DumpHooks(w, infos)
}

// runMaster runs the multi-process server with its control socket and,
// under systemd, its notifications and socket activation.
func runMaster(args *Args, cfg *config.Config, sigs <-chan os.Signal, ready func(), stderr io.Writer) error {
	opts := mpm.MasterOptions{Signals: sigs, Ready: ready, Listeners: map[string]*os.File{}}
	if files, err := systemd.Listeners(); err != nil {
		fmt.Fprintf(stderr, "httpdg: systemd socket activation: %v\n", err)
	} else {
		for _, f := range files {
			if key, err := systemd.ListenerKey(f); err == nil {
				opts.Listeners[key] = f
			}
		}
	}
	opts.Notify = func(state string) { _, _ = systemd.Notify(state) }

	commands := make(chan mpm.Command)
	opts.Commands = commands
	done := make(chan struct{})
	ctl, err := ctlsock.Listen(controlSocketPath(cfg))
	if errors.Is(err, ctlsock.ErrInUse) {
		// Another server would get this one's -k commands.
		return err
	}
	if err != nil {
		// Signals still work; -k falls back to them.
		fmt.Fprintf(stderr, "httpdg: control socket: %v (-k commands fall back to signals)\n", err)
		defer close(done)
	} else {
		served := make(chan struct{})
		go func() {
			ctl.Serve(func(req ctlsock.Request) ctlsock.Response { return forward(commands, done, req) })
			close(served)
		}()
		// done first: a handler waiting on the loop gives up, so Serve can
		// return.
		defer func() { close(done); _ = ctl.Close(); <-served }()
	}
	return mpm.RunMaster(newLifecycle(args), opts)
}

// forward hands a control-socket request to the master's loop and waits
// for its outcome (or for the master to be gone).
func forward(commands chan<- mpm.Command, done <-chan struct{}, req ctlsock.Request) ctlsock.Response {
	reply := make(chan mpm.CommandResult, 1)
	select {
	case commands <- mpm.Command{Name: req.Command, Reply: reply}:
	case <-done:
		return ctlsock.Response{Error: "the server is shutting down"}
	}
	select {
	case res := <-reply:
		if res.Err != nil {
			return ctlsock.Response{Error: res.Err.Error()}
		}
		return ctlsock.Response{OK: true, Message: res.Message}
	case <-done:
		return ctlsock.Response{Error: "the server is shutting down"}
	}
}

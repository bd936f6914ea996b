package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm"
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

// run starts the server in one process (-X, -D FOREGROUND), or acts on a
// running one (-k). The multi-process master comes with the MPMs; until
// then -k start runs the one-process server in the background.
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
	err := mpm.RunSingle(newLifecycle(args), sigs, ready)
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

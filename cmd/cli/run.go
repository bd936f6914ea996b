package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
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

// run starts the server. Only the one-process form (-X, -D FOREGROUND)
// exists so far; the detaching master and -k come with the MPMs.
func run(args *Args, stderr io.Writer) int {
	if args.Signal != "" {
		fmt.Fprintf(stderr, "httpdg: -k %s needs the master process, which is not built yet; run in the foreground with -D FOREGROUND or -X and stop it with a signal\n", args.Signal)
		return 1
	}
	if !args.Debug && !args.Defined("FOREGROUND") {
		fmt.Fprintln(stderr, "httpdg: detaching into the background needs the master process, which is not built yet; run with -D FOREGROUND or -X")
		return 1
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	if err := mpm.RunSingle(newLifecycle(args), sigs, nil); err != nil {
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

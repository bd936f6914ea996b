// Package cli is the httpdg command line: flag parsing and the commands that
// report on a config (-t, -S, -M, -L, -V, -v). A custom main that compiles in
// third-party modules calls Main.
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm"
	"github.com/httpdg/httpdg/phases"
)

// Version is httpdg's own version.
const Version = phases.Version

// Main runs the command line and returns the process exit code.
func Main(argv []string, stdout, stderr io.Writer) int {
	if mpm.IsChild() {
		// A master started this process as one of its children.
		return mpm.RunChild()
	}
	args, err := parseArgs(argv)
	if err != nil {
		fmt.Fprintf(stderr, "httpdg: %v\n%s\n", err, usage())
		return 1
	}
	switch {
	case args.Help:
		fmt.Fprintln(stderr, usage())
		return 0
	case args.Version:
		fmt.Fprintf(stdout, "Server version: httpdg/%s (Apache/%s compatible)\n", Version, config.CompatVersion)
		return 0
	case args.Build:
		printBuild(stdout, args)
		return 0
	case args.Directives:
		return listDirectives(stdout, stderr)
	}
	cfg, err := loadConfig(args)
	if err != nil {
		fmt.Fprintf(stderr, "httpdg: %v\n", err)
		if fallback := stopWithoutConfig(args); fallback != nil {
			// A broken config must not keep a running server from being
			// stopped (Apache's trap): use the default PidFile.
			fmt.Fprintf(stderr, "httpdg: the config does not load; using the default PidFile %s\n", pidFilePath(fallback))
			return control(args, fallback, stdout, stderr)
		}
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "httpdg: warning: %s\n", w)
	}
	switch {
	case args.Modules:
		printModules(stdout, cfg)
		return 0
	case args.Settings:
		printSettings(stdout, cfg)
		return 0
	case args.Test:
		if args.Defined("DUMP_CONFIG") {
			if err := config.Dump(stdout, cfg.Tree, cfg.ServerRoot); err != nil {
				fmt.Fprintf(stderr, "httpdg: %v\n", err)
				return 1
			}
		}
		if args.Defined("DUMP_HOOKS") {
			if err := dumpHooks(stdout, cfg); err != nil {
				fmt.Fprintf(stderr, "httpdg: %v\n", err)
				return 1
			}
		}
		if err := checkConfig(args); err != nil {
			fmt.Fprintf(stderr, "httpdg: %v\n", err)
			return 1
		}
		fmt.Fprintln(stderr, "Syntax OK")
		return 0
	}
	return run(args, cfg, stdout, stderr)
}

// loadConfig reads and processes the config the flags name.
func loadConfig(args *Args) (*config.Config, error) {
	reg, err := phases.Directives()
	if err != nil {
		return nil, err
	}
	root := args.ServerRoot
	if root == "" {
		if root, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	return config.Load(config.Options{
		ServerRoot: root,
		File:       args.File,
		Defines:    args.Defines,
		Before:     args.Before,
		After:      args.After,
		Modules:    phases.ModuleInfos(),
		Registry:   reg,
	})
}

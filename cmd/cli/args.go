package cli

import (
	"fmt"
	"strings"
)

// Args is the parsed command line.
type Args struct {
	File       string   // -f
	ServerRoot string   // -d
	Before     []string // -C
	After      []string // -c
	Defines    []string // -D
	Signal     string   // -k
	Test       bool     // -t
	Settings   bool     // -S
	Modules    bool     // -M
	Directives bool     // -L
	Version    bool     // -v
	Build      bool     // -V
	Debug      bool     // -X
	Help       bool     // -h
}

// Defined reports whether -D name was given.
func (a *Args) Defined(name string) bool {
	for _, d := range a.Defines {
		if d == name {
			return true
		}
	}
	return false
}

// parseArgs reads Apache's flags the way apr_getopt does: single letters,
// flags without values may be clustered (-tS), a value may be attached
// (-DFOREGROUND) or the next argument (-D FOREGROUND).
func parseArgs(argv []string) (*Args, error) {
	a := &Args{}
	withValue := map[byte]func(string){
		'f': func(v string) { a.File = v },
		'd': func(v string) { a.ServerRoot = v },
		'C': func(v string) { a.Before = append(a.Before, v) },
		'c': func(v string) { a.After = append(a.After, v) },
		'D': func(v string) { a.Defines = append(a.Defines, v) },
		'k': func(v string) { a.Signal = v },
	}
	flags := map[byte]*bool{'t': &a.Test, 'S': &a.Settings, 'M': &a.Modules, 'L': &a.Directives,
		'v': &a.Version, 'V': &a.Build, 'X': &a.Debug, 'h': &a.Help, '?': &a.Help}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if len(arg) < 2 || arg[0] != '-' {
			return nil, fmt.Errorf("unexpected argument '%s'", arg)
		}
		for j := 1; j < len(arg); j++ {
			c := arg[j]
			if set, ok := withValue[c]; ok {
				v := arg[j+1:]
				if v == "" {
					if i+1 >= len(argv) {
						return nil, fmt.Errorf("option requires an argument -- %c", c)
					}
					i++
					v = argv[i]
				}
				set(v)
				break
			}
			p, ok := flags[c]
			if !ok {
				return nil, fmt.Errorf("illegal option -- %c", c)
			}
			*p = true
		}
	}
	if a.Signal != "" {
		switch a.Signal {
		case "start", "restart", "graceful", "graceful-stop", "stop", "status":
		default:
			return nil, fmt.Errorf("-k takes one of start, restart, graceful, graceful-stop, stop, status; not '%s'", a.Signal)
		}
	}
	return a, nil
}

const usageText = `Usage: httpdg [-D name] [-d directory] [-f file]
              [-C "directive"] [-c "directive"]
              [-k start|restart|graceful|graceful-stop|stop|status]
              [-v] [-V] [-h] [-M] [-L] [-t] [-S] [-X]
Options:
  -D name            : define a name for use in <IfDefine name> directives
  -d directory       : specify an alternate initial ServerRoot
  -f file            : specify an alternate ServerConfigFile
  -C "directive"     : process directive before reading config files
  -c "directive"     : process directive after reading config files
  -v                 : show version number
  -V                 : show compile settings
  -h                 : list available command line options (this page)
  -M                 : a synonym for -t -D DUMP_MODULES
  -L                 : list available configuration directives
  -t -D DUMP_CONFIG  : show parsed and processed config with includes inlined
  -t -D DUMP_HOOKS   : show every hook, its kind and its handlers in run order
  -S                 : a synonym for -t -D DUMP_VHOSTS -D DUMP_RUN_CFG
  -t                 : run syntax check for config files
  -X                 : debug mode (only one process, do not detach)
`

// usage is the -h text.
func usage() string { return strings.TrimSuffix(usageText, "\n") }

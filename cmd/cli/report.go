package cli

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// printModules is -M: Apache's "Loaded Modules:" list. Of the MPM modules
// only the selected one is loaded.
func printModules(w io.Writer, cfg *config.Config) {
	fmt.Fprintln(w, "Loaded Modules:")
	for _, m := range phases.Modules() {
		if m.Internal || m.MPM != "" && m.MPM != cfg.MPM {
			continue
		}
		fmt.Fprintf(w, " %s (static)\n", m.Name)
	}
}

// listDirectives is -L: every directive, its module, argument form and
// contexts, marking those whose run-time behaviour is not built yet.
func listDirectives(w, errw io.Writer) int {
	reg, err := phases.Directives()
	if err != nil {
		fmt.Fprintf(errw, "httpdg: %v\n", err)
		return 1
	}
	for _, d := range reg.All() {
		name := d.Name
		if d.Section {
			name = "<" + name
		}
		status := ""
		if !d.Built {
			status = " [not built yet: accepted and validated, no run-time effect]"
		}
		fmt.Fprintf(w, "%s (%s) %s%s\n", name, d.Module, d.Form, status)
		if d.Help != "" {
			fmt.Fprintf(w, "\t%s\n", d.Help)
		}
		fmt.Fprintf(w, "\tAllowed in: %s\n", d.Contexts.Describe())
	}
	return 0
}

func printBuild(w io.Writer, args *Args) {
	fmt.Fprintf(w, "Server version: httpdg/%s (Apache/%s compatible)\n", Version, config.CompatVersion)
	fmt.Fprintf(w, "Go version:     %s\n", runtime.Version())
	fmt.Fprintf(w, "Architecture:   %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "Server MPM:     %s (default)\n", config.DefaultMPM)
	fmt.Fprintln(w, "Server compiled with....")
	fmt.Fprintln(w, ` -D HTTPD_ROOT="." (the current directory, or -d)`)
	fmt.Fprintln(w, ` -D SERVER_CONFIG_FILE="conf/httpd.conf"`)
	fmt.Fprintln(w, ` -D DEFAULT_CONTROL_SOCKET="logs/httpdg.sock"`)
}

// printSettings is -S: virtual hosts and run settings, in Apache's layout.
func printSettings(w io.Writer, cfg *config.Config) {
	fmt.Fprintln(w, "VirtualHost configuration:")
	type entry struct {
		name   string
		origin *config.Origin
	}
	byAddr := map[string][]entry{}
	var addrs []string
	for _, vh := range cfg.Vhosts {
		name := core.ServerOf(vh).ServerName
		if name == "" {
			name = core.ServerOf(cfg.Main).ServerName
		}
		for _, a := range vh.Addrs {
			if _, seen := byAddr[a]; !seen {
				addrs = append(addrs, a)
			}
			byAddr[a] = append(byAddr[a], entry{name, vh.Origin})
		}
	}
	for _, a := range addrs {
		es := byAddr[a]
		if len(es) == 1 {
			fmt.Fprintf(w, "%-22s %s (%s)\n", a, es[0].name, es[0].origin.Short())
			continue
		}
		fmt.Fprintf(w, "%-22s is a NameVirtualHost\n", a)
		fmt.Fprintf(w, "         default server %s (%s)\n", es[0].name, es[0].origin.Short())
		port := a[strings.LastIndex(a, ":")+1:]
		for _, e := range es {
			fmt.Fprintf(w, "         port %s namevhost %s (%s)\n", port, e.name, e.origin.Short())
		}
	}
	main := core.ServerOf(cfg.Main)
	g := core.GlobalOf(cfg)
	fmt.Fprintf(w, "ServerRoot: %q\n", cfg.ServerRoot)
	fmt.Fprintf(w, "Main DocumentRoot: %q\n", orDefault(main.DocumentRoot, cfg.ServerRoot+"/htdocs"))
	fmt.Fprintf(w, "Main ErrorLog: %q\n", orDefault(main.ErrorLog, cfg.ServerRoot+"/logs/error_log"))
	fmt.Fprintf(w, "PidFile: %q\n", orDefault(g.PidFile, cfg.ServerRoot+"/logs/httpd.pid"))
	fmt.Fprintf(w, "ControlSocket: %q\n", orDefault(g.ControlSocket, cfg.ServerRoot+"/logs/httpdg.sock"))
	fmt.Fprintf(w, "MPM: %s\n", cfg.MPM)
	params := append([]string(nil), cfg.Params...)
	sort.Strings(params)
	for _, p := range params {
		if v, ok := cfg.Vars[p]; ok {
			fmt.Fprintf(w, "Define: %s=%s\n", p, v)
		} else {
			fmt.Fprintf(w, "Define: %s\n", p)
		}
	}
	if g.User != "" {
		fmt.Fprintf(w, "User: name=%q\n", g.User)
	}
	if g.Group != "" {
		fmt.Fprintf(w, "Group: name=%q\n", g.Group)
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

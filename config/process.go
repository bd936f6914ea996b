package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Cmd is what a directive handler gets: the directive, its arguments and
// where it stands (Apache's cmd_parms).
type Cmd struct {
	Directive *Directive
	Node      *Node
	Args      []string
	Where     Context  // the single context the line is in
	Server    *Server  // the server being configured (main or virtual)
	Section   *Section // innermost per-directory section, nil outside one
	Config    *Config
	reg       *Registry
}

// Flag returns the value of a FLAG directive.
func (c *Cmd) Flag() bool { return strings.EqualFold(c.Args[0], "on") }

// Path resolves p against ServerRoot.
func (c *Cmd) Path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Config.ServerRoot, p)
}

// Warn records a non-fatal remark about this line.
func (c *Cmd) Warn(format string, args ...any) {
	c.Config.Warnings = append(c.Config.Warnings, Warning{Origin: c.Node.Origin, Msg: fmt.Sprintf(format, args...)})
}

// Walk processes a section's body: nodes in context where, configuring
// server s inside per-directory section sec (nil for none). Section handlers
// call it, as Apache's call ap_walk_config.
func (c *Cmd) Walk(nodes []*Node, where Context, s *Server, sec *Section) error {
	for _, n := range nodes {
		if err := processNode(c.Config, c.reg, n, where, s, sec); err != nil {
			return err
		}
	}
	return nil
}

// Process runs every directive handler over cfg.Tree, building cfg.Main and
// cfg.Vhosts. The first error stops it, as in Apache, and names its line.
func Process(cfg *Config, reg *Registry) error {
	cfg.Main = NewServer(nil, false, nil)
	for _, n := range cfg.Tree {
		if err := processNode(cfg, reg, n, InServer, cfg.Main, nil); err != nil {
			return err
		}
	}
	return nil
}

// Load reads and processes a config: the whole of `httpdg -t` but the hooks.
func Load(opts Options) (*Config, error) {
	cfg, err := Read(opts)
	if err != nil {
		return nil, err
	}
	if err := Process(cfg, opts.Registry); err != nil {
		return nil, err
	}
	return cfg, nil
}

func processNode(cfg *Config, reg *Registry, n *Node, where Context, s *Server, sec *Section) error {
	var d *Directive
	if n.Section {
		d = reg.Section(n.Name)
	} else {
		d = reg.Directive(n.Name)
	}
	if d == nil { // the reader checks names; a hand-built tree may not have
		return errorAt(n.Origin, "Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", n.Display())
	}
	if err := checkContext(d, where); err != nil {
		return &Error{Origin: n.Origin, Msg: err.Error()}
	}
	if !d.Section || d.Form != RawArgs {
		if err := d.checkArgs(n.Args); err != nil {
			msg := err.Error()
			if strings.HasPrefix(n.Raw, "#") || strings.Contains(n.Raw, " #") || strings.Contains(n.Raw, "\t#") {
				// The reader's warning about a trailing '#' is lost with
				// the error it causes: say it here.
				msg += " (a '#' after a directive is an argument, not a comment; put comments on a line of their own)"
			}
			return &Error{Origin: n.Origin, Msg: msg}
		}
	}
	if d.Handler == nil {
		return nil
	}
	cmd := &Cmd{Directive: d, Node: n, Args: n.Args, Where: where, Server: s, Section: sec, Config: cfg, reg: reg}
	if err := d.Handler(cmd); err != nil {
		if ce, ok := err.(*Error); ok { // from a nested Walk: already placed
			return ce
		}
		return &Error{Origin: n.Origin, Msg: err.Error()}
	}
	return nil
}

// checkContext gives Apache's messages for a directive out of place.
func checkContext(d *Directive, where Context) error {
	if d.Contexts&where != 0 {
		return nil
	}
	name := d.Display()
	switch where {
	case InVirtualHost:
		if d.Contexts&InServer != 0 {
			return fmt.Errorf("%s cannot occur within <VirtualHost> section", name)
		}
	case InDirectory, InLocation, InFiles:
		if d.Section && d.Contexts&PerDir == 0 {
			return fmt.Errorf("%s cannot occur within <Directory/Location/Files> section", name)
		}
		if d.Contexts&PerDir != 0 {
			kind := map[Context]string{InDirectory: "Directory", InLocation: "Location", InFiles: "Files"}[where]
			return fmt.Errorf("%s cannot occur within <%s> section", name, kind)
		}
	}
	return fmt.Errorf("%s not allowed here", name)
}

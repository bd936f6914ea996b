package authz

import (
	"fmt"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_authz_core.c", Directives: directives(), RegisterHooks: registerHooks})
	// The ip, host, forward-dns and local providers (mod_authz_host) and
	// user and valid-user (mod_authz_user) are built into this package;
	// configs test for their modules with <IfModule>.
	phases.RegisterModule(&phases.Module{Name: "authz_host_module", Source: "mod_authz_host.c"})
	phases.RegisterModule(&phases.Module{Name: "authz_user_module", Source: "mod_authz_user.c"})
}

func directives() []*config.Directive {
	section := func(name, help string) *config.Directive {
		return &config.Directive{Name: name, Section: true, Form: config.RawArgs, Contexts: config.DirHtaccess, Help: help, Handler: requireSection(name), Built: true}
	}
	return []*config.Directive{
		{Name: "Require", Form: config.RawArgs, Contexts: config.DirHtaccess, Built: true, Help: "an authorization rule a request must pass, or with 'not' must fail", Handler: require},
		section("RequireAll", "groups authorization rules of which none may fail and at least one must pass"),
		section("RequireAny", "groups authorization rules of which at least one must pass"),
		section("RequireNone", "groups authorization rules of which none may pass"),
		{Name: "AuthMerging", Form: config.Take1, Contexts: config.DirHtaccess, Built: true, Help: "how a section's authorization rules combine with those inherited from enclosing sections: Off, And or Or", Handler: authMerging},
	}
}

// top returns the container a Require line or section adds to: the open
// one, or the section's implicit <RequireAny>.
func top(ds *DirSettings, origin *config.Origin) *Rule {
	if ds.open != nil {
		return ds.open
	}
	if ds.Rules == nil {
		ds.Rules = &Rule{Logic: Any, Origin: origin}
	}
	return ds.Rules
}

// require handles "Require [not] provider args...".
func require(cmd *config.Cmd) error {
	args := cmd.Args
	r := &Rule{Origin: cmd.Node.Origin}
	if len(args) > 0 && strings.EqualFold(args[0], "not") {
		r.Negate, args = true, args[1:]
	}
	if len(args) == 0 {
		return fmt.Errorf("Unknown Authz provider: ")
	}
	r.Provider, r.Args = args[0], append([]string(nil), args[1:]...)
	p, ok := providers[r.Provider]
	if ext, names := declared(cmd.Config, r.Provider); !ok && ext {
		p, ok = func(*Rule) error { return nil }, true // its module checks the arguments
	} else if !ok {
		if n := similar(r.Provider, names); n != "" {
			return fmt.Errorf("Unknown Authz provider: %s (provider names are case-sensitive: did you mean '%s'?)", r.Provider, n)
		}
	}
	if !ok {
		for name := range providers {
			if strings.EqualFold(name, r.Provider) {
				return fmt.Errorf("Unknown Authz provider: %s (provider names are case-sensitive: did you mean '%s'?)", r.Provider, name)
			}
		}
		if strings.EqualFold(r.Provider, "expr") {
			return fmt.Errorf("Require expr is not supported by httpdg (ap_expr expressions are not implemented)")
		}
		return fmt.Errorf("Unknown Authz provider: %s", r.Provider)
	}
	if err := p(r); err != nil {
		return err
	}
	ds := dirOf(cmd)
	parent := top(ds, cmd.Node.Origin)
	if r.Negate && parent.Logic == Any {
		return fmt.Errorf("negative Require directive has no effect in %s directive", parent)
	}
	parent.Rules = append(parent.Rules, r)
	return nil
}

// requireSection handles <RequireAll>, <RequireAny> and <RequireNone>
// with Apache's rules: no arguments, a body of Require lines and these
// containers only, not empty, and a negated container only where it can
// have an effect (inside <RequireAll>).
func requireSection(name string) func(*config.Cmd) error {
	return func(cmd *config.Cmd) error {
		if len(cmd.Args) > 0 {
			return fmt.Errorf("<%s> directive doesn't take additional arguments", name)
		}
		for _, n := range cmd.Node.Children {
			allowed := !n.Section && strings.EqualFold(n.Name, "Require")
			if n.Section {
				for _, s := range []string{"RequireAll", "RequireAny", "RequireNone"} {
					allowed = allowed || strings.EqualFold(n.Name, s)
				}
			}
			if !allowed {
				return &config.Error{Origin: n.Origin, Msg: fmt.Sprintf("%s cannot occur within <%s> section (only Require, <RequireAll>, <RequireAny> and <RequireNone> can)", n.Display(), name)}
			}
		}
		sec := &Rule{Origin: cmd.Node.Origin}
		switch name {
		case "RequireAll":
			sec.Logic = All
		case "RequireAny":
			sec.Logic = Any
		default:
			sec.Logic, sec.Negate = Any, true
		}
		ds := dirOf(cmd)
		old := ds.open
		ds.open = sec
		err := cmd.Walk(cmd.Node.Children, cmd.Where, cmd.Server, cmd.Section)
		ds.open = old
		if err != nil {
			return err
		}
		if len(sec.Rules) == 0 {
			return fmt.Errorf("%s directive contains no authorization directives", sec)
		}
		parent := top(ds, cmd.Node.Origin)
		if sec.Negate && parent.Logic == Any {
			return fmt.Errorf("%s directive has no effect in %s directive", sec, parent)
		}
		parent.Rules = append(parent.Rules, sec)
		if old == nil {
			// The outermost container is complete: apply Apache's
			// post-config check that every container can grant access.
			return checkSection(sec)
		}
		return nil
	}
}

// item is a rule as Apache evaluates it after flattening nested containers
// of the same kind and applying De Morgan's law to negated ones.
type item struct{ negate bool }

// checkSection reports a container whose rules are all negative, which can
// never grant access (Apache: "contains only negative authorization
// directives"); nested containers are checked first.
func checkSection(r *Rule) error {
	items, err := effective(r)
	if err != nil {
		return err
	}
	for _, it := range items {
		if !it.negate {
			return nil
		}
	}
	return &config.Error{Origin: r.Origin, Msg: fmt.Sprintf("%s directive contains only negative authorization directives", r)}
}

func effective(r *Rule) ([]item, error) {
	var out []item
	for _, c := range r.Rules {
		switch {
		case !c.IsSection():
			out = append(out, item{c.Negate})
		case !c.Negate && c.Logic == r.Logic: // Apache merges it into r
			sub, err := effective(c)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		default:
			if err := checkSection(c); err != nil {
				return nil, err
			}
			if c.Negate && c.Logic != r.Logic { // De Morgan
				sub, _ := effective(c)
				for _, it := range sub {
					out = append(out, item{!it.negate})
				}
			} else {
				out = append(out, item{c.Negate})
			}
		}
	}
	return out, nil
}

// authMerging handles "AuthMerging Off|And|Or".
func authMerging(cmd *config.Cmd) error {
	for _, v := range []string{"Off", "And", "Or"} {
		if strings.EqualFold(cmd.Args[0], v) {
			dirOf(cmd).Merging = v
			return nil
		}
	}
	return fmt.Errorf("AuthMerging must be one of: Off | And | Or")
}

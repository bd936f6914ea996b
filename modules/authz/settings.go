package authz

import (
	"net/netip"
	"strings"

	"github.com/httpdg/httpdg/config"
)

// ModuleName is the module's identifier.
const ModuleName = "authz_core_module"

// Logic is how a container combines its rules.
type Logic int

const (
	Any Logic = iota // <RequireAny>: one must pass
	All              // <RequireAll>: none may fail, one must pass
)

// Rule is a Require line (Provider set) or a container (<RequireAll>,
// <RequireAny>, <RequireNone>; Provider empty). <RequireNone> is a negated
// Any container, as in Apache.
type Rule struct {
	Negate   bool
	Provider string   // "all", "ip", "user"...; "" for a container
	Args     []string // the provider's arguments as written
	IPs      []netip.Prefix
	Logic    Logic   // containers only
	Rules    []*Rule // containers only, in config order
	Origin   *config.Origin
}

// IsSection reports whether r is a container.
func (r *Rule) IsSection() bool { return r.Provider == "" }

// String renders r as Apache does in its messages: "Require not ip 10.1",
// "<RequireNone>".
func (r *Rule) String() string {
	if !r.IsSection() {
		s := "Require "
		if r.Negate {
			s += "not "
		}
		return s + r.Provider + " " + strings.Join(r.Args, " ")
	}
	switch {
	case r.Logic == All && !r.Negate:
		return "<RequireAll>"
	case r.Logic == Any && !r.Negate:
		return "<RequireAny>"
	case r.Logic == Any:
		return "<RequireNone>"
	}
	return "<RequireNotAll>"
}

// DirSettings are the authorization settings of a per-directory section.
type DirSettings struct {
	// Rules is the implicit <RequireAny> holding the section's top-level
	// Require lines and containers; nil when the section has none.
	Rules *Rule
	// Merging is AuthMerging's value ("Off", "And" or "Or"); "" when unset.
	Merging string

	open *Rule // the container being read (Apache's conf->section)
}

// SectionOf returns the authorization settings of sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

package static

import (
	"path/filepath"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// opts is a set of core Options bits.
type opts uint16

const (
	optIndexes opts = 1 << iota
	optIncludes
	optIncludesNoExec
	optFollowSymLinks
	optSymLinksIfOwnerMatch
	optExecCGI
	optMultiViews

	// optAll is "Options All": everything but MultiViews (and
	// SymLinksIfOwnerMatch, which FollowSymLinks supersedes).
	optAll = optIndexes | optIncludes | optIncludesNoExec | optFollowSymLinks | optExecCGI
	// optDefault is Apache 2.4's default when no Options applies.
	optDefault = optFollowSymLinks
)

func optBit(name string) opts {
	switch strings.ToLower(name) {
	case "indexes":
		return optIndexes
	case "includes":
		return optIncludes | optIncludesNoExec
	case "includesnoexec":
		return optIncludesNoExec
	case "followsymlinks":
		return optFollowSymLinks
	case "symlinksifownermatch":
		return optSymLinksIfOwnerMatch
	case "execcgi":
		return optExecCGI
	case "multiviews":
		return optMultiViews
	case "all":
		return optAll
	}
	return 0
}

// apply merges one Options line onto cur with Apache's rules: a line
// without +/- replaces what was inherited, +opt adds and -opt removes.
func apply(cur opts, line []string) opts {
	if len(line) == 0 {
		return cur
	}
	for i, o := range line {
		switch {
		case strings.HasPrefix(o, "+"):
			cur |= optBit(o[1:])
		case strings.HasPrefix(o, "-"):
			cur &^= optBit(o[1:])
		default:
			if i == 0 {
				cur = 0
			}
			cur |= optBit(o)
		}
	}
	return cur
}

// requestOpts are the Options in effect for r: the server defaults, then
// every section of r.Sections in merge order.
func requestOpts(r *phases.Request) opts {
	o := optDefault
	for ds := range phases.EachDirConf[core.DirSettings](r, core.ModuleName) {
		o = apply(o, ds.Options)
	}
	return o
}

// dirOpts are the Options that <Directory> sections give directory dir
// (what Apache's directory walk uses for its symlink checks; <Location>
// and <Files> do not take part in it).
func dirOpts(r *phases.Request, dir string) opts {
	servers := []*config.Server{r.Server.Main}
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		servers = append(servers, r.Vhost)
	}
	o := optDefault
	var plain, regex []*config.Section
	for _, s := range servers {
		o = apply(o, config.ServerDirConf[core.DirSettings](s, core.ModuleName).Options)
		for _, sec := range s.Sections {
			if (sec.Kind != "Directory" && sec.Kind != "DirectoryMatch") || !dirApplies(sec, dir) {
				continue
			}
			if sec.Regex != nil {
				regex = append(regex, sec)
			} else {
				plain = append(plain, sec)
			}
		}
	}
	for i := 1; i < len(plain); i++ { // shortest path first, stable
		for j := i; j > 0 && strings.Count(plain[j].Arg, "/") < strings.Count(plain[j-1].Arg, "/"); j-- {
			plain[j], plain[j-1] = plain[j-1], plain[j]
		}
	}
	for _, sec := range append(plain, regex...) {
		o = apply(o, config.SectionConf[core.DirSettings](sec, core.ModuleName).Options)
	}
	return o
}

// dirApplies reports whether a <Directory> section covers directory dir
// (core's rule for map_to_storage, on a directory instead of a file).
func dirApplies(sec *config.Section, dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	if sec.Regex != nil {
		return sec.Regex.MatchString(dir + "/")
	}
	if strings.ContainsAny(sec.Arg, "*?[") {
		ok, _ := filepath.Match(sec.Arg, dir)
		return ok
	}
	p := strings.TrimSuffix(sec.Arg, "/")
	return p == "" || dir == p || strings.HasPrefix(dir, p+"/")
}

// followsEverywhere reports whether every Options setting of cfg that a
// directory walk can see keeps FollowSymLinks, so no symlink check is
// needed (the common case, and Apache 2.4's default).
func followsEverywhere(cfg *config.Config) bool {
	servers := append([]*config.Server{cfg.Main}, cfg.Vhosts...)
	for _, s := range servers {
		if !keepsFollow(config.ServerDirConf[core.DirSettings](s, core.ModuleName).Options) {
			return false
		}
		var walk func(secs []*config.Section) bool
		walk = func(secs []*config.Section) bool {
			for _, sec := range secs {
				if !keepsFollow(config.SectionConf[core.DirSettings](sec, core.ModuleName).Options) || !walk(sec.Children) {
					return false
				}
			}
			return true
		}
		if !walk(s.Sections) {
			return false
		}
	}
	return true
}

// keepsFollow reports whether an Options line leaves FollowSymLinks on
// whatever it inherits.
func keepsFollow(line []string) bool {
	if len(line) == 0 || apply(0, line)&optFollowSymLinks != 0 {
		return true
	}
	return signed(line) && apply(optFollowSymLinks, line)&optFollowSymLinks != 0
}

func signed(line []string) bool {
	for _, o := range line {
		if !strings.HasPrefix(o, "+") && !strings.HasPrefix(o, "-") {
			return false
		}
	}
	return true
}

package lua

import (
	"fmt"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// LuaInherit: how the Lua hooks of a section combine with those of the
// contexts it is in. mod_lua merges them along Apache's merge order (the
// main server, the virtual host, then each section): parent-first (the
// default) appends a section's hooks to the inherited ones, parent-last
// puts them first, none drops the inherited ones.
//
// Without any none or parent-last in the config, each hook is its own
// entry (registerHooks); with one, every phase's hooks of each order run
// through one dispatcher that merges them per request, below.

// inheritUsed reports whether a context sets LuaInherit none or
// parent-last.
func (rt *runtime) inheritUsed() bool {
	for _, d := range rt.servers {
		if d.Inherit == "none" || d.Inherit == "parent-last" {
			return true
		}
	}
	for _, d := range rt.sections {
		if d.Inherit == "none" || d.Inherit == "parent-last" {
			return true
		}
	}
	return false
}

// scope is one context a request's hooks come from: a server's top level
// (sec nil) or a section.
type scope struct {
	srv *config.Server
	sec *config.Section
}

// hooks are the scope's hooks of phase and order, in config order.
func (rt *runtime) scopeHooks(sc scope, phase, order string) []Hook {
	var all []Hook
	if sc.sec == nil {
		all = ServerOf(sc.srv).Hooks
	} else {
		all = rt.sections[sc.sec].Hooks
	}
	var out []Hook
	for _, h := range all {
		if h.Phase == phase && h.Order == order {
			out = append(out, h)
		}
	}
	return out
}

// inherit is the scope's LuaInherit.
func (rt *runtime) inherit(sc scope) string {
	if sc.sec == nil {
		return rt.servers[sc.srv].Inherit
	}
	return rt.sections[sc.sec].Inherit
}

// chain is r's scopes in merge order. Before map_to_storage (the early
// phases) the sections are those that match r so far, in config order.
func (rt *runtime) chain(r *phases.Request, phase string) []scope {
	out := []scope{{srv: rt.cfg.Main}}
	srv := rt.cfg.Main
	if r.Vhost != nil && r.Vhost != rt.cfg.Main {
		srv = r.Vhost
		out = append(out, scope{srv: srv})
	}
	if !earlyPhase(phase) {
		for _, sec := range r.Sections {
			out = append(out, scope{sec: sec})
		}
		return out
	}
	var walk func(*config.Server, []*config.Section)
	walk = func(owner *config.Server, secs []*config.Section) {
		for _, sec := range secs {
			if sectionMatches(sec, r) {
				out = append(out, scope{srv: owner, sec: sec})
				walk(owner, sec.Children)
			}
		}
	}
	// The main server's sections apply to every request, a host's to its.
	walk(rt.cfg.Main, rt.cfg.Main.Sections)
	if srv != rt.cfg.Main {
		walk(srv, srv.Sections)
	}
	return out
}

// mergedHooks are the hooks of phase and order that apply to r, merged by
// each scope's LuaInherit.
func (rt *runtime) mergedHooks(r *phases.Request, phase, order string) []Hook {
	var list []Hook
	for i, sc := range rt.chain(r, phase) {
		hs := rt.scopeHooks(sc, phase, order)
		switch {
		case i == 0:
			list = hs
		case rt.inherit(sc) == "none":
			list = hs
		case rt.inherit(sc) == "parent-last":
			list = append(hs[:len(hs):len(hs)], list...)
		default:
			list = append(list[:len(list):len(list)], hs...)
		}
	}
	return list
}

// addInheritingHooks registers, for each phase and order with any Lua
// hook (LuaMapHandler apart), one dispatcher running the merged hooks
// with the phase's kind: RUN_ALL until one neither OK nor DECLINED,
// RUN_FIRST until one not DECLINED, VOID all.
func (rt *runtime) addInheritingHooks(h *phases.RequestHooks) error {
	type key struct{ phase, order string }
	seen := map[key]bool{}
	var keys []key
	note := func(hs []Hook) {
		for _, hk := range hs {
			k := key{hk.Phase, hk.Order}
			if hk.Phase != "map_handler" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	for _, srv := range append([]*config.Server{rt.cfg.Main}, rt.cfg.Vhosts...) {
		note(ServerOf(srv).Hooks)
	}
	for _, d := range rt.sections {
		note(d.Hooks)
	}
	for _, k := range keys {
		target := requestHook(h, k.phase)
		if target == nil {
			continue
		}
		order, err := phases.OrderOf(k.order)
		if err != nil {
			return err
		}
		if k.phase == "pre_translate_name" && order == phases.Middle {
			order = phases.Last
		}
		phase, ord, kind := k.phase, k.order, target.Kind
		target.Add(phases.Entry[phases.RequestHookFunc]{Origin: ModuleName + " (LuaInherit)", Module: ModuleName, Order: order,
			Fn: func(r *phases.Request) (phases.Status, error) {
				result := phases.DECLINED
				for _, hk := range rt.mergedHooks(r, phase, ord) {
					st, err := rt.run(r, hk.File, hk.Function)
					if err != nil {
						return st, fmt.Errorf("%s: %w", rt.origin(hk.File, hk.Function), err)
					}
					switch {
					case kind == phases.RunFirst && st != phases.DECLINED:
						return st, nil
					case kind == phases.RunAll && st != phases.OK && st != phases.DECLINED:
						return st, nil
					case st == phases.OK:
						result = phases.OK
					}
				}
				return result, nil
			}})
	}
	return nil
}

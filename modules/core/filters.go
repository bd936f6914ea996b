package core

import (
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// SetOutputFilter and SetInputFilter (core, per directory): the filters
// every request of a context gets, inserted by core's insert_filter hook
// as Apache's core_insert_filter does. The hook is only registered when
// the config uses them, so other configs pay nothing per request.

// filterDirectives are core's filter directives, with Apache's contexts
// (OR_FILEINFO: anywhere, .htaccess with AllowOverride FileInfo).
func filterDirectives() []*config.Directive {
	set := func(name, help string, field func(*DirSettings) *[]string) *config.Directive {
		return &config.Directive{Name: name, Form: config.Take1, Contexts: config.AnyContext, Help: help, Built: true,
			Handler: func(c *config.Cmd) error {
				names := []string{}
				for _, n := range strings.Split(c.Args[0], ";") {
					if n = strings.TrimSpace(n); n != "" {
						names = append(names, n)
					}
				}
				*field(dirOf(c)) = names
				GlobalOf(c.Config).Filters = true
				return nil
			}}
	}
	return []*config.Directive{
		set("SetOutputFilter", "filter (or ; delimited list of filters) to be run on the request content",
			func(d *DirSettings) *[]string { return &d.OutputFilters }),
		set("SetInputFilter", "filter (or ; delimited list of filters) to be run on the request body",
			func(d *DirSettings) *[]string { return &d.InputFilters }),
	}
}

// registerFilterHook adds core's insert_filter when SetOutputFilter or
// SetInputFilter appears in cfg.
func registerFilterHook(h *phases.RequestHooks, cfg *config.Config) {
	if !GlobalOf(cfg).Filters {
		return
	}
	// Replayable: it only reads the sections; a request it gives filters
	// is made unreplayable by the chain.
	h.InsertFilter.Add(phases.Entry[phases.RequestHookFunc]{Fn: insertFilters, Origin: "core_module (Go)", Module: ModuleName, Order: phases.Middle, Replayable: true})
}

// insertFilters adds the SetOutputFilter and SetInputFilter filters of
// r's contexts: the last context that sets one wins, as Apache merges
// them.
func insertFilters(r *phases.Request) (phases.Status, error) {
	var out, in []string
	for d := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if d.OutputFilters != nil {
			out = d.OutputFilters
		}
		if d.InputFilters != nil {
			in = d.InputFilters
		}
	}
	for _, n := range out {
		r.AddOutputFilter(n)
	}
	for _, n := range in {
		r.AddInputFilter(n)
	}
	return phases.OK, nil
}

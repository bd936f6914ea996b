// Package phases holds what every module plugs into: the module registry,
// named Go handlers, hook kinds and ordering, pools, and the server and
// request life cycles. It knows nothing of sockets.
package phases

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/httpdg/httpdg/config"
)

// Module is a compiled-in module, the Go counterpart of Apache's module
// struct. A module package registers one in init().
type Module struct {
	// Name is the module identifier used by LoadModule and <IfModule>,
	// e.g. "status_module".
	Name string
	// Source is the Apache source file name <IfModule> also accepts, e.g.
	// "mod_status.c"; derived from Name when empty.
	Source string
	// MPM names the multi-processing module this is ("prefork"); only the
	// selected MPM counts as loaded for <IfModule>.
	MPM string
	// Internal marks a module that only groups directives (mpm_common): it
	// is not listed by -M, not named by LoadModule or <IfModule>.
	Internal bool
	// Directives the module declares.
	Directives []*config.Directive
	// RegisterHooks adds the module's hooks for one generation; it is called
	// with that generation's processed config, so it can attach handlers the
	// config names (as the core module does for GoHook* directives).
	RegisterHooks func(h *ServerHooks, cfg *config.Config) error
	// Handlers are named Go handlers the config may name in GoHook*
	// directives, e.g. "startuplog.OpenLogs".
	Handlers map[string]any
}

// The registries below are the only process-wide mutable state: modules
// register in init() and are read-only afterwards.
var (
	regMu    sync.RWMutex
	modules  []*Module
	byName   = map[string]*Module{}
	handlers = map[string]handlerEntry{}
)

type handlerEntry struct {
	module string
	fn     any
}

// RegisterModule adds m to the compiled-in modules. Registering a name twice
// is a programming error and panics, as at init() nothing can report it.
func RegisterModule(m *Module) {
	regMu.Lock()
	defer regMu.Unlock()
	if m.Name == "" {
		panic("phases: module without a name")
	}
	if m.Source == "" {
		m.Source = "mod_" + strings.TrimSuffix(m.Name, "_module") + ".c"
	}
	if _, dup := byName[m.Name]; dup {
		panic(fmt.Sprintf("phases: module %s registered twice", m.Name))
	}
	for name, fn := range m.Handlers {
		if prev, dup := handlers[name]; dup {
			panic(fmt.Sprintf("phases: handler %s registered by both %s and %s", name, prev.module, m.Name))
		}
		handlers[name] = handlerEntry{module: m.Name, fn: fn}
	}
	modules = append(modules, m)
	byName[m.Name] = m
}

// Modules returns the compiled-in modules in registration order, core first.
func Modules() []*Module {
	regMu.RLock()
	defer regMu.RUnlock()
	out := append([]*Module(nil), modules...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name == "core_module" && out[j].Name != "core_module" })
	return out
}

// LookupModule returns the module called name, or nil.
func LookupModule(name string) *Module {
	regMu.RLock()
	defer regMu.RUnlock()
	return byName[name]
}

// Handler returns the named Go handler, or an error listing the registered
// names when there is none.
func Handler(name string) (any, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	if h, ok := handlers[name]; ok {
		return h.fn, nil
	}
	names := make([]string, 0, len(handlers))
	for n := range handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no Go handler named '%s' is registered (none are)", name)
	}
	return nil, fmt.Errorf("no Go handler named '%s' is registered; registered handlers: %s", name, strings.Join(names, ", "))
}

// Directives builds the directive registry of every compiled-in module.
func Directives() (*config.Registry, error) {
	reg := config.NewRegistry()
	for _, m := range Modules() {
		for _, d := range m.Directives {
			if err := reg.Add(m.Name, d); err != nil {
				return nil, err
			}
		}
	}
	return reg, nil
}

// ModuleInfos describes the compiled-in modules to the config reader.
func ModuleInfos() []config.ModuleInfo {
	var out []config.ModuleInfo
	for _, m := range Modules() {
		if m.Internal {
			continue
		}
		out = append(out, config.ModuleInfo{Name: m.Name, Source: m.Source, MPM: m.MPM})
	}
	return out
}

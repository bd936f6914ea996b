package authz

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ProviderFunc checks a "Require <name> args..." line for a provider
// another module supplies (LuaAuthzProvider): Granted, Denied, Neutral,
// DeniedNoUser or GeneralError; an error is logged and counts as
// GeneralError.
type ProviderFunc func(r *phases.Request, args []string) (Result, error)

// externalKey is where a config keeps the providers other modules add.
const externalKey = ModuleName + ":providers"

// external holds a config's added providers: the names declared while it
// is read (so Require lines can name them), the functions set when a
// generation registers its hooks.
type external struct {
	mu    sync.RWMutex
	names map[string]bool
	funcs map[string]ProviderFunc
}

func externalOf(cfg *config.Config) *external { return config.Global[external](cfg, externalKey) }

// DeclareProvider makes "Require name ..." valid in cfg. A directive
// handler calls it (LuaAuthzProvider); as in Apache, the declaration must
// come before the Require lines that use it. Built-in names are refused.
func DeclareProvider(cfg *config.Config, name string) error {
	if _, ok := providers[name]; ok {
		return fmt.Errorf("authorization provider '%s' is built in", name)
	}
	e := externalOf(cfg)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.names == nil {
		e.names = map[string]bool{}
	}
	e.names[name] = true
	return nil
}

// SetProvider gives a declared provider its check for the generation
// being built (from a module's RegisterHooks).
func SetProvider(cfg *config.Config, name string, f ProviderFunc) {
	e := externalOf(cfg)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.funcs == nil {
		e.funcs = map[string]ProviderFunc{}
	}
	e.funcs[name] = f
}

// declared reports whether name was declared in cfg, and the declared
// names for a did-you-mean.
func declared(cfg *config.Config, name string) (bool, []string) {
	e := externalOf(cfg)
	e.mu.RLock()
	defer e.mu.RUnlock()
	var all []string
	for n := range e.names {
		all = append(all, n)
	}
	sort.Strings(all)
	return e.names[name], all
}

// checkExternal runs an added provider's check for r.
func checkExternal(r *phases.Request, rule *Rule) Result {
	if r.Server == nil || r.Server.Config == nil {
		return GeneralError
	}
	e := externalOf(r.Server.Config)
	e.mu.RLock()
	f := e.funcs[rule.Provider]
	e.mu.RUnlock()
	if f == nil {
		logErr(r, "unknown authorization provider %s", rule.Provider)
		return GeneralError
	}
	res, err := f(r, rule.Args)
	if err != nil {
		logErr(r, "authorization provider %s failed: %v", rule.Provider, err)
		return GeneralError
	}
	return res
}

// similar returns the name among names equal to name but for case.
func similar(name string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

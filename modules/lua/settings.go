package lua

import (
	"regexp"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
)

// Defaults of the per-directory settings, as in Apache's mod_lua (LuaScope,
// LuaCodeCache, LuaInherit) and httpdg's SPEC (LuaTimeout, LuaCompile).
const (
	DefaultScope     = "once"
	DefaultCodeCache = "stat"
	DefaultInherit   = "parent-first"
	DefaultCompile   = "eager"
	DefaultTimeout   = 30 * time.Second
	// DefaultFunction is the function LuaMapHandler calls when none is named.
	DefaultFunction = "handle"
)

// Hook is one Lua function attached by a directive: a LuaHook* phase hook,
// a LuaQuickHandler, a LuaMapHandler, a Lua filter or an authz provider.
type Hook struct {
	Directive string // the directive as declared, e.g. "LuaHookFixups"
	// Phase is the hook phase ("fixups", "open_logs", "quick_handler"...),
	// or "map_handler", "output_filter", "input_filter", "authz_provider".
	Phase    string
	File     string         // the script's absolute path (may hold $1.. for LuaMapHandler)
	Function string         // the Lua function to call (may hold $1.. for LuaMapHandler)
	Order    string         // "", "early" or "late"
	Pattern  *regexp.Regexp // LuaMapHandler's URI regex
	Name     string         // the filter or authz provider name
	Origin   *config.Origin // the directive's line
}

// Dynamic reports whether the file or function name holds regex
// back-references ($1...) filled in per request (LuaMapHandler only).
func (h Hook) Dynamic() bool {
	return backref.MatchString(h.File) || backref.MatchString(h.Function)
}

// SharedDict is one LuaSharedDict declaration.
type SharedDict struct {
	Name   string
	Size   int64 // bytes
	Origin *config.Origin
}

// Script is one Lua script met while loading the config.
type Script struct {
	Path  string             // absolute path
	Proto *lua.FunctionProto // nil when not compiled (LuaCompile lazy)
	// Globals are the names the script's top level defines as globals
	// (function f, f = ...), used to warn about a hook naming a function
	// the script does not define.
	Globals map[string]bool
	Err     error // the compile error, "file:line: message"
	// ModTime and Size are the file's, as stat(2) saw it just before it
	// was read (LuaCodeCache stat compares them).
	ModTime time.Time
	Size    int64
}

// Global holds the lua_module settings that are process-wide.
type Global struct {
	SharedDicts    []SharedDict
	AuthzProviders []Hook
	// Compile is "eager" or "lazy": the last LuaCompile line of the whole
	// config, wherever it stands (it decides how every script is checked).
	Compile string

	compileKnown bool
	scripts      map[string]*Script
}

// ServerSettings holds the hooks of one server (main or virtual) made
// outside any per-directory section.
type ServerSettings struct {
	Hooks []Hook
}

// HooksFor returns the server's hooks of phase, in config order.
func (s *ServerSettings) HooksFor(phase string) []Hook { return hooksFor(s.Hooks, phase) }

// DirSettings holds the lua_module settings of a per-directory section, or
// a server's defaults for all directories. Zero values mean "not set here"
// (see the Default* constants).
type DirSettings struct {
	Root         string // LuaRoot, absolute
	PackagePath  []string
	PackageCPath []string
	Scope        string // once, request, conn, thread or server
	ScopeMin     int    // LuaScope server min max (0 when not given)
	ScopeMax     int
	CodeCache    string // stat, forever or never
	Inherit      string // parent-first, parent-last or none
	AllowIO      *bool
	Timeout      *time.Duration
	MemoryLimit  *int64 // bytes; 0 is no limit
	Hooks        []Hook
}

// HooksFor returns the section's hooks of phase, in config order.
func (d *DirSettings) HooksFor(phase string) []Hook { return hooksFor(d.Hooks, phase) }

func hooksFor(hs []Hook, phase string) []Hook {
	var out []Hook
	for _, h := range hs {
		if h.Phase == phase {
			out = append(out, h)
		}
	}
	return out
}

// GlobalOf returns the process-wide lua_module settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// ServerOf returns the lua_module hooks of server s made outside sections.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

// ServerDirOf returns server s's per-directory defaults (the per-dir
// directives written outside any section).
func ServerDirOf(s *config.Server) *DirSettings {
	return config.ServerDirConf[DirSettings](s, ModuleName)
}

// SectionOf returns the lua_module settings of a per-directory section.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// LifecycleHooks returns the main server's hooks of a server life-cycle
// phase (open_logs, post_config, child_init, child_exit) in config order.
func LifecycleHooks(cfg *config.Config, phase string) []Hook {
	if cfg.Main == nil {
		return nil
	}
	return ServerOf(cfg.Main).HooksFor(phase)
}

// Compiled returns the prototype compiled at config time for the script at
// path (absolute), or nil when it was not compiled (LuaCompile lazy).
func Compiled(cfg *config.Config, path string) *lua.FunctionProto {
	if s := GlobalOf(cfg).scripts[path]; s != nil {
		return s.Proto
	}
	return nil
}

// dirOf returns the settings a per-directory directive writes: those of the
// enclosing section, or the server's defaults outside any section.
func dirOf(c *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](c, ModuleName)
}

// luaRoot is the LuaRoot in effect at c: the innermost section that set
// one, else the server's, else the main server's; "" when none did.
func luaRoot(c *config.Cmd) string {
	for sec := c.Section; sec != nil; sec = sec.Parent {
		if r := SectionOf(sec).Root; r != "" {
			return r
		}
	}
	if r := ServerDirOf(c.Server).Root; r != "" {
		return r
	}
	if c.Config.Main != nil && c.Server != c.Config.Main {
		return ServerDirOf(c.Config.Main).Root
	}
	return ""
}

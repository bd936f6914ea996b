package lua

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/authz"
	"github.com/httpdg/httpdg/modules/lua/shdict"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the lua module's identifier.
const ModuleName = "lua_module"

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_lua.c", Directives: directives(), RegisterHooks: registerHooks})
}

// Contexts, as mod_lua declares them: OR_ALL for almost everything; the
// hooks that run before a request is mapped to a directory refuse
// <Directory>, <Files> and .htaccess (ap_check_cmd_context in mod_lua).
const (
	allCtx   = config.AnyContext
	transCtx = config.ServerVhost | config.InLocation
)

// hookDirectives maps each hook directive to its phase.
var hookDirectives = []struct {
	directive, phase string
	ctx              config.Context
	help             string
}{
	{"LuaHookPreTranslateName", "pre_translate_name", transCtx, "Provide a hook for the pre_translate name phase of request processing"},
	{"LuaHookTranslateName", "translate_name", transCtx, "Provide a hook for the translate name phase of request processing"},
	{"LuaHookMapToStorage", "map_to_storage", allCtx, "Provide a hook for the map_to_storage phase of request processing"},
	{"LuaHookCheckUserID", "check_user_id", allCtx, "Provide a hook for the check_user_id phase of request processing"},
	{"LuaHookAccessChecker", "access_checker", allCtx, "Provide a hook for the access_checker phase of request processing"},
	{"LuaHookAuthChecker", "auth_checker", allCtx, "Provide a hook for the auth_checker phase of request processing"},
	{"LuaHookTypeChecker", "type_checker", allCtx, "Provide a hook for the type_checker phase of request processing"},
	{"LuaHookFixups", "fixups", allCtx, "Provide a hook for the fixups phase of request processing"},
	{"LuaHookInsertFilter", "insert_filter", allCtx, "Provide a hook for the insert_filter phase of request processing"},
	{"LuaHookLog", "log_transaction", allCtx, "Provide a hook for the logging phase of request processing"},
	{"LuaQuickHandler", "quick_handler", transCtx, "Provide a hook for the quick handler of request processing"},
	// SPEC §8's hooks from Perlbal, for Lua as for Go (GoHook*).
	{"LuaHookModifyResponseHeaders", "modify_response_headers", allCtx, "Provide a hook run just before the response's status line and headers are sent (RUN_ALL)"},
	{"LuaHookStartServeRequest", "start_serve_request", allCtx, "Provide a hook run before the static handler serves a file or directory; an answer other than DECLINED takes the request over"},
	{"LuaHookStaticFileMissing", "static_get_poststat_file_missing", allCtx, "Provide a hook run when the static handler finds no file; an answer other than DECLINED takes the request over"},
	{"LuaHookStaticPreSend", "static_get_poststat_pre_send", allCtx, "Provide a hook run when the static handler found the file, before anything is sent; an answer other than DECLINED takes the request over"},
	{"LuaHookStartSendFile", "start_send_file", allCtx, "Provide a hook run with the file's headers set, before the static handler sends it; an answer other than DECLINED takes the request over"},
	{"LuaHookBackendClientAssigned", "backend_client_assigned", allCtx, "Provide a hook run when the reverse proxy has chosen a backend; an answer other than DECLINED takes the request over"},
	{"LuaHookBackendResponseReceived", "backend_response_received", allCtx, "Provide a hook run when the backend's response head arrived; an answer other than DECLINED answers in its place"},
	{"LuaHookEndProxyRequest", "end_proxy_request", allCtx, "Provide a hook run when a proxied exchange is over (VOID)"},
	// httpdg's server life-cycle hooks (SPEC §7).
	{"LuaHookOpenLogs", "open_logs", config.ServerOnly, "Provide a hook for the open_logs phase of the server life cycle: f(pconf, plog, ptemp, s)"},
	{"LuaHookPostConfig", "post_config", config.ServerOnly, "Provide a hook for the post_config phase of the server life cycle: f(pconf, plog, ptemp, s)"},
	{"LuaHookChildInit", "child_init", config.ServerOnly, "Provide a hook for the child_init phase of the server life cycle: f(pchild, s)"},
	{"LuaHookChildExit", "child_exit", config.ServerOnly, "Provide a hook for the child_exit phase of the server life cycle: f(pchild, s)"},
}

func directives() []*config.Directive {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h}
	}
	out := []*config.Directive{
		d("LuaRoot", config.Take1, allCtx, "Specify the base path for resolving relative paths for mod_lua directives", luaRootDirective),
		d("LuaPackagePath", config.Take1, allCtx, "Add a directory to lua's package.path", func(c *config.Cmd) error {
			ds := dirOf(c)
			ds.PackagePath = append(ds.PackagePath, c.Path(c.Args[0]))
			return nil
		}),
		d("LuaPackageCPath", config.Take1, allCtx, "Add a directory to lua's package.cpath", func(c *config.Cmd) error {
			ds := dirOf(c)
			ds.PackageCPath = append(ds.PackageCPath, c.Path(c.Args[0]))
			return nil
		}),
		d("LuaScope", config.Take123, allCtx, "One of once, request, conn, thread, server [min max] -- default is once", luaScope),
		d("LuaCodeCache", config.Take1, allCtx, "Controls the behavior of the in-memory code cache context: stat|forever|never (default: stat)", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "stat", "forever", "never")
			if err != nil {
				return fmt.Errorf("Invalid value for LuaCodeCache, '%s', acceptable values are 'stat', 'forever' and 'never'", c.Args[0])
			}
			dirOf(c).CodeCache = v
			return nil
		}),
		d("LuaInherit", config.Take1, allCtx, "Controls how Lua scripts in parent contexts are merged with the current context: none|parent-last|parent-first (default: parent-first)", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "none", "parent-first", "parent-last")
			if err != nil {
				return fmt.Errorf("LuaInherit type of '%s' not recognized, valid options are 'none', 'parent-first', and 'parent-last'", c.Args[0])
			}
			dirOf(c).Inherit = v
			return nil
		}),
		d("LuaMapHandler", config.Take23, allCtx, "Maps a path to a lua handler", luaMapHandler),
		d("LuaOutputFilter", config.Take3, allCtx, "Registers a Lua function as an output filter", luaFilter("output_filter")),
		d("LuaInputFilter", config.Take3, allCtx, "Registers a Lua function as an input filter", luaFilter("input_filter")),
		d("LuaAuthzProvider", config.Take3, config.ServerOnly, "Provide an authorization provider", luaAuthzProvider),
		// httpdg's additions (SPEC §7).
		d("LuaSharedDict", config.Take2, config.ServerOnly, "A dict shared by every process of the server, kept across graceful restarts: a name and a size (with K, M or G)", luaSharedDict),
		d("LuaAllowIO", config.Flag, config.ServerVhostD, "Whether request-time scripts get the io library (On or Off, default Off)", func(c *config.Cmd) error {
			v := c.Flag()
			dirOf(c).AllowIO = &v
			return nil
		}),
		d("LuaTimeout", config.Take1, config.ServerVhostD, "Seconds a Lua call may run before it is stopped (default 30; 0 for no limit)", func(c *config.Cmd) error {
			t, err := c.Seconds(c.Args[0])
			if err != nil {
				return err
			}
			dirOf(c).Timeout = &t
			return nil
		}),
		d("LuaMemoryLimit", config.Take1, config.ServerVhostD, "Memory a Lua state may use, with K, M or G (0 for no limit)", func(c *config.Cmd) error {
			n, err := c.Size(c.Args[0])
			if err != nil {
				return err
			}
			if n != 0 && n < minMemoryLimit {
				return fmt.Errorf("LuaMemoryLimit: %s is too small for a Lua state (at least %dK, or 0 for no limit)", c.Args[0], minMemoryLimit>>10)
			}
			dirOf(c).MemoryLimit = &n
			return nil
		}),
		d("LuaCompile", config.Take1, config.ServerOnly, "When scripts are compiled: eager (at config test and start, the default) or lazy (on first use)", func(c *config.Cmd) error {
			if _, err := c.OneOf(c.Args[0], "lazy", "eager"); err != nil {
				return err
			}
			compileMode(c.Config) // the last LuaCompile line of the config decides
			return nil
		}),
	}
	for _, h := range hookDirectives {
		phase := h.phase
		out = append(out, d(h.directive, config.Take23, h.ctx, h.help, func(c *config.Cmd) error { return luaHook(c, phase) }))
	}
	for _, d := range out {
		d.Built = !notBuilt[d.Name]
	}
	return out
}

// notBuilt are the directives whose run-time part does not exist yet:
// they are read and checked, and -L marks them.
var notBuilt = map[string]bool{
	"LuaPackageCPath": true, // gopher-lua loads no C modules
}

const (
	minMemoryLimit = 256 << 10 // a bare gopher-lua state needs about this much
	minSharedDict  = shdict.MinSize
	maxSharedDict  = 1 << 40
)

var (
	luaIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	backref  = regexp.MustCompile(`\$[0-9]`)
)

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

func isLuaName(s string) bool { return luaIdent.MatchString(s) && !luaKeywords[s] }

func checkFunction(c *config.Cmd, fn string) error {
	if !isLuaName(fn) {
		return fmt.Errorf("%s: '%s' is not a Lua function name (a global: letters, digits and _, not starting with a digit)", c.Directive.Name, fn)
	}
	return nil
}

func luaRootDirective(c *config.Cmd) error {
	root := c.Path(c.Args[0])
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		c.Warn("LuaRoot [%s] does not exist or is not a directory", root)
	}
	dirOf(c).Root = root
	return nil
}

// luaScope handles "LuaScope once|request|conn|thread|server [min max]".
func luaScope(c *config.Cmd) error {
	scope, err := c.OneOf(c.Args[0], "once", "request", "conn", "thread", "server")
	if err != nil {
		return fmt.Errorf("Invalid value for LuaScope, '%s', acceptable values are: 'once', 'request', 'conn', 'thread', 'server'", c.Args[0])
	}
	ds := dirOf(c)
	min, max := 0, 0
	if len(c.Args) > 1 {
		if scope != "server" {
			return fmt.Errorf("LuaScope: a minimum and maximum number of Lua states only apply to the server scope, not '%s'", scope)
		}
		n, err := c.Int(c.Args[1], 0, 1<<20)
		if err != nil {
			return err
		}
		min, max = int(n), int(n)
		if len(c.Args) == 3 {
			m, err := c.Int(c.Args[2], 1, 1<<20)
			if err != nil {
				return err
			}
			max = int(m)
		}
		if max < 1 {
			max = 1
		}
		if max < min {
			return fmt.Errorf("LuaScope: the maximum number of Lua states (%d) is below the minimum (%d)", max, min)
		}
	}
	ds.Scope, ds.ScopeMin, ds.ScopeMax = scope, min, max
	return nil
}

// luaHook handles "LuaHookX file function [early|late]".
func luaHook(c *config.Cmd, phase string) error {
	file, fn := c.Args[0], c.Args[1]
	order := ""
	if len(c.Args) == 3 {
		switch strings.ToLower(c.Args[2]) {
		case "early", "late":
			order = strings.ToLower(c.Args[2])
		default:
			return fmt.Errorf("%s: third argument must be 'early' or 'late', not '%s'", c.Directive.Name, c.Args[2])
		}
	}
	if err := checkFunction(c, fn); err != nil {
		return err
	}
	path, err := checkScript(c, file, fn)
	if err != nil {
		return err
	}
	addHook(c, Hook{Directive: c.Directive.Name, Phase: phase, File: path, Function: fn, Order: order, Origin: c.Node.Origin})
	return nil
}

// luaMapHandler handles "LuaMapHandler regex file [function]". The file and
// function may use the regex's groups ($1...), in which case they are only
// known per request and are not checked now.
func luaMapHandler(c *config.Cmd) error {
	re, err := c.Regex(c.Args[0])
	if err != nil {
		return err
	}
	file, fn := c.Args[1], DefaultFunction
	if len(c.Args) == 3 {
		fn = c.Args[2]
	}
	for _, s := range []string{file, fn} {
		for _, m := range backref.FindAllString(s, -1) {
			if n, _ := strconv.Atoi(m[1:]); n > re.NumSubexp() {
				return fmt.Errorf("LuaMapHandler: %s refers to group %d, but the regex '%s' has %d", s, n, c.Args[0], re.NumSubexp())
			}
		}
	}
	h := Hook{Directive: c.Directive.Name, Phase: "map_handler", Function: fn, Pattern: re, Origin: c.Node.Origin}
	switch {
	case backref.MatchString(file):
		h.File = scriptPath(c, file)
	default:
		check := fn
		if backref.MatchString(fn) {
			check = ""
		} else if err := checkFunction(c, fn); err != nil {
			return err
		}
		if h.File, err = checkScript(c, file, check); err != nil {
			return err
		}
	}
	addHook(c, h)
	return nil
}

// luaFilter handles "LuaOutputFilter|LuaInputFilter name file function".
func luaFilter(phase string) func(*config.Cmd) error {
	return func(c *config.Cmd) error {
		name, file, fn := c.Args[0], c.Args[1], c.Args[2]
		if name == "" || strings.ContainsAny(name, " \t,") {
			return fmt.Errorf("%s: '%s' is not a filter name", c.Directive.Name, name)
		}
		if err := checkFunction(c, fn); err != nil {
			return err
		}
		path, err := checkScript(c, file, fn)
		if err != nil {
			return err
		}
		addHook(c, Hook{Directive: c.Directive.Name, Phase: phase, Name: name, File: path, Function: fn, Origin: c.Node.Origin})
		return nil
	}
}

// luaAuthzProvider handles "LuaAuthzProvider name file function".
func luaAuthzProvider(c *config.Cmd) error {
	name, file, fn := c.Args[0], c.Args[1], c.Args[2]
	if name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("LuaAuthzProvider: '%s' is not a provider name", name)
	}
	g := GlobalOf(c.Config)
	for _, p := range g.AuthzProviders {
		if strings.EqualFold(p.Name, name) {
			return fmt.Errorf("LuaAuthzProvider: provider '%s' is already declared at %s", name, p.Origin.Short())
		}
	}
	if err := checkFunction(c, fn); err != nil {
		return err
	}
	path, err := checkScript(c, file, fn)
	if err != nil {
		return err
	}
	if err := authz.DeclareProvider(c.Config, name); err != nil {
		return fmt.Errorf("LuaAuthzProvider: %v", err)
	}
	g.AuthzProviders = append(g.AuthzProviders, Hook{Directive: c.Directive.Name, Phase: "authz_provider", Name: name, File: path, Function: fn, Origin: c.Node.Origin})
	return nil
}

// luaSharedDict handles "LuaSharedDict NAME size".
func luaSharedDict(c *config.Cmd) error {
	name := c.Args[0]
	if !isLuaName(name) {
		return fmt.Errorf("LuaSharedDict: '%s' is not a valid dict name (a Lua identifier: letters, digits and _, not starting with a digit, not a keyword), so httpdg.shared.%s could not name it", name, name)
	}
	size, err := c.Size(c.Args[1])
	if err != nil {
		return err
	}
	if size < minSharedDict {
		return fmt.Errorf("LuaSharedDict: size %s of dict '%s' is too small (at least %dK)", c.Args[1], name, minSharedDict>>10)
	}
	if size > maxSharedDict {
		return fmt.Errorf("LuaSharedDict: size %s of dict '%s' is too large (at most 1024G)", c.Args[1], name)
	}
	g := GlobalOf(c.Config)
	for _, sd := range g.SharedDicts {
		if sd.Name == name {
			return fmt.Errorf("LuaSharedDict: dict '%s' is already declared at %s", name, sd.Origin.Short())
		}
	}
	g.SharedDicts = append(g.SharedDicts, SharedDict{Name: name, Size: size, Origin: c.Node.Origin})
	return nil
}

func addHook(c *config.Cmd, h Hook) {
	if c.Section != nil {
		ds := SectionOf(c.Section)
		ds.Hooks = append(ds.Hooks, h)
		return
	}
	s := ServerOf(c.Server)
	s.Hooks = append(s.Hooks, h)
}

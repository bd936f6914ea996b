package lua_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/lua"
	"github.com/httpdg/httpdg/phases/phasestest"
)

const goodScript = `-- a hook script
function fixups(r)
  return apache2.OK
end

translate = function(r) return apache2.DECLINED end

function handle(r)
  r:puts("hello")
end

function open_logs(pconf, plog, ptemp, s) end
function post_config(pconf, plog, ptemp, s) end
function child_init(pchild, s) end
function child_exit(pchild, s) end
function filter(r) coroutine.yield() end
function authz(r) return apache2.AUTHZ_GRANTED end
`

// syntaxError has an error on line 3.
const syntaxError = "function fixups(r)\n  local x = 1\n  if x then return x\nend end end\n"

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		files map[string]string
		// want are substrings of the error ({root} is the ServerRoot);
		// none means the config must load.
		want  []string
		warn  string // a substring of some warning
		check func(t *testing.T, cfg *config.Config, root string)
	}{
		{
			name: "good hooks of every kind",
			conf: `LuaHookFixups conf/lua/hooks.lua fixups
LuaHookTranslateName conf/lua/hooks.lua translate early
LuaHookPreTranslateName conf/lua/hooks.lua translate late
LuaHookMapToStorage conf/lua/hooks.lua fixups
LuaHookCheckUserID conf/lua/hooks.lua fixups
LuaHookAccessChecker conf/lua/hooks.lua fixups
LuaHookAuthChecker conf/lua/hooks.lua fixups
LuaHookTypeChecker conf/lua/hooks.lua fixups
LuaHookInsertFilter conf/lua/hooks.lua fixups
LuaHookLog conf/lua/hooks.lua fixups
LuaQuickHandler conf/lua/hooks.lua handle
LuaHookOpenLogs conf/lua/hooks.lua open_logs
LuaHookPostConfig conf/lua/hooks.lua post_config
LuaHookChildInit conf/lua/hooks.lua child_init
LuaHookChildExit conf/lua/hooks.lua child_exit Late
LuaMapHandler ^/hello conf/lua/hooks.lua
LuaOutputFilter myfilter conf/lua/hooks.lua filter
LuaInputFilter myinput conf/lua/hooks.lua filter
LuaAuthzProvider foo conf/lua/hooks.lua authz
LuaPackagePath lib/?.lua
LuaPackageCPath lib/?.so
LuaScope server 2 8
LuaCodeCache forever
LuaInherit parent-last
LuaSharedDict cache 10M
LuaSharedDict sessions 512k
LuaAllowIO On
LuaTimeout 5
LuaMemoryLimit 64M
<Location /app>
    LuaHookFixups conf/lua/hooks.lua fixups
    LuaScope request
    LuaCodeCache never
</Location>
`,
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			check: func(t *testing.T, cfg *config.Config, root string) {
				script := filepath.Join(root, "conf/lua/hooks.lua")
				srv := lua.ServerOf(cfg.Main)
				if n := len(srv.Hooks); n != 18 {
					t.Errorf("server hooks = %d, want 18", n)
				}
				ol := lua.LifecycleHooks(cfg, "open_logs")
				if len(ol) != 1 || ol[0].File != script || ol[0].Function != "open_logs" || ol[0].Origin.Line != 12 {
					t.Errorf("open_logs hooks = %+v", ol)
				}
				if ce := lua.LifecycleHooks(cfg, "child_exit"); len(ce) != 1 || ce[0].Order != "late" {
					t.Errorf("child_exit hooks = %+v", ce)
				}
				if tr := srv.HooksFor("translate_name"); len(tr) != 1 || tr[0].Order != "early" || tr[0].Directive != "LuaHookTranslateName" {
					t.Errorf("translate_name hooks = %+v", tr)
				}
				mh := srv.HooksFor("map_handler")
				if len(mh) != 1 || mh[0].Function != "handle" || !mh[0].Pattern.MatchString("/hello/x") {
					t.Errorf("map_handler hooks = %+v", mh)
				}
				if of := srv.HooksFor("output_filter"); len(of) != 1 || of[0].Name != "myfilter" {
					t.Errorf("output_filter hooks = %+v", of)
				}
				g := lua.GlobalOf(cfg)
				if len(g.AuthzProviders) != 1 || g.AuthzProviders[0].Name != "foo" {
					t.Errorf("authz providers = %+v", g.AuthzProviders)
				}
				if len(g.SharedDicts) != 2 || g.SharedDicts[0].Size != 10<<20 || g.SharedDicts[1].Size != 512<<10 {
					t.Errorf("shared dicts = %+v", g.SharedDicts)
				}
				if g.Compile != "eager" {
					t.Errorf("Compile = %q, want eager", g.Compile)
				}
				if lua.Compiled(cfg, script) == nil {
					t.Errorf("script was not compiled")
				}
				ds := lua.ServerDirOf(cfg.Main)
				if ds.Scope != "server" || ds.ScopeMin != 2 || ds.ScopeMax != 8 || ds.CodeCache != "forever" || ds.Inherit != "parent-last" {
					t.Errorf("dir settings = %+v", ds)
				}
				if len(ds.PackagePath) != 1 || ds.PackagePath[0] != filepath.Join(root, "lib/?.lua") {
					t.Errorf("package path = %v", ds.PackagePath)
				}
				if ds.AllowIO == nil || !*ds.AllowIO || ds.Timeout == nil || *ds.Timeout != 5*time.Second || ds.MemoryLimit == nil || *ds.MemoryLimit != 64<<20 {
					t.Errorf("sandbox settings = %+v", ds)
				}
				sec := cfg.Main.Sections[0]
				ss := lua.SectionOf(sec)
				if len(ss.Hooks) != 1 || ss.Hooks[0].Phase != "fixups" || ss.Scope != "request" || ss.CodeCache != "never" {
					t.Errorf("section settings = %+v", ss)
				}
			},
		},
		{
			name: "LuaRoot resolves script paths, per section too",
			conf: `LuaRoot scripts
LuaHookFixups hooks.lua fixups
<Directory /srv>
    LuaRoot other
    LuaHookFixups hooks.lua fixups
</Directory>
<VirtualHost *:80>
    LuaHookLog hooks.lua fixups
</VirtualHost>
`,
			files: map[string]string{"scripts/hooks.lua": goodScript, "other/hooks.lua": goodScript},
			check: func(t *testing.T, cfg *config.Config, root string) {
				if h := lua.ServerOf(cfg.Main).Hooks; len(h) != 1 || h[0].File != filepath.Join(root, "scripts/hooks.lua") {
					t.Errorf("main hooks = %+v", h)
				}
				if h := lua.SectionOf(cfg.Main.Sections[0]).Hooks; len(h) != 1 || h[0].File != filepath.Join(root, "other/hooks.lua") {
					t.Errorf("section hooks = %+v", h)
				}
				if h := lua.ServerOf(cfg.Vhosts[0]).Hooks; len(h) != 1 || h[0].File != filepath.Join(root, "scripts/hooks.lua") {
					t.Errorf("vhost hooks = %+v", h)
				}
				if n := len(lua.LifecycleHooks(cfg, "fixups")); n != 1 {
					t.Errorf("fixups hooks of the main server = %d", n)
				}
			},
		},
		{
			name:  "each script is compiled once",
			conf:  "LuaHookFixups conf/lua/a.lua fixups\nLuaHookLog conf/lua/a.lua fixups\nLuaHookFixups conf/lua/b.lua fixups\n",
			files: map[string]string{"conf/lua/a.lua": goodScript, "conf/lua/b.lua": goodScript},
			check: func(t *testing.T, cfg *config.Config, root string) {
				a := lua.Compiled(cfg, filepath.Join(root, "conf/lua/a.lua"))
				b := lua.Compiled(cfg, filepath.Join(root, "conf/lua/b.lua"))
				if a == nil || b == nil || a == b {
					t.Errorf("compiled a=%p b=%p", a, b)
				}
			},
		},
		{
			name:  "syntax error names the Lua file and line and the config line",
			conf:  "ServerName x\nLuaHookFixups conf/lua/x.lua fixups\n",
			files: map[string]string{"conf/lua/x.lua": syntaxError},
			want:  []string{"Syntax error on line 2 of {root}/conf/httpd.conf:", "LuaHookFixups: lua script conf/lua/x.lua:4: near 'end'", "syntax error"},
		},
		{
			name:  "syntax error at end of file names the last line",
			conf:  "LuaHookOpenLogs conf/lua/x.lua f\n",
			files: map[string]string{"conf/lua/x.lua": "function f()\n  return 1\n"},
			want:  []string{"line 1 of {root}/conf/httpd.conf", "LuaHookOpenLogs: lua script conf/lua/x.lua:2: at end of file"},
		},
		{
			name:  "unterminated string names its line",
			conf:  "LuaHookFixups conf/lua/x.lua fixups\n",
			files: map[string]string{"conf/lua/x.lua": "function fixups(r)\n  x = \"abc\nend\n"},
			want:  []string{"LuaHookFixups: lua script conf/lua/x.lua:2: near 'abc': unterminated string"},
		},
		{
			name:  "compile error (goto without label) names the line",
			conf:  "\n\nLuaHookLog conf/lua/x.lua f\n",
			files: map[string]string{"conf/lua/x.lua": "function f()\n  goto nowhere\nend\n"},
			want:  []string{"line 3 of {root}/conf/httpd.conf", "LuaHookLog: lua script conf/lua/x.lua:", "nowhere"},
		},
		{
			name:  "syntax error in an included file shows the include chain",
			conf:  "Include conf/extra/lua.conf\n",
			files: map[string]string{"conf/extra/lua.conf": "# lua\nLuaMapHandler ^/x conf/lua/x.lua\n", "conf/lua/x.lua": syntaxError},
			want:  []string{"line 2 of {root}/conf/extra/lua.conf (included from line 1 of {root}/conf/httpd.conf)", "LuaMapHandler: lua script conf/lua/x.lua:4:"},
		},
		{
			name:  "LuaCompile lazy skips the compile check, wherever it stands",
			conf:  "LuaHookFixups conf/lua/x.lua fixups\nLuaCompile lazy\n",
			files: map[string]string{"conf/lua/x.lua": syntaxError},
			check: func(t *testing.T, cfg *config.Config, root string) {
				if g := lua.GlobalOf(cfg); g.Compile != "lazy" {
					t.Errorf("Compile = %q", g.Compile)
				}
				if lua.Compiled(cfg, filepath.Join(root, "conf/lua/x.lua")) != nil {
					t.Errorf("script compiled under LuaCompile lazy")
				}
			},
		},
		{
			name:  "LuaCompile eager compiles",
			conf:  "LuaCompile eager\nLuaHookFixups conf/lua/x.lua fixups\n",
			files: map[string]string{"conf/lua/x.lua": syntaxError},
			want:  []string{"conf/lua/x.lua:4:"},
		},
		{
			name: "LuaCompile lazy still needs the file",
			conf: "LuaCompile lazy\nLuaHookFixups conf/lua/missing.lua fixups\n",
			want: []string{"line 2 of", "LuaHookFixups: could not open {root}/conf/lua/missing.lua"},
		},
		{
			name: "missing script",
			conf: "LuaHookChildInit conf/lua/missing.lua child_init\n",
			want: []string{"line 1 of {root}/conf/httpd.conf", "LuaHookChildInit: could not open {root}/conf/lua/missing.lua"},
		},
		{name: "bad LuaCompile", conf: "LuaCompile sometimes\n", want: []string{"LuaCompile: 'sometimes' must be one of lazy, eager"}},
		{name: "bad LuaScope", conf: "\nLuaScope forever\n", want: []string{"line 2 of", "Invalid value for LuaScope, 'forever'"}},
		{name: "LuaScope min max without server", conf: "LuaScope thread 1 2\n", want: []string{"only apply to the server scope"}},
		{name: "LuaScope min not a number", conf: "LuaScope server x 2\n", want: []string{"LuaScope: 'x' is not a whole number"}},
		{name: "LuaScope max below min", conf: "LuaScope server 5 2\n", want: []string{"maximum number of Lua states (2) is below the minimum (5)"}},
		{name: "LuaScope too many args", conf: "LuaScope server 1 2 3\n", want: []string{"LuaScope takes one, two or three arguments"}},
		{name: "bad LuaCodeCache", conf: "LuaCodeCache sometimes\n", want: []string{"Invalid value for LuaCodeCache, 'sometimes'"}},
		{name: "bad LuaInherit", conf: "LuaInherit child-first\n", want: []string{"LuaInherit type of 'child-first' not recognized"}},
		{name: "LuaSharedDict bad name", conf: "LuaSharedDict my-dict 1M\n", want: []string{"LuaSharedDict: 'my-dict' is not a valid dict name"}},
		{name: "LuaSharedDict name starts with a digit", conf: "LuaSharedDict 1dict 1M\n", want: []string{"'1dict' is not a valid dict name"}},
		{name: "LuaSharedDict keyword name", conf: "LuaSharedDict end 1M\n", want: []string{"'end' is not a valid dict name"}},
		{name: "LuaSharedDict bad size", conf: "LuaSharedDict cache 10X\n", want: []string{"LuaSharedDict: '10X' is not a size"}},
		{name: "LuaSharedDict too small", conf: "LuaSharedDict cache 100\n", want: []string{"too small"}},
		{name: "LuaSharedDict declared twice", conf: "LuaSharedDict cache 1M\nLuaSharedDict cache 2M\n", want: []string{"line 2 of", "dict 'cache' is already declared at {root}/conf/httpd.conf:1"}},
		{name: "LuaSharedDict in a vhost", conf: "<VirtualHost *:80>\nLuaSharedDict cache 1M\n</VirtualHost>\n", want: []string{"LuaSharedDict cannot occur within <VirtualHost> section"}},
		{name: "LuaAllowIO not a flag", conf: "LuaAllowIO yes\n", want: []string{"LuaAllowIO must be On or Off"}},
		{name: "LuaTimeout bad", conf: "LuaTimeout soon\n", want: []string{"LuaTimeout: 'soon' is not a time in seconds"}},
		{name: "LuaMemoryLimit bad", conf: "LuaMemoryLimit lots\n", want: []string{"LuaMemoryLimit: 'lots' is not a size"}},
		{name: "LuaMemoryLimit too small", conf: "LuaMemoryLimit 1K\n", want: []string{"too small for a Lua state"}},
		{
			name:  "bad hook order",
			conf:  "LuaHookFixups conf/lua/hooks.lua fixups middle\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"LuaHookFixups: third argument must be 'early' or 'late', not 'middle'"},
		},
		{
			name:  "bad function name",
			conf:  "LuaHookFixups conf/lua/hooks.lua fix-ups\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"'fix-ups' is not a Lua function name"},
		},
		{name: "hook with one argument", conf: "LuaHookFixups conf/lua/hooks.lua\n", want: []string{"LuaHookFixups takes two or three arguments"}},
		{
			name:  "translate_name hook inside <Directory>",
			conf:  "<Directory /srv>\nLuaHookTranslateName conf/lua/hooks.lua translate\n</Directory>\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"line 2 of", "LuaHookTranslateName cannot occur within <Directory> section"},
		},
		{
			name:  "life-cycle hook inside a vhost",
			conf:  "<VirtualHost *:80>\nLuaHookOpenLogs conf/lua/hooks.lua open_logs\n</VirtualHost>\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"LuaHookOpenLogs cannot occur within <VirtualHost> section"},
		},
		{
			name:  "undefined function is a warning",
			conf:  "LuaHookFixups conf/lua/hooks.lua nosuch\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			warn:  "conf/lua/hooks.lua does not define a global function 'nosuch'",
		},
		{name: "LuaMapHandler bad regex", conf: "LuaMapHandler ^/(x conf/lua/x.lua\n", want: []string{"LuaMapHandler: regular expression '^/(x' does not compile"}},
		{
			name: "LuaMapHandler with back-references is checked per request",
			conf: "LuaMapHandler ^/app/(\\w+)/(\\w+) conf/lua/$1.lua handle_$2\n",
			check: func(t *testing.T, cfg *config.Config, root string) {
				h := lua.ServerOf(cfg.Main).HooksFor("map_handler")
				if len(h) != 1 || !h[0].Dynamic() || h[0].File != filepath.Join(root, "conf/lua/$1.lua") {
					t.Errorf("map handlers = %+v", h)
				}
			},
		},
		{name: "LuaMapHandler back-reference without group", conf: "LuaMapHandler ^/app/(\\w+) conf/lua/$2.lua\n", want: []string{"refers to group 2, but the regex '^/app/(\\w+)' has 1"}},
		{
			name:  "LuaAuthzProvider declared twice",
			conf:  "LuaAuthzProvider foo conf/lua/hooks.lua authz\nLuaAuthzProvider foo conf/lua/hooks.lua authz\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"line 2 of", "provider 'foo' is already declared"},
		},
		{
			name:  "LuaOutputFilter takes three arguments",
			conf:  "LuaOutputFilter f conf/lua/hooks.lua\n",
			files: map[string]string{"conf/lua/hooks.lua": goodScript},
			want:  []string{"LuaOutputFilter takes three arguments"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"conf/httpd.conf": tt.conf}
			for k, v := range tt.files {
				files[k] = v
			}
			cfg, root, err := phasestest.Load(t, files)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.warn != "" {
					found := false
					for _, w := range cfg.Warnings {
						found = found || strings.Contains(w.String(), tt.warn)
					}
					if !found {
						t.Errorf("no warning containing %q in %v", tt.warn, cfg.Warnings)
					}
				}
				if tt.check != nil {
					tt.check(t, cfg, root)
				}
				return
			}
			if err == nil {
				t.Fatalf("config loaded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "{root}", root)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// TestDirectivesBuilt checks every lua_module directive is declared and
// marked built exactly when its run-time part exists.
func TestDirectivesBuilt(t *testing.T) {
	if cfg := phasestest.MustLoad(t, ""); cfg == nil {
		t.Fatal("no config")
	}
	names := []string{"LuaRoot", "LuaPackagePath", "LuaPackageCPath", "LuaScope", "LuaCodeCache",
		"LuaHookPreTranslateName", "LuaHookTranslateName", "LuaHookMapToStorage", "LuaHookCheckUserID",
		"LuaHookAccessChecker", "LuaHookAuthChecker", "LuaHookTypeChecker", "LuaHookFixups",
		"LuaHookInsertFilter", "LuaHookLog", "LuaQuickHandler", "LuaMapHandler", "LuaOutputFilter",
		"LuaInputFilter", "LuaAuthzProvider", "LuaInherit", "LuaHookOpenLogs", "LuaHookPostConfig",
		"LuaHookChildInit", "LuaHookChildExit", "LuaSharedDict", "LuaAllowIO", "LuaTimeout",
		"LuaMemoryLimit", "LuaCompile"}
	reg, err := phasesDirectives()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		d := reg.Directive(n)
		if d == nil {
			t.Errorf("%s is not declared", n)
			continue
		}
		wantBuilt := !notBuiltYet[n]
		if d.Module != lua.ModuleName || d.Built != wantBuilt {
			t.Errorf("%s: module %s, built %v, want %v", n, d.Module, d.Built, wantBuilt)
		}
	}
	if d := reg.Directive("LuaHookFixups"); d.Form != config.Take23 || d.Contexts != config.AnyContext {
		t.Errorf("LuaHookFixups: %v %v", d.Form, d.Contexts.Describe())
	}
}

// notBuiltYet are the directives without a run time yet.
var notBuiltYet = map[string]bool{"LuaPackageCPath": true}

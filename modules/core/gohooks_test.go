package core_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// A test-only module with named Go handlers the GoHook* directives can name.
func init() {
	phases.RegisterModule(&phases.Module{Name: "coretest_module", Handlers: map[string]any{
		"coretest.OpenLogs":   func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error { return nil },
		"coretest.PostConfig": phases.ServerHookFunc(func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error { return nil }),
		"coretest.ChildInit":  func(p *phases.Pool, s *phases.Server) error { return nil },
		"coretest.Wrong":      func(s string) error { return nil },
		"coretest.Translate":  func(r *phases.Request) (phases.Status, error) { return phases.DECLINED, nil },
		"coretest.API":        phases.RequestHookFunc(func(r *phases.Request) (phases.Status, error) { return phases.OK, nil }),
	}})
}

func TestGoHooks(t *testing.T) {
	runOK(t, []okCase{
		{"server phases", strings.Join([]string{
			"GoHookOpenLogs coretest.OpenLogs",
			"GoHookPostConfig coretest.PostConfig EARLY",
			"GoHookChildInit coretest.ChildInit late",
			"GoHookChildExit coretest.ChildInit",
			"GoHookMonitor coretest.ChildInit early",
			"GoHookPreConfig coretest.OpenLogs",
			"GoHookCheckConfig coretest.OpenLogs",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			hs := core.ServerOf(cfg.Main).Hooks
			want := []struct{ phase, name, order string }{
				{"open_logs", "coretest.OpenLogs", ""},
				{"post_config", "coretest.PostConfig", "early"},
				{"child_init", "coretest.ChildInit", "late"},
				{"child_exit", "coretest.ChildInit", ""},
				{"monitor", "coretest.ChildInit", "early"},
				{"pre_config", "coretest.OpenLogs", ""},
				{"check_config", "coretest.OpenLogs", ""},
			}
			if len(hs) != len(want) {
				t.Fatalf("hooks = %+v", hs)
			}
			for i, w := range want {
				h := hs[i]
				if h.Phase != w.phase || h.Name != w.name || h.Order != w.order || h.Handler == nil || h.Origin.Line != i+1 {
					t.Errorf("hook %d = %+v, want %+v", i, h, w)
				}
			}
			// The core module attaches them to the generation's hooks.
			sh := phases.NewServerHooks()
			if err := phases.LookupModule(core.ModuleName).RegisterHooks(sh, cfg); err != nil {
				t.Fatal(err)
			}
			ol, err := sh.OpenLogs.Entries()
			if err != nil {
				t.Fatal(err)
			}
			if len(ol) != 2 || ol[0].Module != core.ModuleName || ol[1].Origin != "coretest.OpenLogs (Go)" || ol[1].Order != phases.Middle {
				t.Errorf("open_logs entries = %+v", ol)
			}
			pc, _ := sh.PostConfig.Entries()
			ci, _ := sh.ChildInit.Entries()
			ce, _ := sh.ChildExit.Entries()
			mo, _ := sh.Monitor.Entries()
			if len(pc) != 1 || pc[0].Order != phases.First || len(ci) != 1 || ci[0].Order != phases.Last || len(ce) != 1 || len(mo) != 1 {
				t.Errorf("entries: post_config %+v child_init %+v child_exit %+v monitor %+v", pc, ci, ce, mo)
			}
		}},
		{"request phases per server and section", strings.Join([]string{
			"GoHookTranslateName coretest.Translate",
			"<VirtualHost *:80>",
			"GoHookAccessChecker coretest.Translate late",
			"GoMapHandler ^/api/ coretest.API",
			"<Location /x>",
			"GoHookFixups coretest.Translate",
			"GoHookLog coretest.Translate",
			"</Location>",
			"</VirtualHost>",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			if hs := core.ServerOf(cfg.Main).Hooks; len(hs) != 1 || hs[0].Phase != "translate_name" {
				t.Errorf("main hooks = %+v", hs)
			}
			vs := core.ServerOf(cfg.Vhosts[0]).Hooks
			if len(vs) != 2 || vs[0].Phase != "access_checker" || vs[0].Order != "late" || vs[1].Phase != "map_handler" || vs[1].Pattern != "^/api/" || vs[1].Name != "coretest.API" {
				t.Errorf("vhost hooks = %+v", vs)
			}
			ds := dirOf(cfg.Vhosts[0].Sections[0]).Hooks
			if len(ds) != 2 || ds[0].Phase != "fixups" || ds[1].Phase != "log_transaction" {
				t.Errorf("section hooks = %+v", ds)
			}
			// Request hooks are not server life-cycle hooks.
			sh := phases.NewServerHooks()
			if err := phases.LookupModule(core.ModuleName).RegisterHooks(sh, cfg); err != nil {
				t.Fatal(err)
			}
			if ol, _ := sh.OpenLogs.Entries(); len(ol) != 1 {
				t.Errorf("open_logs entries = %+v", ol)
			}
		}},
	})
	runErrors(t, []errCase{
		{"unknown handler", "\nGoHookOpenLogs nosuch.Fn\n", "GoHookOpenLogs: no Go handler named 'nosuch.Fn' is registered; registered handlers: ", 2},
		{"unknown handler lists ours", "GoHookFixups nosuch.Fn\n", "coretest.API, coretest.ChildInit, coretest.OpenLogs", 1},
		{"bad order", "GoHookChildInit coretest.ChildInit soon\n", "GoHookChildInit: 'soon' must be one of early, late", 1},
		{"three args", "GoHookChildInit coretest.ChildInit early x\n", "GoHookChildInit takes 1-2 arguments", 1},
		{"wrong signature server", "GoHookOpenLogs coretest.Wrong\n", "GoHookOpenLogs coretest.Wrong: a handler for open_logs must be a func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error, not func(string) error", 1},
		{"child handler on a server phase", "GoHookPostConfig coretest.ChildInit\n", "a handler for post_config must be a func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error", 1},
		{"server handler on a child phase", "GoHookChildInit coretest.OpenLogs\n", "GoHookChildInit coretest.OpenLogs: a handler for child_init must be a func(p *phases.Pool, s *phases.Server) error", 1},
		{"server phase in vhost", "<VirtualHost *:80>\nGoHookOpenLogs coretest.OpenLogs\n</VirtualHost>\n", "GoHookOpenLogs cannot occur within <VirtualHost> section", 2},
		{"connection phase in Directory", "<Directory />\nGoHookPreConnection coretest.Translate\n</Directory>\n", "GoHookPreConnection not allowed here", 2},
		{"translate_name in Location", "<Location />\nGoHookTranslateName coretest.Translate\n</Location>\n", "GoHookTranslateName not allowed here", 2},
		{"GoMapHandler bad regex", "GoMapHandler ^/api/( coretest.API\n", "GoMapHandler: regular expression '^/api/(' does not compile", 1},
		{"GoMapHandler unknown", "GoMapHandler ^/ nosuch\n", "GoMapHandler: no Go handler named 'nosuch' is registered; registered handlers: ", 1},
		{"GoMapHandler one arg", "GoMapHandler coretest.API\n", "GoMapHandler takes two arguments", 1},
	})
}

func TestGoRequestHookTypeChecked(t *testing.T) {
	phasestest.WantError(t, "GoHookFixups coretest.OpenLogs\n", 1, "a handler for fixups must be a func(r *phases.Request) (phases.Status, error)")
	phasestest.WantError(t, "GoMapHandler ^/api coretest.ChildInit\n", 1, "GoMapHandler coretest.ChildInit: a handler for map_handler must be a func(r *phases.Request) (phases.Status, error)")
}

func TestGoRequestHooksAttachedPerScope(t *testing.T) {
	cfg := phasestest.MustLoad(t, "GoHookFixups coretest.Translate\n<VirtualHost *:80>\nGoHookFixups coretest.Translate late\n</VirtualHost>\n<Location /api>\nGoMapHandler ^/api/ coretest.API\n</Location>\n")
	hooks, err := phases.BuildServerHooks(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fixups, _ := hooks.Request.Fixups.Entries()
	var origins []string
	for _, e := range fixups {
		origins = append(origins, e.Origin)
	}
	if strings.Count(strings.Join(origins, ","), "coretest.Translate (Go)") != 2 {
		t.Fatalf("fixups %v", origins)
	}
	// GoMapHandler answers only for URIs its regex matches, inside its section.
	handlers, _ := hooks.Request.Handler.Entries()
	var api phases.RequestHookFunc
	for _, e := range handlers {
		if e.Origin == "coretest.API (Go)" {
			api = e.Fn
		}
	}
	if api == nil {
		t.Fatal("GoMapHandler not attached")
	}
	sec := cfg.Main.Sections[0]
	for _, c := range []struct {
		uri      string
		sections []*config.Section
		want     phases.Status
	}{
		{"/api/x", []*config.Section{sec}, phases.OK},
		{"/other", []*config.Section{sec}, phases.DECLINED},
		{"/api/x", nil, phases.DECLINED},
	} {
		st, _ := api(&phases.Request{URI: c.uri, Sections: c.sections})
		if st != c.want {
			t.Errorf("%s with %d sections: %v, want %v", c.uri, len(c.sections), st, c.want)
		}
	}
}

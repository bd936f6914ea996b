package core

import (
	"fmt"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// goHookPhases maps each GoHook* directive to the phase it attaches to and
// the contexts it may appear in. Server life-cycle hooks are server-wide;
// request hooks may be set per virtual host and (from fixups on, as in
// mod_lua) per directory.
var goHookPhases = []struct {
	directive, phase string
	ctx              config.Context
}{
	{"GoHookPreConfig", "pre_config", config.ServerOnly},
	{"GoHookCheckConfig", "check_config", config.ServerOnly},
	{"GoHookOpenLogs", "open_logs", config.ServerOnly},
	{"GoHookPostConfig", "post_config", config.ServerOnly},
	{"GoHookChildInit", "child_init", config.ServerOnly},
	{"GoHookChildExit", "child_exit", config.ServerOnly},
	{"GoHookMonitor", "monitor", config.ServerOnly},
	{"GoHookPreConnection", "pre_connection", config.ServerVhost},
	{"GoHookProcessConnection", "process_connection", config.ServerVhost},
	{"GoHookPostReadRequest", "post_read_request", config.ServerVhost},
	{"GoHookQuickHandler", "quick_handler", config.ServerVhost},
	{"GoHookTranslateName", "translate_name", config.ServerVhost},
	{"GoHookMapToStorage", "map_to_storage", config.ServerVhost},
	{"GoHookHeaderParser", "header_parser", config.ServerVhostD},
	{"GoHookAccessChecker", "access_checker", config.ServerVhostD},
	{"GoHookCheckUserID", "check_user_id", config.ServerVhostD},
	{"GoHookAuthChecker", "auth_checker", config.ServerVhostD},
	{"GoHookTypeChecker", "type_checker", config.ServerVhostD},
	{"GoHookFixups", "fixups", config.ServerVhostD},
	{"GoHookInsertFilter", "insert_filter", config.ServerVhostD},
	{"GoHookLog", "log_transaction", config.ServerVhostD},
	{"GoHookModifyResponseHeaders", "modify_response_headers", config.ServerVhostD},
	{"GoHookStartServeRequest", "start_serve_request", config.ServerVhostD},
	{"GoHookStartSendFile", "start_send_file", config.ServerVhostD},
	{"GoHookStaticFileMissing", "static_get_poststat_file_missing", config.ServerVhostD},
	{"GoHookStaticPreSend", "static_get_poststat_pre_send", config.ServerVhostD},
	{"GoHookBackendClientAssigned", "backend_client_assigned", config.ServerVhostD},
	{"GoHookBackendResponseReceived", "backend_response_received", config.ServerVhostD},
	{"GoHookEndProxyRequest", "end_proxy_request", config.ServerVhostD},
}

func goHookDirectives() []*config.Directive {
	var out []*config.Directive
	for _, h := range goHookPhases {
		phase := h.phase
		out = append(out, &config.Directive{
			Name: h.directive, Form: config.Take12, Contexts: h.ctx, Built: true,
			Help:    fmt.Sprintf("a registered Go handler name for the %s hook, optionally followed by early or late", phase),
			Handler: func(c *config.Cmd) error { return goHook(c, phase) },
		})
	}
	out = append(out, &config.Directive{
		Name: "GoMapHandler", Form: config.Take2, Contexts: config.ServerVhostD, Built: true,
		Help: "a regular expression matching the URI and a registered Go handler name",
		Handler: func(c *config.Cmd) error {
			if _, err := c.Regex(c.Args[0]); err != nil {
				return err
			}
			h, err := phases.Handler(c.Args[1])
			if err != nil {
				return fmt.Errorf("GoMapHandler: %v", err)
			}
			if err := checkHookType("map_handler", h); err != nil {
				return fmt.Errorf("GoMapHandler %s: %v", c.Args[1], err)
			}
			addHook(c, HookRef{Phase: "map_handler", Name: c.Args[1], Handler: h, Pattern: c.Args[0], Origin: c.Node.Origin})
			return nil
		},
	})
	return out
}

func goHook(c *config.Cmd, phase string) error {
	h, err := phases.Handler(c.Args[0])
	if err != nil {
		return fmt.Errorf("%s: %v", c.Directive.Name, err)
	}
	if err := checkHookType(phase, h); err != nil {
		return fmt.Errorf("%s %s: %v", c.Directive.Name, c.Args[0], err)
	}
	order := ""
	if len(c.Args) == 2 {
		if order, err = c.OneOf(strings.ToLower(c.Args[1]), "early", "late"); err != nil {
			return err
		}
	}
	addHook(c, HookRef{Phase: phase, Name: c.Args[0], Handler: h, Order: order, Origin: c.Node.Origin})
	return nil
}

func addHook(c *config.Cmd, ref HookRef) {
	if c.Section != nil {
		ds := dirOf(c)
		ds.Hooks = append(ds.Hooks, ref)
		return
	}
	s := ServerOf(c.Server)
	s.Hooks = append(s.Hooks, ref)
}

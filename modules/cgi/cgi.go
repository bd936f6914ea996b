// Package cgi is httpdg's cgi_module, Apache's mod_cgi: it runs the files
// whose handler is cgi-script (or application/x-httpd-cgi) as CGI/1.1
// scripts (RFC 3875) and sends what they print.
//
// A request gets that handler from mod_alias's ScriptAlias or
// ScriptAliasMatch (which also marks the request "script-aliased": no
// Options ExecCGI is needed there), from SetHandler cgi-script, or from
// AddHandler cgi-script .ext; outside a ScriptAlias the directory must
// have Options ExecCGI, else the answer is 403, as in Apache.
//
// The script runs in its own process group, in its directory, with the
// meta-variables Apache's ap_add_common_vars and ap_add_cgi_vars set; the
// request body goes to its stdin, its stderr lines to the error log, its
// header block is parsed as ap_scan_script_header_err does, and the rest
// of its output is streamed to the client. The process group is killed
// when the client goes away (Linux: the connection's state is polled
// through sock_diag, see probe.go) or when no output comes for Timeout.
//
// When the config uses CGI anywhere, a map_to_storage hook moves the part
// of r.Filename past an existing file into r.PathInfo (Apache's directory
// walk), so /cgi-bin/script/extra runs script with PATH_INFO /extra.
package cgi

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/alias"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/mime"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the cgi module's identifier.
const ModuleName = "cgi_module"

// logModule names the module in error-log lines ("[cgi:error]").
const logModule = "cgi"

const origin = ModuleName + " (Go)"

// Handler names that run a script, as mod_cgi's: its own and the MIME
// type Apache 1.x used.
const (
	HandlerName      = "cgi-script"
	HandlerMagicType = "application/x-httpd-cgi"
)

// ServerSettings are mod_cgi's per-server directives: the script log,
// accepted and checked but not written yet (docs/cgi.md).
type ServerSettings struct {
	ScriptLog       string // the file (resolved under ServerRoot); "" when unset
	ScriptLogLength int64  // the log's maximum size; 0 when unset (Apache: 10385760)
	ScriptLogBuffer int64  // bytes of a body logged; 0 when unset (Apache: 1024)
}

// ServerOf returns the cgi settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

func init() {
	size := func(set func(*ServerSettings, int64)) func(*config.Cmd) error {
		return func(c *config.Cmd) error {
			n, err := c.Int(c.Args[0], 0, 1<<62)
			if err != nil {
				return err
			}
			set(ServerOf(c.Server), n)
			return nil
		}
	}
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_cgi.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "ScriptLog", Form: config.Take1, Contexts: config.ServerVhost, Help: "the name of a log for script debugging info", Handler: func(c *config.Cmd) error {
			ServerOf(c.Server).ScriptLog = c.Path(c.Args[0])
			return nil
		}},
		{Name: "ScriptLogLength", Form: config.Take1, Contexts: config.ServerVhost, Help: "the maximum length (in bytes) of the script debug log",
			Handler: size(func(s *ServerSettings, n int64) { s.ScriptLogLength = n })},
		{Name: "ScriptLogBuffer", Form: config.Take1, Contexts: config.ServerVhost, Help: "the maximum size (in bytes) to record of a POST request",
			Handler: size(func(s *ServerSettings, n int64) { s.ScriptLogBuffer = n })},
	}})
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	if usesCGI(cfg) {
		// Before core's map_to_storage (ReallyLast), which picks the
		// <Directory>/<Files> sections by the file name, and mod_mime's
		// type_checker, which reads AddHandler by its extension.
		h.Request.MapToStorage.Add(phases.Entry[phases.RequestHookFunc]{Fn: splitPathInfo, Origin: origin, Module: ModuleName, Order: phases.First, Replayable: true})
	}
	// Replayable: it declines by r.Handler alone, and a request it takes
	// is marked unreplayable first.
	h.Request.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: handler, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// isCGIHandler reports whether a handler name is mod_cgi's.
func isCGIHandler(h string) bool { return h == HandlerName || h == HandlerMagicType }

// usesCGI reports whether cfg gives the cgi-script handler anywhere:
// a ScriptAlias or ScriptAliasMatch, SetHandler or AddHandler cgi-script.
func usesCGI(cfg *config.Config) bool {
	dirUses := func(core *core.DirSettings, m *mime.DirSettings) bool {
		if isCGIHandler(core.Handler) {
			return true
		}
		for _, h := range m.Handlers {
			if isCGIHandler(h) {
				return true
			}
		}
		return false
	}
	var walk func(secs []*config.Section) bool
	walk = func(secs []*config.Section) bool {
		for _, sec := range secs {
			if dirUses(config.SectionConf[core.DirSettings](sec, core.ModuleName), mime.SectionOf(sec)) ||
				isCGIHandler(alias.SectionOf(sec).LocationHandler) || walk(sec.Children) {
				return true
			}
		}
		return false
	}
	for _, s := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		for _, a := range alias.ServerOf(s).Aliases {
			if isCGIHandler(a.Handler) {
				return true
			}
		}
		if dirUses(config.ServerDirConf[core.DirSettings](s, core.ModuleName), mime.ServerDirOf(s)) || walk(s.Sections) {
			return true
		}
	}
	return false
}

// splitPathInfo is the part of Apache's directory walk httpdg's core does
// not do: when r.Filename goes through an existing file
// (/srv/cgi-bin/script/extra/path: stat says ENOTDIR), the file becomes
// r.Filename and the rest r.PathInfo. It declines, so core's
// map_to_storage still runs, on the shorter name.
func splitPathInfo(r *phases.Request) (phases.Status, error) {
	if r.Filename == "" || r.Filename[0] != '/' || r.PathInfo != "" {
		return phases.DECLINED, nil
	}
	if _, err := r.Stat(); err == nil || !errors.Is(err, syscall.ENOTDIR) {
		return phases.DECLINED, nil
	}
	// What follows looks at more than the stat of r.Filename.
	r.NotReplayable()
	name := r.Filename
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		fi, err := os.Stat(name[:i])
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			r.Filename, r.PathInfo = name[:i], name[i:]
		}
		break
	}
	return phases.DECLINED, nil
}

// handler is mod_cgi's cgi_handler.
func handler(r *phases.Request) (phases.Status, error) {
	if !isCGIHandler(r.Handler) {
		return phases.DECLINED, nil
	}
	r.NotReplayable() // a script's answer is its own
	lg := r.Log()
	if r.Method == http.MethodOptions {
		// Apache declines and its default handler answers with the
		// methods a script takes.
		r.HeadersOut.Set("Allow", core.DefaultAllow(r))
		r.HeadersOut.Set("Content-Length", "0")
		r.Output.WriteHeader(http.StatusOK)
		return phases.OK, nil
	}
	if !scriptAliased(r) && !execCGI(r) {
		lg.Error(logModule, "Options ExecCGI is off in this directory: %s", r.Filename)
		return http.StatusForbidden, nil
	}
	fi, err := r.Stat()
	if err != nil {
		if os.IsPermission(err) {
			lg.Error(logModule, "%s: access to %s denied", aprError(err), r.Filename)
			return http.StatusForbidden, nil
		}
		lg.Error(logModule, "script not found or unable to stat: %s%s", r.Filename, r.PathInfo)
		return http.StatusNotFound, nil
	}
	if fi.IsDir() {
		lg.Error(logModule, "attempt to invoke directory as script: %s", r.Filename)
		return http.StatusForbidden, nil
	}
	return run(r, lg)
}

// scriptAliased is mod_cgi's is_scriptaliased: mod_alias gave the
// request its handler (ScriptAlias, ScriptAliasMatch).
func scriptAliased(r *phases.Request) bool {
	return strings.EqualFold(r.Notes["alias-forced-type"], HandlerName)
}

// execCGI reports whether the Options in effect for r include ExecCGI,
// merged as core merges Options lines: a line without +/- replaces what
// it inherits, +opt adds, -opt removes; "All" includes ExecCGI, and the
// default (FollowSymLinks) does not.
func execCGI(r *phases.Request) bool {
	isExec := func(name string) bool { return strings.EqualFold(name, "ExecCGI") || strings.EqualFold(name, "All") }
	on := false
	for ds := range phases.EachDirConf[core.DirSettings](r, core.ModuleName) {
		for i, o := range ds.Options {
			switch {
			case strings.HasPrefix(o, "+"):
				if isExec(o[1:]) {
					on = true
				}
			case strings.HasPrefix(o, "-"):
				if isExec(o[1:]) {
					on = false
				}
			default:
				if i == 0 {
					on = false
				}
				if isExec(o) {
					on = true
				}
			}
		}
	}
	return on
}

// scriptName is the script's file name as Apache's messages about its
// output give it (apr_filepath_name_get).
func scriptName(r *phases.Request) string { return filepath.Base(r.Filename) }

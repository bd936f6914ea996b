package lua

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/authz"
	"github.com/httpdg/httpdg/modules/core"
	mimemod "github.com/httpdg/httpdg/modules/mime"
	"github.com/httpdg/httpdg/phases"
)

// ScriptHandler is the handler name SetHandler/AddHandler give to run
// handle(r) of the requested file, as in mod_lua.
const ScriptHandler = "lua-script"

// registerHooks is lua_module's part of every generation: the life-cycle
// hooks (LuaHookOpenLogs...), the request hooks (LuaHook*,
// LuaQuickHandler), LuaMapHandler and the lua-script handler.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	rt := newRuntime(cfg)
	rt.gather()
	rt.registerSharedDicts(h)
	if err := rt.registerLifecycle(h); err != nil {
		return err
	}
	for _, p := range GlobalOf(cfg).AuthzProviders {
		authz.SetProvider(cfg, p.Name, rt.authzProvider(p))
	}
	inheriting := rt.inheritUsed()
	if inheriting {
		if err := rt.addInheritingHooks(h.Request); err != nil {
			return err
		}
	}
	// keep: the hooks registered one by one (all of them, or with
	// LuaInherit in use only the LuaMapHandlers).
	keep := func(hk Hook) bool { return !inheriting || hk.Phase == "map_handler" }
	servers := append([]*config.Server{cfg.Main}, cfg.Vhosts...)
	for _, srv := range servers {
		for _, hk := range ServerOf(srv).Hooks {
			if !keep(hk) {
				continue
			}
			if err := rt.addRequestHook(h.Request, hk, srv, nil); err != nil {
				return err
			}
		}
		var walk func([]*config.Section) error
		walk = func(secs []*config.Section) error {
			for _, sec := range secs {
				for _, hk := range rt.sections[sec].Hooks {
					if !keep(hk) {
						continue
					}
					if err := rt.addRequestHook(h.Request, hk, srv, sec); err != nil {
						return err
					}
				}
				if err := walk(sec.Children); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(srv.Sections); err != nil {
			return err
		}
	}
	rt.registerFilters(h.Request)
	h.Request.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: rt.scriptHandler, Origin: "lua_module (" + ScriptHandler + ")", Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// gather reads every setting the run time needs while the config is
// still single-threaded: the config's settings maps are created on first
// use, so requests must not be the first to ask.
func (rt *runtime) gather() {
	cfg := rt.cfg
	servers := append([]*config.Server{cfg.Main}, cfg.Vhosts...)
	firstPort := 80
	if ls := core.GlobalOf(cfg).Listeners; len(ls) > 0 {
		firstPort = ls[0].Addr.Port
	}
	host, _ := os.Hostname()
	mainInfo := (*serverInfo)(nil)
	limited := func(d *DirSettings) {
		if d.MemoryLimit != nil && *d.MemoryLimit > 0 {
			rt.memLimited = true
		}
	}
	for i, srv := range servers {
		rt.servers[srv] = ServerDirOf(srv)
		limited(rt.servers[srv])
		ServerOf(srv)
		cs := core.ServerOf(srv)
		in := &serverInfo{srv: srv, isVirtual: srv.IsVirtual, admin: cs.ServerAdmin, docroot: cs.DocumentRoot, port: firstPort}
		name := cs.ServerName
		if j := strings.Index(name, "://"); j >= 0 {
			name = name[j+3:]
		}
		if j := strings.LastIndex(name, ":"); j >= 0 && !strings.Contains(name[j:], "]") {
			if p, err := strconv.Atoi(name[j+1:]); err == nil {
				in.port = p
			}
			name = name[:j]
		} else if srv.IsVirtual {
			for _, a := range srv.Addrs {
				if j := strings.LastIndex(a, ":"); j >= 0 {
					if p, err := strconv.Atoi(a[j+1:]); err == nil {
						in.port = p
						break
					}
				}
			}
		}
		in.serverName = name
		in.hostname = name
		if in.hostname == "" {
			if mainInfo != nil {
				in.hostname = mainInfo.hostname
			} else {
				in.hostname = host
			}
		}
		if in.admin == "" && mainInfo != nil {
			in.admin = mainInfo.admin
		}
		if in.docroot == "" {
			if mainInfo != nil {
				in.docroot = mainInfo.docroot
			} else {
				in.docroot = filepath.Join(cfg.ServerRoot, "htdocs")
			}
		}
		if i == 0 {
			mainInfo = in
			if len(cfg.Vhosts) > 0 {
				in.next = cfg.Vhosts[0]
			}
		} else if i < len(servers)-1 {
			in.next = servers[i+1]
		}
		rt.info[srv] = in
		md := mimemod.ServerDirOf(srv)
		rt.mimeServers[srv] = &mimeHandlers{add: md.Handlers, remove: md.RemoveHandlers}
		var walk func([]*config.Section)
		walk = func(secs []*config.Section) {
			for _, sec := range secs {
				rt.sections[sec] = SectionOf(sec)
				limited(rt.sections[sec])
				ms := mimemod.SectionOf(sec)
				rt.mimeSections[sec] = &mimeHandlers{add: ms.Handlers, remove: ms.RemoveHandlers}
				walk(sec.Children)
			}
		}
		walk(srv.Sections)
	}
}

// origin names a Lua hook in DUMP_HOOKS and failure messages:
// "conf/lua/x.lua:function".
func (rt *runtime) origin(file, fn string) string {
	return displayPath(rt.cfg, file) + ":" + fn
}

// registerLifecycle attaches LuaHookOpenLogs/PostConfig/ChildInit/ChildExit.
func (rt *runtime) registerLifecycle(h *phases.ServerHooks) error {
	for _, phase := range []string{"open_logs", "post_config"} {
		target := h.OpenLogs
		if phase == "post_config" {
			target = h.PostConfig
		}
		for _, hk := range LifecycleHooks(rt.cfg, phase) {
			order, err := phases.OrderOf(hk.Order)
			if err != nil {
				return err
			}
			file, fn := hk.File, hk.Function
			target.Add(phases.Entry[phases.ServerHookFunc]{
				Fn: func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
					return rt.runLifecycle(file, fn, pconf, s, func(v *vm) []lua.LValue {
						return []lua.LValue{v.newPool(pconf), v.newPool(plog), v.newPool(ptemp), v.newServer(s, rt.cfg.Main)}
					})
				},
				Origin: rt.origin(file, fn), Module: ModuleName, Order: order,
			})
		}
	}
	for _, phase := range []string{"child_init", "child_exit"} {
		target := h.ChildInit
		if phase == "child_exit" {
			target = h.ChildExit
		}
		for _, hk := range LifecycleHooks(rt.cfg, phase) {
			order, err := phases.OrderOf(hk.Order)
			if err != nil {
				return err
			}
			file, fn := hk.File, hk.Function
			target.Add(phases.Entry[phases.ChildHookFunc]{
				Fn: func(pchild *phases.Pool, s *phases.Server) error {
					return rt.runLifecycle(file, fn, pchild, s, func(v *vm) []lua.LValue {
						return []lua.LValue{v.newPool(pchild), v.newServer(s, rt.cfg.Main)}
					})
				},
				Origin: rt.origin(file, fn), Module: ModuleName, Order: order,
			})
		}
	}
	return nil
}

// runLifecycle calls a life-cycle hook. nil, OK and DONE succeed,
// DECLINED declines; an HTTP status or a Lua error is a failure.
func (rt *runtime) runLifecycle(file, fn string, pool *phases.Pool, s *phases.Server, args func(*vm) []lua.LValue) error {
	v, err := rt.lifecycleVM(file, s, pool)
	if err != nil {
		return err
	}
	ret, err := v.call(fn, rt.mainSettings().timeout, args(v)...)
	if v.broken {
		v.discard()
	}
	v.mu.Unlock()
	if err != nil {
		return err
	}
	switch st := statusOf(ret); st {
	case phases.OK, phases.DONE:
		return nil
	case phases.DECLINED:
		return phases.ErrDeclined
	default:
		return fmt.Errorf("returned status %d", int(st))
	}
}

// requestHook is the request hook a Lua hook phase attaches to.
// pre_translate_name, which phases does not have, runs at the end of
// post_read_request, the last phase before it in Apache.
func requestHook(h *phases.RequestHooks, phase string) *phases.Hook[phases.RequestHookFunc] {
	switch phase {
	case "pre_translate_name":
		return h.PostReadRequest
	case "quick_handler":
		return h.QuickHandler
	case "translate_name":
		return h.TranslateName
	case "map_to_storage":
		return h.MapToStorage
	case "check_user_id":
		return h.CheckUserID
	case "access_checker":
		return h.AccessChecker
	case "auth_checker":
		return h.AuthChecker
	case "type_checker":
		return h.TypeChecker
	case "fixups":
		return h.Fixups
	case "insert_filter":
		return h.InsertFilter
	case "log_transaction":
		return h.LogTransaction
	case "map_handler":
		return h.Handler
	case "modify_response_headers":
		return h.ModifyResponseHeaders
	case "start_serve_request":
		return h.StartServeRequest
	case "static_get_poststat_file_missing":
		return h.StaticGetPoststatFileMissing
	case "static_get_poststat_pre_send":
		return h.StaticGetPoststatPreSend
	case "start_send_file":
		return h.StartSendFile
	case "backend_client_assigned":
		return h.BackendClientAssigned
	case "backend_response_received":
		return h.BackendResponseReceived
	case "end_proxy_request":
		return h.EndProxyRequest
	}
	return nil // filters (filters.go) and authz providers: not run here
}

// earlyPhase reports whether phase runs before map_to_storage has chosen
// the request's sections.
func earlyPhase(phase string) bool {
	switch phase {
	case "pre_translate_name", "quick_handler", "translate_name", "map_to_storage":
		return true
	}
	return false
}

// addRequestHook attaches one LuaHook*, LuaQuickHandler or LuaMapHandler
// made in server srv, in section sec (nil outside sections).
func (rt *runtime) addRequestHook(h *phases.RequestHooks, hk Hook, srv *config.Server, sec *config.Section) error {
	target := requestHook(h, hk.Phase)
	if target == nil {
		return nil
	}
	order, err := phases.OrderOf(hk.Order)
	if err != nil {
		return err
	}
	if hk.Phase == "pre_translate_name" && order == phases.Middle {
		order = phases.Last
	}
	phase := hk.Phase
	applies := func(r *phases.Request) bool {
		if srv != rt.cfg.Main && r.Vhost != srv {
			return false
		}
		if sec == nil {
			return true
		}
		if earlyPhase(phase) {
			return sectionMatches(sec, r)
		}
		return slices.Contains(r.Sections, sec)
	}
	var fn phases.RequestHookFunc
	if phase == "map_handler" {
		fn = rt.mapHandler(hk, applies)
	} else {
		file, function := hk.File, hk.Function
		fn = func(r *phases.Request) (phases.Status, error) {
			if !applies(r) {
				return phases.DECLINED, nil
			}
			r.NotReplayable() // a script's outcome is its own
			return rt.run(r, file, function)
		}
	}
	// Replayable: deciding whether the hook applies looks at the URI and
	// the sections only; a hook that applies says NotReplayable.
	target.Add(phases.Entry[phases.RequestHookFunc]{Fn: fn, Origin: rt.origin(hk.File, hk.Function), Module: ModuleName, Order: order, Replayable: true})
	return nil
}

// mapHandler is one LuaMapHandler: for a URI its regex matches, the
// function (handle by default) of the file, with $1... filled from the
// match as mod_lua does.
func (rt *runtime) mapHandler(hk Hook, applies func(*phases.Request) bool) phases.RequestHookFunc {
	dynamic := hk.Dynamic()
	return func(r *phases.Request) (phases.Status, error) {
		if !applies(r) {
			return phases.DECLINED, nil
		}
		m := hk.Pattern.FindStringSubmatchIndex(r.URI)
		if m == nil {
			return phases.DECLINED, nil
		}
		r.NotReplayable()
		file, fn := hk.File, hk.Function
		if dynamic {
			file, fn = expand(file, r.URI, m), expand(fn, r.URI, m)
			if !isLuaName(fn) {
				return http.StatusInternalServerError, fmt.Errorf("LuaMapHandler %s: '%s' is not a Lua function name", hk.Pattern, fn)
			}
			if strings.Contains(file, "\x00") || slices.Contains(strings.Split(filepath.ToSlash(file), "/"), "..") {
				return http.StatusNotFound, nil
			}
			if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
				if r.Log() != nil {
					r.Log().Info("lua", "LuaMapHandler %s: no script %s for %s", hk.Pattern, file, r.URI)
				}
				return http.StatusNotFound, nil
			}
		}
		return rt.run(r, file, fn)
	}
}

// expand replaces $0..$9 in s with the groups of match m of uri.
func expand(s, uri string, m []int) string {
	return backref.ReplaceAllStringFunc(s, func(ref string) string {
		n := int(ref[1] - '0')
		if 2*n+1 >= len(m) || m[2*n] < 0 {
			return ""
		}
		return uri[m[2*n]:m[2*n+1]]
	})
}

// scriptHandler is the lua-script handler: handle(r) of r.filename.
func (rt *runtime) scriptHandler(r *phases.Request) (phases.Status, error) {
	h := r.Handler
	if h == "" {
		h = rt.addHandler(r)
	}
	if !strings.EqualFold(h, ScriptHandler) {
		return phases.DECLINED, nil
	}
	r.NotReplayable()
	r.Handler = h
	if r.Filename == "" {
		return http.StatusNotFound, nil
	}
	st, err := os.Stat(r.Filename)
	if err != nil {
		return http.StatusNotFound, nil
	}
	if st.IsDir() {
		return phases.DECLINED, nil
	}
	return rt.run(r, r.Filename, DefaultFunction)
}

// addHandler is the handler mod_mime's AddHandler gives r.Filename's
// extension ("AddHandler lua-script .lua"), for when no type_checker has
// set r.Handler. Only the last extension counts (Apache's every-extension
// rule runs x.lua.txt as a script, a known trap).
func (rt *runtime) addHandler(r *phases.Request) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(r.Filename), "."))
	if ext == "" || strings.HasSuffix(r.Filename, "/") {
		return ""
	}
	handler := ""
	apply := func(mh *mimeHandlers) {
		if mh == nil {
			return
		}
		if h, ok := mh.add[ext]; ok {
			handler = h
		}
		if slices.Contains(mh.remove, ext) {
			handler = ""
		}
	}
	apply(rt.mimeServers[rt.cfg.Main])
	if r.Vhost != nil && r.Vhost != rt.cfg.Main {
		apply(rt.mimeServers[r.Vhost])
	}
	for _, sec := range r.Sections {
		apply(rt.mimeSections[sec])
	}
	return handler
}

// run calls function fn of the script at path for r, in a state LuaScope
// picks: nil is OK; a Lua error is a 500, LuaTimeout a 503.
func (rt *runtime) run(r *phases.Request, path, fn string) (phases.Status, error) {
	s := rt.settings(r)
	v, err := rt.acquire(r, s, path)
	if err != nil {
		return errorStatus(err), err
	}
	ret, err := v.call(fn, s.timeout, v.newRequest(r))
	rt.release(v, s)
	if err != nil {
		return errorStatus(err), err
	}
	return statusOf(ret), nil
}

// authzProvider is a LuaAuthzProvider's check: the function gets the
// request and the Require line's arguments and returns one of the
// apache2.AUTHZ_* results.
func (rt *runtime) authzProvider(p Hook) authz.ProviderFunc {
	return func(r *phases.Request, args []string) (authz.Result, error) {
		s := rt.settings(r)
		v, err := rt.acquire(r, s, p.File)
		if err != nil {
			return authz.GeneralError, err
		}
		largs := []lua.LValue{v.newRequest(r)}
		for _, a := range args {
			largs = append(largs, lua.LString(a))
		}
		ret, err := v.call(p.Function, s.timeout, largs...)
		rt.release(v, s)
		if err != nil {
			return authz.GeneralError, err
		}
		n, ok := ret.(lua.LNumber)
		if !ok {
			return authz.GeneralError, fmt.Errorf("%s: %s returned %s, not an apache2.AUTHZ_* number", p.File, p.Function, ret.Type())
		}
		switch int(n) {
		case 0:
			return authz.Denied, nil
		case 1:
			return authz.Granted, nil
		case 2:
			return authz.Neutral, nil
		case 3:
			return authz.GeneralError, nil
		case 4:
			return authz.DeniedNoUser, nil
		}
		return authz.GeneralError, fmt.Errorf("%s: %s returned %v, not an apache2.AUTHZ_* value", p.File, p.Function, n)
	}
}

func errorStatus(err error) phases.Status {
	var te *timeoutError
	if errors.As(err, &te) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// sectionMatches tells whether sec applies to r before map_to_storage has
// collected r.Sections: <Location> by URI, <Directory> and <Files> by
// r.Filename when translate_name has set it.
func sectionMatches(sec *config.Section, r *phases.Request) bool {
	if sec.Parent != nil && !sectionMatches(sec.Parent, r) {
		return false
	}
	switch sec.Kind {
	case "Location", "LocationMatch":
		if sec.Regex != nil {
			return sec.Regex.MatchString(r.URI)
		}
		return pathPrefix(r.URI, sec.Arg)
	case "Directory", "DirectoryMatch":
		if r.Filename == "" {
			return false
		}
		if sec.Regex != nil {
			return sec.Regex.MatchString(r.Filename)
		}
		return pathPrefix(r.Filename, sec.Arg)
	case "Files", "FilesMatch":
		if r.Filename == "" {
			return false
		}
		base := filepath.Base(r.Filename)
		if sec.Regex != nil {
			return sec.Regex.MatchString(base)
		}
		ok, _ := filepath.Match(sec.Arg, base)
		return ok
	}
	return false
}

// pathPrefix is Apache's <Location> rule: prefix on a segment boundary.
func pathPrefix(p, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

package core

import (
	"regexp"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// asRequestHook accepts a RequestHookFunc or a plain func of its signature.
func asRequestHook(h any) (phases.RequestHookFunc, bool) {
	switch f := h.(type) {
	case phases.RequestHookFunc:
		return f, true
	case func(r *phases.Request) (phases.Status, error):
		return f, true
	}
	return nil, false
}

func asConnectionHook(h any) (phases.ConnectionHookFunc, bool) {
	switch f := h.(type) {
	case phases.ConnectionHookFunc:
		return f, true
	case func(c *phases.Connection, s *phases.Server) (phases.Status, error):
		return f, true
	}
	return nil, false
}

// connectionPhase finds the connection hook a GoHook* phase names.
func connectionPhase(h *phases.RequestHooks, phase string) *phases.Hook[phases.ConnectionHookFunc] {
	switch phase {
	case "pre_connection":
		return h.PreConnection
	case "process_connection":
		return h.ProcessConnection
	}
	return nil
}

// registerGoConnectionHooks attaches GoHookPreConnection and
// GoHookProcessConnection handlers: the main server's run for every
// connection, a virtual host's for connections to its addresses (the
// host name is not known before the first request).
func registerGoConnectionHooks(h *phases.RequestHooks, cfg *config.Config) error {
	add := func(ref HookRef, applies func(*phases.Connection) bool) error {
		hook := connectionPhase(h, ref.Phase)
		if hook == nil {
			return nil
		}
		f, _ := asConnectionHook(ref.Handler)
		order, err := phases.OrderOf(ref.Order)
		if err != nil {
			return err
		}
		hook.Add(phases.Entry[phases.ConnectionHookFunc]{Origin: ref.Name + " (Go)", Module: ref.Name, Order: order,
			Fn: func(c *phases.Connection, s *phases.Server) (phases.Status, error) {
				if !applies(c) {
					return phases.DECLINED, nil
				}
				return f(c, s)
			}})
		return nil
	}
	for _, ref := range ServerOf(cfg.Main).Hooks {
		if err := add(ref, func(*phases.Connection) bool { return true }); err != nil {
			return err
		}
	}
	for _, vh := range cfg.Vhosts {
		var addrs []vhostAddr
		for _, a := range vh.Addrs {
			addrs = append(addrs, parseVhostAddr(a))
		}
		toVhost := func(c *phases.Connection) bool {
			for _, a := range addrs {
				if a.score(c) > 0 {
					return true
				}
			}
			return false
		}
		for _, ref := range ServerOf(vh).Hooks {
			if err := add(ref, toVhost); err != nil {
				return err
			}
		}
	}
	return nil
}

// requestPhase finds the request hook a GoHook* phase names.
func requestPhase(h *phases.RequestHooks, phase string) *phases.Hook[phases.RequestHookFunc] {
	return map[string]*phases.Hook[phases.RequestHookFunc]{
		"post_read_request": h.PostReadRequest, "quick_handler": h.QuickHandler, "translate_name": h.TranslateName,
		"map_to_storage": h.MapToStorage, "header_parser": h.HeaderParser, "access_checker": h.AccessChecker,
		"check_user_id": h.CheckUserID, "auth_checker": h.AuthChecker, "type_checker": h.TypeChecker,
		"fixups": h.Fixups, "insert_filter": h.InsertFilter, "log_transaction": h.LogTransaction,
		"modify_response_headers": h.ModifyResponseHeaders, "start_serve_request": h.StartServeRequest,
		"start_send_file": h.StartSendFile, "static_get_poststat_file_missing": h.StaticGetPoststatFileMissing,
		"static_get_poststat_pre_send": h.StaticGetPoststatPreSend, "backend_client_assigned": h.BackendClientAssigned,
		"backend_response_received": h.BackendResponseReceived, "end_proxy_request": h.EndProxyRequest,
		"map_handler": h.Handler,
	}[phase]
}

// registerGoRequestHooks attaches the request-phase GoHook* and
// GoMapHandler lines, each scoped to where it was written: the main server
// (every request), a virtual host (its requests), or a per-directory
// section (requests that section applies to, known from map_to_storage).
func registerGoRequestHooks(h *phases.RequestHooks, cfg *config.Config) error {
	add := func(ref HookRef, applies func(*phases.Request) bool) error {
		hook := requestPhase(h, ref.Phase)
		if hook == nil {
			return nil
		}
		f, _ := asRequestHook(ref.Handler)
		order, err := phases.OrderOf(ref.Order)
		if err != nil {
			return err
		}
		fn := func(r *phases.Request) (phases.Status, error) {
			if !applies(r) {
				return phases.DECLINED, nil
			}
			return f(r)
		}
		if ref.Phase == "map_handler" {
			re := regexp.MustCompile(ref.Pattern) // compiled at config time already
			inner := fn
			fn = func(r *phases.Request) (phases.Status, error) {
				if !re.MatchString(r.URI) {
					return phases.DECLINED, nil
				}
				return inner(r)
			}
		}
		hook.Add(phases.Entry[phases.RequestHookFunc]{Fn: fn, Origin: ref.Name + " (Go)", Module: ref.Name, Order: order})
		return nil
	}
	everywhere := func(*phases.Request) bool { return true }
	for _, ref := range ServerOf(cfg.Main).Hooks {
		if err := add(ref, everywhere); err != nil {
			return err
		}
	}
	for _, ref := range config.ServerDirConf[DirSettings](cfg.Main, ModuleName).Hooks {
		if err := add(ref, everywhere); err != nil {
			return err
		}
	}
	for _, vh := range cfg.Vhosts {
		inVhost := func(r *phases.Request) bool { return r.Vhost == vh }
		for _, ref := range ServerOf(vh).Hooks {
			if err := add(ref, inVhost); err != nil {
				return err
			}
		}
		for _, ref := range config.ServerDirConf[DirSettings](vh, ModuleName).Hooks {
			if err := add(ref, inVhost); err != nil {
				return err
			}
		}
	}
	var walk func(secs []*config.Section) error
	walk = func(secs []*config.Section) error {
		for _, sec := range secs {
			sec := sec
			inSection := func(r *phases.Request) bool {
				for _, s := range r.Sections {
					if s == sec {
						return true
					}
				}
				return false
			}
			for _, ref := range config.SectionConf[DirSettings](sec, ModuleName).Hooks {
				if err := add(ref, inSection); err != nil {
					return err
				}
			}
			if err := walk(sec.Children); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		if err := walk(s.Sections); err != nil {
			return err
		}
	}
	return nil
}

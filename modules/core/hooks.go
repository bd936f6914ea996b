package core

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// serverPhase finds the life-cycle hook a GoHook* phase attaches to; ok is
// false for request phases (run by the HTTP layer).
func serverPhase(h *phases.ServerHooks, phase string) (server *phases.Hook[phases.ServerHookFunc], child *phases.Hook[phases.ChildHookFunc], ok bool) {
	switch phase {
	case "pre_config":
		return h.PreConfig, nil, true
	case "check_config":
		return h.CheckConfig, nil, true
	case "open_logs":
		return h.OpenLogs, nil, true
	case "post_config":
		return h.PostConfig, nil, true
	case "child_init":
		return nil, h.ChildInit, true
	case "child_exit":
		return nil, h.ChildExit, true
	case "monitor":
		return nil, h.Monitor, true
	}
	return nil, nil, false
}

// checkHookType is the config-time check that a named Go handler has the
// signature its phase calls.
func checkHookType(phase string, h any) error {
	if phase == "pre_connection" || phase == "process_connection" {
		if _, ok := asConnectionHook(h); !ok {
			return fmt.Errorf("a handler for %s must be a func(c *phases.Connection, s *phases.Server) (phases.Status, error), not %T", phase, h)
		}
		return nil
	}
	_, _, isServer := serverPhase(phases.NewServerHooks(), phase)
	if !isServer {
		if _, ok := asRequestHook(h); !ok {
			return fmt.Errorf("a handler for %s must be a func(r *phases.Request) (phases.Status, error), not %T", phase, h)
		}
		return nil
	}
	switch phase {
	case "child_init", "child_exit", "monitor":
		if _, ok := phases.AsChildHook(h); !ok {
			return fmt.Errorf("a handler for %s must be a func(p *phases.Pool, s *phases.Server) error, not %T", phase, h)
		}
	default:
		if _, ok := phases.AsServerHook(h); !ok {
			return fmt.Errorf("a handler for %s must be a func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error, not %T", phase, h)
		}
	}
	return nil
}

// registerHooks is the core module's part of every generation: open the
// error log first thing in open_logs, and attach the GoHook* handlers the
// config names, in config order.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	h.OpenLogs.Add(phases.Entry[phases.ServerHookFunc]{Fn: coreOpenLogs, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, RerunInChild: true})
	registerRequestHooks(h.Request, cfg)
	if err := registerGoRequestHooks(h.Request, cfg); err != nil {
		return err
	}
	if err := registerGoConnectionHooks(h.Request, cfg); err != nil {
		return err
	}
	for _, ref := range ServerOf(cfg.Main).Hooks {
		server, child, ok := serverPhase(h, ref.Phase)
		if !ok {
			continue
		}
		order, err := phases.OrderOf(ref.Order)
		if err != nil {
			return err
		}
		origin := ref.Name + " (Go)"
		if server != nil {
			f, _ := phases.AsServerHook(ref.Handler)
			server.Add(phases.Entry[phases.ServerHookFunc]{Fn: f, Origin: origin, Module: ref.Name, Order: order})
		} else {
			f, _ := phases.AsChildHook(ref.Handler)
			child.Add(phases.Entry[phases.ChildHookFunc]{Fn: f, Origin: origin, Module: ref.Name, Order: order})
		}
	}
	return nil
}

// coreOpenLogs is core's open_logs: it names the generation's listen
// addresses (the MPM opens them) and opens the error log.
func coreOpenLogs(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	s.Listen = listenAddrs(s.Config)
	s.Conn = connSettings(ServerOf(s.Main))
	return openErrorLog(pconf, plog, ptemp, s)
}

// openErrorLog opens the main server's ErrorLog into plog, so every restart
// (which clears plog) reopens it and logrotate works, then the virtual
// hosts' own.
func openErrorLog(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	ss := ServerOf(s.Main)
	target := ss.ErrorLog
	if target == "" {
		target = filepath.Join(s.Config.ServerRoot, "logs/error_log")
	}
	w, err := openLogTarget(plog, s, target)
	if err != nil {
		return err
	}
	log := phases.NewErrorLog(w, phases.ErrorLogOptions{
		Format: ss.ErrorLogFormat, Level: ss.LogLevel, ModuleLevels: ss.ModuleLogLevels, Closer: w,
	})
	plog.CleanupRegister("core_module error log", log.Close)
	s.Log = log
	s.DirLogLevel = dirLogLevel
	return openVhostErrorLogs(plog, s, target, w)
}

// dirLogLevel is the LogLevel r's sections set: the last level set, and
// the module levels merged in section order.
func dirLogLevel(r *phases.Request) (string, map[string]string) {
	level := ""
	var modules map[string]string
	for _, sec := range r.Sections {
		ds := config.SectionConf[DirSettings](sec, ModuleName)
		if ds.LogLevel != "" {
			level = ds.LogLevel
		}
		for m, lv := range ds.ModuleLogLevels {
			if modules == nil {
				modules = map[string]string{}
			}
			modules[m] = lv
		}
	}
	return level, modules
}

// openVhostErrorLogs gives each virtual host with an ErrorLog, LogLevel or
// ErrorLogFormat of its own its error log, as Apache merges them: what
// the <VirtualHost> does not set comes from the main server, and a host
// without an ErrorLog writes to the main server's file at its own level.
func openVhostErrorLogs(plog *phases.Pool, s *phases.Server, mainTarget string, mainWriter io.Writer) error {
	ss := ServerOf(s.Main)
	s.VhostLogs = nil
	for _, vh := range s.Config.Vhosts {
		vs := ServerOf(vh)
		if vs.ErrorLog == "" && vs.LogLevel == "" && len(vs.ModuleLogLevels) == 0 && vs.ErrorLogFormat == "" {
			continue
		}
		opts := phases.ErrorLogOptions{Format: ss.ErrorLogFormat, Level: ss.LogLevel, ModuleLevels: map[string]string{}}
		if vs.ErrorLogFormat != "" {
			opts.Format = vs.ErrorLogFormat
		}
		if vs.LogLevel != "" {
			opts.Level = vs.LogLevel
		}
		for m, lv := range ss.ModuleLogLevels {
			opts.ModuleLevels[m] = lv
		}
		for m, lv := range vs.ModuleLogLevels {
			opts.ModuleLevels[m] = lv
		}
		var w io.Writer = mainWriter
		if vs.ErrorLog != "" && vs.ErrorLog != mainTarget {
			vw, err := openLogTarget(plog, s, vs.ErrorLog)
			if err != nil {
				return fmt.Errorf("virtual host %s: %w", vhostName(vh), err)
			}
			w, opts.Closer = vw, vw
		}
		log := phases.NewErrorLog(w, opts)
		plog.CleanupRegister("core_module error log of "+vhostName(vh), log.Close)
		if s.VhostLogs == nil {
			s.VhostLogs = map[*config.Server]*phases.ErrorLog{}
		}
		s.VhostLogs[vh] = log
	}
	return nil
}

// vhostName names a virtual host in messages: its ServerName, else its
// addresses.
func vhostName(vh *config.Server) string {
	if n := ServerOf(vh).ServerName; n != "" {
		return n
	}
	return strings.Join(vh.Addrs, " ")
}

// openLogTarget opens an ErrorLog target: "|command" (a piped logger),
// "syslog[:facility]", or a file (created with its directory). Files and
// pipes go through s.Files, so children inherit the master's.
func openLogTarget(plog *phases.Pool, s *phases.Server, target string) (io.WriteCloser, error) {
	switch {
	case strings.HasPrefix(target, "|"):
		command := strings.TrimSpace(strings.TrimPrefix(target, "|"))
		pw, err := s.Files.Open("pipe:"+command, func() (*os.File, error) { return pipedLog(plog, command) })
		if err != nil {
			return nil, fmt.Errorf("could not open error log pipe %s: %w", target, err)
		}
		return pw, nil
	case strings.HasPrefix(strings.ToLower(target), "syslog"):
		sw, err := syslogWriter(target)
		if err != nil {
			return nil, fmt.Errorf("could not open syslog: %w", err)
		}
		return sw, nil
	}
	f, err := s.Files.Open("file:"+target, func() (*os.File, error) {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, err
		}
		return os.OpenFile(target, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	})
	if err != nil {
		return nil, fmt.Errorf("could not open error log file %s: %w", target, err)
	}
	return f, nil
}

// pipedLog starts a piped logger ("|command") reading the log on stdin and
// returns the write end of its pipe (children inherit it). Closing plog
// closes the master's end; the program is reaped when every writer, the
// children included, has closed it.
func pipedLog(plog *phases.Pool, command string) (*os.File, error) {
	return phases.StartPipedLogger(plog, "core_module error log", exec.Command("/bin/sh", "-c", command))
}

// connSettings turns the main server's connection directives into the
// engine's settings, Apache's defaults where a directive is absent.
func connSettings(ss *ServerSettings) phases.ConnSettings {
	c := phases.DefaultConnSettings()
	if ss.Timeout > 0 {
		c.Timeout = ss.Timeout
	}
	if ss.KeepAlive != nil {
		c.KeepAlive = *ss.KeepAlive
	}
	if ss.KeepAliveTimeout > 0 {
		c.KeepAliveTimeout = ss.KeepAliveTimeout
	}
	if ss.MaxKeepAliveRequestsSet {
		c.MaxKeepAliveRequests = int(ss.MaxKeepAliveRequests)
	}
	if ss.LimitRequestLine != nil {
		c.LimitRequestLine = int(*ss.LimitRequestLine)
	}
	if ss.LimitRequestFieldSz != nil {
		c.LimitRequestFieldSz = int(*ss.LimitRequestFieldSz)
	}
	if ss.LimitRequestFields != nil {
		c.LimitRequestFields = int(*ss.LimitRequestFields)
	}
	if len(ss.Protocols) > 0 {
		c.Protocols = ss.Protocols
	}
	if ss.Require10 != nil {
		c.Require10 = *ss.Require10
	}
	return c
}

// ListenAddrs are the addresses cfg's Listen directives name: what the
// master binds before it retires a running generation.
func ListenAddrs(cfg *config.Config) []phases.ListenAddr { return listenAddrs(cfg) }

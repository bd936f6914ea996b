// Package echo is Apache's mod_echo: "ProtocolEcho On" makes the server
// (or a virtual host, chosen by the connection's address) an echo server
// speaking no HTTP at all: every byte a client sends comes back, until it
// closes. It is the example of a process_connection handler, the hook a
// module uses to take a connection over (Net::Server's process_request).
package echo

import (
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the module's identifier.
const ModuleName = "echo_module"

// ServerSettings holds ProtocolEcho for a server.
type ServerSettings struct {
	Echo *bool // nil: not set here (a virtual host inherits the main server's)
}

// ServerOf returns the echo settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_echo.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "ProtocolEcho", Form: config.Flag, Contexts: config.ServerVhost, Built: true,
			Help: "ProtocolEcho On/Off",
			Handler: func(c *config.Cmd) error {
				on := c.Flag()
				ServerOf(c.Server).Echo = &on
				return nil
			}},
	}})
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	if !anyOn(cfg) {
		return nil // no connection pays for a module nobody turned on
	}
	h.Request.ProcessConnection.Add(phases.Entry[phases.ConnectionHookFunc]{Fn: processConnection, Origin: ModuleName + " (Go)", Module: ModuleName, Order: phases.Middle})
	return nil
}

func anyOn(cfg *config.Config) bool {
	for _, s := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		if e := ServerOf(s).Echo; e != nil && *e {
			return true
		}
	}
	return false
}

// enabled is ProtocolEcho for the connection's base server.
func enabled(cfg *config.Config, c *phases.Connection) bool {
	if e := ServerOf(core.BaseServer(cfg, c)).Echo; e != nil {
		return *e
	}
	e := ServerOf(cfg.Main).Echo
	return e != nil && *e
}

// processConnection echoes the connection's bytes back until the client
// closes it or is silent for Timeout.
func processConnection(c *phases.Connection, s *phases.Server) (phases.Status, error) {
	if c.Stream == nil || !enabled(s.Config, c) {
		return phases.DECLINED, nil
	}
	deadline, _ := c.Stream.(interface{ SetReadDeadline(time.Time) error })
	buf := make([]byte, 8192)
	for {
		if deadline != nil && s.Conn.Timeout > 0 {
			_ = deadline.SetReadDeadline(time.Now().Add(s.Conn.Timeout))
		}
		n, err := c.Stream.Read(buf)
		if n > 0 {
			if _, werr := c.Stream.Write(buf[:n]); werr != nil {
				return phases.OK, nil
			}
		}
		if err != nil {
			return phases.OK, nil // the client is gone (or silent): done
		}
	}
}

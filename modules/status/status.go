// Package status is httpdg's status module (status_module, Apache's
// mod_status): the server-status page built from the scoreboard.
//
// Only the directives are declared so far; the server-status handler is
// not built yet.
package status

import (
	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the status module's identifier.
const ModuleName = "status_module"

// Global holds the process-wide status settings. A nil field was not set
// in the config (ExtendedStatus then defaults to On when status_module is
// loaded, as in Apache 2.4; SeeRequestTail to Off).
type Global struct {
	ExtendedStatus *bool
	SeeRequestTail *bool
}

// GlobalOf returns the process-wide status settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// Extended reports whether the scoreboard keeps per-request details.
func (g *Global) Extended() bool { return g.ExtendedStatus == nil || *g.ExtendedStatus }

// RequestTail reports whether the status page shows the last 63 characters
// of a request line instead of the first.
func (g *Global) RequestTail() bool { return g.SeeRequestTail != nil && *g.SeeRequestTail }

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_status.c", Directives: []*config.Directive{
		{Name: "ExtendedStatus", Form: config.Flag, Contexts: config.ServerOnly, Help: "On to keep per-request details (client, vhost, request line) in the scoreboard", Handler: func(c *config.Cmd) error {
			v := c.Flag()
			GlobalOf(c.Config).ExtendedStatus = &v
			return nil
		}},
		{Name: "SeeRequestTail", Form: config.Flag, Contexts: config.ServerOnly, Help: "On to show the last 63 characters of long request lines in the status page, Off for the first 63", Handler: func(c *config.Cmd) error {
			v := c.Flag()
			GlobalOf(c.Config).SeeRequestTail = &v
			return nil
		}},
	}})
}

// Package core is httpdg's core module (core_module): server-wide settings,
// listeners, virtual hosts and per-directory sections, and the GoHook*
// directives that name compiled-in Go handlers.
package core

import (
	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the core module's identifier.
const ModuleName = "core_module"

func init() {
	var ds []*config.Directive
	ds = append(ds, config.ReadTimeDirectives()...)
	ds = append(ds, sectionDirectives()...)
	ds = append(ds, serverDirectives()...)
	ds = append(ds, dirDirectives()...)
	ds = append(ds, filterDirectives()...)
	ds = append(ds, goHookDirectives()...)
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "core.c", Directives: ds, RegisterHooks: registerHooks})
	// Apache's http_module and so_module are part of every server; configs
	// test for them with <IfModule>.
	phases.RegisterModule(&phases.Module{Name: "http_module", Source: "http_core.c"})
	phases.RegisterModule(&phases.Module{Name: "so_module", Source: "mod_so.c"})
}

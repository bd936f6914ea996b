package lua_test

import (
	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

func phasesDirectives() (*config.Registry, error) { return phases.Directives() }

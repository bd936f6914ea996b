// Package standard compiles in every module that ships with httpdg. A custom
// main imports it, plus any third-party module packages, and calls cli.Main.
package standard

import (
	_ "github.com/httpdg/httpdg/modules/alias"
	_ "github.com/httpdg/httpdg/modules/authbasic"
	_ "github.com/httpdg/httpdg/modules/authz"
	_ "github.com/httpdg/httpdg/modules/cgi"
	_ "github.com/httpdg/httpdg/modules/core"
	_ "github.com/httpdg/httpdg/modules/dir"
	_ "github.com/httpdg/httpdg/modules/echo"
	_ "github.com/httpdg/httpdg/modules/headers"
	_ "github.com/httpdg/httpdg/modules/logconfig"
	_ "github.com/httpdg/httpdg/modules/lua"
	_ "github.com/httpdg/httpdg/modules/mime"
	_ "github.com/httpdg/httpdg/modules/proxy"
	_ "github.com/httpdg/httpdg/modules/reqtimeout"
	_ "github.com/httpdg/httpdg/modules/ssl"
	_ "github.com/httpdg/httpdg/modules/startuplog"
	_ "github.com/httpdg/httpdg/modules/static"
	_ "github.com/httpdg/httpdg/modules/status"
	_ "github.com/httpdg/httpdg/mpm"
)

// Package standard compiles in every module that ships with httpdg. A custom
// main imports it, plus any third-party module packages, and calls cli.Main.
package standard

import (
	_ "github.com/httpdg/httpdg/modules/core"
)

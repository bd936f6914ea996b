// Command httpdg is an Apache-httpd-style web server. See README.md.
package main

import (
	"os"

	"github.com/httpdg/httpdg/cmd/cli"
	_ "github.com/httpdg/httpdg/modules/standard"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

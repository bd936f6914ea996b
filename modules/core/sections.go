package core

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/httpdg/httpdg/config"
)

func sectionDirectives() []*config.Directive {
	section := func(name string, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Section: true, Form: config.RawArgs, Contexts: ctx, Help: help, Handler: h, Built: true}
	}
	return []*config.Directive{
		section("VirtualHost", config.ServerOnly, "Container for directives affecting resources located in the specified virtual hosts", virtualHost),
		section("Directory", config.ServerVhost, "Container for directives affecting resources located in the specified directories", pathSection("Directory", config.InDirectory, false)),
		section("DirectoryMatch", config.ServerVhost, "Container for directives affecting resources located in the specified directories", pathSection("DirectoryMatch", config.InDirectory, true)),
		section("Location", config.ServerVhost, "Container for directives affecting resources accessed through the specified URL paths", pathSection("Location", config.InLocation, false)),
		section("LocationMatch", config.ServerVhost, "Container for directives affecting resources accessed through the specified URL paths", pathSection("LocationMatch", config.InLocation, true)),
		section("Files", config.ServerVhost|config.InDirectory|config.InHtaccess, "Container for directives affecting files matching specified patterns", pathSection("Files", config.InFiles, false)),
		section("FilesMatch", config.ServerVhost|config.InDirectory|config.InHtaccess, "Container for directives affecting files matching specified patterns", pathSection("FilesMatch", config.InFiles, true)),
	}
}

// virtualHost handles <VirtualHost addr[:port] ...>.
func virtualHost(cmd *config.Cmd) error {
	if len(cmd.Args) == 0 {
		return fmt.Errorf("<VirtualHost> requires at least one address")
	}
	for _, a := range cmd.Args {
		if a == "*" || strings.EqualFold(a, "_default_") {
			continue
		}
		addr := a
		for _, p := range []string{"*:", "_default_:"} {
			if rest, ok := strings.CutPrefix(strings.ToLower(a), p); ok {
				addr = "x:" + rest
			}
		}
		if _, err := config.ParseHostPort(addr, false); err != nil {
			return fmt.Errorf("<VirtualHost> address %s: %v", a, err)
		}
	}
	vh := config.NewServer(cmd.Node.Origin, true, cmd.Args)
	cmd.Config.Vhosts = append(cmd.Config.Vhosts, vh)
	return cmd.Walk(cmd.Node.Children, config.InVirtualHost, vh, nil)
}

// pathSection handles the per-directory sections. match is true for the
// *Match forms, whose argument is always a regex; the plain forms take one
// when written "~ regex".
func pathSection(kind string, where config.Context, match bool) func(*config.Cmd) error {
	return func(cmd *config.Cmd) error {
		args := cmd.Args
		regex := match
		if !match && len(args) == 1 && args[0] == "~" {
			return fmt.Errorf("<%s ~ > block must specify a path", kind)
		}
		if !match && len(args) == 2 && args[0] == "~" {
			regex, args = true, args[1:]
		}
		if len(args) != 1 {
			if len(args) == 0 {
				return fmt.Errorf("<%s> directive requires additional arguments", kind)
			}
			return fmt.Errorf("<%s> takes one argument (a path, or ~ and a regular expression)", kind)
		}
		var re *regexp.Regexp
		if regex {
			var err error
			if re, err = regexp.Compile(args[0]); err != nil {
				return fmt.Errorf("Regex could not be compiled: <%s %s>: %v", kind, args[0], err)
			}
		}
		arg := args[0]
		if where == config.InDirectory && !regex && arg != "/" {
			arg = cmd.Path(arg) // Apache makes <Directory> paths absolute
		}
		sec := config.NewSection(kind, arg, re, cmd.Node.Origin, cmd.Section)
		if cmd.Section != nil {
			cmd.Section.Children = append(cmd.Section.Children, sec)
		} else {
			cmd.Server.Sections = append(cmd.Server.Sections, sec)
		}
		return cmd.Walk(cmd.Node.Children, where, cmd.Server, sec)
	}
}

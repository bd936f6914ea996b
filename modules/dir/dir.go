// Package dir is httpdg's dir module (dir_module, Apache's mod_dir): index
// files for directory URLs, the trailing-slash redirect, and a fallback
// resource for URLs that map to nothing.
//
// Its fixups hook (fixup.go) applies them: mod_dir's fixup_dir and
// fixup_dflt.
package dir

import (
	"fmt"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the dir module's identifier.
const ModuleName = "dir_module"

// DirSettings holds the dir settings of one per-directory section, or of a
// server's defaults outside any section.
type DirSettings struct {
	// Index lists the DirectoryIndex URLs in order; several DirectoryIndex
	// lines add to it, as in Apache.
	Index []string
	// IndexSet is true once a DirectoryIndex line is seen here (so an empty
	// Index after "DirectoryIndex disabled" overrides the parent's list).
	IndexSet bool
	// IndexDisabled is set by "DirectoryIndex disabled".
	IndexDisabled bool
	// Slash is DirectorySlash; nil when not set here (the default is On).
	Slash *bool
	// Fallback is FallbackResource's URL; "disabled" cancels an inherited one.
	Fallback string
}

// SectionOf returns the dir settings made inside sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// ServerDirOf returns the dir settings server s makes outside any section.
func ServerDirOf(s *config.Server) *DirSettings {
	return config.ServerDirConf[DirSettings](s, ModuleName)
}

func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

func init() {
	all := config.AnyContext
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_dir.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "DirectoryIndex", Form: config.RawArgs, Contexts: all, Help: "one or more local URLs to try as a directory's index, or disabled", Handler: directoryIndex, Built: true},
		{Name: "DirectorySlash", Form: config.Flag, Contexts: all, Help: "On to redirect a directory URL without its trailing slash to the URL with one", Built: true, Handler: func(c *config.Cmd) error {
			v := c.Flag()
			dirOf(c).Slash = &v
			return nil
		}},
		{Name: "FallbackResource", Form: config.Take1, Contexts: all, Help: "the local URL served for requests that map to no file, or disabled", Built: true, Handler: func(c *config.Cmd) error {
			v := c.Args[0]
			if strings.EqualFold(v, "disabled") {
				v = "disabled"
			} else if err := localURL(c, v); err != nil {
				return err
			}
			dirOf(c).Fallback = v
			return nil
		}},
	}})
}

// directoryIndex handles "DirectoryIndex url... | disabled".
func directoryIndex(c *config.Cmd) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("DirectoryIndex requires at least one argument, %s", c.Directive.Help)
	}
	ds := dirOf(c)
	ds.IndexSet = true
	if len(c.Args) == 1 && strings.EqualFold(c.Args[0], "disabled") {
		ds.Index, ds.IndexDisabled = nil, true
		return nil
	}
	for _, a := range c.Args {
		// Apache would look for a file called "disabled" here; a user who
		// wrote it meant the keyword.
		if strings.EqualFold(a, "disabled") {
			return fmt.Errorf("DirectoryIndex: 'disabled' must be the only argument")
		}
		if err := localURL(c, a); err != nil {
			return err
		}
	}
	ds.Index = append(ds.Index, c.Args...)
	ds.IndexDisabled = false
	return nil
}

// localURL rejects a full URL where a local URL-path is expected.
func localURL(c *config.Cmd, v string) error {
	if strings.Contains(v, "://") {
		return fmt.Errorf("%s: '%s' is not a local URL (write a path such as /index.html)", c.Directive.Name, v)
	}
	return nil
}

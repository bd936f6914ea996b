package core

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
)

var optionNames = []string{"None", "All", "Indexes", "FollowSymLinks", "SymLinksIfOwnerMatch", "ExecCGI", "Includes", "IncludesNOEXEC", "MultiViews"}

var overrideNames = []string{"All", "None", "AuthConfig", "FileInfo", "Indexes", "Limit", "Options"}

func dirDirectives() []*config.Directive {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h}
	}
	all := config.AnyContext
	return []*config.Directive{
		d("Options", config.RawArgs, all, "Set a number of attributes for a given directory", options),
		d("AllowOverride", config.RawArgs, config.InDirectory, "Controls what groups of directives can be configured by per-directory config files", allowOverride),
		d("SetHandler", config.Take1, all, "A resource name to handle all matching files", func(c *config.Cmd) error {
			dirOf(c).Handler = c.Args[0]
			return nil
		}),
		d("ErrorDocument", config.Take2, all, "Change responses for HTTP errors", errorDocument),
		d("LimitRequestBody", config.Take1, config.ServerVhostD|config.InHtaccess, "Limit (in bytes) on maximum size of request message body", func(c *config.Cmd) error {
			n, err := c.Int(c.Args[0], 0, 1<<31-1)
			dirOf(c).LimitRequestBody = &n
			return err
		}),
		d("AddDefaultCharset", config.Take1, all, "The name of the default charset to add to any Content-Type without one or 'Off' to disable", func(c *config.Cmd) error {
			v := c.Args[0]
			if strings.EqualFold(v, "on") {
				v = "iso-8859-1"
			}
			dirOf(c).AddDefaultCharset = v
			return nil
		}),
		d("ServerSignature", config.Take1, all, "En-/disable server signature (on|off|email)", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "On", "Off", "EMail")
			dirOf(c).ServerSignature = v
			return err
		}),
	}
}

// options handles "Options [+|-]opt ...", with Apache's rule that either all
// options carry a sign or none does.
func options(c *config.Cmd) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("Options requires at least one argument")
	}
	signed, unsigned := false, false
	var out []string
	for _, a := range c.Args {
		name := a
		if strings.HasPrefix(a, "+") || strings.HasPrefix(a, "-") {
			signed, name = true, a[1:]
		} else {
			unsigned = true
		}
		if signed && unsigned {
			return fmt.Errorf("Either all Options must start with + or -, or no Option may.")
		}
		found := ""
		for _, o := range optionNames {
			if strings.EqualFold(o, name) {
				found = o
			}
		}
		if found == "" {
			return fmt.Errorf("Illegal option %s", name)
		}
		if signed && (found == "None" || found == "All") {
			return fmt.Errorf("Illegal option %s: None and All cannot take a sign", a)
		}
		out = append(out, a[:len(a)-len(name)]+found)
	}
	dirOf(c).Options = out
	return nil
}

func allowOverride(c *config.Cmd) error {
	if c.Section == nil || c.Section.Regex != nil && c.Section.Kind != "DirectoryMatch" {
		return fmt.Errorf("AllowOverride not allowed here")
	}
	if len(c.Args) == 0 {
		return fmt.Errorf("AllowOverride requires at least one argument")
	}
	for _, a := range c.Args {
		name, _, _ := strings.Cut(a, "=")
		ok := false
		for _, o := range overrideNames {
			ok = ok || strings.EqualFold(o, name)
		}
		if !ok {
			return fmt.Errorf("Illegal override option %s", a)
		}
	}
	dirOf(c).AllowOverride = c.Args
	return nil
}

// errorDocument handles "ErrorDocument code local-path|URL|text".
func errorDocument(c *config.Cmd) error {
	code, err := strconv.Atoi(c.Args[0])
	if err != nil || code < 400 || code > 599 {
		return fmt.Errorf("Unsupported HTTP response code %s", c.Args[0])
	}
	doc := c.Args[1]
	raw := c.Node.Raw
	quoted := strings.HasSuffix(raw, "\"") || strings.HasSuffix(raw, "'")
	if !quoted && !strings.HasPrefix(doc, "/") && !strings.Contains(doc, "://") && !strings.EqualFold(doc, "default") {
		return fmt.Errorf("ErrorDocument: '%s' is neither a local path (/...), a URL, nor quoted text", doc)
	}
	ds := dirOf(c)
	if ds.ErrorDocuments == nil {
		ds.ErrorDocuments = map[int]string{}
	}
	ds.ErrorDocuments[code] = doc
	return nil
}

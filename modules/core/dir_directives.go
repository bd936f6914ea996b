package core

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
)

var optionNames = []string{"None", "All", "Indexes", "FollowSymLinks", "SymLinksIfOwnerMatch", "ExecCGI", "Includes", "IncludesNOEXEC", "MultiViews"}

var overrideNames = []string{"All", "None", "AuthConfig", "FileInfo", "Indexes", "Limit", "Options", "Nonfatal"}

// builtDirDirectives have their run-time behaviour.
var builtDirDirectives = map[string]bool{"LimitRequestBody": true, "SetHandler": true, "ErrorDocument": true, "Options": true, "AddDefaultCharset": true, "EnableMMAP": true, "EnableSendfile": true, "ServerSignature": true}

func dirDirectives() []*config.Directive {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h, Built: builtDirDirectives[name]}
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
		// EnableMMAP Off (for document roots on network file systems) also
		// turns off the static module's cache of small files' contents:
		// every request then reads the file.
		d("EnableMMAP", config.Flag, all, "Controls whether memory-mapping may be used to read files", func(c *config.Cmd) error {
			v := c.Flag()
			dirOf(c).EnableMMAP = &v
			return nil
		}),
		d("EnableSendfile", config.Flag, all, "Controls whether sendfile may be used to transmit files", func(c *config.Cmd) error {
			v := c.Flag()
			dirOf(c).EnableSendfile = &v
			return nil
		}),
		d("ServerSignature", config.Take1, all, "En-/disable server signature (on|off|email)", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "On", "Off", "EMail")
			dirOf(c).ServerSignature = v
			return err
		}),
	}
}

// options handles "Options [+|-]opt ...", with Apache's rules: either all
// options carry a sign or none does, except that a leading None or All may
// be followed by signed options; None and All take no sign and must come
// first.
func options(c *config.Cmd) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("Options requires at least one argument")
	}
	const mixed = "Either all Options must start with + or -, or no Option may."
	merge, allNone := false, false
	var out []string
	for i, a := range c.Args {
		name := a
		if strings.HasPrefix(a, "+") || strings.HasPrefix(a, "-") {
			name = a[1:]
			if !merge && i > 0 && !allNone {
				return fmt.Errorf(mixed)
			}
			merge = true
		} else if merge {
			return fmt.Errorf(mixed)
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
		if found == "None" || found == "All" {
			if i > 0 {
				if found == "All" { // Apache's wording differs by one letter
					return fmt.Errorf("'Options All' must be the first option given.")
				}
				return fmt.Errorf("'Options None' must be the first Option given.")
			}
			if merge {
				return fmt.Errorf("You may not use 'Options +%s' or 'Options -%s'.", found, found)
			}
			allNone = true
		}
		out = append(out, a[:len(a)-len(name)]+found)
	}
	dirOf(c).Options = out
	return nil
}

func allowOverride(c *config.Cmd) error {
	// Apache ignores AllowOverride in a section given by a regular
	// expression (it is only read from plain <Directory> sections); say so.
	if c.Section == nil || c.Section.Regex != nil {
		return fmt.Errorf("AllowOverride not allowed here (only in <Directory> sections without a regular expression)")
	}
	if len(c.Args) == 0 {
		return fmt.Errorf("AllowOverride requires at least one argument")
	}
	for _, a := range c.Args {
		name, val, hasVal := strings.Cut(a, "=")
		ok := false
		for _, o := range overrideNames {
			ok = ok || strings.EqualFold(o, name)
		}
		if !ok || hasVal && !strings.EqualFold(name, "Options") && !strings.EqualFold(name, "Nonfatal") {
			return fmt.Errorf("Illegal override option %s", a)
		}
		switch {
		case strings.EqualFold(name, "Nonfatal"):
			if _, err := c.OneOf(val, "Override", "Unknown", "All"); err != nil {
				return fmt.Errorf("=Override, =Unknown or =All expected after %s", name)
			}
		case hasVal: // Options=opt,opt...
			for _, o := range strings.Split(val, ",") {
				known := false
				for _, n := range optionNames {
					known = known || strings.EqualFold(n, o)
				}
				if !known {
					return fmt.Errorf("Illegal option %s", o)
				}
			}
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
	// Like Apache, anything that is not a local path or a URL is the text
	// of the message itself, quoted or not; a lone word is often a path
	// missing its '/', so say so.
	if !strings.ContainsAny(doc, " \t") && !strings.HasPrefix(doc, "/") && !strings.Contains(doc, "://") && !strings.EqualFold(doc, "default") {
		c.Warn("ErrorDocument %d: '%s' is sent as the text of the error page; a local page must start with '/'", code, doc)
	}
	if code == 401 && strings.Contains(doc, "://") && !strings.ContainsAny(doc, " \t") {
		// Apache: the client would never see the password prompt.
		c.Warn("cannot use a full URL in a 401 ErrorDocument directive --- ignoring!")
		return nil
	}
	ds := dirOf(c)
	if ds.ErrorDocuments == nil {
		ds.ErrorDocuments = map[int]string{}
	}
	ds.ErrorDocuments[code] = doc
	return nil
}

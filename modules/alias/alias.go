// Package alias is httpdg's alias module (alias_module, Apache's mod_alias):
// URL-path to file-system mappings (Alias, ScriptAlias and their Match
// forms) and external redirects (Redirect and its variants).
//
// translate_name maps Alias/AliasMatch (before core's DocumentRoot mapping)
// and answers the server-level redirects; fixups answers the redirects of
// per-directory sections.
package alias

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the alias module's identifier.
const ModuleName = "alias_module"

// Alias is one Alias, ScriptAlias, AliasMatch or ScriptAliasMatch line
// made at server or virtual-host level.
type Alias struct {
	Fake    string         // the URL-path, or the regex source for the Match forms
	Regex   *regexp.Regexp // nil for Alias and ScriptAlias
	Real    string         // the file-system path (may hold $1... for Match forms)
	Handler string         // "cgi-script" for ScriptAlias*, else ""
	Origin  *config.Origin
}

// Redirect is one Redirect, RedirectMatch, RedirectPermanent or
// RedirectTemp line.
type Redirect struct {
	Status int            // 301, 302, 303, 410...
	Fake   string         // URL-path or regex source; "" for the one-argument form in <Location>
	Regex  *regexp.Regexp // RedirectMatch only
	URL    string         // target; "" when the status takes none (gone, 4xx)
	Origin *config.Origin
}

// ServerSettings holds the aliases of one server (main or virtual), in
// config order.
type ServerSettings struct {
	Aliases []Alias
}

// DirSettings holds the redirects made in one per-directory section, or in a
// server's defaults outside any section, and the one-argument Alias or
// ScriptAlias of a <Location>.
type DirSettings struct {
	Redirects []Redirect
	// LocationAlias is the target of "Alias path" inside <Location>, ""
	// when not set; LocationHandler is "cgi-script" for ScriptAlias.
	LocationAlias   string
	LocationHandler string
}

// ServerOf returns the alias settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

// SectionOf returns the alias settings made inside sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// ServerDirOf returns the alias settings server s makes outside any section.
func ServerDirOf(s *config.Server) *DirSettings {
	return config.ServerDirConf[DirSettings](s, ModuleName)
}

func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

func init() {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		// ScriptAlias* run scripts through cgi_module (modules/cgi).
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h, Built: true}
	}
	srvDir := config.ServerVhost | config.InDirectory | config.InLocation | config.InFiles
	all := config.AnyContext
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_alias.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		d("Alias", config.Take12, srvDir, "a URL-path and a file-system path, or only the path inside <Location>", aliasHandler("")),
		d("ScriptAlias", config.Take12, srvDir, "a URL-path and a CGI directory or script, or only the path inside <Location>", aliasHandler("cgi-script")),
		d("AliasMatch", config.Take2, config.ServerVhost, "a regular expression on the URL-path and a file-system path (with $1...)", aliasMatch("")),
		d("ScriptAliasMatch", config.Take2, config.ServerVhost, "a regular expression on the URL-path and a CGI path (with $1...)", aliasMatch("cgi-script")),
		d("Redirect", config.Take123, all, "an optional status, then the URL-path to redirect and the target URL", func(c *config.Cmd) error {
			return redirect(c, false)
		}),
		d("RedirectMatch", config.Take23, all, "an optional status, then a regular expression on the URL-path and the target URL", func(c *config.Cmd) error {
			return redirect(c, true)
		}),
		d("RedirectPermanent", config.Take2, all, "the URL-path to redirect, then the target URL (301)", func(c *config.Cmd) error {
			return addRedirect(c, Redirect{Status: http.StatusMovedPermanently, Fake: c.Args[0], URL: c.Args[1]}, false)
		}),
		d("RedirectTemp", config.Take2, all, "the URL-path to redirect, then the target URL (302)", func(c *config.Cmd) error {
			return addRedirect(c, Redirect{Status: http.StatusFound, Fake: c.Args[0], URL: c.Args[1]}, false)
		}),
	}})
}

// aliasHandler handles Alias and ScriptAlias: two arguments at server or
// virtual-host level, one inside <Location>.
func aliasHandler(handler string) func(*config.Cmd) error {
	return func(c *config.Cmd) error {
		name := c.Directive.Name
		if len(c.Args) == 1 {
			switch c.Where {
			case config.InDirectory:
				return fmt.Errorf("%s cannot occur within <Directory> section", name)
			case config.InFiles:
				return fmt.Errorf("%s cannot occur within <Files> section", name)
			case config.InLocation:
				ds := dirOf(c)
				ds.LocationAlias, ds.LocationHandler = c.Args[0], handler
				return nil
			}
			return fmt.Errorf("%s must have two arguments when used globally", name)
		}
		if c.Section != nil {
			return fmt.Errorf("%s cannot occur within <Directory/Location/Files> section", name)
		}
		fake, real := c.Args[0], c.Args[1]
		if fake == "" || real == "" {
			return fmt.Errorf("%s: the URL-path and the file-system path cannot be empty", name)
		}
		return addAlias(c, Alias{Fake: fake, Real: real, Handler: handler, Origin: c.Node.Origin})
	}
}

// aliasMatch handles AliasMatch and ScriptAliasMatch.
func aliasMatch(handler string) func(*config.Cmd) error {
	return func(c *config.Cmd) error {
		re, err := c.Regex(c.Args[0])
		if err != nil {
			return err
		}
		return addAlias(c, Alias{Fake: c.Args[0], Regex: re, Real: c.Args[1], Handler: handler, Origin: c.Node.Origin})
	}
}

// addAlias records a, warning as Apache does when an earlier alias hides it.
func addAlias(c *config.Cmd, a Alias) error {
	ss := ServerOf(c.Server)
	if a.Regex == nil {
		for _, prev := range ss.Aliases {
			if prev.Regex == nil && aliasMatches(a.Fake, prev.Fake) > 0 {
				kind := ""
				if prev.Handler != "" {
					kind = "Script"
				}
				c.Warn("The %s directive will probably never match because it overlaps an earlier %sAlias (line %d of %s).",
					c.Directive.Name, kind, prev.Origin.Line, prev.Origin.File)
				break
			}
		}
	}
	ss.Aliases = append(ss.Aliases, a)
	return nil
}

// aliasMatches is mod_alias's prefix match: fake matches uri when it is a
// prefix ending at a path-segment boundary, runs of slashes counting as
// one. It returns the length of uri matched, 0 for no match.
func aliasMatches(uri, fake string) int {
	u, f := 0, 0
	for f < len(fake) {
		if fake[f] == '/' {
			if u >= len(uri) || uri[u] != '/' {
				return 0
			}
			for f < len(fake) && fake[f] == '/' {
				f++
			}
			for u < len(uri) && uri[u] == '/' {
				u++
			}
			continue
		}
		if u >= len(uri) || uri[u] != fake[f] {
			return 0
		}
		u++
		f++
	}
	// A fake ending without '/' must end at a segment boundary of uri.
	if len(fake) > 0 && fake[len(fake)-1] != '/' && u < len(uri) && uri[u] != '/' {
		return 0
	}
	return u
}

// redirect handles Redirect and RedirectMatch:
//
//	Redirect [status] URL-path [URL]
//	Redirect [status] URL            (inside <Location>)
//
// with Apache's rules: permanent, temp, seeother and 3xx need a URL; gone
// and other statuses must have none.
func redirect(c *config.Cmd, useRegex bool) error {
	args := c.Args
	status, known, err := parseStatus(args[0])
	if err != nil {
		return err
	}
	r := Redirect{Status: http.StatusFound}
	if known {
		r.Status = status
	}
	isRedirect := r.Status >= 300 && r.Status <= 399
	inLocation := c.Where == config.InLocation && !useRegex
	switch len(args) {
	case 3:
		if !known {
			return fmt.Errorf("%s: invalid first argument (of three)", c.Directive.Name)
		}
		r.Fake, r.URL = args[1], args[2]
	case 2:
		switch {
		case !known:
			r.Fake, r.URL = args[0], args[1]
		case inLocation && isRedirect:
			r.URL = args[1] // status and target; the path is the <Location>'s
		case isRedirect:
			r.Fake = args[1] // the URL is missing; reported below
		case inLocation:
			return fmt.Errorf("Redirect URL not valid for this status")
		default:
			r.Fake = args[1]
		}
	case 1:
		switch {
		case !inLocation:
			if known {
				return fmt.Errorf("%s: the URL-path to redirect is missing", c.Directive.Name)
			}
			r.Fake = args[0] // the URL is missing; reported below
		case !known:
			r.URL = args[0]
		}
	}
	if useRegex {
		re, err := c.Regex(r.Fake)
		if err != nil {
			return err
		}
		r.Regex = re
	}
	return addRedirect(c, r, inLocation && r.Fake == "")
}

// addRedirect checks the URL against the status and records r.
func addRedirect(c *config.Cmd, r Redirect, locationForm bool) error {
	r.Origin = c.Node.Origin
	if r.Status >= 300 && r.Status <= 399 {
		if r.URL == "" {
			return fmt.Errorf("URL to redirect to is missing")
		}
		if !isURL(r.URL) && !strings.HasPrefix(r.URL, "/") && !(r.Regex != nil && strings.HasPrefix(r.URL, "$")) {
			return fmt.Errorf("Redirect to non-URL")
		}
	} else if r.URL != "" {
		return fmt.Errorf("Redirect URL not valid for this status")
	}
	if !locationForm && r.Regex == nil && !strings.HasPrefix(r.Fake, "/") {
		// Apache accepts it and it never matches: the request path always
		// starts with '/'.
		return fmt.Errorf("%s: the URL-path '%s' must begin with '/'", c.Directive.Name, r.Fake)
	}
	ds := dirOf(c)
	ds.Redirects = append(ds.Redirects, r)
	return nil
}

// parseStatus reads Redirect's optional first argument. known is false when
// arg is not a status (then it is the URL-path).
func parseStatus(arg string) (status int, known bool, err error) {
	switch strings.ToLower(arg) {
	case "permanent":
		return http.StatusMovedPermanently, true, nil
	case "temp":
		return http.StatusFound, true, nil
	case "seeother":
		return http.StatusSeeOther, true, nil
	case "gone":
		return http.StatusGone, true, nil
	}
	if arg == "" || arg[0] < '0' || arg[0] > '9' {
		return 0, false, nil
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 300 || n > 499 {
		return 0, false, fmt.Errorf("Redirect: invalid status '%s' (permanent, temp, seeother, gone, or a 3xx or 4xx code)", arg)
	}
	return n, true, nil
}

// isURL is Apache's ap_is_url: a scheme of letters, digits, '+', '-' or
// '.' followed by ':'.
func isURL(u string) bool {
	i := strings.IndexByte(u, ':')
	if i <= 0 {
		return false
	}
	for _, r := range u[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

package alias

import (
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// registerHooks adds mod_alias's run-time hooks: translate_name (before
// core's DocumentRoot mapping) for the server-level redirects and aliases
// and the <Location> forms, fixups for the redirects of the per-directory
// sections that apply.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	origin := ModuleName + " (Go)"
	h.Request.TranslateName.Add(phases.Entry[phases.RequestHookFunc]{Fn: translateName, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	h.Request.Fixups.Add(phases.Entry[phases.RequestHookFunc]{Fn: fixupRedirect, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// servers are the main server and r's virtual host in Apache's merge order
// for mod_alias's server lists: the virtual host's entries first.
func servers(r *phases.Request) []*config.Server {
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		return []*config.Server{r.Vhost, r.Server.Main}
	}
	return []*config.Server{r.Server.Main}
}

// translateName is translate_alias_redir: a <Location> redirect, then the
// server redirects, then a <Location> Alias, then the server aliases.
func translateName(r *phases.Request) (phases.Status, error) {
	if r.URI == "" || r.URI[0] != '/' {
		return phases.DECLINED, nil
	}
	locs := locationSections(r)
	if st, ok := locationRedirect(r, locs); ok {
		return st, nil
	}
	var redirects []Redirect
	for _, s := range servers(r) {
		for _, rd := range ServerDirOf(s).Redirects {
			if rd.Fake != "" || rd.Regex != nil {
				redirects = append(redirects, rd)
			}
		}
	}
	if st, ok := tryRedirects(r, redirects); ok {
		return st, nil
	}
	for i := len(locs) - 1; i >= 0; i-- {
		if ds := SectionOf(locs[i]); ds.LocationAlias != "" {
			r.Filename = rootRelative(r, ds.LocationAlias)
			setHandler(r, ds.LocationHandler)
			return phases.OK, nil
		}
	}
	for _, s := range servers(r) {
		for _, a := range ServerOf(s).Aliases {
			found, ok := matchAlias(r.URI, a.Fake, a.Regex, a.Real, false)
			if !ok {
				continue
			}
			r.Filename = rootRelative(r, found)
			setHandler(r, a.Handler)
			return phases.OK, nil
		}
	}
	return phases.DECLINED, nil
}

// fixupRedirect is fixup_redir: the redirects of the sections that apply,
// the later (more specific) sections' first, as Apache merges them.
func fixupRedirect(r *phases.Request) (phases.Status, error) {
	if r.URI == "" || r.URI[0] != '/' {
		return phases.DECLINED, nil
	}
	var redirects []Redirect
	for i := len(r.Sections) - 1; i >= 0; i-- {
		for _, rd := range SectionOf(r.Sections[i]).Redirects {
			if rd.Fake != "" || rd.Regex != nil {
				redirects = append(redirects, rd)
			}
		}
	}
	if st, ok := tryRedirects(r, redirects); ok {
		return st, nil
	}
	return phases.DECLINED, nil
}

func setHandler(r *phases.Request, handler string) {
	if handler != "" {
		r.Handler = handler
		r.Notes["alias-forced-type"] = handler
	}
}

func rootRelative(r *phases.Request, p string) string {
	if filepath.IsAbs(p) || r.Server == nil || r.Server.Config == nil {
		return p
	}
	return filepath.Join(r.Server.Config.ServerRoot, p)
}

// locationSections are the <Location> and <LocationMatch> sections that
// apply to r's URI, main server's first (translate_name runs before
// map_to_storage collects r.Sections).
func locationSections(r *phases.Request) []*config.Section {
	var out []*config.Section
	srvs := []*config.Server{r.Server.Main}
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		srvs = append(srvs, r.Vhost)
	}
	for _, s := range srvs {
		for _, sec := range s.Sections {
			if sec.Kind != "Location" && sec.Kind != "LocationMatch" {
				continue
			}
			if sec.Regex != nil {
				if sec.Regex.MatchString(r.URI) {
					out = append(out, sec)
				}
				continue
			}
			p := sec.Arg
			if r.URI == p || p == "/" || strings.HasPrefix(r.URI, strings.TrimSuffix(p, "/")+"/") {
				out = append(out, sec)
			}
		}
	}
	return out
}

// locationRedirect is try_redirect: "Redirect [status] URL" inside a
// <Location> sends every URI under it to exactly URL.
func locationRedirect(r *phases.Request, locs []*config.Section) (phases.Status, bool) {
	for i := len(locs) - 1; i >= 0; i-- {
		for _, rd := range SectionOf(locs[i]).Redirects {
			if rd.Fake == "" && rd.Regex == nil {
				return answer(r, rd.Status, rd.URL), true
			}
		}
	}
	return 0, false
}

// tryRedirects is try_alias_list for redirects: the first that matches
// answers.
func tryRedirects(r *phases.Request, list []Redirect) (phases.Status, bool) {
	for _, rd := range list {
		found, ok := matchAlias(r.URI, rd.Fake, rd.Regex, rd.URL, true)
		if ok {
			return answer(r, rd.Status, found), true
		}
	}
	return 0, false
}

// answer sets Location for a 3xx (made absolute, the request's query
// appended when the target has none) and returns the status.
func answer(r *phases.Request, status int, target string) phases.Status {
	if status < 300 || status > 399 {
		return phases.Status(status)
	}
	if strings.HasPrefix(target, "/") {
		target = constructURL(r, target)
	}
	if !isURL(target) {
		if r.Log() != nil {
			r.Log().Error("alias", "cannot redirect '%s' to '%s'; target is not a valid absoluteURI or abs_path", r.URI, target)
		}
		return http.StatusInternalServerError
	}
	if r.Args != "" && !strings.Contains(target, "?") {
		target += "?" + r.Args
	}
	r.HeadersOut.Set("Location", target)
	return phases.Status(status)
}

// constructURL is ap_construct_url with UseCanonicalName Off: the scheme,
// the host the client asked for (else ServerName) and the port of its Host
// header (else the server's), left out when it is the scheme's default.
func constructURL(r *phases.Request, path string) string {
	scheme, def := "http", 80
	if r.IsHTTPS {
		scheme, def = "https", 443
	}
	host, port := r.Hostname, 0
	if h := r.HeadersIn.Get("Host"); h != "" {
		if _, p, err := net.SplitHostPort(h); err == nil {
			port, _ = strconv.Atoi(p)
		}
	} else if host != "" {
		// The engine keeps the Host header out of HeadersIn; the port the
		// request came to is what the client's Host named in practice.
		port = r.Port
	}
	if host == "" {
		host, port = serverName(r)
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if port == 0 || port == def {
		return scheme + "://" + host + path
	}
	return scheme + "://" + host + ":" + strconv.Itoa(port) + path
}

// serverName is the ServerName of r's server without a scheme, and its
// port (0 when none is given).
func serverName(r *phases.Request) (string, int) {
	for _, s := range servers(r) {
		name := serverNameOf(s)
		if name == "" {
			continue
		}
		if i := strings.Index(name, "://"); i >= 0 {
			name = name[i+3:]
		}
		if h, p, err := net.SplitHostPort(name); err == nil {
			n, _ := strconv.Atoi(p)
			return h, n
		}
		return name, 0
	}
	return "localhost", 0
}

func serverNameOf(s *config.Server) string { return core.ServerOf(s).ServerName }

// matchAlias is one step of try_alias_list: a regex entry substitutes $N
// into real; a prefix entry appends what follows the matched prefix (URL-
// escaped for redirects).
func matchAlias(uri, fake string, re *regexp.Regexp, real string, redirect bool) (string, bool) {
	if re != nil {
		m := re.FindStringSubmatchIndex(uri)
		if m == nil {
			return "", false
		}
		found := phases.Pregsub(real, uri, m)
		if redirect {
			found = escapeTarget(found)
		}
		return found, true
	}
	l := aliasMatches(uri, fake)
	if l == 0 {
		return "", false
	}
	if redirect {
		return real + core.EscapePath(uri[l:]), true
	}
	return real + uri[l:], true
}

// escapeTarget escapes a RedirectMatch target as Apache does: the part
// before the query and fragment with ap_escape_uri, those kept as written.
func escapeTarget(u string) string {
	rest := ""
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u, rest = u[:i], u[i:]
	}
	return core.EscapePath(u) + rest
}

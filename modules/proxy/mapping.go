package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// proxyHandler is the handler name translate_name gives the requests it
// claims, as mod_proxy's "proxy-server".
const proxyHandler = "proxy-server"

// filenamePrefix starts r.Filename for a proxied request ("proxy:" + URL),
// as in Apache; the handler and ProxyPassReverse read the URL after it.
const filenamePrefix = "proxy:"

// Notes the mapping leaves for the handler, Apache's names.
const (
	noteNoCanon = "proxy-nocanon"
	noteNoQuery = "proxy-noquery"
)

// aliasMatch is mod_proxy's alias_match: how many bytes of uri the
// ProxyPass path fake matches (0 for none). A run of slashes in fake
// matches a run of slashes in uri; the last path segment of fake must end
// where a segment of uri ends, unless fake ends with a slash.
func aliasMatch(uri, fake string) int {
	a, u := 0, 0
	for a < len(fake) && u < len(uri) {
		if fake[a] == '/' {
			if uri[u] != '/' {
				return 0
			}
			for a < len(fake) && fake[a] == '/' {
				a++
			}
			for u < len(uri) && uri[u] == '/' {
				u++
			}
			continue
		}
		if uri[u] != fake[a] {
			return 0
		}
		u++
		a++
	}
	if u == len(uri) && a != len(fake) {
		return 0
	}
	if a > 0 && fake[a-1] != '/' && u < len(uri) && uri[u] != '/' {
		return 0
	}
	return u
}

// matchPass is ap_proxy_trans_match for one ProxyPass: the backend URL r
// maps to, with matched true when the pass applies to r (an exclusion "!"
// matches with an empty URL).
func matchPass(r *phases.Request, p *Pass) (target string, matched bool) {
	if p.Regex != nil {
		m := p.Regex.FindStringSubmatchIndex(r.URI)
		if m == nil {
			return "", false
		}
		if p.URL == "!" {
			return "", true
		}
		found := phases.Pregsub(p.URL, r.URI, m)
		if found == p.URL {
			// "ProxyPassMatch \.gif$ http://b" proxies to http://b/x.gif:
			// without a substitution the URI is appended.
			return p.URL + escapePath(r.URI), true
		}
		return canonicalise(found), true
	}
	n := aliasMatch(r.URI, p.Path)
	if n == 0 {
		return "", false
	}
	if p.URL == "!" {
		return "", true
	}
	rest := escapePath(r.URI[n:])
	if p.NoCanon {
		// nocanon: the rest of the URI as the client sent it, when the
		// raw URI matches as far as the decoded one did.
		raw, _, _ := strings.Cut(r.UnparsedURI, "?")
		if m := aliasMatch(raw, p.Path); m != 0 {
			rest = raw[m:]
		}
	}
	return p.URL + rest, true
}

// escapePath encodes a decoded URI path for the request line to the
// backend (ap_proxy_canonenc for a path).
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// canonicalise encodes the bytes a URL may not carry raw, keeping the %XX
// escapes already there: the path ProxyPassMatch substituted.
func canonicalise(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			b.WriteByte(c)
		case c > ' ' && c < 0x7f && c != '%' && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' && c != '|' && c != '}':
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// translate is mod_proxy's translate_name (proxy_trans): the ProxyPass of
// the request's <Location> first, then the server's ProxyPass lines in
// order (the main server's, then the virtual host's); the first that
// matches decides, and an exclusion ("!") leaves the request to the other
// modules.
func (g *gen) translate(r *phases.Request) (phases.Status, error) {
	if r.Filename != "" && strings.HasPrefix(r.Filename, filenamePrefix) {
		r.NotReplayable()
		return phases.OK, nil // already claimed (an internal redirect's copy)
	}
	if r.URI == "" || r.URI[0] != '/' {
		return phases.DECLINED, nil
	}
	if _, ok := r.SubprocessEnv["no-proxy"]; ok {
		return phases.DECLINED, nil
	}
	srt := g.server(r)
	// No slice of the candidates: this runs for every request.
	if loc := srt.locationPass(r.URI); loc != nil {
		if st, done := claim(r, loc); done {
			return st, nil
		}
	}
	for _, p := range srt.passes {
		if st, done := claim(r, p); done {
			return st, nil
		}
	}
	return phases.DECLINED, nil
}

// claim applies ProxyPass p to r: done is false when p does not match;
// otherwise st is OK (r is proxied) or DECLINED ("ProxyPass path !").
func claim(r *phases.Request, p *Pass) (st phases.Status, done bool) {
	target, ok := matchPass(r, p)
	if !ok {
		return phases.DECLINED, false
	}
	if target == "" {
		return phases.DECLINED, true // ProxyPass path !
	}
	r.NotReplayable() // a backend answers
	r.Filename = filenamePrefix + target
	r.Handler = proxyHandler
	if p.NoCanon {
		r.Notes[noteNoCanon] = "1"
	}
	if p.NoQuery {
		r.Notes[noteNoQuery] = "1"
	}
	r.Log().Debug("proxy", "URI path '%s' matches proxy handler '%s'", r.URI, r.Filename)
	return phases.OK, true
}

// locationPass is the ProxyPass written in a <Location>/<LocationMatch>
// that applies to uri: the last such section in merge order wins, as
// Apache's per-directory merge makes it.
func (s *serverRT) locationPass(uri string) *Pass {
	var found *Pass
	for _, sec := range s.locations {
		if core.LocationApplies(sec, uri) {
			found = SectionOf(sec).Pass
		}
	}
	return found
}

// mapToStorage is mod_proxy's proxy_map_location for the requests it
// claimed: no file-system walk (no <Directory> or <Files> applies to a
// backend URL), but the <Proxy>/<ProxyMatch> sections whose URL matches,
// then the <Location> sections, in config order. A SetHandler among them
// overrides proxy-server as core's fixup does in Apache.
func (g *gen) mapToStorage(r *phases.Request) (phases.Status, error) {
	if !strings.HasPrefix(r.Filename, filenamePrefix) {
		return phases.DECLINED, nil
	}
	target := r.Filename[len(filenamePrefix):]
	servers := []*config.Server{r.Server.Main}
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		servers = append(servers, r.Vhost)
	}
	r.Sections = r.Sections[:0]
	for _, s := range servers {
		for _, sec := range s.Sections {
			if (sec.Kind == "Proxy" || sec.Kind == "ProxyMatch") && proxySectionApplies(sec, target) {
				r.Sections = append(r.Sections, sec)
			}
		}
	}
	for _, s := range servers {
		for _, sec := range s.Sections {
			if (sec.Kind == "Location" || sec.Kind == "LocationMatch") && core.LocationApplies(sec, r.URI) {
				r.Sections = append(r.Sections, sec)
			}
		}
	}
	if h := core.Handler(r); h != "" {
		r.Handler = h
	}
	return phases.OK, nil
}

// proxySectionApplies is proxy_walk's test: a regex, a wildcard pattern
// ("http://10.0.0.*/*"), or a prefix of the backend URL; the scheme and
// host compare without regard to case.
func proxySectionApplies(sec *config.Section, target string) bool {
	if sec.Regex != nil {
		return sec.Regex.MatchString(target)
	}
	if sec.Arg == "*" {
		return true
	}
	if strings.ContainsAny(sec.Arg, "*?[") {
		return wildcardMatch(lowerAuthority(sec.Arg), lowerAuthority(target))
	}
	return strings.HasPrefix(lowerAuthority(target), lowerAuthority(sec.Arg))
}

// lowerAuthority lower-cases the scheme://host[:port] part of a URL.
func lowerAuthority(u string) string {
	a := authority(u)
	return strings.ToLower(a) + u[len(a):]
}

// wildcardMatch is apr_fnmatch without flags: '*' and '?' match any
// characters, '/' included; '[...]' a class.
func wildcardMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(pattern[1:], s[1:])
	case '[':
		end := strings.IndexByte(pattern, ']')
		if end < 0 || s == "" {
			return s != "" && s[0] == '[' && wildcardMatch(pattern[1:], s[1:])
		}
		class, neg := pattern[1:end], false
		if class != "" && (class[0] == '!' || class[0] == '^') {
			class, neg = class[1:], true
		}
		in := false
		for i := 0; i < len(class); i++ {
			if i+2 < len(class) && class[i+1] == '-' {
				if class[i] <= s[0] && s[0] <= class[i+2] {
					in = true
				}
				i += 2
			} else if class[i] == s[0] {
				in = true
			}
		}
		return in != neg && wildcardMatch(pattern[end+1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildcardMatch(pattern[1:], s[1:])
}

// typeCheck keeps mod_mime away from proxied requests: the backend's
// response says what its content is, and no AddHandler of a file
// extension applies to a backend URL (Apache's mod_mime skips proxy
// requests for handlers).
func (g *gen) typeCheck(r *phases.Request) (phases.Status, error) {
	if strings.HasPrefix(r.Filename, filenamePrefix) && r.Handler == proxyHandler {
		return phases.OK, nil
	}
	return phases.DECLINED, nil
}

// reverseMap is ap_proxy_location_reverse_map: a backend URL in a
// Location, Content-Location or URI response header, turned into the
// client-side URL by the first ProxyPassReverse whose backend URL is its
// prefix. A balancer:// ProxyPassReverse matches the URLs of its members.
func (g *gen) reverseMap(r *phases.Request, srt *serverRT, u string) string {
	for _, rp := range g.reverseRules(r, srt) {
		if isBalancer(rp.URL) {
			b := srt.balancer(rp.URL)
			if b == nil {
				continue
			}
			urlpart := ""
			if i := strings.Index(rp.URL[len("balancer://"):], "/"); i >= 0 {
				urlpart = rp.URL[len("balancer://")+i:]
				if urlpart == "/" {
					urlpart = ""
				}
			}
			for _, m := range b.members {
				name := m.name
				if urlpart != "" {
					name = strings.TrimSuffix(name, "/")
					if len(u) >= len(name)+len(urlpart) && strings.EqualFold(u[:len(name)], name) && u[len(name):len(name)+len(urlpart)] == urlpart {
						return constructURL(r, rp.Path+u[len(name)+len(urlpart):])
					}
					continue
				}
				if len(u) >= len(name) && strings.EqualFold(u[:len(name)], name) {
					rest := u[len(name):]
					if rp.Path == "/" && strings.HasPrefix(rest, "/") {
						return constructURL(r, rest)
					}
					return constructURL(r, rp.Path+rest)
				}
			}
			continue
		}
		part := u
		if strings.HasPrefix(rp.URL, "/") {
			// A path-only ProxyPassReverse matches the path of any URL.
			if i := strings.Index(u, "://"); i >= 0 {
				if j := strings.Index(u[i+3:], "/"); j >= 0 {
					part = u[i+3+j:]
				}
			}
		}
		if len(part) >= len(rp.URL) && strings.EqualFold(part[:len(rp.URL)], rp.URL) {
			return constructURL(r, rp.Path+part[len(rp.URL):])
		}
	}
	return u
}

// reverseRules are the ProxyPassReverse lines that apply to r: the main
// server's, the virtual host's, then its sections' (Apache's merge).
func (g *gen) reverseRules(r *phases.Request, srt *serverRT) []ReversePass {
	rules := srt.reverse
	extra := false
	for _, sec := range r.Sections {
		if ds := SectionOf(sec); len(ds.Reverse) > 0 {
			if !extra {
				rules = append([]ReversePass(nil), rules...)
				extra = true
			}
			rules = append(rules, ds.Reverse...)
		}
	}
	return rules
}

// constructURL is ap_construct_url for a rewritten header: a URL stays
// as it is, a path gets the scheme, host and port the client used.
func constructURL(r *phases.Request, u string) string {
	if strings.Contains(u, "://") {
		return u
	}
	scheme, def := "http", 80
	if r.IsHTTPS {
		scheme, def = "https", 443
	}
	host := r.HeadersIn.Get("Host")
	if host == "" {
		host = r.Hostname
		if r.Port != 0 && r.Port != def {
			host += ":" + itoa(r.Port)
		}
	}
	return scheme + "://" + host + u
}

// reverseHeaders are the response headers ProxyPassReverse rewrites.
var reverseHeaders = []string{"Location", "Content-Location", "URI"}

// applyReverse rewrites the response headers of h for r.
func (g *gen) applyReverse(r *phases.Request, srt *serverRT, h http.Header) {
	for _, name := range reverseHeaders {
		vs := h.Values(name)
		for i, v := range vs {
			vs[i] = g.reverseMap(r, srt, v)
		}
	}
}

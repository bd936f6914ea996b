package core

import (
	"net"
	"net/http"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// registerRequestHooks adds core's request phases: pick the virtual host,
// map the URI to a file under DocumentRoot, and collect the per-directory
// sections that apply.
func registerRequestHooks(h *phases.RequestHooks, cfg *config.Config) {
	h.PostReadRequest.Add(phases.Entry[phases.RequestHookFunc]{Fn: selectVhost(cfg), Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, Replayable: true})
	// Last, but before Lua's pre_translate_name hooks (which run at Last
	// in post_read_request): Apache normalizes the URI just before its
	// pre_translate_name phase.
	h.PostReadRequest.Add(phases.Entry[phases.RequestHookFunc]{Fn: normalizeURI, Origin: "core_module (Go)", Module: ModuleName, Order: phases.Last, Successors: []string{"lua_module"}, Replayable: true})
	h.TranslateName.Add(phases.Entry[phases.RequestHookFunc]{Fn: translateName, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyLast, Replayable: true})
	h.MapToStorage.Add(phases.Entry[phases.RequestHookFunc]{Fn: mapToStorage, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyLast, Replayable: true})
	h.HeaderParser.Add(phases.Entry[phases.RequestHookFunc]{Fn: limitRequestBody, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, Replayable: true})
	h.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: traceHandler, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, Replayable: true})
	h.CustomResponse.Add(phases.Entry[phases.RequestHookFunc]{Fn: customResponse, Origin: "core_module (Go)", Module: ModuleName, Order: phases.Middle, Replayable: true})
	registerFilterHook(h, cfg)
}

// listenAddrs turns the Listen directives into the generation's addresses.
func listenAddrs(cfg *config.Config) []phases.ListenAddr {
	var out []phases.ListenAddr
	for _, l := range GlobalOf(cfg).Listeners {
		out = append(out, phases.ListenAddr{Host: l.Addr.Host, Port: l.Addr.Port, Protocol: l.Protocol})
	}
	return out
}

// selectVhost picks r.Vhost with Apache's rules: first by address, the
// <VirtualHost>s whose address matches the connection's local IP and port
// most specifically (an exact IP beats "*", "*" beats _default_); then by
// name among those, the first whose ServerName or ServerAlias matches the
// Host; else the first of them (the default for that address). The main
// server answers when no <VirtualHost> matches the address. Addresses are
// parsed once here, not per request.
func selectVhost(cfg *config.Config) phases.RequestHookFunc {
	type vhostAddrs struct {
		vh    *config.Server
		addrs []vhostAddr
	}
	vhosts := make([]vhostAddrs, len(cfg.Vhosts))
	for i, vh := range cfg.Vhosts {
		vhosts[i].vh = vh
		for _, a := range vh.Addrs {
			vhosts[i].addrs = append(vhosts[i].addrs, parseVhostAddr(a))
		}
	}
	return func(r *phases.Request) (phases.Status, error) {
		r.Vhost = cfg.Main
		var candidates []*config.Server
		best := 0
		for _, v := range vhosts {
			score := 0
			for _, a := range v.addrs {
				score = max(score, a.score(r.Conn))
			}
			switch {
			case score == 0 || score < best:
				continue
			case score > best:
				best, candidates = score, candidates[:0]
			}
			candidates = append(candidates, v.vh)
		}
		if len(candidates) == 0 {
			return phases.DECLINED, nil
		}
		r.Vhost = candidates[0]
		host := strings.ToLower(r.Hostname)
		for _, vh := range candidates {
			ss := ServerOf(vh)
			if nameMatches(ss.ServerName, host) {
				r.Vhost = vh
				return phases.DECLINED, nil
			}
			for _, a := range ss.ServerAliases {
				if ok, _ := path.Match(strings.ToLower(a), host); ok {
					r.Vhost = vh
					return phases.DECLINED, nil
				}
			}
		}
		return phases.DECLINED, nil
	}
}

// BaseServer is Apache's c->base_server for a connection: the virtual
// host its local address selects (the most specific address match, the
// first such vhost in the config), or the main server when none does.
// Name-based selection refines it per request; connection-level modules
// (process_connection handlers) read their settings here.
func BaseServer(cfg *config.Config, c *phases.Connection) *config.Server {
	best, base := 0, cfg.Main
	for _, vh := range cfg.Vhosts {
		for _, a := range vh.Addrs {
			if sc := parseVhostAddr(a).score(c); sc > best {
				best, base = sc, vh
			}
		}
	}
	return base
}

func nameMatches(serverName, host string) bool {
	name := serverName
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "]") {
		name = name[:i]
	}
	return name != "" && strings.EqualFold(name, host)
}

// vhostAddr is one <VirtualHost> address, parsed.
type vhostAddr struct {
	ip        net.IP // nil for "*", _default_ or a host name
	isDefault bool   // _default_
	port      int    // 0 for any port
}

func parseVhostAddr(addr string) vhostAddr {
	host, port := addr, ""
	if strings.HasPrefix(addr, "[") {
		if end := strings.Index(addr, "]"); end >= 0 {
			host, port = addr[1:end], strings.TrimPrefix(addr[end+1:], ":")
		}
	} else if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	a := vhostAddr{isDefault: strings.EqualFold(host, "_default_"), ip: net.ParseIP(host)}
	if p, err := strconv.Atoi(port); err == nil {
		a.port = p
	}
	// A host name: Apache resolves it at start-up; httpdg treats it as "*".
	return a
}

// score says how well the address matches the connection: 3 for its IP
// and port, 2 for "*" on its port, 1 for _default_, 0 for no match. A
// connection-less request (tests) matches every address as "*".
func (a vhostAddr) score(c *phases.Connection) int {
	if c == nil {
		return 2
	}
	if a.port != 0 && a.port != c.LocalPort {
		return 0
	}
	switch {
	case a.isDefault:
		return 1
	case a.ip == nil:
		return 2
	case a.ip.Equal(net.ParseIP(c.LocalIP)):
		return 3
	}
	return 0
}

// translateName maps the URI onto the DocumentRoot (Apache core's
// fallback translate_name). normalizeURI has resolved every "." and ".."
// segment and refused NULs; a URI a hook set with such segments is still
// refused here, so no path climbs out of the document root.
func translateName(r *phases.Request) (phases.Status, error) {
	if r.Filename != "" {
		return phases.DECLINED, nil
	}
	// "*" (OPTIONS *) maps like a name in the document root, as in
	// Apache, where nothing is found and OPTIONS answers for the server.
	if !strings.HasPrefix(r.URI, "/") && r.URI != "*" {
		return http.StatusBadRequest, nil
	}
	if strings.ContainsRune(r.URI, 0) {
		return http.StatusNotFound, nil
	}
	if hasDotDotSegment(r.URI) {
		return http.StatusBadRequest, nil
	}
	root := ServerOf(r.Vhost).DocumentRoot
	if root == "" {
		root = ServerOf(r.Server.Main).DocumentRoot
	}
	if root == "" {
		root = filepath.Join(r.Server.Config.ServerRoot, "htdocs")
	}
	r.Filename = docPath(root, filepath.FromSlash(r.URI))
	if strings.HasSuffix(r.URI, "/") && !strings.HasSuffix(r.Filename, "/") {
		r.Filename += "/"
	}
	return phases.OK, nil
}

// hasDotDotSegment reports whether the path has a ".." segment.
func hasDotDotSegment(p string) bool {
	for len(p) > 0 {
		seg := p
		if i := strings.IndexByte(p, '/'); i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if seg == ".." {
			return true
		}
	}
	return false
}

// docPath is filepath.Join(root, uri) with one concatenation when both
// are clean already (the usual case: Clean of a clean path allocates
// nothing), as on every request.
func docPath(root, uri string) string {
	if strings.HasPrefix(uri, "/") && len(uri) > 1 && filepath.Clean(uri) == uri &&
		root != "/" && filepath.Clean(root) == root {
		return root + uri
	}
	return filepath.Join(root, uri)
}

// mapToStorage collects the per-directory sections that apply, in Apache's
// merge order: <Directory> (shortest path first) and <Directory ~>/
// <DirectoryMatch>, then <Files>/<FilesMatch>, then <Location>/
// <LocationMatch>; the main server's before the virtual host's.
func mapToStorage(r *phases.Request) (phases.Status, error) {
	servers := []*config.Server{r.Server.Main}
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		servers = append(servers, r.Vhost)
	}
	var dirs, dirRegex, files, locs []*config.Section
	base := filepath.Base(r.Filename)
	for _, s := range servers {
		for _, sec := range s.Sections {
			switch sec.Kind {
			case "Directory", "DirectoryMatch":
				if !dirApplies(sec, r.Filename) {
					continue
				}
				if sec.Regex != nil {
					dirRegex = append(dirRegex, sec)
				} else {
					dirs = append(dirs, sec)
				}
				for _, f := range sec.Children {
					if filesApplies(f, base) {
						files = append(files, f)
					}
				}
			case "Files", "FilesMatch":
				if filesApplies(sec, base) {
					files = append(files, sec)
				}
			case "Location", "LocationMatch":
				if LocationApplies(sec, r.URI) {
					locs = append(locs, sec)
				}
			}
		}
	}
	sortByDepth(dirs)
	r.Sections = append(append(append(append(r.Sections[:0], dirs...), dirRegex...), files...), locs...)
	if h := Handler(r); h != "" {
		r.Handler = h
	}
	return phases.OK, nil
}

// Handler is the SetHandler in effect for r (the last section setting one
// wins), or "".
func Handler(r *phases.Request) string {
	h := config.ServerDirConf[DirSettings](r.Server.Main, ModuleName).Handler
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		if v := config.ServerDirConf[DirSettings](r.Vhost, ModuleName).Handler; v != "" {
			h = v
		}
	}
	for _, sec := range r.Sections {
		if v := config.SectionConf[DirSettings](sec, ModuleName).Handler; v != "" {
			h = v
		}
	}
	if strings.EqualFold(h, "none") {
		return ""
	}
	return h
}

func dirApplies(sec *config.Section, filename string) bool {
	dir := filepath.Dir(filename)
	if strings.HasSuffix(filename, "/") {
		dir = strings.TrimSuffix(filename, "/")
	}
	if sec.Regex != nil {
		return sec.Regex.MatchString(dir + "/")
	}
	if strings.ContainsAny(sec.Arg, "*?[") {
		ok, _ := filepath.Match(sec.Arg, dir)
		return ok
	}
	p := strings.TrimSuffix(sec.Arg, "/")
	return p == "" || dir == p || strings.HasPrefix(dir, p+"/")
}

func filesApplies(sec *config.Section, base string) bool {
	if sec.Kind != "Files" && sec.Kind != "FilesMatch" {
		return false
	}
	if sec.Regex != nil {
		return sec.Regex.MatchString(base)
	}
	ok, _ := path.Match(sec.Arg, base)
	return ok
}

// LocationApplies is the <Location>/<LocationMatch> match of the core's
// walk: a regex, or a path prefix ending at a segment boundary.
func LocationApplies(sec *config.Section, uri string) bool {
	if sec.Regex != nil {
		return sec.Regex.MatchString(uri)
	}
	p := sec.Arg
	return uri == p || strings.HasPrefix(uri, strings.TrimSuffix(p, "/")+"/") || p == "/"
}

func sortByDepth(secs []*config.Section) {
	for i := 1; i < len(secs); i++ {
		for j := i; j > 0 && strings.Count(secs[j].Arg, "/") < strings.Count(secs[j-1].Arg, "/"); j-- {
			secs[j], secs[j-1] = secs[j-1], secs[j]
		}
	}
}

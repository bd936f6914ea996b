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
	h.PostReadRequest.Add(phases.Entry[phases.RequestHookFunc]{Fn: selectVhost(cfg), Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst})
	h.TranslateName.Add(phases.Entry[phases.RequestHookFunc]{Fn: translateName, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyLast})
	h.MapToStorage.Add(phases.Entry[phases.RequestHookFunc]{Fn: mapToStorage, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyLast})
	h.HeaderParser.Add(phases.Entry[phases.RequestHookFunc]{Fn: limitRequestBody, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst})
	h.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: traceHandler, Origin: "core_module (Go)", Module: ModuleName, Order: phases.ReallyFirst})
	h.CustomResponse.Add(phases.Entry[phases.RequestHookFunc]{Fn: customResponse, Origin: "core_module (Go)", Module: ModuleName, Order: phases.Middle})
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
// server answers when no <VirtualHost> matches the address.
func selectVhost(cfg *config.Config) phases.RequestHookFunc {
	return func(r *phases.Request) (phases.Status, error) {
		r.Vhost = cfg.Main
		var candidates []*config.Server
		best := 0
		for _, vh := range cfg.Vhosts {
			score := vhostAddrScore(vh, r.Conn)
			switch {
			case score == 0 || score < best:
				continue
			case score > best:
				best, candidates = score, nil
			}
			candidates = append(candidates, vh)
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

// vhostAddrScore says how well a <VirtualHost>'s addresses match the
// connection: 3 for its IP and port, 2 for "*" (or a port-less address)
// on its port, 1 for _default_, 0 for no match. A connection-less request
// (tests) matches every address as "*".
func vhostAddrScore(vh *config.Server, c *phases.Connection) int {
	best := 0
	for _, a := range vh.Addrs {
		s := addrScore(a, c)
		if s > best {
			best = s
		}
	}
	return best
}

func addrScore(addr string, c *phases.Connection) int {
	host, port := addr, ""
	if strings.HasPrefix(addr, "[") {
		if end := strings.Index(addr, "]"); end >= 0 {
			host, port = addr[1:end], strings.TrimPrefix(addr[end+1:], ":")
		}
	} else if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	if c == nil {
		return 2
	}
	if port != "" && port != "*" && port != strconv.Itoa(c.LocalPort) {
		return 0
	}
	switch {
	case strings.EqualFold(host, "_default_"):
		return 1
	case host == "*" || host == "":
		return 2
	}
	if ip := net.ParseIP(host); ip != nil {
		if local := net.ParseIP(c.LocalIP); local != nil && ip.Equal(local) {
			return 3
		}
		return 0
	}
	// A host name: Apache resolves it at start-up; match it against the
	// local address's names is not possible here, so treat it as "*".
	return 2
}

// translateName maps the URI onto the DocumentRoot (Apache core's
// fallback translate_name). A path that would climb out of the document
// root, or holds a NUL, is refused.
func translateName(r *phases.Request) (phases.Status, error) {
	if r.Filename != "" {
		return phases.DECLINED, nil
	}
	if !strings.HasPrefix(r.URI, "/") {
		return http.StatusBadRequest, nil
	}
	if strings.ContainsRune(r.URI, 0) {
		return http.StatusNotFound, nil
	}
	for _, seg := range strings.Split(r.URI, "/") {
		if seg == ".." {
			return http.StatusBadRequest, nil
		}
	}
	root := ServerOf(r.Vhost).DocumentRoot
	if root == "" {
		root = ServerOf(r.Server.Main).DocumentRoot
	}
	if root == "" {
		root = filepath.Join(r.Server.Config.ServerRoot, "htdocs")
	}
	r.Filename = filepath.Join(root, filepath.FromSlash(r.URI))
	if strings.HasSuffix(r.URI, "/") && !strings.HasSuffix(r.Filename, "/") {
		r.Filename += "/"
	}
	return phases.OK, nil
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
				if locationApplies(sec, r.URI) {
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

func locationApplies(sec *config.Section, uri string) bool {
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

package proxy

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

func init() {
	// Every directive has its run time but ProxyRequests (httpdg is no
	// forward proxy: ProxyRequests On is accepted and does nothing).
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h, Built: name != "ProxyRequests"}
	}
	section := func(name string, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Section: true, Form: config.RawArgs, Contexts: config.ServerVhost, Help: help, Handler: h, Built: true}
	}
	// ProxyPass and ProxyPassReverse are refused in <Directory> and <Files>
	// (Apache's NOT_IN_DIRECTORY|NOT_IN_FILES): their "directory" context
	// is <Location>.
	passCtx := config.ServerVhost | config.InLocation
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_proxy.c", Directives: []*config.Directive{
		section("Proxy", "Container for directives applying to proxied resources matching a URL (wildcards allowed)", proxySection(false)),
		section("ProxyMatch", "Container for directives applying to proxied resources matching a regular expression", proxySection(true)),
		d("ProxyPass", config.RawArgs, passCtx, "maps a local path to a backend URL: [path] !|url [key=value ...]", proxyPass),
		d("ProxyPassReverse", config.Take123, passCtx, "rewrites backend URLs in redirect headers: [path] url [interpolate]", proxyPassReverse),
		d("ProxyTimeout", config.Take1, config.ServerVhost, "timeout in seconds for proxied connections (overrides Timeout)", proxyTimeout),
		d("ProxyPreserveHost", config.Flag, config.ServerVhostD, "on to send the client's Host header to the backend", func(c *config.Cmd) error {
			v := c.Flag()
			if c.Section != nil {
				SectionOf(c.Section).PreserveHost = &v
			} else {
				ServerOf(c.Server).PreserveHost = &v
			}
			return nil
		}),
		d("ProxyRequests", config.Flag, config.ServerVhost, "on to act as a forward proxy for absolute-URI requests", func(c *config.Cmd) error {
			v := c.Flag()
			ServerOf(c.Server).Requests = &v
			return nil
		}),
		d("BalancerMember", config.RawArgs, config.ServerVhostD, "adds a backend to a balancer: [balancer://name] url [key=value ...]", balancerMember),
		d("ProxySet", config.RawArgs, config.ServerVhostD, "sets parameters of a balancer or worker: [name] key=value ...", proxySet),
	}, RegisterHooks: register})
	phases.RegisterModule(&phases.Module{Name: "proxy_http_module", Source: "mod_proxy_http.c"})
	phases.RegisterModule(&phases.Module{Name: "proxy_balancer_module", Source: "mod_proxy_balancer.c"})
	// The hc* BalancerMember parameters are mod_proxy_hcheck's; Apache
	// refuses them unless it is loaded, so configs test for it.
	phases.RegisterModule(&phases.Module{Name: "proxy_hcheck_module", Source: "mod_proxy_hcheck.c"})
}

// schemes are the backend URL schemes httpdg's proxy speaks.
var schemes = map[string]int{"http": 80, "https": 443, "ws": 80, "wss": 443}

func isBalancer(u string) bool {
	return len(u) >= 9 && strings.EqualFold(u[:9], "balancer:")
}

// balancerName is ap_proxy_define_balancer's check and normalisation:
// "balancer://Name/path" is "balancer://name".
func balancerName(u string) (string, error) {
	i := strings.Index(u, ":")
	if i < 0 || !strings.HasPrefix(u[i+1:], "//") || len(u) == i+3 {
		return "", fmt.Errorf("Bad syntax for a balancer name (%s)", u)
	}
	host, _, _ := strings.Cut(u[i+3:], "/")
	return strings.ToLower(u[:i+3] + host), nil
}

// workerName checks a backend URL as ap_proxy_de_socketfy and
// ap_proxy_define_worker do, and returns its normalised form. "unix:" URLs
// ("unix:/path/to/sock|http://host/") are accepted.
func workerName(raw string) (string, error) {
	u := raw
	socket := false
	if len(u) >= 5 && strings.EqualFold(u[:5], "unix:") {
		path, rest, ok := strings.Cut(u[5:], "|")
		if !ok || path == "" || rest == "" {
			return "", fmt.Errorf("uses an invalid \"unix:\" URL")
		}
		u, socket = rest, true
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("Unable to parse URL: %s", raw)
	}
	if p.Scheme == "" || p.Host == "" && !socket {
		return "", fmt.Errorf("URL must be absolute!: %s", raw)
	}
	scheme := strings.ToLower(p.Scheme)
	defPort, ok := schemes[scheme]
	if !ok {
		return "", fmt.Errorf("has a %s:// URL, which httpdg cannot proxy to (it speaks http, https, ws and wss): %s", scheme, raw)
	}
	host := strings.ToLower(p.Hostname())
	if socket && host == "" {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := p.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("Unable to parse URL: %s (bad port)", raw)
		}
		if n != defPort {
			host += ":" + port
		}
	}
	return scheme + "://" + host + p.EscapedPath(), nil
}

// authority is the scheme://host[:port] part of a normalised name.
func authority(name string) string {
	i := strings.Index(name, "://")
	if i < 0 {
		return name
	}
	if j := strings.Index(name[i+3:], "/"); j >= 0 {
		return name[:i+3+j]
	}
	return name
}

// findWorker is ap_proxy_get_worker: the longest worker name that is a
// prefix of name and covers at least its scheme://host[:port].
func (s *ServerSettings) findWorker(name string) *Worker {
	var best *Worker
	for _, w := range s.Workers {
		if strings.HasPrefix(name, w.Name) && len(w.Name) >= len(authority(name)) && (best == nil || len(w.Name) > len(best.Name)) {
			best = w
		}
	}
	return best
}

func (s *ServerSettings) defineBalancer(name string, origin *config.Origin) *Balancer {
	if b := s.Balancer(name); b != nil {
		return b
	}
	n, _ := balancerName(name)
	b := &Balancer{Name: n, Params: map[string]string{}, Origin: origin}
	s.Balancers = append(s.Balancers, b)
	return b
}

type param struct{ key, val string }

// applyWorkerParams checks and records worker parameters; what prefixes
// the error as Apache does ("ProxyPass ", "BalancerMember ").
func applyWorkerParams(w *Worker, params []param, fail func(p param, err error) error) error {
	for _, p := range params {
		if err := checkWorkerParam(w, p.key, p.val); err != nil {
			return fail(p, err)
		}
		w.Params[strings.ToLower(p.key)] = p.val
	}
	return nil
}

func applyBalancerParams(b *Balancer, params []param, fail func(p param, err error) error) error {
	for _, p := range params {
		if err := checkBalancerParam(p.key, p.val); err != nil {
			return fail(p, err)
		}
		b.Params[strings.ToLower(p.key)] = p.val
	}
	return nil
}

// proxyPass follows mod_proxy's add_pass.
func proxyPass(c *config.Cmd) error {
	inLoc := c.Section != nil
	pass := &Pass{Params: map[string]string{}, Origin: c.Node.Origin}
	var params []param
	regex, havePath := false, false
	if inLoc {
		pass.Path, havePath = c.Section.Arg, true
		pass.Regex = c.Section.Regex
	}
	for _, w := range c.Args {
		switch {
		case !havePath:
			if w == "~" {
				regex = true
				continue
			}
			pass.Path, havePath = w, true
		case pass.URL == "":
			pass.URL = w
		case strings.EqualFold(w, "nocanon"):
			pass.NoCanon = true
		case strings.EqualFold(w, "interpolate"):
			pass.Interpolate = true
		case strings.EqualFold(w, "noquery"):
			pass.NoQuery = true
		default:
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				if inLoc && strings.HasPrefix(pass.URL, "/") {
					return fmt.Errorf("ProxyPass|ProxyPassMatch can not have a path when defined in a location.")
				}
				return fmt.Errorf("Invalid ProxyPass|ProxyPassMatch parameter. Parameter must be in the form 'key=value'.")
			}
			if strings.EqualFold(k, "mapping") {
				if !strings.EqualFold(v, "encoded") && !strings.EqualFold(v, "servlet") {
					return fmt.Errorf("unknown mapping")
				}
				pass.Mapping = strings.ToLower(v)
				continue
			}
			params = append(params, param{k, v})
		}
	}
	if pass.URL == "" {
		return fmt.Errorf("ProxyPass|ProxyPassMatch needs a path when not defined in a location")
	}
	if inLoc && strings.HasPrefix(pass.URL, "/") {
		return fmt.Errorf("ProxyPass|ProxyPassMatch can not have a path when defined in a location.")
	}
	if regex {
		re, err := regexp.Compile(pass.Path)
		if err != nil {
			return fmt.Errorf("Regular expression could not be compiled: %v", err)
		}
		pass.Regex = re
	}
	s := ServerOf(c.Server)
	if inLoc {
		SectionOf(c.Section).Pass = pass
	} else {
		s.Passes = append(s.Passes, pass)
	}
	if pass.URL == "!" {
		return nil
	}
	fail := func(p param, err error) error { return fmt.Errorf("ProxyPass %v", err) }
	for _, p := range params {
		pass.Params[strings.ToLower(p.key)] = p.val
	}
	if isBalancer(pass.URL) {
		if _, err := balancerName(pass.URL); err != nil {
			return fmt.Errorf("ProxyPass %v", err)
		}
		return applyBalancerParams(s.defineBalancer(pass.URL, c.Node.Origin), params, fail)
	}
	name, err := workerName(pass.URL)
	if err != nil {
		if strings.HasPrefix(err.Error(), "uses") {
			return fmt.Errorf("ProxyPass|ProxyPassMatch %v", err)
		}
		return fmt.Errorf("ProxyPass %v", err)
	}
	if w := s.findWorker(name); w != nil && w.Name == name {
		for _, p := range params {
			if err := checkWorkerParam(nil, p.key, p.val); err != nil {
				return fail(p, err)
			}
			c.Warn("Ignoring parameter '%s=%s' for worker '%s' because of worker sharing", p.key, p.val, w.Name)
		}
		return nil
	}
	w := &Worker{Name: name, URL: pass.URL, Params: map[string]string{}, Origin: c.Node.Origin}
	s.Workers = append(s.Workers, w)
	return applyWorkerParams(w, params, fail)
}

// proxyPassReverse follows mod_proxy's add_pass_reverse.
func proxyPassReverse(c *config.Cmd) error {
	a := c.Args
	rp := ReversePass{Origin: c.Node.Origin}
	interp := ""
	if c.Section == nil {
		if len(a) < 2 || strings.EqualFold(a[1], "interpolate") {
			return fmt.Errorf("ProxyPassReverse needs a path when not defined in a location")
		}
		rp.Path, rp.URL = a[0], a[1]
		if len(a) == 3 {
			interp = a[2]
		}
	} else {
		if len(a) > 1 && !strings.EqualFold(a[1], "interpolate") {
			return fmt.Errorf("ProxyPassReverse can not have a path when defined in a location")
		}
		if len(a) > 2 {
			return fmt.Errorf("ProxyPassReverse takes a URL and optionally 'interpolate' when defined in a location")
		}
		rp.Path, rp.URL = c.Section.Arg, a[0]
		if len(a) == 2 {
			interp = a[1]
		}
	}
	if interp != "" {
		if !strings.EqualFold(interp, "interpolate") {
			return fmt.Errorf("ProxyPassReverse: '%s' is not 'interpolate'", interp)
		}
		rp.Interpolate = true
	}
	if !strings.Contains(rp.URL, "://") && !strings.HasPrefix(rp.URL, "/") && !rp.Interpolate {
		return fmt.Errorf("ProxyPassReverse: '%s' is not a URL (scheme://host/path, balancer://name/path or /path)", rp.URL)
	}
	if c.Section != nil {
		ds := SectionOf(c.Section)
		ds.Reverse = append(ds.Reverse, rp)
	} else {
		s := ServerOf(c.Server)
		s.Reverse = append(s.Reverse, rp)
	}
	return nil
}

func proxyTimeout(c *config.Cmd) error {
	n, err := strconv.Atoi(c.Args[0])
	if err != nil {
		return fmt.Errorf("ProxyTimeout: '%s' is not a whole number of seconds", c.Args[0])
	}
	if n < 1 {
		return fmt.Errorf("Proxy Timeout must be at least 1 second.")
	}
	t, _ := c.Seconds(c.Args[0])
	ServerOf(c.Server).Timeout = t
	return nil
}

// proxySection follows mod_proxy's proxysection: <Proxy url [key=value...]>
// and <ProxyMatch regex>, whose bodies are in directory context.
func proxySection(match bool) func(*config.Cmd) error {
	kind := "Proxy"
	if match {
		kind = "ProxyMatch"
	}
	return func(c *config.Cmd) error {
		if len(c.Args) == 0 {
			return fmt.Errorf("<%s > block must specify a path", kind)
		}
		p := c.Args[0]
		if len(p) >= 6 && strings.EqualFold(p[:6], "proxy:") {
			p = p[6:]
		}
		var re *regexp.Regexp
		if match {
			var err error
			if re, err = regexp.Compile(p); err != nil {
				return fmt.Errorf("Regex could not be compiled: <%s %s>: %v", kind, p, err)
			}
		}
		sec := config.NewSection(kind, p, re, c.Node.Origin, nil)
		c.Server.Sections = append(c.Server.Sections, sec)
		if err := c.Walk(c.Node.Children, config.InDirectory, c.Server, sec); err != nil {
			return err
		}
		args := c.Args[1:]
		if len(args) == 0 {
			return nil
		}
		if match {
			return fmt.Errorf("Multiple <ProxyMatch> arguments not (yet) supported.")
		}
		if strings.ContainsAny(p, "*?[") {
			return fmt.Errorf("<Proxy> arguments are not supported for wildchar url.")
		}
		if !strings.Contains(p, ":") {
			return fmt.Errorf("<Proxy> arguments are not supported for non url.")
		}
		var params []param
		for _, w := range args {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				return fmt.Errorf("Invalid Proxy parameter. Parameter must be in the form 'key=value'")
			}
			params = append(params, param{k, v})
		}
		fail := func(pr param, err error) error {
			return fmt.Errorf("<Proxy %v %s=%s; %s", err, pr.key, pr.val, p)
		}
		s := ServerOf(c.Server)
		if isBalancer(p) {
			if _, err := balancerName(p); err != nil {
				return fmt.Errorf("<Proxy %v", err)
			}
			return applyBalancerParams(s.defineBalancer(p, c.Node.Origin), params, fail)
		}
		w, err := s.defineWorker(p, c.Node.Origin)
		if err != nil {
			return fmt.Errorf("<Proxy %v", err)
		}
		return applyWorkerParams(w, params, fail)
	}
}

// defineWorker finds or creates the standalone worker for raw.
func (s *ServerSettings) defineWorker(raw string, origin *config.Origin) (*Worker, error) {
	name, err := workerName(raw)
	if err != nil {
		return nil, err
	}
	if w := s.findWorker(name); w != nil && w.Name == name {
		return w, nil
	}
	w := &Worker{Name: name, URL: raw, Params: map[string]string{}, Origin: origin}
	s.Workers = append(s.Workers, w)
	return w, nil
}

// inProxySection reports whether c is inside <Proxy> or <ProxyMatch>.
func inProxySection(c *config.Cmd) bool {
	return c.Section != nil && (c.Section.Kind == "Proxy" || c.Section.Kind == "ProxyMatch")
}

// balancerMember follows mod_proxy's add_member.
func balancerMember(c *config.Cmd) error {
	path, name := "", ""
	if c.Section != nil {
		path = c.Section.Arg
	}
	var params []param
	for _, w := range c.Args {
		k, v, ok := strings.Cut(w, "=")
		if ok {
			params = append(params, param{k, v})
			continue
		}
		switch {
		case path == "":
			path = w
		case name == "":
			name = w
		case c.Section != nil:
			return fmt.Errorf("BalancerMember can not have a balancer name when defined in a location")
		default:
			return fmt.Errorf("Invalid BalancerMember parameter. Parameter must be in the form 'key=value'")
		}
	}
	if path == "" {
		return fmt.Errorf("BalancerMember must define balancer name when outside <Proxy > section")
	}
	if name == "" {
		return fmt.Errorf("BalancerMember must define remote proxy server")
	}
	if !isBalancer(path) {
		if c.Section != nil {
			return fmt.Errorf("BalancerMember: the enclosing <%s %s> is not a balancer (write <Proxy balancer://name>)", c.Section.Kind, c.Section.Arg)
		}
		return fmt.Errorf("BalancerMember: '%s' is not a balancer name (balancer://name)", path)
	}
	if _, err := balancerName(path); err != nil {
		return fmt.Errorf("BalancerMember %v", err)
	}
	wname, err := workerName(name)
	if err != nil {
		return fmt.Errorf("BalancerMember %v", err)
	}
	s := ServerOf(c.Server)
	b := s.defineBalancer(path, c.Node.Origin)
	fail := func(p param, err error) error { return fmt.Errorf("BalancerMember %v", err) }
	for _, m := range b.Members {
		if m.Name == wname {
			for _, p := range params {
				if err := checkWorkerParam(nil, p.key, p.val); err != nil {
					return fail(p, err)
				}
				c.Warn("Ignoring parameter '%s=%s' for worker '%s' because of worker sharing", p.key, p.val, m.Name)
			}
			return nil
		}
	}
	w := &Worker{Name: wname, URL: name, Params: map[string]string{}, Origin: c.Node.Origin}
	b.Members = append(b.Members, w)
	return applyWorkerParams(w, params, fail)
}

// proxySet follows mod_proxy's set_proxy_param.
func proxySet(c *config.Cmd) error {
	args := c.Args
	var name string
	in := inProxySection(c)
	if in {
		name = c.Section.Arg
	} else {
		if len(args) == 0 {
			return fmt.Errorf("ProxySet requires a balancer or worker name then key=value parameters")
		}
		name, args = args[0], args[1:]
	}
	var params []param
	for _, w := range args {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("Invalid ProxySet parameter. Parameter must be in the form 'key=value'")
		}
		params = append(params, param{k, v})
	}
	fail := func(p param, err error) error {
		return fmt.Errorf("ProxySet: %v %s=%s; %s", err, p.key, p.val, name)
	}
	s := ServerOf(c.Server)
	if isBalancer(name) {
		b := s.Balancer(name)
		if b == nil {
			if !in {
				return fmt.Errorf("ProxySet can not find '%s' Balancer.", name)
			}
			if _, err := balancerName(name); err != nil {
				return fmt.Errorf("ProxySet %v", err)
			}
			b = s.defineBalancer(name, c.Node.Origin)
		}
		return applyBalancerParams(b, params, fail)
	}
	var w *Worker
	wname, err := workerName(name)
	if err == nil {
		w = s.findWorker(wname)
	}
	if w == nil {
		if !in {
			if err != nil && strings.HasPrefix(err.Error(), "uses") {
				return fmt.Errorf("ProxySet %v", err)
			}
			return fmt.Errorf("ProxySet can not find '%s' Worker.", name)
		}
		if w, err = s.defineWorker(name, c.Node.Origin); err != nil {
			return fmt.Errorf("ProxySet %v", err)
		}
	}
	return applyWorkerParams(w, params, fail)
}

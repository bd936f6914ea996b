package proxy

import (
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// defaultTimeout is Apache's Timeout when the config sets none.
const defaultTimeout = 60 * time.Second

// origin names the module's hook entries (DUMP_HOOKS, error lines).
const origin = ModuleName + " (Go)"

// gen is the proxy's run time for one config generation in one process:
// the workers and balancers the config defines, with their connection
// pools and states, and the health checks. RegisterHooks builds one per
// generation (in the master and again in each child); only a child makes
// connections and runs the checks, which child_init starts and child_exit
// (or the end of pchild) stops, so nothing outlives a graceful restart.
type gen struct {
	cfg     *config.Config
	servers map[*config.Server]*serverRT

	// all is every worker the config defines, once.
	all []*backend
	// checked are the balancer members with a health check.
	checked []*backend

	mu     sync.Mutex
	checks *healthChecks // running in this child, nil otherwise
}

// serverRT is what one server (main or virtual host) proxies with: its
// ProxyPass lines merged as Apache merges them (the main server's, then
// the virtual host's), the <Location>s with a ProxyPass, and the workers
// and balancers it sees (its own, then the main server's).
type serverRT struct {
	passes    []*Pass
	locations []*config.Section
	reverse   []ReversePass
	workers   []*backend // standalone workers, for the longest-prefix lookup
	balancers []*balancer
	// preserveHost is ProxyPreserveHost outside sections (the main
	// server's, overridden by the virtual host's).
	preserveHost bool
	defTimeout   time.Duration
	serverName   string // X-Forwarded-Server

	mu sync.Mutex
	// defaults are the workers made on first use for backends no
	// configured worker covers (Apache's default reverse worker), by
	// scheme://host:port.
	defaults map[string]*backend
}

// used reports whether cfg proxies anything: without a ProxyPass the
// module adds no request hook, so a server that does not proxy pays
// nothing for it.
func used(cfg *config.Config) bool {
	for _, s := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		if len(ServerOf(s).Passes) > 0 {
			return true
		}
		for _, sec := range s.Sections {
			if sec.Kind == "Location" || sec.Kind == "LocationMatch" {
				if SectionOf(sec).Pass != nil {
					return true
				}
			}
		}
	}
	return false
}

// newGen builds the run time of cfg.
func newGen(cfg *config.Config) *gen {
	g := &gen{cfg: cfg, servers: map[*config.Server]*serverRT{}}
	workers := map[*Worker]*backend{}
	balancers := map[*Balancer]*balancer{}
	checked := map[*backend]bool{}
	build := func(s *config.Server) (ws []*backend, bs []*balancer) {
		ss := ServerOf(s)
		def := serverTimeout(cfg, s)
		for _, w := range ss.Workers {
			b := workers[w]
			if b == nil {
				b = newBackend(w.Name, w.URL, workerParams{params: w.Params, hc: w.HealthCheck, defTimeout: def})
				workers[w] = b
				g.all = append(g.all, b)
			}
			ws = append(ws, b)
		}
		for _, bc := range ss.Balancers {
			lb := balancers[bc]
			if lb == nil {
				var members []*backend
				for _, w := range bc.Members {
					m := newBackend(w.Name, w.URL, workerParams{params: w.Params, hc: w.HealthCheck, defTimeout: def})
					members = append(members, m)
					g.all = append(g.all, m)
					if m.hc.Method != "" && m.hc.Method != "NONE" && !checked[m] {
						checked[m] = true
						g.checked = append(g.checked, m)
					}
				}
				lb = newBalancer(bc, members)
				balancers[bc] = lb
			}
			bs = append(bs, lb)
		}
		return ws, bs
	}
	mainWorkers, mainBalancers := build(cfg.Main)
	mainSS := ServerOf(cfg.Main)
	for _, s := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		ss := ServerOf(s)
		srt := &serverRT{defTimeout: serverTimeout(cfg, s), serverName: serverName(cfg, s), defaults: map[string]*backend{}}
		if mainSS.PreserveHost != nil {
			srt.preserveHost = *mainSS.PreserveHost
		}
		srt.passes = append(srt.passes, mainSS.Passes...)
		srt.reverse = append(srt.reverse, mainSS.Reverse...)
		srt.locations = locationPasses(cfg.Main)
		if s == cfg.Main {
			srt.workers, srt.balancers = mainWorkers, mainBalancers
		} else {
			ws, bs := build(s)
			srt.workers = append(ws, mainWorkers...)
			srt.balancers = append(bs, mainBalancers...)
			srt.passes = append(srt.passes, ss.Passes...)
			srt.reverse = append(srt.reverse, ss.Reverse...)
			srt.locations = append(srt.locations, locationPasses(s)...)
			if ss.PreserveHost != nil {
				srt.preserveHost = *ss.PreserveHost
			}
		}
		g.servers[s] = srt
	}
	return g
}

// locationPasses are s's <Location>/<LocationMatch> sections that hold a
// ProxyPass, in config order.
func locationPasses(s *config.Server) []*config.Section {
	var out []*config.Section
	for _, sec := range s.Sections {
		if (sec.Kind == "Location" || sec.Kind == "LocationMatch") && SectionOf(sec).Pass != nil {
			out = append(out, sec)
		}
	}
	return out
}

// serverTimeout is a worker's default timeout on server s: ProxyTimeout,
// else Timeout (the virtual host's, else the main server's), else 60s.
func serverTimeout(cfg *config.Config, s *config.Server) time.Duration {
	for _, srv := range []*config.Server{s, cfg.Main} {
		if t := ServerOf(srv).Timeout; t > 0 {
			return t
		}
	}
	for _, srv := range []*config.Server{s, cfg.Main} {
		if t := core.ServerOf(srv).Timeout; t > 0 {
			return t
		}
	}
	return defaultTimeout
}

// serverName is Apache's r->server->server_hostname: the ServerName
// without scheme or port, else the machine's name.
func serverName(cfg *config.Config, s *config.Server) string {
	for _, srv := range []*config.Server{s, cfg.Main} {
		n := core.ServerOf(srv).ServerName
		if n == "" {
			continue
		}
		if i := strings.Index(n, "://"); i >= 0 {
			n = n[i+3:]
		}
		if h, _, err := net.SplitHostPort(n); err == nil {
			n = h
		}
		return n
	}
	h, _ := os.Hostname()
	return h
}

// server is the run time of r's server.
func (g *gen) server(r *phases.Request) *serverRT {
	if r.Vhost != nil {
		if s := g.servers[r.Vhost]; s != nil {
			return s
		}
	}
	return g.servers[g.cfg.Main]
}

// balancer finds a balancer by name ("balancer://name/..." works).
func (s *serverRT) balancer(name string) *balancer {
	n, err := balancerName(name)
	if err != nil {
		return nil
	}
	for _, b := range s.balancers {
		if b.name == n {
			return b
		}
	}
	return nil
}

// worker is ap_proxy_get_worker for a backend URL: the configured worker
// with the longest name that prefixes it, else the default worker of its
// scheme://host:port (made on first use).
func (s *serverRT) worker(target string) *backend {
	lower := normAuthority(target)
	var best *backend
	for _, w := range s.workers {
		if strings.HasPrefix(lower, w.name) && len(w.name) >= len(authority(lower)) && (best == nil || len(w.name) > len(best.name)) {
			best = w
		}
	}
	if best != nil {
		return best
	}
	key := authority(lower)
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.defaults[key]; b != nil {
		return b
	}
	// Like Apache's default reverse worker, a default worker is never
	// put in error (PROXY_WORKER_IGNORE_ERRORS): no configured retry
	// covers it. The backends of a ProxyPassMatch that substitutes the
	// host come from the requests, so past maxDefaultWorkers they get a
	// worker of their own that keeps no connection and is not kept.
	if len(s.defaults) >= maxDefaultWorkers {
		return newBackend(key, key, workerParams{params: map[string]string{"disablereuse": "on"}, defTimeout: s.defTimeout, ignoreErrors: true})
	}
	b := newBackend(key, key, workerParams{defTimeout: s.defTimeout, ignoreErrors: true})
	s.defaults[key] = b
	return b
}

// maxDefaultWorkers bounds the default workers a server keeps.
const maxDefaultWorkers = 256

// register adds the module's hooks for cfg's generation.
func register(h *phases.ServerHooks, cfg *config.Config) error {
	if !used(cfg) {
		return nil
	}
	g := newGen(cfg)
	req := h.Request
	// Apache's mod_proxy translates first, before mod_alias. Its hooks
	// are Replayable: what they do to a request they do not claim
	// depends on its URI and the config only, and claiming one says
	// NotReplayable (translate).
	req.TranslateName.Add(phases.Entry[phases.RequestHookFunc]{Fn: g.translate, Origin: origin, Module: ModuleName, Order: phases.First, Replayable: true})
	req.MapToStorage.Add(phases.Entry[phases.RequestHookFunc]{Fn: g.mapToStorage, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	req.TypeChecker.Add(phases.Entry[phases.RequestHookFunc]{Fn: g.typeCheck, Origin: origin, Module: ModuleName, Order: phases.First, Replayable: true})
	req.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: g.handle, Origin: origin, Module: ModuleName, Order: phases.First, Replayable: true})
	h.ChildInit.Add(phases.Entry[phases.ChildHookFunc]{Fn: g.childInit, Origin: origin, Module: ModuleName, Order: phases.Middle})
	h.ChildExit.Add(phases.Entry[phases.ChildHookFunc]{Fn: g.childExit, Origin: origin, Module: ModuleName, Order: phases.Middle})
	return nil
}

// childInit starts the health checks of this child; pchild's end stops
// them if child_exit did not.
func (g *gen) childInit(pchild *phases.Pool, s *phases.Server) error {
	if len(g.checked) > 0 {
		hc := startHealthChecks(g.checked, s.Log)
		g.mu.Lock()
		g.checks = hc
		g.mu.Unlock()
	}
	pchild.CleanupRegister("proxy_module connections and health checks", func() error {
		g.stop()
		return nil
	})
	return nil
}

// childExit stops the health checks and closes the idle connections to
// the backends.
func (g *gen) childExit(pchild *phases.Pool, s *phases.Server) error {
	g.stop()
	return nil
}

// stop ends the health checks (waiting for them) and drops idle
// connections; it may run more than once.
func (g *gen) stop() {
	g.mu.Lock()
	hc := g.checks
	g.checks = nil
	g.mu.Unlock()
	if hc != nil {
		hc.stop()
	}
	for _, b := range g.all {
		b.close()
	}
	for _, s := range g.servers {
		s.mu.Lock()
		for _, b := range s.defaults {
			b.close()
		}
		s.mu.Unlock()
	}
}

// normAuthority normalises the scheme://host[:port] of a backend URL as
// worker names are (lower case, no default port), so that lookups match.
func normAuthority(target string) string {
	a := authority(target)
	n, err := workerName(a)
	if err != nil {
		return lowerAuthority(target)
	}
	return n + target[len(a):]
}

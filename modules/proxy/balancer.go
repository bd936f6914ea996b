package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// balancer is a balancer://name at run time in one process: its members
// and mod_proxy_balancer's choice among them.
type balancer struct {
	name    string // "balancer://name"
	members []*backend
	method  string // lbmethod: byrequests (default), bytraffic, bybusyness; heartbeat falls back to byrequests

	stickyCookie, stickyParam string // stickysession=cookie|param
	stickySep                 byte   // stickysessionsep, '.' by default; 0 for Off
	noFailover                bool
	maxAttempts               int // failovers after the first choice
	failOnStatus              map[int]bool
	failOnTimeout             bool
	forceRecovery             bool

	mu sync.Mutex // the lbstatus of the members
}

// newBalancer builds the run-time balancer from its configuration and its
// members' run-time workers.
func newBalancer(cfg *Balancer, members []*backend) *balancer {
	b := &balancer{name: cfg.Name, members: members, method: "byrequests", stickySep: '.', forceRecovery: true, maxAttempts: len(members) - 1}
	p := cfg.Params
	if m := p["lbmethod"]; m != "" {
		b.method = m
	}
	if s := p["stickysession"]; s != "" {
		b.stickyCookie, b.stickyParam, _ = strings.Cut(s, "|")
		if b.stickyParam == "" {
			b.stickyParam = b.stickyCookie
		}
	}
	if s, ok := p["stickysessionsep"]; ok {
		if strings.EqualFold(s, "off") {
			b.stickySep = 0
		} else {
			b.stickySep = s[0]
		}
	}
	b.noFailover = strings.EqualFold(p["nofailover"], "on")
	if v, ok := p["maxattempts"]; ok {
		b.maxAttempts, _ = atoi(v)
	}
	if v, ok := p["failonstatus"]; ok {
		b.failOnStatus = map[int]bool{}
		for _, c := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, _ := atoi(c)
			b.failOnStatus[n] = true
		}
	}
	b.failOnTimeout = strings.EqualFold(p["failontimeout"], "on")
	if v, ok := p["forcerecovery"]; ok {
		b.forceRecovery = !strings.EqualFold(v, "off")
	}
	if b.maxAttempts < 0 {
		b.maxAttempts = 0
	}
	return b
}

// stickyRoute is the route the request's session names: the part after
// the separator of the sticky session cookie, or of the URL parameter
// (";name=value" in the path or "name=value" in the query).
func (b *balancer) stickyRoute(r *phases.Request) (route, session string) {
	if b.stickyCookie == "" {
		return "", ""
	}
	value := ""
	if p := pathParam(r.UnparsedURI, b.stickyParam); p != "" {
		value = p
	} else if c, err := (&http.Request{Header: r.HeadersIn}).Cookie(b.stickyCookie); err == nil {
		value = c.Value
	}
	if value == "" {
		return "", ""
	}
	if b.stickySep == 0 {
		return value, value
	}
	if i := strings.IndexByte(value, b.stickySep); i >= 0 {
		return value[i+1:], value
	}
	return "", value
}

// pathParam finds name's value in a URI's path parameters or query.
func pathParam(uri, name string) string {
	if name == "" {
		return ""
	}
	for _, sep := range []string{";", "?", "&"} {
		key := sep + name + "="
		if i := strings.Index(uri, key); i >= 0 {
			v := uri[i+len(key):]
			if j := strings.IndexAny(v, "?&;#"); j >= 0 {
				v = v[:j]
			}
			return v
		}
	}
	return ""
}

// routeWorker is find_route_worker: the member with the route, if usable;
// hot standbys are looked at after the others.
func (b *balancer) routeWorker(route string, now time.Time) *backend {
	for _, standby := range []bool{false, true} {
		for _, m := range b.members {
			if m.standby == standby && m.route == route && m.usable(now) {
				return m
			}
		}
	}
	return nil
}

// best is the lbmethod's choice among the usable members, lbset by lbset
// (lower first), the hot standbys of an lbset only when none of its other
// members is usable; nil when no member is usable. exclude holds the
// members that already failed this request.
func (b *balancer) best(now time.Time, exclude map[*backend]bool) *backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	maxSet := 0
	for _, m := range b.members {
		maxSet = max(maxSet, m.lbset)
	}
	for set := 0; set <= maxSet; set++ {
		var normal, standby []*backend
		for _, m := range b.members {
			if m.lbset != set || exclude[m] || !m.usable(now) {
				continue
			}
			if m.standby {
				standby = append(standby, m)
			} else {
				normal = append(normal, m)
			}
		}
		candidates := normal
		if len(candidates) == 0 {
			candidates = standby
		}
		if len(candidates) > 0 {
			return b.choose(candidates)
		}
	}
	return nil
}

// choose applies the lbmethod to usable candidates (b.mu held).
func (b *balancer) choose(candidates []*backend) *backend {
	switch b.method {
	case "bytraffic":
		// The least traffic (bytes both ways) per unit of loadfactor.
		var best *backend
		var bestTraffic int64
		for _, m := range candidates {
			t := (m.transferred.Load() + m.read.Load()) * defaultLBFactor / int64(m.lbfactor)
			if best == nil || t < bestTraffic {
				best, bestTraffic = m, t
			}
		}
		return best
	case "bybusyness":
		// The fewest requests in progress per unit of loadfactor; ties go
		// to byrequests' order.
		var best *backend
		var bestBusy int64
		total := 0
		for _, m := range candidates {
			m.lbstatus += m.lbfactor
			total += m.lbfactor
			busy := m.busy.Load() * defaultLBFactor / int64(m.lbfactor)
			if best == nil || busy < bestBusy || busy == bestBusy && m.lbstatus > best.lbstatus {
				best, bestBusy = m, busy
			}
		}
		best.lbstatus -= total
		return best
	}
	// byrequests: every candidate earns its loadfactor; the one with the
	// most credit is chosen and pays the total, so over time each gets
	// requests in proportion to its loadfactor.
	var best *backend
	total := 0
	for _, m := range candidates {
		m.lbstatus += m.lbfactor
		total += m.lbfactor
		if best == nil || m.lbstatus > best.lbstatus {
			best = m
		}
	}
	best.lbstatus -= total
	return best
}

// recover is forcerecovery (force_recovery): when every member is in
// error, they are all given another chance at once instead of waiting for
// their retry time.
func (b *balancer) recover(now time.Time) bool {
	if !b.forceRecovery || len(b.members) == 0 {
		return false
	}
	for _, m := range b.members {
		m.mu.Lock()
		m.usableLocked(now) // a retry time that has passed counts
		inError := m.inError
		m.mu.Unlock()
		if !inError {
			return false
		}
	}
	for _, m := range b.members {
		m.mu.Lock()
		m.inError = false
		m.mu.Unlock()
	}
	return true
}

// pick chooses the member for a request: the sticky session's route when
// its member is usable, else the lbmethod's choice. It sets Apache's
// BALANCER_* variables.
func (b *balancer) pick(r *phases.Request, exclude map[*backend]bool) *backend {
	now := time.Now()
	route, session := b.stickyRoute(r)
	r.SubprocessEnv["BALANCER_NAME"] = b.name
	if session != "" {
		r.SubprocessEnv["BALANCER_SESSION_STICKY"] = b.stickyCookie
		r.SubprocessEnv["BALANCER_SESSION_ROUTE"] = route
	}
	if len(exclude) == 0 && b.recover(now) {
		r.Log().Debug("proxy_balancer", "%s: Forcing recovery for all workers, all in error state", b.name)
	}
	var w *backend
	if route != "" {
		if w = b.routeWorker(route, now); w != nil && exclude[w] {
			w = nil
		}
		if w == nil && b.noFailover {
			return nil
		}
	}
	if w == nil {
		w = b.best(now, exclude)
		if w != nil && route != "" && w.route != route {
			r.SubprocessEnv["BALANCER_ROUTE_CHANGED"] = "1"
		}
	}
	if w != nil {
		r.SubprocessEnv["BALANCER_WORKER_NAME"] = w.name
		r.SubprocessEnv["BALANCER_WORKER_ROUTE"] = w.route
		w.elected.Add(1)
	}
	return w
}

// rewrite is the balancer's URL rewrite: "balancer://name/rest" sent to
// member m is m's URL followed by "/rest".
func (b *balancer) rewrite(target string, m *backend) string {
	rest := target[min(len(target), len(b.name)):]
	base := m.name
	if strings.HasSuffix(base, "/") && strings.HasPrefix(rest, "/") {
		rest = rest[1:]
	}
	return base + rest
}

// postRequest is mod_proxy_balancer's post_request: failonstatus and
// failontimeout put the member in error after the fact.
func (b *balancer) postRequest(r *phases.Request, m *backend, status int, timedOut bool) {
	if b.failOnStatus[status] && m.putInError() {
		r.Log().Error("proxy_balancer", "%s: Forcing worker (%s) into error state due to status code %d matching 'failonstatus' balancer parameter", b.name, m.name, status)
	}
	if b.failOnTimeout && timedOut && m.putInError() {
		r.Log().Error("proxy_balancer", "%s: Forcing worker (%s) into error state due to timeout and 'failontimeout' parameter being set", b.name, m.name)
	}
}

// String names the balancer in messages.
func (b *balancer) String() string { return b.name + " (" + strconv.Itoa(len(b.members)) + " members)" }

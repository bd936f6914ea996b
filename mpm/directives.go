package mpm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// Module names, as LoadModule and <IfModule> know them.
const (
	PreforkModule = "mpm_prefork_module"
	WorkerModule  = "mpm_worker_module"
	EventModule   = "mpm_event_module"
	// CommonModule is the internal module that declares the MPM directives
	// (Apache's mpm_common.c plus each MPM's own).
	CommonModule = "mpm_common"
)

func init() {
	phases.RegisterModule(&phases.Module{Name: PreforkModule, Source: "prefork.c", MPM: "prefork"})
	phases.RegisterModule(&phases.Module{Name: WorkerModule, Source: "worker.c", MPM: "worker"})
	phases.RegisterModule(&phases.Module{Name: EventModule, Source: "event.c", MPM: "event"})
	phases.RegisterModule(&phases.Module{Name: CommonModule, Internal: true, Directives: directives()})
}

// Apache's compiled-in hard limits (MAX_SERVER_LIMIT, MAX_THREAD_LIMIT).
const (
	PreforkMaxServerLimit  = 200000
	ThreadedMaxServerLimit = 20000
	MaxThreadLimit         = 20000
	maxInt                 = math.MaxInt32
)

// Value is one MPM directive as the config set it.
type Value struct {
	N      int64          // the number (bytes for MaxMemPerChild)
	F      float64        // AsyncRequestWorkerFactor
	As     string         // the directive name as declared (MaxClients for the old name)
	Origin *config.Origin // its line
}

// Conf holds the MPM directives as written; nil means not set. The
// effective values are SettingsOf's business.
type Conf struct {
	StartServers             *Value
	MinSpareServers          *Value
	MaxSpareServers          *Value
	MaxRequestWorkers        *Value // or MaxClients
	ServerLimit              *Value
	MaxConnectionsPerChild   *Value // or MaxRequestsPerChild
	ThreadsPerChild          *Value
	MinSpareThreads          *Value
	MaxSpareThreads          *Value
	ThreadLimit              *Value
	MaxMemPerChild           *Value
	ListenBacklog            *Value
	AsyncRequestWorkerFactor *Value

	lastNode *config.Node // the config's last MPM directive, found by a scan
	scanned  bool
}

// ConfOf returns the MPM directives cfg sets.
func ConfOf(cfg *config.Config) *Conf { return config.Global[Conf](cfg, CommonModule) }

// which MPMs a directive applies to.
const (
	prefork = 1 << iota
	worker
	event
	allMPMs  = prefork | worker | event
	threaded = worker | event
)

var mpmBit = map[string]int{"prefork": prefork, "worker": worker, "event": event}

type decl struct {
	name   string
	alias  string // the canonical name when this is an old one
	mpms   int
	help   string
	field  func(*Conf) **Value
	lo, hi func(mpm string) int64
	zeroOK bool // 0 means "unlimited"
	kind   string
}

func lo1(string) int64       { return 1 }
func lo0(string) int64       { return 0 }
func hiInt(string) int64     { return maxInt }
func hiThreads(string) int64 { return MaxThreadLimit }
func hiServers(mpm string) int64 {
	if mpm == "prefork" {
		return PreforkMaxServerLimit
	}
	return ThreadedMaxServerLimit
}

var decls = []decl{
	{name: "StartServers", mpms: allMPMs, help: "Number of child processes launched at server startup", field: func(c *Conf) **Value { return &c.StartServers }, lo: lo1, hi: hiInt},
	{name: "MinSpareServers", mpms: prefork, help: "Minimum number of idle children, to handle request spikes", field: func(c *Conf) **Value { return &c.MinSpareServers }, lo: lo1, hi: hiInt},
	{name: "MaxSpareServers", mpms: prefork, help: "Maximum number of idle children", field: func(c *Conf) **Value { return &c.MaxSpareServers }, lo: lo1, hi: hiInt},
	{name: "MaxRequestWorkers", mpms: allMPMs, help: "Maximum number of connections that will be processed simultaneously", field: func(c *Conf) **Value { return &c.MaxRequestWorkers }, lo: lo1, hi: hiInt},
	{name: "MaxClients", alias: "MaxRequestWorkers", mpms: allMPMs, help: "Deprecated name of MaxRequestWorkers", field: func(c *Conf) **Value { return &c.MaxRequestWorkers }, lo: lo1, hi: hiInt},
	{name: "ServerLimit", mpms: allMPMs, help: "Maximum value of MaxRequestWorkers for this run of Apache", field: func(c *Conf) **Value { return &c.ServerLimit }, lo: lo1, hi: hiServers},
	{name: "MaxConnectionsPerChild", mpms: allMPMs, help: "Maximum number of connections a particular child serves before dying.", field: func(c *Conf) **Value { return &c.MaxConnectionsPerChild }, lo: lo0, hi: hiInt, zeroOK: true},
	{name: "MaxRequestsPerChild", alias: "MaxConnectionsPerChild", mpms: allMPMs, help: "Deprecated name of MaxConnectionsPerChild", field: func(c *Conf) **Value { return &c.MaxConnectionsPerChild }, lo: lo0, hi: hiInt, zeroOK: true},
	{name: "ThreadsPerChild", mpms: threaded, help: "Number of threads each child creates", field: func(c *Conf) **Value { return &c.ThreadsPerChild }, lo: lo1, hi: hiThreads},
	{name: "MinSpareThreads", mpms: threaded, help: "Minimum number of idle threads, to handle request spikes", field: func(c *Conf) **Value { return &c.MinSpareThreads }, lo: lo1, hi: hiInt},
	{name: "MaxSpareThreads", mpms: threaded, help: "Maximum number of idle threads", field: func(c *Conf) **Value { return &c.MaxSpareThreads }, lo: lo1, hi: hiInt},
	{name: "ThreadLimit", mpms: threaded, help: "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild", field: func(c *Conf) **Value { return &c.ThreadLimit }, lo: lo1, hi: hiThreads},
	{name: "MaxMemPerChild", mpms: allMPMs, help: "Maximum memory a child may use before it is recycled: KiB, or a size with K, M or G (0 for no limit)", field: func(c *Conf) **Value { return &c.MaxMemPerChild }, kind: "size"},
	{name: "ListenBacklog", mpms: allMPMs, help: "Maximum length of the queue of pending connections, as used by listen(2)", field: func(c *Conf) **Value { return &c.ListenBacklog }, lo: lo1, hi: hiInt},
	{name: "AsyncRequestWorkerFactor", mpms: event, help: "How many additional connects will be accepted per idle worker thread", field: func(c *Conf) **Value { return &c.AsyncRequestWorkerFactor }, kind: "float"},
}

var directiveNames = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range decls {
		m[strings.ToLower(d.name)] = true
	}
	return m
}()

func directives() []*config.Directive {
	var out []*config.Directive
	for i := range decls {
		d := &decls[i]
		out = append(out, &config.Directive{
			Name: d.name, Form: config.Take1, Contexts: config.ServerOnly, Help: d.help,
			Built:   true,
			Handler: func(c *config.Cmd) error { return handle(c, d) },
		})
	}
	return out
}

func handle(c *config.Cmd, d *decl) error {
	mpm := c.Config.MPM
	v := &Value{As: d.name, Origin: c.Node.Origin}
	arg := c.Args[0]
	switch d.kind {
	case "size":
		n, err := maxMem(c, arg)
		if err != nil {
			return err
		}
		v.N = n
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: error parsing value '%s' (a number such as 2 or 1.5)", d.name, arg)
		}
		if f <= 0 {
			return fmt.Errorf("%s argument must be a positive number, not %s", d.name, arg)
		}
		v.F = f
	default:
		n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: '%s' is not a whole number", d.name, arg)
		}
		lo, hi := d.lo(mpm), d.hi(mpm)
		// Like Apache, out-of-range values are clamped with a warning, so a
		// config Apache accepts is accepted here too.
		switch {
		case n < lo && d.zeroOK:
			return fmt.Errorf("%s must be a positive number or 0 (no limit), not %d", d.name, n)
		case n < lo:
			c.Warn("%s of %d not allowed, increasing to %d", d.name, n, lo)
			n = lo
		case n > hi:
			c.Warn("%s of %d exceeds compile-time limit of %d, decreasing to match", d.name, n, hi)
			n = hi
		}
		v.N = n
	}
	if d.alias != "" {
		c.Warn("%s is deprecated, use %s instead.", d.name, d.alias)
	}
	if mpmBit[mpm]&d.mpms == 0 {
		c.Warn("%s has no effect with the %s MPM", d.name, mpm)
	}
	*d.field(ConfOf(c.Config)) = v
	if c.Node == lastNode(c.Config) {
		// every MPM directive is now known: report what Apache would clamp
		for _, w := range SettingsOf(c.Config).Warnings {
			if w.Origin == nil {
				w.Origin = c.Node.Origin
			}
			c.Config.Warnings = append(c.Config.Warnings, w)
		}
	}
	return nil
}

// maxMem parses MaxMemPerChild: a bare number is KiB (Apache's unit), or a
// size with K, M or G.
func maxMem(c *config.Cmd, arg string) (int64, error) {
	const max = 1 << 50
	if n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("MaxMemPerChild must be a positive integer or zero")
		}
		if n > max>>10 {
			return 0, fmt.Errorf("MaxMemPerChild of %s KiB is too large", arg)
		}
		return n << 10, nil
	}
	if strings.HasPrefix(strings.TrimSpace(arg), "-") {
		return 0, fmt.Errorf("MaxMemPerChild must be a positive integer or zero")
	}
	n, err := c.Size(arg)
	if err != nil {
		return 0, err
	}
	if n > max {
		return 0, fmt.Errorf("MaxMemPerChild of %s is too large", arg)
	}
	return n, nil
}

// lastNode is the last MPM directive of the effective config tree.
func lastNode(cfg *config.Config) *config.Node {
	conf := ConfOf(cfg)
	if !conf.scanned {
		conf.scanned = true
		var walk func([]*config.Node)
		walk = func(ns []*config.Node) {
			for _, n := range ns {
				if n.Section {
					walk(n.Children)
				} else if directiveNames[strings.ToLower(n.Name)] {
					conf.lastNode = n
				}
			}
		}
		walk(cfg.Tree)
	}
	return conf.lastNode
}

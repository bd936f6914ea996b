// Package status is httpdg's status module (status_module, Apache's
// mod_status): pages built from the scoreboard the MPM keeps in shared
// memory.
//
//   - SetHandler server-status (or application/x-httpd-status) answers GET
//     with mod_status's HTML page; "?auto" anywhere in the query string
//     gives Apache 2.4's machine-readable report instead, byte for byte in
//     Apache's format so existing monitoring parses it; "?refresh[=N]"
//     adds a Refresh header (N < 1: 10 seconds); "?notable" lists workers
//     without a table.
//   - SetHandler metrics answers with the same figures in Prometheus's
//     text format (0.0.4).
//
// Without a scoreboard (the one-process run, unit tests) both answer with
// an empty one.
package status

import (
	"bytes"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the status module's identifier.
const ModuleName = "status_module"

// version is httpdg's version as the status pages print it
// ("httpdg/<version>" where Apache prints "Apache/2.4.x"). It mirrors
// cmd/cli.Version, which modules cannot import (cmd/cli imports every
// module); keep the two in step.
const version = "0.1.0"

// serverVersion is mod_status's "Server Version" (ap_get_server_description).
const serverVersion = "httpdg/" + version

// The handler names mod_status answers to (Apache compares them
// case-sensitively), and httpdg's Prometheus handler.
const (
	handlerStatus     = "server-status"
	handlerStatusType = "application/x-httpd-status"
	handlerMetrics    = "metrics"
)

const origin = "status_module (Go)"

// Global holds the process-wide status settings. A nil field was not set
// in the config (ExtendedStatus then defaults to On when status_module is
// loaded, as in Apache 2.4; SeeRequestTail to Off).
type Global struct {
	ExtendedStatus *bool
	SeeRequestTail *bool
}

// GlobalOf returns the process-wide status settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// Extended reports whether the scoreboard keeps per-request details.
func (g *Global) Extended() bool { return g.ExtendedStatus == nil || *g.ExtendedStatus }

// RequestTail reports whether the status page shows the last 63 characters
// of a request line instead of the first.
func (g *Global) RequestTail() bool { return g.SeeRequestTail != nil && *g.SeeRequestTail }

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_status.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "ExtendedStatus", Form: config.Flag, Contexts: config.ServerOnly, Built: true, Help: "On to keep per-request details (client, vhost, request line) in the scoreboard", Handler: func(c *config.Cmd) error {
			v := c.Flag()
			GlobalOf(c.Config).ExtendedStatus = &v
			return nil
		}},
		{Name: "SeeRequestTail", Form: config.Flag, Contexts: config.ServerOnly, Built: true, Help: "On to show the last 63 characters of long request lines in the status page, Off for the first 63", Handler: func(c *config.Cmd) error {
			v := c.Flag()
			GlobalOf(c.Config).SeeRequestTail = &v
			return nil
		}},
	}})
}

// module is the status module of one generation. Its clock and system
// readers are fields so tests can fix them.
type module struct {
	built  string    // mod_status's "Server Built"
	loaded time.Time // the generation's start, when there is no scoreboard
	now    func() time.Time
	// procCPU reads a process's CPU times; loadAvg the load averages.
	procCPU func(pid int) (cpuTimes, bool)
	loadAvg func() [3]float64
}

func newModule() *module {
	return &module{built: buildTime(), loaded: time.Now(), now: time.Now, procCPU: procCPU, loadAvg: loadAvg}
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	h.Request.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: newModule().handler, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// handler answers the server-status and metrics handlers. Like mod_status
// it answers GET (and HEAD) only and declines other methods.
func (m *module) handler(r *phases.Request) (phases.Status, error) {
	var metrics bool
	switch r.Handler {
	case handlerStatus, handlerStatusType:
	case handlerMetrics:
		metrics = true
	default:
		return phases.DECLINED, nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return phases.DECLINED, nil
	}
	r.NotReplayable() // a live page
	if r.HeadersOut == nil {
		r.HeadersOut = http.Header{}
	}
	rep := m.gather(r)
	var body bytes.Buffer
	switch {
	case metrics:
		rep.readCPU(m)
		writeMetrics(&body, rep)
		r.ContentType = metricsContentType
	default:
		// mod_status looks for its options anywhere in the query string
		// (strstr), so "?auto&refresh=5" and "?xauto" both count.
		if i := strings.Index(r.Args, "refresh"); i >= 0 {
			r.HeadersOut.Set("Refresh", strconv.FormatInt(refreshSeconds(r.Args[i+len("refresh"):]), 10))
		}
		noTable := strings.Contains(r.Args, "notable")
		if rep.extended {
			// The CPU figures are part of the extended report only.
			rep.readCPU(m)
		}
		if strings.Contains(r.Args, "auto") {
			writeAuto(&body, rep)
			r.ContentType = "text/plain; charset=ISO-8859-1"
		} else {
			writeHTML(&body, rep, noTable)
			r.ContentType = "text/html; charset=ISO-8859-1"
		}
	}
	r.HeadersOut.Set("Content-Length", strconv.Itoa(body.Len()))
	r.Output.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// A write error means the client went away: nothing more can be
		// said to it, and it is not a server error worth a 500.
		_, _ = r.Output.Write(body.Bytes())
	}
	return phases.OK, nil
}

// refreshSeconds is mod_status's refresh value: after "refresh", "=N"
// read as atol reads it; missing or below 1 means 10.
func refreshSeconds(rest string) int64 {
	var t int64
	if strings.HasPrefix(rest, "=") {
		t = atol(rest[1:])
	}
	if t < 1 {
		return 10
	}
	return t
}

// atol is C's atol: leading white space, a sign, the digits that follow.
func atol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<53; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// buildTime is "Server Built": when the binary was built, in the form
// Debian's Apache prints ("2026-05-06T09:14:12"). Go records the commit
// time of a VCS build; otherwise the executable's modification time
// serves.
func buildTime() string {
	const layout = "2006-01-02T15:04:05"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC().Format(layout)
				}
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			return fi.ModTime().UTC().Format(layout)
		}
	}
	return "unknown"
}

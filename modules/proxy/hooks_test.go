package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpdg/httpdg/modules/proxy"
	"github.com/httpdg/httpdg/phases"
)

// endedExchanges counts end_proxy_request calls.
var endedExchanges atomic.Int64

func init() {
	phases.RegisterModule(&phases.Module{Name: "proxyhooktest_module", Handlers: map[string]any{
		// backend_client_assigned: refuse some requests, tag the others
		// with the worker chosen (the header reaches the backend).
		"proxytest.Assigned": func(r *phases.Request) (phases.Status, error) {
			if r.HeadersIn.Get("X-Refuse") != "" {
				return http.StatusForbidden, nil
			}
			r.HeadersIn.Set("X-Assigned", r.Notes[proxy.NoteWorker])
			return phases.DECLINED, nil
		},
		// backend_response_received: mark every response, answer in place
		// of a backend's 500.
		"proxytest.Received": func(r *phases.Request) (phases.Status, error) {
			r.HeadersOut.Set("X-Received", strconv.Itoa(r.Status))
			if r.Status != http.StatusInternalServerError {
				return phases.DECLINED, nil
			}
			r.HeadersOut = http.Header{}
			r.ContentType = "text/plain"
			r.Output.WriteHeader(http.StatusOK)
			io.WriteString(r.Output, "replaced")
			return phases.OK, nil
		},
		"proxytest.End": func(r *phases.Request) (phases.Status, error) {
			endedExchanges.Add(1)
			return phases.OK, nil
		},
	}})
}

func TestBackendHooks(t *testing.T) {
	be := backend(t, "hooks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Saw-Assigned", r.Header.Get("X-Assigned"))
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
			io.WriteString(w, "backend failure")
			return
		}
		io.WriteString(w, "fine")
	})
	h := newHarness(t, fmt.Sprintf(`ProxyPass /h/ %s/
GoHookBackendClientAssigned proxytest.Assigned
GoHookBackendResponseReceived proxytest.Received
GoHookEndProxyRequest proxytest.End
`, be.URL))
	before := endedExchanges.Load()
	res := h.do("GET", "/h/ok", nil, "")
	if res.status != 200 || res.body != "fine" || res.header.Get("X-Received") != "200" || res.header.Get("X-Saw-Assigned") != be.URL+"/" {
		t.Errorf("ok: %d %q %v", res.status, res.body, res.header)
	}
	res = h.do("GET", "/h/fail", nil, "")
	if res.status != 200 || res.body != "replaced" {
		t.Errorf("backend_response_received taking over: %d %q", res.status, res.body)
	}
	in := http.Header{}
	in.Set("X-Refuse", "1")
	if res = h.do("GET", "/h/ok", in, ""); res.status != http.StatusForbidden {
		t.Errorf("backend_client_assigned refusing: %d %q", res.status, res.body)
	}
	if n := endedExchanges.Load() - before; n != 3 {
		t.Errorf("end_proxy_request ran %d times for 3 exchanges", n)
	}
}

// TestChildExitStopsHealthChecks: the checks' goroutines end with the
// child (a graceful restart leaves none behind). They are counted by
// their stacks, not by the process's goroutine count, which other
// goroutines (backends, idle connections) move too.
func TestChildExitStopsHealthChecks(t *testing.T) {
	a, b := backend(t, "a", nil), backend(t, "b", nil)
	h := newHarness(t, balancerConf(a.URL+" hcmethod=HEAD hcinterval=100ms", b.URL+" hcmethod=TCP hcinterval=100ms"))
	waitFor(t, 5*time.Second, "the two checks to run", func() bool { return checkGoroutines() == 2 })
	count(t, h, 4)
	h.exit() // child_exit waits for the checks to return
	if n := checkGoroutines(); n != 0 {
		t.Errorf("%d health-check goroutines left after child_exit", n)
	}
}

// checkGoroutines counts the goroutines running a health-check loop.
func checkGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "proxy.(*backend).checkLoop(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestDirectivesBuilt: every proxy directive has its run time but
// ProxyRequests (no forward proxy).
func TestDirectivesBuilt(t *testing.T) {
	reg, err := phases.Directives()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Proxy", "ProxyMatch", "ProxyPass", "ProxyPassReverse", "ProxyTimeout", "ProxyPreserveHost",
		"ProxyRequests", "BalancerMember", "ProxySet"} {
		d := reg.Directive(n)
		if n == "Proxy" || n == "ProxyMatch" {
			d = reg.Section(n)
		}
		if d == nil {
			t.Errorf("%s is not declared", n)
			continue
		}
		if want := n != "ProxyRequests"; d.Module != proxy.ModuleName || d.Built != want {
			t.Errorf("%s: module %s, built %v, want %v", n, d.Module, d.Built, want)
		}
	}
}

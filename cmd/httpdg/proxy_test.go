package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestReverseProxyAcrossGracefulRestart runs the multi-process server as
// a reverse proxy in front of Go backends on loopback ports: a ProxyPass
// with ProxyPassReverse, a balancer with a health-checked member, the
// backend going down and up, and a graceful restart (SIGUSR1) with the
// proxy serving before and after it.
func TestReverseProxyAcrossGracefulRestart(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	mk := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/health":
				if name == "a" && !healthy.Load() {
					w.WriteHeader(503)
				}
				return
			case "/app/moved":
				w.Header().Set("Location", "http://"+r.Host+"/app/target")
				w.WriteHeader(302)
				return
			}
			fmt.Fprintf(w, "%s %s xff=%s", name, r.URL.RequestURI(), r.Header.Get("X-Forwarded-For"))
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := mk("a"), mk("b")
	port := freePort(t)
	root := writeConf(t, map[string]string{"conf/httpd.conf": mpmConf(port, "event", append(mpmSettings["event"],
		"LogLevel info",
		"ProxyPass /app/ "+a.URL+"/app/",
		"ProxyPassReverse /app/ "+a.URL+"/app/",
		"<Proxy balancer://pool>",
		"    BalancerMember "+a.URL+" hcmethod=GET hcuri=/health hcinterval=200ms",
		"    BalancerMember "+b.URL,
		"</Proxy>",
		"ProxyPass /lb/ balancer://pool/",
	)...)})
	m := startMaster(t, root, port)
	m.waitChildren(2, 5*time.Second)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fetch := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	serves := func(when string) {
		t.Helper()
		if code, body, _ := fetch("/app/x?q=1"); code != 200 || body != "a /app/x?q=1 xff=127.0.0.1" {
			t.Errorf("%s: /app/x = %d %q", when, code, body)
		}
		if code, _, h := fetch("/app/moved"); code != 302 || h.Get("Location") != fmt.Sprintf("http://127.0.0.1:%d/app/target", port) {
			t.Errorf("%s: redirect %d Location %q", when, code, h.Get("Location"))
		}
		seen := map[string]bool{}
		for i := 0; i < 8; i++ {
			code, body, _ := fetch("/lb/y")
			if code != 200 {
				t.Errorf("%s: /lb/y = %d %q", when, code, body)
				continue
			}
			seen[strings.Fields(body)[0]] = true
		}
		if !seen["a"] || !seen["b"] {
			t.Errorf("%s: the balancer used %v, want both members", when, seen)
		}
	}
	serves("before the graceful restart")

	m.signal(syscall.SIGUSR1)
	m.waitLog(readyRe, 2, 20*time.Second)
	m.waitChildren(2, 10*time.Second)
	serves("after the graceful restart")

	// The health checks of the new children take a down member out, and
	// put it back when it recovers.
	healthy.Store(false)
	m.waitLog(regexp.MustCompile(`Health check DISABLING `+regexp.QuoteMeta(a.URL)), 2, 10*time.Second)
	for i := 0; i < 6; i++ {
		if code, body, _ := fetch("/lb/y"); code != 200 || !strings.HasPrefix(body, "b ") {
			t.Errorf("member a down: /lb/y = %d %q", code, body)
		}
	}
	healthy.Store(true)
	m.waitLog(regexp.MustCompile(`Health check ENABLING `+regexp.QuoteMeta(a.URL)), 2, 10*time.Second)

	// A backend that is gone: 503, and the error log names it.
	a.Close()
	if code, _, _ := fetch("/app/x"); code != 503 {
		t.Errorf("backend gone: /app/x = %d, want 503", code)
	}
	addr := strings.TrimPrefix(a.URL, "http://")
	waitFor(t, 5*time.Second, "the error log to name the backend", func() bool {
		return strings.Contains(m.log(), "failed to make connection to backend: "+addr)
	})
	if code := m.stop(15 * time.Second); code != 0 {
		t.Fatalf("stop: exit %d; stderr:\n%s", code, m.stderr.String())
	}
}

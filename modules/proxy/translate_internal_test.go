package proxy

import (
	"strconv"
	"time"

	"testing"

	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// TestTranslateUnclaimedAllocatesNothing: translate_name runs on every
// request once a ProxyPass is configured; a request no ProxyPass claims
// costs no allocation.
func TestTranslateUnclaimedAllocatesNothing(t *testing.T) {
	cfg := phasestest.MustLoad(t, `ProxyPass /app/ http://127.0.0.1:8081/app/
ProxyPass /b/ http://127.0.0.1:8082/
ProxyPass ~ ^/img/(.*\.png)$ http://127.0.0.1:8083/$1
<LocationMatch ^/lm/>
    ProxyPass http://127.0.0.1:9001/
</LocationMatch>
<Location /api/>
    ProxyPass http://127.0.0.1:9000/
</Location>
`)
	g := newGen(cfg)
	r := &phases.Request{URI: "/static/index.html", Notes: map[string]string{}, SubprocessEnv: map[string]string{}, Vhost: cfg.Main}
	if n := testing.AllocsPerRun(100, func() {
		if st, _ := g.translate(r); st != phases.DECLINED {
			t.Fatalf("translate claimed %s", r.URI)
		}
	}); n != 0 && !raceEnabled {
		t.Errorf("translate of an unclaimed request: %v allocations, want 0", n)
	}
	// The <Location>'s ProxyPass still comes first.
	r = &phases.Request{URI: "/api/x", Notes: map[string]string{}, SubprocessEnv: map[string]string{}, Vhost: cfg.Main}
	if st, _ := g.translate(r); st != phases.OK || r.Filename != "proxy:http://127.0.0.1:9000/x" {
		t.Errorf("/api/x: %v %q", st, r.Filename)
	}
}

// TestDefaultWorkersBounded: the backends no configured worker covers
// (a ProxyPassMatch substituting the host from the URL) get default
// workers that are never put in error, as Apache's default reverse
// worker, and a client naming new hosts cannot grow them without bound.
func TestDefaultWorkersBounded(t *testing.T) {
	cfg := phasestest.MustLoad(t, "ProxyPass ~ ^/h/([^/]+)/(.*)$ http://$1/$2\n")
	g := newGen(cfg)
	srt := g.servers[cfg.Main]
	w := srt.worker("http://a.example/x")
	if w != srt.worker("http://A.example:80/y") {
		t.Error("the same backend got two default workers")
	}
	if !w.ignoreErrors || w.putInError() || !w.usable(time.Now()) {
		t.Error("a default worker was put in error")
	}
	for i := 0; i < 2*maxDefaultWorkers; i++ {
		if w := srt.worker("http://h" + strconv.Itoa(i) + ".example/"); w == nil || !w.ignoreErrors {
			t.Fatalf("default worker %d: %+v", i, w)
		}
	}
	if n := len(srt.defaults); n > maxDefaultWorkers {
		t.Errorf("%d default workers kept, want at most %d", n, maxDefaultWorkers)
	}
}

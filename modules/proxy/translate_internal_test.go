package proxy

import (
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

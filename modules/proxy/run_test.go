package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/httpdg/httpdg/modules/mime"
)

// seen is what the echo backend reports about the request it got.
type seen struct {
	Method string
	URI    string
	Host   string
	Header http.Header
	Body   string
}

// echo is a backend that answers with the request it received, as JSON.
func echo(t *testing.T) (url string) {
	s := backend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, Body: string(b)})
	})
	return s.URL
}

func decode(t *testing.T, res response) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(res.body), &s); err != nil {
		t.Fatalf("status %d, body %q: %v", res.status, res.body, err)
	}
	return s
}

func TestPathMapping(t *testing.T) {
	be := echo(t)
	h := newHarness(t, fmt.Sprintf(`
ProxyPass /app/private !
ProxyPass /app/ %[1]s/base/
ProxyPass /app/later !
ProxyPass /exact %[1]s/other
ProxyPass ~ ^/re/(.*)\.txt$ %[1]s/r/$1.text
<Location /loc>
    ProxyPass %[1]s/l
</Location>
<Location /loc/not>
    ProxyPass !
</Location>
`, be))
	cases := []struct{ uri, want string }{
		{"/app/x?y=1", "/base/x?y=1"},
		{"/app/a%20b/c", "/base/a%20b/c"},
		{"/app//double", "/base/double"},
		{"/app/later", "/base/later"}, // the first match wins: the exclusion after it does nothing
		{"/exact", "/other"},
		{"/exact/sub", "/other/sub"},
		{"/re/dir/f.txt", "/r/dir/f.text"},
		{"/loc/z", "/l/z"},
	}
	for _, c := range cases {
		res := h.do("GET", c.uri, nil, "")
		if res.status != 200 {
			t.Errorf("%s: status %d", c.uri, res.status)
			continue
		}
		if got := decode(t, res).URI; got != c.want {
			t.Errorf("%s went to %s, want %s", c.uri, got, c.want)
		}
		if !strings.HasPrefix(res.req.Filename, "proxy:"+be) || res.req.Handler != "proxy-server" {
			t.Errorf("%s: filename %q handler %q", c.uri, res.req.Filename, res.req.Handler)
		}
		if res.ctype != "application/json" {
			t.Errorf("%s: content type %q, want the backend's", c.uri, res.ctype)
		}
	}
	// Not proxied: exclusions and paths that only share a prefix.
	for _, uri := range []string{"/app/private", "/app/private/x", "/exactly", "/loc/not/x", "/other"} {
		res := h.do("GET", uri, nil, "")
		if strings.HasPrefix(res.req.Filename, "proxy:") || res.status == 200 {
			t.Errorf("%s: proxied (filename %q, status %d)", uri, res.req.Filename, res.status)
		}
	}
}

func TestRequestAndResponseHeaders(t *testing.T) {
	var got atomic.Value
	be := backend(t, "hdr", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: string(b)})
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Upgrade", "h2c")
		w.Header().Set("Trailer", "X-T")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(201)
		io.WriteString(w, "created")
	})
	h := newHarness(t, fmt.Sprintf("ProxyPass /a/ %[1]s/\n<Location /keep/>\nProxyPass %[1]s/\nProxyPreserveHost On\n</Location>\n", be.URL))
	in := http.Header{}
	in.Set("X-Forwarded-For", "10.0.0.1")
	in.Set("Connection", "keep-alive, X-Drop")
	in.Set("X-Drop", "1")
	in.Set("Keep-Alive", "300")
	in.Set("TE", "trailers")
	in.Set("Upgrade", "websocket")
	in.Set("Proxy-Authorization", "Basic eA==")
	in.Set("Proxy-Connection", "keep-alive")
	in.Set("X-Kept", "yes")
	in.Set("Content-Type", "text/plain")
	res := h.do("POST", "/a/form?q=1", in, "the body")
	if res.status != 201 || res.body != "created" {
		t.Fatalf("status %d body %q", res.status, res.body)
	}
	s := got.Load().(seen)
	backendHost := strings.TrimPrefix(be.URL, "http://")
	if s.Host != backendHost {
		t.Errorf("Host %q, want the backend's %q", s.Host, backendHost)
	}
	if s.Method != "POST" || s.URI != "/form?q=1" || s.Body != "the body" {
		t.Errorf("backend got %s %s %q", s.Method, s.URI, s.Body)
	}
	want := map[string]string{
		"X-Forwarded-For": "10.0.0.1, 192.0.2.7", "X-Forwarded-Host": "proxy.test:8080", "X-Forwarded-Server": "proxy.test",
		"X-Kept": "yes", "Content-Type": "text/plain", "Content-Length": "8",
	}
	for k, v := range want {
		if g := s.Header.Get(k); g != v {
			t.Errorf("backend got %s: %q, want %q", k, g, v)
		}
	}
	for _, k := range []string{"X-Drop", "Keep-Alive", "Te", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "User-Agent"} {
		if v, ok := s.Header[k]; ok {
			t.Errorf("backend got hop-by-hop %s: %q", k, v)
		}
	}
	for _, k := range []string{"Connection", "X-Internal", "Keep-Alive", "Upgrade", "Trailer"} {
		if v, ok := res.header[k]; ok {
			t.Errorf("client got hop-by-hop %s: %q", k, v)
		}
	}
	if c := res.header.Values("Set-Cookie"); len(c) != 2 {
		t.Errorf("Set-Cookie = %q", c)
	}

	in = http.Header{}
	in.Set("Host", "www.example.com")
	h.do("GET", "/keep/x", in, "")
	if s := got.Load().(seen); s.Host != "www.example.com" || s.URI != "/x" {
		t.Errorf("ProxyPreserveHost On: backend got Host %q URI %q", s.Host, s.URI)
	}
}

func TestProxyPassReverse(t *testing.T) {
	var be string
	srv := backend(t, "redir", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", be+"/base/new?x=1")
		w.Header().Set("Content-Location", be+"/base/doc.html")
		w.Header().Set("URI", "/base/rel")
		w.Header().Set("X-Other", be+"/base/untouched")
		w.WriteHeader(302)
	})
	be = srv.URL
	h := newHarness(t, fmt.Sprintf("ProxyPass /app/ %[1]s/base/\nProxyPassReverse /app/ %[1]s/base/\nProxyPassReverse /rel/ /base/\n", be))
	res := h.do("GET", "/app/old", nil, "")
	if res.status != 302 {
		t.Fatalf("status %d", res.status)
	}
	for k, v := range map[string]string{
		"Location": "http://proxy.test:8080/app/new?x=1", "Content-Location": "http://proxy.test:8080/app/doc.html",
		"Uri": "http://proxy.test:8080/rel/rel", "X-Other": be + "/base/untouched",
	} {
		if g := res.header.Get(k); g != v {
			t.Errorf("%s: %q, want %q", k, g, v)
		}
	}
}

func TestBackendErrors(t *testing.T) {
	dead := deadPort(t)
	slow := backend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(30 * time.Second): // far past timeout=1
		case <-r.Context().Done():
		}
	})
	h := newHarness(t, fmt.Sprintf("ProxyPass /down/ http://%s/\nProxyPass /retry/ http://%s/r/ retry=0\nProxyPass /slow/ %s/ timeout=1\n", dead, dead, slow.URL))
	if res := h.do("GET", "/down/x", nil, ""); res.status != 503 {
		t.Errorf("connection refused: status %d, want 503", res.status)
	}
	log := h.errorLog()
	if !strings.Contains(log, "attempt to connect to "+dead) || !strings.Contains(log, "failed to make connection to backend: "+dead) {
		t.Errorf("error log does not name the backend %s:\n%s", dead, log)
	}
	// The worker is in error for its retry time (60s): no new attempt.
	if res := h.do("GET", "/down/y", nil, ""); res.status != 503 {
		t.Errorf("worker in error: status %d, want 503", res.status)
	}
	if !strings.Contains(h.errorLog(), "disabled connection for ("+dead+")") {
		t.Errorf("no 'disabled connection' line:\n%s", h.errorLog())
	}
	// retry=0: every request tries again.
	for i := 0; i < 2; i++ {
		if res := h.do("GET", "/retry/x", nil, ""); res.status != 503 {
			t.Errorf("retry=0 attempt %d: status %d", i, res.status)
		}
	}
	if n := strings.Count(h.errorLog(), "attempt to connect to "+dead+" (http://"+dead+"/r/)"); n != 2 {
		t.Errorf("retry=0: %d connection attempts logged, want 2", n)
	}
	// A backend that does not answer within timeout: 502, as Apache.
	// (The 502 itself shows the timeout: the backend would answer 200
	// after 30 s.)
	res := h.do("GET", "/slow/x", nil, "")
	if res.status != 502 || res.req.Notes["proxy_timedout"] != "1" {
		t.Errorf("timeout: status %d notes %v, want 502 with proxy_timedout", res.status, res.req.Notes)
	}
	if !strings.Contains(res.req.Notes["error-notes"], "Error reading from remote server") {
		t.Errorf("error-notes %q", res.req.Notes["error-notes"])
	}
}

func TestStreamingFlushes(t *testing.T) {
	release := make(chan struct{})
	be := backend(t, "stream", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "second")
	})
	h := newHarness(t, "ProxyPass /s "+be.URL+"\n")
	var once sync.Once
	res := h.doWith("GET", "/s", nil, "", func(body string) {
		if body == "first " {
			once.Do(func() { close(release) }) // the client has the first part before the backend sends more
		}
	})
	once.Do(func() { t.Error("the first part was not flushed to the client before the rest came") })
	if res.body != "first second" {
		t.Errorf("body %q", res.body)
	}
}

// balancerConf is a balancer of the given members (URL and parameters).
func balancerConf(members ...string) string {
	var b strings.Builder
	b.WriteString("<Proxy balancer://pool>\n")
	for _, m := range members {
		b.WriteString("    BalancerMember " + m + "\n")
	}
	b.WriteString("</Proxy>\nProxyPass /lb/ balancer://pool/\n")
	return b.String()
}

func count(t *testing.T, h *harness, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		res := h.do("GET", "/lb/x", nil, "")
		if res.status != 200 {
			got[fmt.Sprint(res.status)]++
			continue
		}
		got[res.body]++
	}
	return got
}

func TestByRequests(t *testing.T) {
	a, b, c := backend(t, "a", nil), backend(t, "b", nil), backend(t, "c", nil)
	h := newHarness(t, balancerConf(a.URL, b.URL, c.URL+" loadfactor=2"))
	got := count(t, h, 40)
	if got["a"] != 10 || got["b"] != 10 || got["c"] != 20 {
		t.Errorf("byrequests with loadfactors 1,1,2 over 40 requests: %v", got)
	}
}

func TestFailoverToLiveMember(t *testing.T) {
	a := backend(t, "a", nil)
	dead := deadPort(t)
	h := newHarness(t, balancerConf("http://"+dead, a.URL))
	got := count(t, h, 6)
	if got["a"] != 6 {
		t.Errorf("with one member down: %v, want every request on a", got)
	}
	if !strings.Contains(h.errorLog(), "attempt to connect to "+dead) {
		t.Errorf("the failed member is not logged:\n%s", h.errorLog())
	}
}

func TestHotStandby(t *testing.T) {
	a, standby := backend(t, "a", nil), backend(t, "standby", nil)
	h := newHarness(t, balancerConf(a.URL+" retry=0", standby.URL+" status=+H"))
	if got := count(t, h, 4); got["a"] != 4 {
		t.Errorf("with a up: %v, want no request on the standby", got)
	}
	a.Close()
	if got := count(t, h, 4); got["standby"] != 4 {
		t.Errorf("with a down: %v, want every request on the standby", got)
	}
}

func TestAllMembersDown(t *testing.T) {
	// forcerecovery (the default) retries every member when all are in
	// error: each request tries them again, and fails with 503.
	h := newHarness(t, balancerConf("http://"+deadPort(t), "http://"+deadPort(t)))
	if got := count(t, h, 3); got["503"] != 3 {
		t.Errorf("all members down: %v, want 503s", got)
	}
	// Without it, members in error are left alone for their retry time.
	h = newHarness(t, balancerConf("http://"+deadPort(t), "http://"+deadPort(t))+"ProxySet balancer://pool forcerecovery=off\n")
	if got := count(t, h, 3); got["503"] != 3 {
		t.Errorf("all members down, forcerecovery=off: %v, want 503s", got)
	}
	if !strings.Contains(h.errorLog(), "balancer://pool: All workers are in error state") {
		t.Errorf("no 'All workers are in error state':\n%s", h.errorLog())
	}
}

func TestStickySession(t *testing.T) {
	a := backend(t, "a", nil)
	b := backend(t, "b", nil)
	h := newHarness(t, fmt.Sprintf(`<Proxy balancer://pool>
    BalancerMember %s route=ra
    BalancerMember %s route=rb
    ProxySet stickysession=SESSION|session
</Proxy>
ProxyPass /lb/ balancer://pool/
`, a.URL, b.URL))
	for i := 0; i < 3; i++ {
		in := http.Header{}
		in.Set("Cookie", "SESSION=abc.rb")
		if res := h.do("GET", "/lb/x", in, ""); res.body != "b" || res.req.SubprocessEnv["BALANCER_SESSION_ROUTE"] != "rb" {
			t.Errorf("cookie route rb went to %q (env %v)", res.body, res.req.SubprocessEnv)
		}
		if res := h.do("GET", "/lb/x?session=xyz.ra", nil, ""); res.body != "a" {
			t.Errorf("URL route ra went to %q", res.body)
		}
	}
}

func TestHealthChecks(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	checked := backend(t, "checked", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			if !healthy.Load() {
				w.WriteHeader(500)
			}
			return
		}
		io.WriteString(w, "checked")
	})
	other := backend(t, "other", nil)
	h := newHarness(t, balancerConf(checked.URL+" hcmethod=GET hcuri=/health hcinterval=100ms hcfails=2 hcpasses=2", other.URL))
	if got := count(t, h, 4); got["checked"] != 2 || got["other"] != 2 {
		t.Fatalf("both up: %v", got)
	}
	healthy.Store(false)
	waitFor(t, 5*time.Second, "the health check to disable the member", func() bool {
		return strings.Contains(h.errorLog(), "Health check DISABLING "+checked.URL)
	})
	if got := count(t, h, 4); got["other"] != 4 {
		t.Errorf("checked member down: %v, want every request on other", got)
	}
	healthy.Store(true)
	waitFor(t, 5*time.Second, "the health check to enable the member", func() bool {
		return strings.Contains(h.errorLog(), "Health check ENABLING "+checked.URL)
	})
	if got := count(t, h, 4); got["checked"] == 0 {
		t.Errorf("checked member back: %v, want requests on it again", got)
	}
}

func TestHealthCheckTCPAndAllDown(t *testing.T) {
	dead := deadPort(t)
	h := newHarness(t, balancerConf("http://"+dead+" hcmethod=TCP hcinterval=100ms retry=0"))
	waitFor(t, 5*time.Second, "the TCP check to disable the member", func() bool {
		return strings.Contains(h.errorLog(), "Health check DISABLING http://"+dead)
	})
	before := strings.Count(h.errorLog(), "attempt to connect to")
	if res := h.do("GET", "/lb/x", nil, ""); res.status != 503 {
		t.Errorf("only member failed by its check: status %d, want 503", res.status)
	}
	if after := strings.Count(h.errorLog(), "attempt to connect to"); after != before {
		t.Errorf("a member the checks failed was tried (%d connection attempts)", after-before)
	}
}

// TestVirtualHosts: a virtual host has the main server's ProxyPass lines
// (first) and its own; another host has only the main server's.
func TestVirtualHosts(t *testing.T) {
	mainBE, vhBE := backend(t, "main", nil), backend(t, "vhost", nil)
	h := newHarness(t, fmt.Sprintf(`ProxyPass /shared/ %s/
<VirtualHost *:8080>
    ServerName v.test
    ProxyPass /own/ %s/
    ProxyPass /shared/ %s/
</VirtualHost>
<VirtualHost *:8080>
    ServerName w.test
</VirtualHost>
`, mainBE.URL, vhBE.URL, vhBE.URL))
	get := func(host, uri string) response {
		in := http.Header{}
		in.Set("Host", host)
		return h.do("GET", uri, in, "")
	}
	if res := get("v.test", "/own/x"); res.body != "vhost" {
		t.Errorf("v.test /own/: %d %q", res.status, res.body)
	}
	if res := get("v.test", "/shared/x"); res.body != "main" {
		t.Errorf("v.test /shared/: %d %q, want the main server's line first", res.status, res.body)
	}
	if res := get("w.test", "/own/x"); res.status == 200 {
		t.Errorf("w.test /own/ proxied: %q", res.body)
	}
	if res := get("w.test", "/shared/x"); res.body != "main" {
		t.Errorf("w.test /shared/: %d %q", res.status, res.body)
	}
}

// slowBody is a client's request body that sends its first part, then
// waits for release before sending the rest: a slow upload.
type slowBody struct {
	release chan struct{}
	sent    bool
	inRead  atomic.Bool
	done    atomic.Bool  // the request is over
	late    atomic.Int64 // reads that started after the request was over
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.done.Load() {
		b.late.Add(1)
	}
	b.inRead.Store(true)
	defer b.inRead.Store(false)
	if !b.sent {
		b.sent = true
		return copy(p, "first part;"), nil
	}
	<-b.release
	return 0, io.EOF
}

// TestEarlyAnswerStopsBodyReads: a backend that answers before reading
// the whole body (a 401 to an upload) ends the exchange, and nothing of
// the proxy reads the client's body after the handler has returned:
// the connection's body reader is the HTTP layer's again (it drains it).
func TestEarlyAnswerStopsBodyReads(t *testing.T) {
	answered := make(chan struct{})
	be := backend(t, "early", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "no")
		close(answered)
	})
	h := newHarness(t, "ProxyPass /up/ "+be.URL+"/\n")
	body := &slowBody{release: make(chan struct{})}
	in := http.Header{}
	in.Set("Content-Length", "1000000")
	done := make(chan response)
	go func() {
		res := h.doBody("POST", "/up/x", in, body, nil)
		body.done.Store(true)
		done <- res
	}()
	<-answered
	var res response
	select {
	case res = <-done:
		// The handler returned while the client was still sending.
		if body.inRead.Load() {
			t.Error("the handler returned while a read of the client's body was in progress")
		}
		close(body.release)
	case <-time.After(500 * time.Millisecond):
		// Waiting for the read in progress, as it must: let it end.
		close(body.release)
		res = <-done
	}
	if res.status != http.StatusUnauthorized {
		t.Errorf("status %d, want the backend's 401", res.status)
	}
	if n := body.late.Load(); n != 0 {
		t.Errorf("%d reads of the client's body after the handler returned", n)
	}
}

package proxy_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// harness runs one generation of a config in the test process, as a
// child would: the hooks of every module compiled into the test, child_init
// (which starts the health checks), requests through every phase, and
// child_exit when the test ends.
type harness struct {
	t      *testing.T
	root   string
	lc     *phases.Lifecycle
	pchild *phases.Pool
	child  *phasestest.Child
}

func newHarness(t *testing.T, conf string) *harness {
	t.Helper()
	cfg, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": "ServerName proxy.test\nLogLevel debug\n" + conf})
	if err != nil {
		t.Fatal(err)
	}
	c := phasestest.StartChild(t, cfg, root)
	return &harness{t: t, root: root, lc: c.LC, pchild: c.Pchild, child: c}
}

// exit runs child_exit (before the test ends, to see what it does).
func (h *harness) exit() { h.child.Exit() }

// errorLog is the generation's error log so far.
func (h *harness) errorLog() string { return h.child.ErrorLog() }

// recorder is the response a request wrote.
type recorder struct {
	r       *phases.Request
	status  int
	header  http.Header
	ctype   string
	body    strings.Builder
	flushes int
	onFlush func(body string)
}

func (w *recorder) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.r.Status = status
	w.header = w.r.HeadersOut.Clone()
	w.ctype = w.r.ContentType
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

func (w *recorder) Flush() error {
	w.flushes++
	if w.onFlush != nil {
		w.onFlush(w.body.String())
	}
	return nil
}

// response is what the client got: the status written, else the status
// the phases ended with (the engine would send its error page).
type response struct {
	status int
	header http.Header
	ctype  string
	body   string
	req    *phases.Request
}

// do runs one request through every phase.
func (h *harness) do(method, uri string, header http.Header, body string) response {
	return h.doWith(method, uri, header, body, nil)
}

func (h *harness) doWith(method, uri string, header http.Header, body string, onFlush func(string)) response {
	h.t.Helper()
	var src io.Reader = http.NoBody
	if body != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Content-Length", strconv.Itoa(len(body)))
		src = strings.NewReader(body)
	}
	return h.doBody(method, uri, header, src, onFlush)
}

// doBody runs one request whose body is read from src (its
// Content-Length, if any, is in header).
func (h *harness) doBody(method, uri string, header http.Header, src io.Reader, onFlush func(string)) response {
	h.t.Helper()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Host") == "" {
		header.Set("Host", "proxy.test:8080")
	}
	path, query, _ := strings.Cut(uri, "?")
	conn := &phases.Connection{ClientIP: "192.0.2.7", ClientPort: 40000, LocalIP: "127.0.0.1", LocalPort: 8080, Notes: map[string]string{}}
	conn.Pool = h.pchild.Sub("connection")
	defer conn.Pool.Destroy()
	rec := &recorder{onFlush: onFlush}
	r := &phases.Request{
		TheRequest: method + " " + uri + " HTTP/1.1", Method: method, UnparsedURI: uri, URI: path, Args: query,
		Protocol: "HTTP/1.1", Hostname: hostname(header.Get("Host")), Port: 8080, UseragentIP: "192.0.2.7", RequestTime: time.Now(),
		HeadersIn: header, HeadersOut: http.Header{}, ErrHeadersOut: http.Header{},
		Notes: map[string]string{}, SubprocessEnv: map[string]string{},
		Server: h.lc.Server, Vhost: h.lc.Server.Main, Pool: conn.Pool.Sub("request"), Conn: conn,
		Body: src, Output: rec, Hooks: h.lc.Hooks.Request,
	}
	rec.r = r
	st := phases.ProcessRequest(h.lc.Hooks.Request, r, nil)
	if rec.status == 0 {
		rec.status = int(st)
		if st == phases.OK || st == phases.DONE {
			rec.status = r.Status
		}
	}
	return response{status: rec.status, header: rec.header, ctype: rec.ctype, body: rec.body.String(), req: r}
}

// hostname is the Host header without its port, as the engine sets
// r.Hostname.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// backend is a Go test server named for the answers it gives.
func backend(t *testing.T, name string, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", name)
			io.WriteString(w, name)
		}
	}
	s := httptest.NewServer(handler)
	t.Cleanup(s.Close)
	return s
}

// deadPort is a loopback address nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package proxy

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// Notes the handler leaves on the request for hooks and logs.
const (
	// NoteWorker is the name of the worker (backend) the request went to.
	NoteWorker = "proxy-worker"
	// NoteBackendURL is the URL the request was sent to.
	NoteBackendURL = "proxy-backend-url"
	// noteTimedOut is Apache's "proxy_timedout": the backend timed out.
	noteTimedOut = "proxy_timedout"
)

// hopByHop are the headers that describe one connection, not the
// message, and so are not passed across the proxy (RFC 9110 7.6.1); the
// Proxy-* ones are the client's dealings with this proxy.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Upgrade": true, "Proxy-Connection": true, "Proxy-Authorization": true, "Proxy-Authenticate": true,
}

// copyBufferSize is how much of a response is read from the backend at
// a time.
const copyBufferSize = 32 << 10

// handle is mod_proxy's handler with mod_proxy_http's exchange and
// mod_proxy_balancer's choice: it sends the request to the worker the
// URL (or the balancer) names and streams the answer back. A balancer
// tries another member when one cannot be connected to, up to
// maxattempts.
func (g *gen) handle(r *phases.Request) (phases.Status, error) {
	if r.Handler != proxyHandler || !strings.HasPrefix(r.Filename, filenamePrefix) {
		return phases.DECLINED, nil
	}
	srt := g.server(r)
	target := r.Filename[len(filenamePrefix):]
	if len(target) >= 5 && strings.EqualFold(target[:5], "unix:") {
		// "unix:/path|http://host/...": the worker knows the socket.
		if _, rest, ok := strings.Cut(target, "|"); ok {
			target = rest
		}
	}
	if _, noQuery := r.Notes[noteNoQuery]; !noQuery && r.Args != "" && !strings.Contains(target, "?") {
		target += "?" + r.Args
	}
	var lb *balancer
	if isBalancer(target) {
		if lb = srt.balancer(target); lb == nil {
			r.Log().Error("proxy", "no balancer %s is defined for %s", target, r.URI)
			return http.StatusInternalServerError, nil
		}
	} else {
		target = normAuthority(target)
	}
	x := &exchange{g: g, r: r, srt: srt, lb: lb, body: newRequestBody(r)}
	defer x.end()
	exclude := map[*backend]bool{}
	for attempts := 0; ; attempts++ {
		var w *backend
		u := target
		if lb != nil {
			if w = lb.pick(r, exclude); w == nil {
				if len(lb.members) == 0 {
					r.Log().Error("proxy_balancer", "%s: No workers in balancer", lb.name)
				} else {
					r.Log().Error("proxy_balancer", "%s: All workers are in error state", lb.name)
				}
				return http.StatusServiceUnavailable, nil
			}
			u = normAuthority(lb.rewrite(target, w))
		} else {
			w = srt.worker(target)
		}
		st, connectFailed := x.run(w, u)
		// Apache's failover: a member that could not take the request
		// (now in error) is replaced by another, as long as no byte of
		// the request body has gone.
		if lb != nil && connectFailed && w.isInError() && attempts < lb.maxAttempts && !x.body.started() {
			exclude[w] = true
			r.Log().Debug("proxy_balancer", "%s: worker %s failed, trying another member", lb.name, w.name)
			continue
		}
		return st, nil
	}
}

// isInError reports the in-error flag without giving the worker its
// retry (Apache's PROXY_WORKER_IS_USABLE after a failure).
func (b *backend) isInError() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inError
}

// exchange is one proxied request: its attempts and the hooks around
// them.
type exchange struct {
	g        *gen
	r        *phases.Request
	srt      *serverRT
	lb       *balancer
	body     *requestBody
	assigned bool // a backend was chosen: end_proxy_request runs
}

// end runs end_proxy_request (VOID) once the exchange is over, when a
// backend was assigned.
func (x *exchange) end() {
	x.body.close()
	if x.assigned && x.r.Hooks != nil {
		phases.RunHook(x.r.Hooks.EndProxyRequest, x.r)
	}
}

// run sends the request to worker w at URL u and answers the client.
// connectFailed is true when the worker could not be used or connected
// to (the balancer may then fail over).
func (x *exchange) run(w *backend, u string) (st phases.Status, connectFailed bool) {
	r := x.r
	if !w.usable(time.Now()) {
		r.Log().Error("proxy", "HTTP: disabled connection for (%s)", w.hostport)
		return http.StatusServiceUnavailable, true
	}
	x.assigned = true
	r.Notes[NoteWorker] = w.name
	r.Notes[NoteBackendURL] = u
	if r.Hooks != nil {
		// backend_client_assigned (RUN_FIRST): a handler may answer the
		// request itself instead of the backend, or adjust r.HeadersIn
		// before they go.
		if hst := phases.RunHook(r.Hooks.BackendClientAssigned, r); hst != phases.DECLINED {
			return hst, false
		}
	}
	w.busy.Add(1)
	defer w.busy.Add(-1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var body io.Reader
	if x.body.length != 0 {
		body = x.body
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return proxyError(r, http.StatusBadRequest, "URI cannot be parsed: "+u), false
	}
	out.ContentLength = x.body.length
	if body == nil {
		out.ContentLength = 0
	}
	out.Header = x.requestHeaders(out.URL.Host)
	out.Host = out.URL.Host
	if x.preserveHost() {
		if h := r.HeadersIn.Get("Host"); h != "" {
			out.Host = h
		}
	}
	before := x.body.n.Load()
	resp, err := w.transport.RoundTrip(out)
	defer func() { w.transferred.Add(x.body.n.Load() - before) }()
	if err != nil {
		return x.failed(w, err)
	}
	defer resp.Body.Close()
	return x.respond(w, resp), false
}

// failed turns a failed round trip into Apache's answer: 503 when the
// backend could not be connected to (the worker is put in error for its
// retry time), 400 when the client's body could not be read, else 502
// "Error reading from remote server".
func (x *exchange) failed(w *backend, err error) (phases.Status, bool) {
	r := x.r
	var de *dialError
	if errors.As(err, &de) {
		r.Log().Error("proxy", "HTTP: attempt to connect to %s (%s) failed: %v", w.hostport, w.name, de.err)
		if w.putInError() {
			r.Log().Error("proxy", "ap_proxy_connect_backend disabling worker for (%s) for %ds", w.hostport, int(w.retry/time.Second))
		}
		r.Log().Error("proxy_http", "HTTP: failed to make connection to backend: %s", w.hostport)
		return http.StatusServiceUnavailable, true
	}
	if cerr := x.body.clientError(); cerr != nil {
		r.Log().Error("proxy_http", "read request body failed to %s from %s: %v", w.hostport, r.UseragentIP, cerr)
		return http.StatusBadRequest, false
	}
	timedOut := isTimeout(err)
	r.Log().Error("proxy_http", "error reading status line from remote server %s: %v", w.hostport, err)
	if timedOut {
		r.Notes[noteTimedOut] = "1"
	}
	if x.lb != nil {
		x.lb.postRequest(r, w, 0, timedOut)
	}
	return proxyError(r, http.StatusBadGateway, "Error reading from remote server"), false
}

// respond passes the backend's response to the client: status, headers
// (hop-by-hop ones dropped, redirects rewritten by ProxyPassReverse),
// then the body as it arrives.
func (x *exchange) respond(w *backend, resp *http.Response) phases.Status {
	r := x.r
	h := resp.Header
	dropHopByHop(h)
	r.ContentType = h.Get("Content-Type")
	delete(h, "Content-Type")
	if r.ContentType == "" {
		// No type from the backend: none is sent (nil keeps the HTTP
		// layer from guessing one).
		h["Content-Type"] = nil
	}
	x.g.applyReverse(r, x.srt, h)
	r.HeadersOut = h
	r.Status = resp.StatusCode
	if x.lb != nil {
		x.lb.postRequest(r, w, resp.StatusCode, false)
	}
	if r.Hooks != nil {
		// backend_response_received (RUN_FIRST): a handler may change the
		// response head, or answer in its place (the backend's body is
		// then dropped).
		if st := phases.RunHook(r.Hooks.BackendResponseReceived, r); st != phases.DECLINED {
			return st
		}
	}
	r.Output.WriteHeader(r.Status)
	buf := make([]byte, copyBufferSize)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			w.read.Add(int64(n))
			if _, werr := r.Output.Write(buf[:n]); werr != nil {
				r.Log().Debug("proxy_http", "client went away while the response from %s was sent: %v", w.hostport, werr)
				return phases.OK
			}
			// A short read means the backend paused: what it sent so far
			// goes to the client now (streaming, server-sent events).
			if n < len(buf) {
				_ = r.Output.Flush()
			}
		}
		if err == io.EOF {
			return phases.OK
		}
		if err != nil {
			if isTimeout(err) {
				r.Notes[noteTimedOut] = "1"
			}
			r.Log().Error("proxy_http", "Network error reading response from %s: %v", w.hostport, err)
			return phases.OK
		}
	}
}

// requestHeaders are the headers sent to the backend: the client's,
// without the hop-by-hop ones (and those its Connection header names),
// with X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Server appended
// as mod_proxy_http does.
func (x *exchange) requestHeaders(backendHost string) http.Header {
	r := x.r
	connTokens := map[string]bool{}
	for _, v := range r.HeadersIn.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				connTokens[http.CanonicalHeaderKey(t)] = true
			}
		}
	}
	out := make(http.Header, len(r.HeadersIn)+3)
	for k, v := range r.HeadersIn {
		ck := http.CanonicalHeaderKey(k)
		if hopByHop[ck] || connTokens[ck] || ck == "Host" || ck == "Content-Length" || ck == "Expect" {
			continue
		}
		out[ck] = append([]string(nil), v...)
	}
	merge(out, "X-Forwarded-For", r.UseragentIP)
	merge(out, "X-Forwarded-Host", r.HeadersIn.Get("Host"))
	merge(out, "X-Forwarded-Server", x.srt.serverName)
	if _, ok := out["User-Agent"]; !ok {
		out["User-Agent"] = nil // not Go's own
	}
	return out
}

// merge appends v to header k as apr_table_mergen does ("a, b").
func merge(h http.Header, k, v string) {
	if v == "" {
		return
	}
	if old := h.Values(k); len(old) > 0 {
		h.Set(k, strings.Join(old, ", ")+", "+v)
		return
	}
	h.Set(k, v)
}

// preserveHost is ProxyPreserveHost for r: the server's, overridden by its
// sections'.
func (x *exchange) preserveHost() bool {
	v := x.srt.preserveHost
	for _, sec := range x.r.Sections {
		if p := SectionOf(sec).PreserveHost; p != nil {
			v = *p
		}
	}
	return v
}

// dropHopByHop removes the hop-by-hop headers of a response, and those
// its Connection header names.
func dropHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				h.Del(t)
			}
		}
	}
	for k := range hopByHop {
		delete(h, k)
	}
}

// proxyError is ap_proxyerror: the status, with the reason on the error
// page ("The proxy server could not handle the request ... Reason:") and
// in the error log.
func proxyError(r *phases.Request, status int, message string) phases.Status {
	r.Log().Error("proxy", "%s returned by %s", message, r.URI)
	r.Notes["error-notes"] = "The proxy server could not handle the request<p>Reason: <strong>" + html.EscapeString(message) + "</strong></p>"
	r.Notes["verbose-error-to"] = "*"
	return phases.Status(status)
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// requestBody is the client's request body as the backend reads it: it
// counts what was read (a balancer may fail over only before the first
// byte went) and keeps the client-side error apart from the backend's.
// net/http's transport may still be sending it after the response has
// come (a backend that answers before reading the whole body), so its
// state is safe to read concurrently, and close waits for a read in
// progress: once the exchange is over the transport reads nothing more,
// and the HTTP layer may drain the body without a reader beside it.
type requestBody struct {
	src    io.Reader
	length int64 // Content-Length, -1 for chunked, 0 for none
	n      atomic.Int64

	readMu sync.Mutex // held during a read of src
	closed bool       // under readMu

	mu  sync.Mutex
	err error
}

func newRequestBody(r *phases.Request) *requestBody {
	b := &requestBody{src: r.Body}
	if r.Body == nil || r.Body == http.NoBody {
		return b
	}
	if cl := r.HeadersIn.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64); err == nil && n >= 0 {
			b.length = n
			return b
		}
	}
	// No length: a chunked body, or none (the HTTP layer has taken
	// Transfer-Encoding away). A first byte tells which.
	var first [1]byte
	n, err := io.ReadFull(r.Body, first[:])
	if n == 0 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			b.err = err
		}
		return b
	}
	b.src = io.MultiReader(strings.NewReader(string(first[:n])), r.Body)
	b.length = -1
	return b
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.readMu.Lock()
	defer b.readMu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	n, err := b.src.Read(p)
	b.n.Add(int64(n))
	if err != nil && err != io.EOF {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
	}
	return n, err
}

// clientError is the error reading the client's body, if any.
func (b *requestBody) clientError() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// close stops the body: it waits for a read in progress (bounded by the
// client connection's timeout), after which the transport reads nothing
// more of it.
func (b *requestBody) close() {
	b.readMu.Lock()
	b.closed = true
	b.readMu.Unlock()
}

// started reports whether any of the body was read.
func (b *requestBody) started() bool { return b.n.Load() > 0 }

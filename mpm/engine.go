package mpm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/mpm/http1"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"
	"golang.org/x/sys/unix"
)

// generation is what a request is served with: the config generation's
// server record, its request hooks and the child pool.
type generation struct {
	server *phases.Server
	hooks  *phases.RequestHooks
	pchild *phases.Pool
	// banner is the Server header (ServerTokens); bannerValues is it as
	// a header value, shared by every response (nothing writes into it).
	banner       string
	bannerValues []string
	// replays are the answers this child may replay (replay.go).
	replays *replayCache
}

// newGeneration returns the generation serving with server, hooks and
// pchild.
func newGeneration(server *phases.Server, hooks *phases.RequestHooks, pchild *phases.Pool) *generation {
	limit, watch := int64(replayBytes), true
	if server.Config != nil && server.Config.MPM == "prefork" {
		// Many processes: less memory each, and no inotify instance
		// each (a user has 128 by default, shared with the user's other
		// programs); prefork's replays keep their stat.
		limit, watch = replayBytesPrefork, false
	}
	g := &generation{server: server, hooks: hooks, pchild: pchild, replays: newReplayCache(limit, watch)}
	if pchild != nil {
		pchild.CleanupRegister("replays", func() error { g.replays.close(); return nil })
	}
	if server.Config != nil {
		g.banner = core.ServerBanner(server.Config)
		g.bannerValues = []string{g.banner}
	}
	return g
}

// engine serves HTTP for a child: one net/http server per listening
// address, all dispatching to the current generation, fed by one acceptor
// that takes connections only while a worker is free. A restart swaps the
// generation; sockets stay open, so no connection is refused across it.
type engine struct {
	gen atomic.Pointer[generation]
	// serving is held (read) by every request in flight and (write) while
	// the generation changes, so a restart waits for in-flight requests and
	// new ones wait for the new generation instead of meeting a destroyed
	// pchild.
	serving sync.RWMutex

	// open returns the listening socket for an address: bound here (-X) or
	// inherited from the master (a child).
	open     func(phases.ListenAddr) (*os.File, error)
	workers  *workers
	acceptor *acceptor
	// draining: the child is finishing (graceful): every response says
	// Connection: close, no new connection is accepted.
	draining atomic.Bool

	mu        sync.Mutex
	listeners map[string]*listening // by "host:port"
	conns     sync.Map              // net.Conn -> *connState
	// prepared holds the conn_rec the connection hooks made for a
	// connection until its HTTP server picks it up (connContext).
	prepared sync.Map // *timedConn -> *connState
	// replayed counts the requests answered from a replay.
	replayed atomic.Int64
}

type listening struct {
	addr phases.ListenAddr
	file *os.File
	ln   *connListener
	srv  httpServer
}

// httpServer is what serves a listening socket's connections: mpm/http1
// for plain HTTP (one write per response, no per-request background read),
// net/http for TLS, where ALPN may pick h2.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// connState is one client connection: its conn_rec and pool.
type connState struct {
	timed    *timedConn // nil if the listener does not time heads
	mu       sync.Mutex
	conn     phases.Connection
	pool     *phases.Pool
	requests int
}

type connKey struct{}

// newEngine returns an engine for one process serving on its own: sockets
// bound here, up to 1024 requests at once, no scoreboard.
func newEngine() *engine {
	return newEngineWith(bindListener, newWorkers(1024, true, 1<<20, nil, 0))
}

// newEngineWith returns an engine taking its sockets from open and its
// concurrency from w; its acceptor runs until shutdown.
func newEngineWith(open func(phases.ListenAddr) (*os.File, error), w *workers) *engine {
	e := &engine{listeners: map[string]*listening{}, open: open, workers: w}
	a, err := newAcceptor()
	if err != nil {
		panic(fmt.Sprintf("httpdg: acceptor: %v", err)) // a pipe(2) failing at start: nothing can work
	}
	e.acceptor = a
	a.standby = w.standbyFunc()
	go a.run(w.connGate, e.deliver)
	return e
}

// bindListener opens a listening socket for a with Apache's default
// backlog.
func bindListener(a phases.ListenAddr) (*os.File, error) {
	return bindListenerBacklog(a, DefaultListenBacklog)
}

// bindListenerBacklog opens a listening socket for a (what -X and the
// master do) with ListenBacklog's queue length: Go listens with the
// kernel's somaxconn, and a second listen(2) on the socket sets the
// length asked for (the kernel still caps it at somaxconn).
func bindListenerBacklog(a phases.ListenAddr, backlog int) (*os.File, error) {
	ln, err := net.Listen("tcp", hostPort(a))
	if err != nil {
		return nil, err
	}
	defer ln.Close() // the duplicate File returns keeps the socket open
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, err
	}
	if backlog > 0 {
		if err := unix.Listen(int(f.Fd()), backlog); err != nil {
			f.Close()
			return nil, fmt.Errorf("listen backlog %d: %w", backlog, err)
		}
	}
	return f, nil
}

// deliver hands an accepted connection to its socket's server, timed and,
// for https, wrapped in TLS.
func (e *engine) deliver(s *acceptSocket, c net.Conn, worker int, release func()) {
	g := e.gen.Load()
	tc := &timedConn{Conn: c, settings: g.server.Conn, banner: g.banner, worker: worker, release: release}
	tc.outer = tc
	tc.refused = func(status int, line string, n int) { e.logRefused(tc, status, line, n) }
	tc.startHead()
	if sw := e.workers.worker(worker); sw != nil {
		sw.NewConnection()
	}
	last := e.workers.countConnection()
	e.workers.open.Add(1)
	if hasConnectionHooks(g) {
		go e.serveConnection(s, tc)
	} else {
		s.deliver(tc)
	}
	if last {
		// MaxConnectionsPerChild: this child accepts no more; the rest of
		// the queue is for the others.
		e.acceptor.stop()
	}
}

// hostWithoutPort is net.SplitHostPort's host, or h itself where that
// fails (no port), without the error's allocation on every request.
func hostWithoutPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.LastIndex(h, "]:"); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.IndexByte(h, ':'); i >= 0 && strings.IndexByte(h[i+1:], ':') < 0 {
		return h[:i]
	}
	return h
}

// pause waits for the requests in flight and holds new ones until resume.
func (e *engine) pause() { e.serving.Lock() }

// resume lets requests through again.
func (e *engine) resume() { e.serving.Unlock() }

// activate makes g current and brings the listening sockets in line with
// its Listen addresses: new ones are opened, ones no longer named closed.
// A bind failure is returned and leaves the sockets that were open serving.
func (e *engine) activate(g *generation) error {
	e.gen.Store(g)
	e.mu.Lock()
	defer e.mu.Unlock()
	want := map[string]phases.ListenAddr{}
	for _, a := range g.server.Listen {
		want[hostPort(a)] = a
	}
	var errs []error
	for key, a := range want {
		if _, ok := e.listeners[key]; ok {
			continue
		}
		f, err := e.open(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("could not bind to address %s: %w", key, err))
			continue
		}
		if err := unix.SetNonblock(int(f.Fd()), true); err != nil {
			f.Close()
			errs = append(errs, fmt.Errorf("listening socket %s: %w", key, err))
			continue
		}
		l := &listening{addr: a, file: f, ln: newConnListener(socketAddr(f))}
		var ln net.Listener = l.ln
		cs := g.server.Conn
		if g.server.TLS[a.Port] != nil {
			ln = tls.NewListener(ln, e.tlsConfig(a.Port))
			srv := &http.Server{
				Handler:           e,
				ReadHeaderTimeout: cs.Timeout,
				IdleTimeout:       cs.KeepAliveTimeout,
				MaxHeaderBytes:    headerBudget(cs),
				ConnContext:       e.connContext,
				ConnState:         e.connStateChange,
				ErrorLog:          log.New(io.Discard, "", 0),
			}
			srv.SetKeepAlivesEnabled(cs.KeepAlive)
			l.srv = srv
		} else {
			srv := &http1.Server{
				Handler:           e,
				ReadHeaderTimeout: cs.Timeout,
				ReadTimeout:       cs.Timeout,
				WriteTimeout:      cs.Timeout,
				IdleTimeout:       cs.KeepAliveTimeout,
				MaxHeaderBytes:    headerBudget(cs),
				ConnContext:       e.connContext,
				ConnState:         e.connStateChange,
				ErrorResponse:     e.errorResponse,
				Refused:           e.logRefused,
				AllowHTTP09:       !cs.Require10,
				KeepHostField:     true,
				ErrorLog:          log.New(io.Discard, "", 0),
			}
			srv.SetKeepAlivesEnabled(cs.KeepAlive)
			l.srv = srv
		}
		e.listeners[key] = l
		go func() { _ = l.srv.Serve(ln) }()
	}
	for key, l := range e.listeners {
		if _, ok := want[key]; !ok {
			delete(e.listeners, key)
			l.ln.Close()
			go func() { shutdownServer(l.srv, 10*time.Second); l.file.Close() }()
		}
	}
	e.syncAcceptorLocked()
	if len(want) == 0 {
		g.server.Log.Notice("core", "no Listen directive: not accepting connections")
	}
	return errors.Join(errs...)
}

// syncAcceptorLocked gives the acceptor the current sockets.
func (e *engine) syncAcceptorLocked() {
	var sockets []*acceptSocket
	for _, l := range e.listeners {
		l := l
		sockets = append(sockets, &acceptSocket{fd: int(l.file.Fd()), deliver: func(c net.Conn) {
			if !l.ln.push(c) {
				e.connGone(c)
			}
		}})
	}
	e.acceptor.setSockets(sockets)
}

// socketAddr is the local address of a listening socket.
func socketAddr(f *os.File) net.Addr {
	sa, err := unix.Getsockname(int(f.Fd()))
	if err != nil {
		return &net.TCPAddr{}
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return &net.TCPAddr{}
}

// headerBudget bounds what net/http reads of a request head: the request
// line plus every field at its limit. (Apache's per-line 414/400 answers
// need a parser of our own; net/http answers 431 past the budget.)
func headerBudget(cs phases.ConnSettings) int {
	fields := cs.LimitRequestFields
	if fields == 0 {
		fields = 100
	}
	return cs.LimitRequestLine + fields*(cs.LimitRequestFieldSz+2)
}

// tlsConfig serves port's TLS with the configuration of the generation
// current at each handshake, so a restart's new certificates apply to new
// connections on the same socket. ALPN offers h2 when Protocols has it.
// The port's configuration may choose one per client itself (its
// GetConfigForClient: the virtual host's SSLCipherSuite under SNI).
func (e *engine) tlsConfig(port int) *tls.Config {
	return &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		g := e.gen.Load()
		base := g.server.TLS[port]
		if base == nil {
			return nil, fmt.Errorf("no TLS configuration for port %d in generation %d", port, g.server.Process.Generation)
		}
		if choose := base.GetConfigForClient; choose != nil {
			chosen, err := choose(hello)
			if err != nil {
				return nil, err
			}
			if chosen != nil {
				base = chosen
			}
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.NextProtos = nil
		for _, p := range g.server.Conn.Protocols {
			if p == "h2" {
				c.NextProtos = append(c.NextProtos, "h2")
			}
		}
		c.NextProtos = append(c.NextProtos, "http/1.1")
		return c, nil
	}}
}

func hostPort(a phases.ListenAddr) string {
	host := a.Host
	if host == "*" {
		host = ""
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// Addrs returns the addresses being listened on (for tests and logs).
func (e *engine) addrs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.listeners {
		out = append(out, l.ln.Addr().String())
	}
	return out
}

// shutdown stops accepting, then stops every server, letting requests in
// flight finish until the deadline.
func (e *engine) shutdown(timeout time.Duration) {
	e.acceptor.stopAndWait()
	e.workers.close()
	e.mu.Lock()
	ls := e.listeners
	e.listeners = map[string]*listening{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		l.ln.Close()
		go func() { defer wg.Done(); shutdownServer(l.srv, timeout); l.file.Close() }()
	}
	wg.Wait()
}

// stopAccepting ends the acceptor and closes this process's copies of the
// listening sockets (the master and the other children keep theirs, so
// connections in the queue wait for them).
func (e *engine) stopAccepting() {
	e.workers.stopAccepting()
	e.acceptor.stopAndWait()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.listeners {
		l.ln.Close()
		l.file.Close()
	}
}

// drainIdleCut: while draining, a plain-HTTP keep-alive connection that
// has waited this long for its next request is closed (SPEC §9: idle
// keep-alive connections of the old generation are closed at once). A
// client sending request after request is never idle that long, so the
// drain does not cut it between two requests: its next answer says
// Connection: close.
const drainIdleCut = 250 * time.Millisecond

// idleCutter is mpm/http1's Server.
type idleCutter interface{ CutIdle(time.Duration) }

// drain is a graceful finish: no new connections, every response from now
// on closes its connection, idle keep-alive connections are closed
// (drainIdleCut). It returns when no connection is left, or at the
// deadline, when the rest are closed.
func (e *engine) drain(deadline time.Time) {
	e.draining.Store(true)
	e.stopAccepting()
	e.mu.Lock()
	var cutters []idleCutter
	for _, l := range e.listeners {
		if c, ok := l.srv.(idleCutter); ok {
			cutters = append(cutters, c)
		}
	}
	e.mu.Unlock()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for e.workers.open.Load() > 0 && time.Now().Before(deadline) {
		for _, c := range cutters {
			c.CutIdle(drainIdleCut)
		}
		e.cutIdleTLS(drainIdleCut)
		<-tick.C
	}
	e.closeAll()
}

// cutIdleTLS does for the HTTPS connections (served by net/http) what
// mpm/http1's CutIdle does for plain ones: a connection waiting for a
// request for idle or longer gets a past read deadline, so its server
// closes it.
func (e *engine) cutIdleTLS(idle time.Duration) {
	before := time.Now().Add(-idle)
	e.conns.Range(func(_, v any) bool {
		t := v.(*connState).timed
		if t == nil || t.outer == nil {
			return true
		}
		if at, ok := t.idleSince(); ok && !at.After(before) {
			_ = t.outer.SetReadDeadline(time.Unix(1, 0))
		}
		return true
	})
}

// closeAll closes every connection at once (a stop, or a drain's deadline).
func (e *engine) closeAll() {
	e.acceptor.stop()
	e.workers.close()
	e.mu.Lock()
	ls := e.listeners
	e.listeners = map[string]*listening{}
	e.mu.Unlock()
	for _, l := range ls {
		l.ln.Close()
		_ = l.srv.Close()
	}
}

// errorResponse is the answer to a request mpm/http1 refuses before any
// phase runs (a malformed request line or head, a timeout): Apache's
// page, with the Server header.
func (e *engine) errorResponse(status int) (http.Header, []byte) {
	h := http.Header{"Content-Type": {"text/html; charset=iso-8859-1"}}
	if g := e.gen.Load(); g != nil {
		h["Server"] = []string{g.banner}
	}
	return h, []byte(errorPageNotes(status, "GET", "", ""))
}

func shutdownServer(srv httpServer, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

func (e *engine) connContext(ctx context.Context, c net.Conn) context.Context {
	var timed *timedConn
	if tc, ok := c.(*tls.Conn); ok {
		if t, ok := tc.NetConn().(*timedConn); ok {
			t.outer, t.encrypted = tc, true
			timed = t
		}
	} else if t, ok := c.(*timedConn); ok {
		timed = t
	}
	// The connection hooks, if any ran, made its conn_rec already.
	var cs *connState
	if timed != nil {
		if v, ok := e.prepared.LoadAndDelete(timed); ok {
			cs = v.(*connState)
		}
	}
	if cs == nil {
		cs = newConnState(c)
	}
	cs.conn.Stream = c // after TLS
	cs.timed = timed
	e.conns.Store(c, cs)
	return context.WithValue(ctx, connKey{}, cs)
}

// connStateChange keeps the scoreboard up to date and, when a connection
// closes, gives its worker back and destroys its pool.
func (e *engine) connStateChange(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew, http.StateActive:
		if t := timedOf(c); t != nil {
			e.workers.setState(t.worker, scoreboard.Reading)
		}
		return
	case http.StateIdle:
		if t := timedOf(c); t != nil {
			t.setIdle()
			e.workers.setState(t.worker, scoreboard.Keepalive)
		}
		return
	case http.StateClosed, http.StateHijacked:
		e.connGone(c)
	}
}

// timedOf is the timedConn under c (itself, or under its TLS).
func timedOf(c net.Conn) *timedConn {
	switch t := c.(type) {
	case *timedConn:
		return t
	case *tls.Conn:
		tc, _ := t.NetConn().(*timedConn)
		return tc
	}
	return nil
}

// connGone releases what a closed connection held: its worker (prefork,
// worker), its place in the connection budget, its pool.
func (e *engine) connGone(c net.Conn) {
	if t := timedOf(c); t != nil && t.releaseOnce() {
		e.workers.open.Add(-1)
	}
	if v, ok := e.conns.LoadAndDelete(c); ok {
		cs := v.(*connState)
		cs.mu.Lock()
		if cs.pool != nil {
			cs.pool.Destroy()
			cs.pool = nil
		}
		cs.mu.Unlock()
	}
}

func splitAddr(a net.Addr) (string, int) {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// connection returns the conn_rec of req's connection with a pool under the
// current generation's pchild (a connection that outlived a restart gets a
// new one; the old pchild destroyed the old).
func (e *engine) connection(req *http.Request, g *generation) (*phases.Connection, *phases.Pool) {
	cs, _ := req.Context().Value(connKey{}).(*connState)
	if cs != nil && cs.timed != nil {
		cs.timed.headDone()
	}
	if cs == nil {
		cs = &connState{}
		cs.conn.ClientIP, cs.conn.ClientPort = splitHostPortString(req.RemoteAddr)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.pool == nil || cs.pool.Parent() != g.pchild || cs.pool.Destroyed() {
		cs.pool = g.pchild.Sub("connection")
		cs.conn.Pool = cs.pool
	}
	// Keepalives is Apache's c->keepalives: the requests served on the
	// connection before this one.
	cs.conn.Keepalives = cs.requests
	cs.requests++
	max := g.server.Conn.MaxKeepAliveRequests
	cs.conn.Keepalive = g.server.Conn.KeepAlive && (max == 0 || cs.requests < max)
	return &cs.conn, cs.pool
}

func splitHostPortString(s string) (string, int) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return s, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// ServeHTTP runs the request phases for one request.
func (e *engine) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// net/http calls us as soon as the request head is parsed: this is
	// Apache's r->request_time.
	start := time.Now()
	e.serving.RLock()
	defer e.serving.RUnlock()
	g := e.gen.Load()
	bound := -1
	if t, ok := req.Context().Value(connKey{}).(*connState); ok && t.timed != nil {
		bound = t.timed.worker
	}
	worker, ok := e.workers.requestWorker(bound)
	if !ok {
		// The child is stopping: no worker will come.
		w.Header().Set("Connection", "close")
		w.Header().Set("Server", g.banner)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	defer e.workers.releaseRequestWorker(worker)
	conn, cpool := e.connection(req, g)
	host := hostWithoutPort(req.Host)
	// net/http moves Host into req.Host; Apache keeps it in headers_in
	// (%{Host}i, redirects, mod_rewrite's HTTP_HOST).
	if req.Host != "" && len(req.Header.Values("Host")) == 0 {
		req.Header.Set("Host", req.Host)
	}
	if e.draining.Load() {
		// A graceful finish: this response is the connection's last, so
		// the client reconnects (to a new child) instead of meeting a
		// closed socket.
		conn.Keepalive = false
	}
	if !conn.Keepalive {
		w.Header().Set("Connection", "close")
	}
	// A request that may be replayed is looked up first: a replay carries
	// its request line and needs none of the maps below.
	var slot replaySlot
	if g.replays != nil && replayableRequest(req) {
		slot.eligible = true
		slot.key = replayKeyOf(req, conn)
		if p := g.replays.get(slot.key); p != nil {
			if g.replays.unchanged(p, start) {
				slot.entry = p
			} else {
				g.replays.drop(slot.key, p)
			}
		}
	}
	var theRequest string
	if slot.entry != nil {
		theRequest = slot.entry.theRequest
	} else if req.ProtoMajor > 0 {
		theRequest = req.Method + " " + req.RequestURI + " " + req.Proto
	} else {
		theRequest = req.Method + " " + req.RequestURI
		// HTTP/0.9: the line had no protocol, and the connection ends
		// with this answer.
		conn.Keepalive = false
	}
	r := &phases.Request{
		TheRequest:  theRequest,
		Method:      req.Method,
		UnparsedURI: req.RequestURI,
		URI:         req.URL.Path,
		Args:        req.URL.RawQuery,
		Protocol:    req.Proto,
		RequestTime: start,
		Hostname:    strings.ToLower(host),
		Port:        conn.LocalPort,
		IsHTTPS:     req.TLS != nil,
		UseragentIP: conn.ClientIP,
		HeadersIn:   req.Header,
		Server:      g.server,
		Vhost:       g.server.Main,
		Pool:        cpool.Sub("request"),
		Conn:        conn,
		Body:        req.Body,
		Hooks:       g.hooks,
	}
	out := &responseWriter{w: w, hooks: g.hooks, banner: g.bannerValues}
	r.Output = out
	out.r = r
	sw := e.workers.worker(worker)
	if sw != nil {
		sw.SetState(scoreboard.Writing)
		sw.StartRequest(conn.ClientIP, r.Hostname, r.TheRequest)
	}
	e.process(g, r, slot)
	if sw != nil {
		sw.EndRequest(r.BytesSent)
	}
	if r.ConnectionAborted() {
		// An output filter failed after part of the answer went out: the
		// connection closes without the rest (the HTTP servers recover
		// this panic by closing it, as Apache aborts the connection).
		panic(http.ErrAbortHandler)
	}
}

// process answers r: from a replay when the generation keeps one for the
// request and its file is unchanged, else by running the phases (and
// keeping the outcome when it may be replayed).
func (e *engine) process(g *generation, r *phases.Request, slot replaySlot) {
	if p := slot.entry; p != nil {
		e.replayed.Add(1)
		r.Output.(*responseWriter).prepared = p.head
		phases.ServeReplay(g.hooks, r, p.Replay)
		return
	}
	r.HeadersOut, r.ErrHeadersOut = http.Header{}, http.Header{}
	r.Notes, r.SubprocessEnv = map[string]string{}, map[string]string{}
	phases.ProcessRequest(g.hooks, r, e.respond)
	if !slot.eligible {
		return
	}
	out := r.Output.(*responseWriter)
	if p, ok := r.Replayable(); ok && out.orig == nil && out.forced == 0 && r.BytesSent == int64(len(p.Body)) {
		g.replays.put(slot.key, &replayEntry{Replay: p, theRequest: r.TheRequest, head: prepareHead(r, g.bannerValues)})
	}
}

// respond sends what the handler left unsent: Apache's error response
// (ap_die / ap_send_error_response) for an error status or a redirect a
// phase returned, or the bare status.
func (e *engine) respond(r *phases.Request, st phases.Status) {
	out := r.Output.(*responseWriter)
	if out.wroteHeader {
		return
	}
	if !errorResponse(r.Status, st) {
		out.WriteHeader(r.Status)
		return
	}
	if r.Status >= 400 {
		// ErrorDocument and the like answer with the error status.
		out.forced = r.Status
		cst := phases.RunCustomResponse(r.Hooks, r)
		out.forced = 0
		if out.wroteHeader {
			return
		}
		switch {
		case cst == phases.OK || cst == phases.DONE:
			out.forced = r.Status
			out.WriteHeader(r.Status)
			out.forced = 0
			return
		case cst > 0: // e.g. an ErrorDocument URL: 302 and its page
			r.Status = int(cst)
		}
	}
	sendErrorResponse(r, out)
}

// errorResponse tells whether the engine answers status with Apache's
// canned page: an error status, or a redirect a phase returned (a handler
// that set r.Status and returned OK sends the bare status, as in Apache).
func errorResponse(status int, st phases.Status) bool {
	if status >= 400 {
		return true
	}
	return st > 0 && int(st) == status && status >= 300 && status < 400 && status != http.StatusNotModified
}

// sendErrorResponse is ap_send_error_response: the headers a handler set
// are dropped but for err_headers_out, a redirect's Location and the Allow
// of a 405/501; the body is Apache's default page.
func sendErrorResponse(r *phases.Request, out *responseWriter) {
	status := r.Status
	hr := out.r // the request whose headers go out (an internal redirect's)
	loc := hr.HeadersOut.Get("Location")
	if loc == "" {
		loc = r.HeadersOut.Get("Location")
	}
	kept := http.Header{}
	if (status >= 300 && status < 400) || status == http.StatusCreated {
		if loc != "" {
			kept.Set("Location", loc)
		}
	}
	if status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented {
		if a := hr.HeadersOut.Values("Allow"); len(a) > 0 && len(hr.ErrHeadersOut.Values("Allow")) == 0 {
			kept["Allow"] = a
		}
	}
	hr.HeadersOut = kept
	hr.ContentType = "text/html; charset=iso-8859-1"
	if _, ok := r.SubprocessEnv["suppress-error-charset"]; ok {
		hr.ContentType = "text/html"
	}
	body := errorPageFor(errorInfo{
		status:   status,
		method:   r.Method,
		admin:    core.ServerAdmin(r),
		location: loc,
		notes:    r.Notes["error-notes"],
		verbose:  r.Notes["verbose-error-to"],
		variants: r.Notes["variant-list"],
		expect:   r.HeadersIn.Get("Expect"),
		// ServerSignature's footer.
		signature: core.Signature(r, "<hr>\n"),
	})
	// Apache's content-length filter sizes the page, except for a 413
	// (the body is being discarded, the connection closes) and a 416 (the
	// byterange filter's page): those go out without a length.
	unsized := status == http.StatusRequestEntityTooLarge || status == http.StatusRequestedRangeNotSatisfiable
	if r.Method != http.MethodHead && !unsized {
		kept.Set("Content-Length", strconv.Itoa(len(body)))
	}
	out.WriteHeader(apacheStatus(status))
	r.Status = status
	if unsized {
		_ = out.Flush() // the head goes before the body, so no length is computed
	}
	if r.Method != http.MethodHead {
		_, _ = out.Write([]byte(body))
	}
}

// responseWriter is the phases.ResponseWriter over net/http's.
type responseWriter struct {
	w           http.ResponseWriter
	r           *phases.Request
	hooks       *phases.RequestHooks
	banner      []string // the Server header's value
	wroteHeader bool
	// forced, when set, is the status sent whatever a handler asks for:
	// an ErrorDocument page goes out with the error's status.
	forced int
	// orig is the original request when r is an internal redirect's.
	orig *phases.Request
	// prepared is the head of the replay being served, if it has one.
	prepared *preparedHead
}

// SetRequest makes rw write for an internal redirect's request.
func (rw *responseWriter) SetRequest(r *phases.Request) {
	if rw.orig == nil {
		rw.orig = rw.r
	}
	rw.r = r
}

func (rw *responseWriter) WriteHeader(status int) {
	if rw.wroteHeader {
		return
	}
	rw.wroteHeader = true
	if rw.forced != 0 {
		status = rw.forced
	}
	rw.r.Status = status
	// modify_response_headers (RUN_ALL) sees the response just before it
	// goes out; a failure there is logged, the response still goes.
	if st := phases.RunModifyResponseHeaders(rw.hooks, rw.r); st != phases.OK && st != phases.DECLINED && rw.r.Log() != nil {
		rw.r.Log().Error("core", "modify_response_headers returned %v for %s", st, rw.r.URI)
	}
	h := rw.w.Header()
	fillHeader(h, rw.r, rw.banner)
	if dropsConnection(status) {
		// ap_set_keepalive: these statuses close the connection.
		h.Set("Connection", "close")
		if rw.r.Conn != nil {
			rw.r.Conn.Keepalive = false
		}
	} else if c := rw.r.Conn; c != nil && c.Keepalive && hasToken(rw.r.HeadersIn.Values("Connection"), "keep-alive") {
		// ap_set_keepalive: a client that asked for keep-alive is told
		// for how long and how many more requests.
		cs := rw.r.Server.Conn
		ka := "timeout=" + strconv.Itoa(int(cs.KeepAliveTimeout/time.Second))
		if cs.MaxKeepAliveRequests > 0 {
			ka += ", max=" + strconv.Itoa(cs.MaxKeepAliveRequests-c.Keepalives)
		}
		h.Set("Keep-Alive", ka)
		h.Set("Connection", "Keep-Alive")
	}
	rw.r.Status = status
	rw.w.WriteHeader(status)
}

// fillHeader puts r's answer's fields into h as they go out: headers_out,
// err_headers_out, the content type and the server's banner.
func fillHeader(h http.Header, r *phases.Request, banner []string) {
	for k, v := range r.HeadersOut {
		h[wireName(k)] = v
	}
	for k, v := range r.ErrHeadersOut {
		h[wireName(k)] = append(h[wireName(k)], v...)
	}
	if r.ContentType != "" {
		h.Set("Content-Type", r.ContentType)
	}
	// As Apache's ap_basic_http_header: the server's banner, whatever a
	// module set.
	h["Server"] = banner
}

// WriteReplay sends a replay's head in its prepared form (rw.prepared)
// and its body, as WriteHeader(200) and Write would. It returns false,
// having sent nothing, when the head has to be built from the maps: none
// was prepared, the client asked for keep-alive (the head then carries
// the Keep-Alive fields), the connection is not served by mpm/http1.
func (rw *responseWriter) WriteReplay(p *phases.Replay) bool {
	ph := rw.prepared
	pw, ok := rw.w.(preparedHeaderWriter)
	if ph == nil || !ok || rw.wroteHeader || rw.forced != 0 {
		return false
	}
	if c := rw.r.Conn; c != nil && c.Keepalive && hasToken(rw.r.HeadersIn.Values("Connection"), "keep-alive") {
		return false
	}
	for k := range rw.w.Header() {
		if k != "Connection" {
			return false
		}
	}
	if !pw.WritePreparedHeader(http.StatusOK, ph.fields, ph.contentLength, ph.haveType) {
		return false
	}
	rw.wroteHeader = true
	rw.r.Status = http.StatusOK
	if len(p.Body) > 0 {
		_, _ = rw.Write(p.Body)
	}
	return true
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		status := rw.r.Status
		if status == 0 {
			status = http.StatusOK
		}
		rw.WriteHeader(status)
	}
	if rw.r.Method == http.MethodHead {
		return len(p), nil
	}
	n, err := rw.w.Write(p)
	rw.r.BytesSent += int64(n)
	if rw.orig != nil && rw.orig != rw.r {
		rw.orig.BytesSent += int64(n)
	}
	return n, err
}

func (rw *responseWriter) Flush() error {
	if f, ok := rw.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// ReadFrom sends src as the body through net/http's ReadFrom, which uses
// sendfile(2) when src is a file and the connection a plain TCP one.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.wroteHeader {
		status := rw.r.Status
		if status == 0 {
			status = http.StatusOK
		}
		rw.WriteHeader(status)
	}
	if rw.r.Method == http.MethodHead {
		return io.Copy(io.Discard, src)
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(rw.w, src)
	}
	rw.r.BytesSent += n
	if rw.orig != nil && rw.orig != rw.r {
		rw.orig.BytesSent += n
	}
	return n, err
}

// wireNames are header names whose usual spelling differs from Go's
// canonical form; they go out as Apache writes them.
var wireNames = map[string]string{"Etag": "ETag", "Www-Authenticate": "WWW-Authenticate", "Content-Md5": "Content-MD5", "X-Xss-Protection": "X-XSS-Protection"}

func wireName(k string) string {
	if w, ok := wireNames[k]; ok {
		return w
	}
	return k
}

// hasToken reports whether a comma-separated header's values hold token
// (case-insensitive).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// logRefused writes the access-log line of a request refused before any
// phase ran (a malformed head, a head over a LimitRequest* limit, a
// timeout), as Apache logs them: log_transaction runs on a request that
// has only its request line, status and bytes.
func (e *engine) logRefused(c net.Conn, status int, line string, bodyBytes int) {
	g := e.gen.Load()
	if g == nil {
		return
	}
	// A line that ended in a bare LF keeps it, as in Apache's log
	// ("GET / HTTP/1.1\n"): the strict reading refused it before parsing
	// it, so it has no method or protocol either.
	bareLF := strings.HasSuffix(line, "\n")
	if f := strings.Fields(line); len(f) > 3 && !bareLF {
		// Apache keeps method, target and protocol of an over-long line.
		line = strings.Join(f[:3], " ")
	}
	method, proto := "", ""
	if f := strings.Fields(line); len(f) > 0 && !bareLF {
		method = f[0]
		if len(f) == 3 {
			proto = f[2]
		}
	}
	conn := &phases.Connection{Notes: map[string]string{}}
	conn.ClientIP, conn.ClientPort = splitAddr(c.RemoteAddr())
	conn.LocalIP, conn.LocalPort = splitAddr(c.LocalAddr())
	r := &phases.Request{
		TheRequest:    line,
		Method:        method,
		Protocol:      proto,
		RequestTime:   time.Now(),
		Status:        status,
		BytesSent:     int64(bodyBytes),
		UseragentIP:   conn.ClientIP,
		HeadersIn:     http.Header{},
		HeadersOut:    http.Header{},
		ErrHeadersOut: http.Header{},
		Notes:         map[string]string{},
		SubprocessEnv: map[string]string{},
		Server:        g.server,
		Vhost:         g.server.Main,
		Pool:          g.pchild.Sub("request"),
		Conn:          conn,
		Hooks:         g.hooks,
	}
	defer r.Pool.Destroy()
	phases.RunHook(g.hooks.LogTransaction, r)
}

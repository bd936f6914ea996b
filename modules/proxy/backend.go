package proxy

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Apache's worker defaults.
const (
	defaultRetry    = 60 * time.Second // retry: how long a worker in error is left alone
	defaultLBFactor = 100              // loadfactor 1, in hundredths
	// defaultIdlePerHost bounds the idle connections a worker keeps when
	// its "max" parameter does not.
	defaultIdlePerHost = 64
)

// backend is a worker at run time in one process: its connection pool (a
// net/http Transport, so keep-alive connections are reused) and its state,
// the part of Apache's proxy_worker_shared that decides whether it may be
// used: in error (after a failed connection, for retry), failed by the
// health checks, and the balancer's bookkeeping.
type backend struct {
	name      string // the normalised worker name, e.g. "http://10.0.0.1:8080"
	hostport  string // host:port, for messages
	socket    string // the unix socket path of a "unix:/path|http://..." worker
	transport *http.Transport

	timeout     time.Duration // each read from and write to the backend
	connTimeout time.Duration // connecting
	retry       time.Duration
	lbfactor    int // loadfactor × 100
	lbset       int
	route       string
	hc          HealthCheck

	// Status flags from the "status" parameter (Apache's letters).
	standby      bool // H: used only when no other member is usable
	ignoreErrors bool // I: never put in error
	disabled     bool // D: takes no new requests
	stopped      bool // S: takes nothing

	mu        sync.Mutex
	inError   bool      // E: a connection failed; skipped until errorTime+retry
	errorTime time.Time //
	hcFailed  bool      // C: the health checks say it is down
	pcount    int       // consecutive passed checks while failed
	fcount    int       // consecutive failed checks while up
	lbstatus  int       // byrequests' credit

	busy        atomic.Int64 // requests in progress
	elected     atomic.Int64 // requests given to it
	transferred atomic.Int64 // request body bytes sent to it
	read        atomic.Int64 // response bytes read from it
}

// workerParams are the parameters that shape a backend, with the server's
// defaults already resolved.
type workerParams struct {
	params     map[string]string
	hc         HealthCheck
	defTimeout time.Duration // ProxyTimeout, else Timeout
	// ignoreErrors: a default worker, never put in error.
	ignoreErrors bool
}

// newBackend builds the run-time worker for name (a normalised worker
// name) and raw (the URL as written, maybe with a "unix:" prefix).
func newBackend(name, raw string, wp workerParams) *backend {
	b := &backend{name: name, hostport: hostPort(name), timeout: wp.defTimeout, retry: defaultRetry, lbfactor: defaultLBFactor, hc: wp.hc, ignoreErrors: wp.ignoreErrors}
	if len(raw) >= 5 && strings.EqualFold(raw[:5], "unix:") {
		b.socket, _, _ = strings.Cut(raw[5:], "|")
	}
	p := wp.params
	if v, ok := p["timeout"]; ok {
		if n, ok := atoi(v); ok {
			b.timeout = time.Duration(n) * time.Second
		}
	}
	b.connTimeout = b.timeout
	if v, ok := p["connectiontimeout"]; ok {
		if t, ok := timeoutParam(v, "s"); ok {
			b.connTimeout = t
		}
	}
	if v, ok := p["retry"]; ok {
		if n, ok := atoi(v); ok {
			b.retry = time.Duration(n) * time.Second
		}
	}
	if v, ok := p["loadfactor"]; ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			b.lbfactor = int(f * 100)
		}
	}
	if v, ok := p["lbset"]; ok {
		b.lbset, _ = atoi(v)
	}
	b.route = p["route"]
	if v, ok := p["status"]; ok {
		b.applyStatus(v)
	}
	keepAlive := strings.EqualFold(p["keepalive"], "on")
	reuse := !strings.EqualFold(p["disablereuse"], "on") && !strings.EqualFold(p["enablereuse"], "off")
	maxConns, _ := atoi(p["max"])
	idle := time.Duration(0)
	if v, ok := p["ttl"]; ok {
		if n, ok := atoi(v); ok {
			idle = time.Duration(n) * time.Second
		}
	}
	b.transport = b.newTransport(keepAlive, reuse, maxConns, idle)
	return b
}

// applyStatus reads the "status" parameter: letters set a flag, "-x"
// clears it ("+H" or "H" is a hot standby).
func (b *backend) applyStatus(v string) {
	on := true
	for i := 0; i < len(v); i++ {
		switch c := v[i] | 0x20; c {
		case '+':
			on = true
			continue
		case '-':
			on = false
			continue
		case 'h':
			b.standby = on
		case 'i':
			b.ignoreErrors = on
		case 'd':
			b.disabled = on
		case 's':
			b.stopped = on
		case 'e':
			b.inError, b.errorTime = on, time.Now()
		case 'c':
			b.hcFailed = on
		}
		on = true
	}
}

// newTransport is the worker's connection pool. Connections are reused
// (keep-alive) unless disablereuse=On; "max" caps the connections to the
// backend; "ttl" closes idle ones; keepalive=On sets SO_KEEPALIVE as
// Apache's does. Every read and write on a connection has the worker's
// timeout (timeoutConn), as Apache's socket timeout.
func (b *backend) newTransport(keepAlive, reuse bool, maxConns int, idle time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: b.connTimeout, KeepAlive: -1}
	if keepAlive {
		dialer.KeepAlive = 0 // Go's default period
	}
	idlePerHost := defaultIdlePerHost
	if maxConns > 0 {
		idlePerHost = maxConns
	}
	return &http.Transport{
		Proxy: nil, // never the environment's HTTP_PROXY: this is the reverse proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if b.socket != "" {
				network, addr = "unix", b.socket
			}
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, &dialError{err: err}
			}
			return &timeoutConn{Conn: c, timeout: b.timeout}, nil
		},
		DisableCompression:  true, // pass Content-Encoding through untouched
		DisableKeepAlives:   !reuse,
		MaxConnsPerHost:     maxConns,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: idlePerHost,
		IdleConnTimeout:     idle,
		ForceAttemptHTTP2:   false,
	}
}

// usable reports whether the worker may take a request now; a worker in
// error whose retry time has passed is given another chance (Apache's
// ap_proxy_retry_worker).
func (b *backend) usable(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usableLocked(now)
}

func (b *backend) usableLocked(now time.Time) bool {
	if b.disabled || b.stopped || b.hcFailed {
		return false
	}
	if b.inError && now.Sub(b.errorTime) >= b.retry {
		b.inError = false
	}
	return !b.inError
}

// putInError marks the worker unusable for its retry time, unless it
// ignores errors; it reports whether it did.
func (b *backend) putInError() bool {
	if b.ignoreErrors {
		return false
	}
	b.mu.Lock()
	b.inError, b.errorTime = true, time.Now()
	b.mu.Unlock()
	return true
}

// close drops the worker's idle connections (at the end of a child or a
// generation).
func (b *backend) close() {
	b.transport.CloseIdleConnections()
}

// hostPort is the host:port of a normalised worker name, with the
// scheme's default port made explicit, for messages.
func hostPort(name string) string {
	u, err := url.Parse(name)
	if err != nil || u.Host == "" {
		return name
	}
	if u.Port() != "" {
		return u.Host
	}
	if p, ok := schemes[strings.ToLower(u.Scheme)]; ok {
		return net.JoinHostPort(u.Hostname(), strconv.Itoa(p))
	}
	return u.Host
}

// dialError marks a failure to connect, which puts the worker in error
// and answers 503, apart from failures of an established exchange (502).
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// timeoutConn gives every read and write the worker's timeout, Apache's
// socket timeout: a backend that sends nothing for that long, while a
// response is awaited or streamed, fails the exchange. Writing a request
// starts the wait for its response; each read that brings data restarts
// it.
type timeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.timeout > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
	return n, err
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	if c.timeout > 0 {
		now := time.Now()
		_ = c.Conn.SetWriteDeadline(now.Add(c.timeout))
		_ = c.Conn.SetReadDeadline(now.Add(c.timeout))
	}
	return c.Conn.Write(p)
}

func itoa(n int) string { return strconv.Itoa(n) }

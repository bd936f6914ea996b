package http1

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Server's limits.
const (
	// DefaultWriteBufferSize is the per-connection write buffer: large
	// enough that a static file of a few KB and its head leave in one
	// write(2), small enough that it can be held only while a request is
	// being answered (it goes back to a pool when the connection idles).
	DefaultWriteBufferSize = 32 << 10
	// readBufferSize is the per-connection read buffer (as net/http's).
	// A request head larger than it is still read, line by line.
	readBufferSize = 4 << 10
	// maxPostHandlerReadBytes bounds how much of a request body the
	// handler left unread is read and discarded to keep the connection;
	// past it the connection is closed instead (as net/http).
	maxPostHandlerReadBytes = 256 << 10
)

// Server serves HTTP/1.x on the listeners given to Serve. Its fields
// mirror http.Server's where they mean the same; set them before Serve.
type Server struct {
	// Handler answers every request; nil means http.DefaultServeMux.
	Handler http.Handler

	// ReadHeaderTimeout bounds the reading of a request head from its
	// first byte (Apache's Timeout). A head that does not arrive in time
	// is answered 408 and the connection closed. Zero means no limit.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds EACH read of a request body (Apache's Timeout),
	// not the whole request as net/http's ReadTimeout does. Zero means no
	// limit.
	ReadTimeout time.Duration
	// WriteTimeout bounds EACH write of the response (Apache's Timeout),
	// not the whole response as net/http's WriteTimeout does, so a large
	// download to a slow but live client is not cut. Zero means no limit.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection waits for its next
	// request (KeepAliveTimeout). Zero means ReadHeaderTimeout.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the request head (request line and fields);
	// past it the request is answered 431. Zero means
	// http.DefaultMaxHeaderBytes (1 MB).
	MaxHeaderBytes int
	// WriteBufferSize is the per-connection write buffer; zero means
	// DefaultWriteBufferSize.
	WriteBufferSize int

	// ConnContext, if set, derives the context of each new connection;
	// request contexts are children of it.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// ConnState, if set, is called on each connection state change, at
	// the points net/http calls it: StateNew on accept, StateActive once a
	// request head has been read, StateIdle after a response when the
	// connection is kept, StateClosed and StateHijacked.
	ConnState func(net.Conn, http.ConnState)
	// ErrorResponse renders the answer to a request refused before the
	// handler runs (400 malformed, 408 head timeout, 417 unknown Expect,
	// 431 head too large): its header and body. Content-Length, Date and
	// Connection: close are added. nil means a short text/plain answer.
	ErrorResponse func(status int) (header http.Header, body []byte)
	// ErrorLog receives handler panics and accept errors; nil means the
	// log package's standard logger.
	ErrorLog *log.Logger
	// Refused, if set, is told of each request refused before its handler
	// (after the answer went out), so the server can log it as Apache
	// does: the status, the request line as far as it was read ("" when
	// none was) and the body bytes sent.
	Refused func(c net.Conn, status int, requestLine string, bodyBytes int)
	// AllowHTTP09 serves a CRLF-ended "GET target" line without a
	// protocol as HTTP/0.9 (Apache's HttpProtocolOptions Allow0.9, its
	// default): Proto "HTTP/0.9", no header read, and the answer is the
	// body alone (no status line, no header), then the connection closes.
	// Off, such a line is a 400, as net/http answers.
	AllowHTTP09 bool
	// KeepHostField leaves the Host field in Request.Header as well as in
	// Request.Host (Apache's headers_in has it; net/http drops it).
	KeepHostField bool

	disableKeepAlives atomic.Bool
	// draining is set by Drain and Shutdown: responses carry
	// Connection: close and no connection is kept.
	draining atomic.Bool
	// shuttingDown is set by Shutdown and Close: idle connections are cut.
	shuttingDown atomic.Bool

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	// gone is closed when the last connection goes after a Drain or
	// Shutdown (made on demand by waitConns).
	gone chan struct{}

	writeBufs sync.Pool // *[]byte of the write buffer size
}

// SetKeepAlivesEnabled controls keep-alive; when off, every response
// carries Connection: close (as net/http's).
func (s *Server) SetKeepAlivesEnabled(v bool) { s.disableKeepAlives.Store(!v) }

func (s *Server) keepAlivesEnabled() bool {
	return !s.disableKeepAlives.Load() && !s.draining.Load()
}

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return http.DefaultMaxHeaderBytes
}

func (s *Server) writeBufferSize() int {
	if s.WriteBufferSize > 0 {
		return s.WriteBufferSize
	}
	return DefaultWriteBufferSize
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout != 0 {
		return s.IdleTimeout
	}
	return s.ReadHeaderTimeout
}

// Serve accepts connections on ln and serves each in its own goroutine.
// It returns http.ErrServerClosed after Drain, Shutdown or Close, else the
// accept error that stopped it. ln is closed when Serve returns.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.trackListener(&ln, true) {
		return http.ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	var tempDelay time.Duration // as net/http: back off on EMFILE and the like
	for {
		rwc, err := ln.Accept()
		if err != nil {
			if s.draining.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck // the accept errors worth retrying still say so
				tempDelay = max(5*time.Millisecond, min(2*tempDelay, time.Second))
				s.logf("http1: Accept error: %v; retrying in %v", err, tempDelay)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		tempDelay = 0
		ctx := context.Background()
		if s.ConnContext != nil {
			ctx = s.ConnContext(ctx, rwc)
			if ctx == nil {
				panic("http1: ConnContext returned nil")
			}
		}
		c := newConn(s, rwc, ctx)
		if !s.trackConn(c) {
			// Drained between Accept and here: the connection was never
			// ours to serve.
			_ = rwc.Close()
			return http.ErrServerClosed
		}
		c.idleAt.Store(time.Now().UnixNano())
		c.setState(http.StateNew)
		go c.serve()
	}
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.draining.Load() {
			return false
		}
		if s.listeners == nil {
			s.listeners = map[*net.Listener]struct{}{}
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

// trackConn records a new connection, unless the server is draining.
func (s *Server) trackConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if len(s.conns) == 0 && s.gone != nil {
		close(s.gone)
		s.gone = nil
	}
}

// stopAccepting marks the server draining and closes its listeners.
// Both happen under mu so that no connection is tracked after it.
func (s *Server) stopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining.Store(true)
	for ln := range s.listeners {
		_ = (*ln).Close()
	}
}

// Drain stops accepting (the listeners are closed) and makes every
// response from now on carry Connection: close. Idle keep-alive
// connections are not cut: each closes when its IdleTimeout expires or
// after answering one more request, so a client that sends a request on
// an idle connection just as the drain starts is answered, not reset. It
// returns at once; Wait tells when every connection is gone.
func (s *Server) Drain() { s.stopAccepting() }

// Wait returns nil once every connection is gone (after Drain or
// Shutdown), or ctx's error if ctx ends first.
func (s *Server) Wait(ctx context.Context) error {
	s.mu.Lock()
	if len(s.conns) == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.gone == nil {
		s.gone = make(chan struct{})
	}
	gone := s.gone
	s.mu.Unlock()
	select {
	case <-gone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops accepting, closes idle connections and waits for the
// others to finish their request (answered with Connection: close), as
// net/http's Shutdown. It returns ctx's error if ctx ends first; the
// connections still open are then left to Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shuttingDown.Store(true)
	s.stopAccepting()
	s.mu.Lock()
	for c := range s.conns {
		c.cutIfIdle()
	}
	s.mu.Unlock()
	return s.Wait(ctx)
}

// CutIdle closes the connections that have been waiting for a request for
// idle or longer (as Shutdown closes idle ones; a request arriving at that
// very moment is lost, as with any server closing an idle connection).
// Called again and again while draining, it closes each idle keep-alive
// connection soon after the drain starts, while a connection busy with
// request after request — never idle that long — is not cut between two
// of them: it closes after its next answer (Connection: close).
func (s *Server) CutIdle(idle time.Duration) {
	before := time.Now().Add(-idle).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.cutIfIdleSince(before)
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.shuttingDown.Store(true)
	s.stopAccepting()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.rwc.Close()
	}
	return nil
}

// getWriteBuffer returns a write buffer from the pool (the pointer is
// what is pooled, so Get and Put allocate nothing).
func (s *Server) getWriteBuffer() *[]byte {
	if p, ok := s.writeBufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, s.writeBufferSize())
	return &b
}

func (s *Server) putWriteBuffer(p *[]byte) {
	// A buffer grown for an oversized head is not kept.
	if cap(*p) != s.writeBufferSize() {
		return
	}
	*p = (*p)[:cap(*p)]
	s.writeBufs.Put(p)
}

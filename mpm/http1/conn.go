package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// lingerTimeout bounds the lingering close after an error answer or an
// unread request body: long enough for the client to read our answer
// before the close resets the connection, short enough not to pin it.
const lingerTimeout = 500 * time.Millisecond

// aLongTimeAgo is a deadline in the past: setting it makes a blocked read
// return at once (Shutdown uses it to wake idle connections).
var aLongTimeAgo = time.Unix(1, 0)

var readers sync.Pool // *bufio.Reader of readBufferSize

// conn is one client connection and everything reused across its
// requests.
type conn struct {
	srv        *Server
	rwc        net.Conn
	ctx        context.Context // ConnContext's, plus LocalAddrContextKey
	remoteAddr string
	tlsState   *tls.ConnectionState
	state      atomic.Int32 // http.ConnState
	// idleAt is when the connection last became idle or new (Unix
	// nanoseconds): CutIdle closes the ones idle long enough.
	idleAt atomic.Int64

	br   *bufio.Reader
	wbuf *[]byte // the write buffer while a request is answered, else nil
	// wstart:wend is the output not yet written to rwc.
	wstart, wend int
	werr         error // the first write error: the connection is dead

	// Deadlines as last set, so that unchanged ones are not set again
	// (each SetDeadline is a runtime timer update).
	rdl, wdl time.Time
	// now is the time of the last write or head arrival, reused where a
	// fresh time.Now would not change the outcome.
	now time.Time

	// The request being served and what is reused for the next one.
	req       http.Request
	url       url.URL
	reqHeader http.Header
	vals      []string // backing store of reqHeader's one-value slices
	body      body
	res       response
	reqCtx    *requestContext // the request being served's
	// reqTime is when the current request head arrived (the Date of
	// its response, as Apache's r->request_time).
	reqTime time.Time

	// The head parser's state: the previous request line and fields,
	// whose strings are reused when the next request repeats them (a
	// keep-alive client sends the same lines again and again).
	lastLine  string
	lastReq   requestLine
	rawLine   string // the request line being read, when Server.Refused wants it
	lineCRLF  bool   // the last line read ended with CRLF (not a bare LF)
	fields    []field
	long      []byte // a head line longer than the read buffer
	headBytes int
	hijacked  bool
	linger    bool // close with a lingering close (unread input may follow)
}

func newConn(s *Server, rwc net.Conn, ctx context.Context) *conn {
	c := &conn{srv: s, rwc: rwc, ctx: ctx}
	c.res.c = c
	c.body.c = c
	return c
}

func (c *conn) setState(st http.ConnState) {
	c.state.Store(int32(st))
	if h := c.srv.ConnState; h != nil {
		h(c.rwc, st)
	}
}

// cutIfIdle wakes the connection if it is waiting for a request, so that
// it closes (Shutdown). As with net/http's Shutdown, a request that
// arrives at that very moment is lost; Drain is the variant that never
// cuts a connection. A past read deadline, rather than Close, lets a
// request already read be answered (with Connection: close).
func (c *conn) cutIfIdle() {
	switch http.ConnState(c.state.Load()) {
	case http.StateNew, http.StateIdle:
		_ = c.rwc.SetReadDeadline(aLongTimeAgo)
	}
}

// cutIfIdleSince cuts the connection (as cutIfIdle) if it has waited for
// a request since before t.
func (c *conn) cutIfIdleSince(t int64) {
	switch http.ConnState(c.state.Load()) {
	case http.StateNew, http.StateIdle:
		if c.idleAt.Load() <= t {
			_ = c.rwc.SetReadDeadline(aLongTimeAgo)
		}
	}
}

// setReadDeadline sets the read deadline to t unless the one in force is
// already at most slack earlier than t: a keep-alive connection serving
// thousands of requests a second then updates its timer a few times a
// second, not on every request.
func (c *conn) setReadDeadline(t time.Time, slack time.Duration) {
	if t.IsZero() {
		if !c.rdl.IsZero() {
			_ = c.rwc.SetReadDeadline(t)
			c.rdl = t
		}
		return
	}
	if !c.rdl.IsZero() {
		if d := t.Sub(c.rdl); d >= 0 && d <= slack {
			return
		}
	}
	_ = c.rwc.SetReadDeadline(t)
	c.rdl = t
}

func (c *conn) setWriteDeadline(t time.Time, slack time.Duration) {
	if !c.wdl.IsZero() {
		if d := t.Sub(c.wdl); d >= 0 && d <= slack {
			return
		}
	}
	_ = c.rwc.SetWriteDeadline(t)
	c.wdl = t
}

// writeConn writes p to the connection under the write timeout. The first
// error is kept: the connection is then dead for good and the request's
// context is cancelled.
func (c *conn) writeConn(p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if d := c.srv.WriteTimeout; d > 0 {
		c.now = time.Now()
		c.setWriteDeadline(c.now.Add(d), d/8)
	}
	if _, err := c.rwc.Write(p); err != nil {
		c.werr = err
		if c.reqCtx != nil {
			c.reqCtx.cancel(context.Canceled)
		}
		return err
	}
	return nil
}

// serve runs the connection: requests one after the other until the
// connection is closed, not kept alive, or hijacked.
func (c *conn) serve() {
	defer c.finish()
	if ra := c.rwc.RemoteAddr(); ra != nil {
		c.remoteAddr = ra.String()
	}
	c.ctx = context.WithValue(c.ctx, http.LocalAddrContextKey, c.rwc.LocalAddr())
	if tc, ok := c.rwc.(*tls.Conn); ok && !c.handshake(tc) {
		return
	}
	if br, ok := readers.Get().(*bufio.Reader); ok {
		br.Reset(c.rwc)
		c.br = br
	} else {
		c.br = bufio.NewReaderSize(c.rwc, readBufferSize)
	}
	// The first request of a connection has ReadHeaderTimeout from the
	// accept, as with net/http.
	if d := c.srv.ReadHeaderTimeout; d > 0 {
		c.setReadDeadline(time.Now().Add(d), 0)
	}
	for {
		status, err := c.readRequest()
		if c.headBytes > 0 {
			c.setState(http.StateActive)
		}
		if status != 0 {
			n := c.writeError(status)
			if c.srv.Refused != nil {
				c.srv.Refused(c.rwc, status, c.rawLine, n)
			}
			c.linger = true
			return
		}
		if err != nil {
			return
		}
		if !c.serveRequest() {
			return
		}
		if c.srv.WriteTimeout > 0 {
			// now is the last write's time: the answer's end.
			c.idleAt.Store(c.now.UnixNano())
		} else {
			c.idleAt.Store(time.Now().UnixNano())
		}
		c.setState(http.StateIdle)
		// Nothing is pending between requests: the write buffer goes back
		// to the pool, so an idle connection holds only its read buffer.
		c.srv.putWriteBuffer(c.wbuf)
		c.wbuf = nil
		if c.br.Buffered() == 0 {
			if d := c.srv.idleTimeout(); d > 0 {
				c.setReadDeadline(c.now.Add(d), d/8)
			} else {
				c.setReadDeadline(time.Time{}, 0)
			}
		}
		// After the deadline: Shutdown sets its own past deadline after
		// raising the flag, so one of the two always stops the wait.
		if c.srv.shuttingDown.Load() {
			return
		}
		if c.br.Buffered() == 0 {
			// Let the other connections' goroutines run before reading:
			// the client sends its next request only once it has our
			// answer, so reading at once nearly always finds nothing
			// (a read that fails, a park, a poller round), while after
			// the others' turn it often finds the request there. On the
			// anchors benchmark: 0.6 fewer read(2) per request, 3-5% more
			// requests per second with wrk (19 paired runs). Alone, the
			// goroutine comes straight back. (BenchmarkServe4K, whose
			// clients share the process, is slower with it: they are
			// not what a server meets.)
			runtime.Gosched()
		}
	}
}

// handshake runs the TLS handshake under ReadHeaderTimeout. HTTP/2 is not
// spoken here: a client that negotiated h2 by ALPN is dropped (listeners
// offering h2 are served by net/http).
func (c *conn) handshake(tc *tls.Conn) bool {
	if d := c.srv.ReadHeaderTimeout; d > 0 {
		_ = tc.SetDeadline(time.Now().Add(d))
	}
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return false
	}
	_ = tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == "h2" {
		return false
	}
	c.tlsState = &st
	return true
}

// serveRequest runs the handler for the request just read and finishes
// its response. It reports whether the connection is kept for another.
func (c *conn) serveRequest() bool {
	ctx := newRequestContext(c.ctx)
	c.reqCtx = ctx
	// http.Request's context can only be set through WithContext, which
	// copies; the copy does not escape, so the reused request is updated
	// in place without an allocation.
	c.req = *c.req.WithContext(ctx)
	w := &c.res
	w.reset(&c.req)
	c.srv.handler().ServeHTTP(w, &c.req)
	ctx.cancel(context.Canceled)
	c.reqCtx = nil
	if c.hijacked {
		return false
	}
	w.finish()
	return !w.closeAfter
}

// finish closes the connection (unless hijacked), recovering a handler
// panic as net/http does.
func (c *conn) finish() {
	if err := recover(); err != nil && err != http.ErrAbortHandler {
		const size = 64 << 10
		buf := make([]byte, size)
		buf = buf[:runtime.Stack(buf, false)]
		c.srv.logf("http1: panic serving %v: %v\n%s", c.remoteAddr, err, buf)
	}
	if c.reqCtx != nil {
		c.reqCtx.cancel(context.Canceled)
		c.reqCtx = nil
	}
	if c.hijacked {
		if c.wbuf != nil { // flushed by Hijack
			c.srv.putWriteBuffer(c.wbuf)
			c.wbuf = nil
		}
		c.srv.untrackConn(c)
		return
	}
	if c.linger && c.werr == nil {
		c.lingerClose()
	}
	_ = c.rwc.Close()
	if c.br != nil {
		c.br.Reset(nil)
		readers.Put(c.br)
		c.br = nil
	}
	if c.wbuf != nil {
		c.srv.putWriteBuffer(c.wbuf)
		c.wbuf = nil
	}
	c.setState(http.StateClosed)
	c.srv.untrackConn(c)
}

// lingerClose half-closes the connection and reads what the client still
// sends for a moment, so that the kernel does not answer that input with
// a reset that would destroy the response in flight (Apache's lingering
// close). It needs a connection with CloseWrite (a *net.TCPConn, or a
// wrapper that passes it through).
func (c *conn) lingerClose() {
	cw, ok := c.rwc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
	var src io.Reader = c.rwc
	if c.br != nil {
		src = c.br
	}
	_, _ = io.CopyN(io.Discard, src, maxPostHandlerReadBytes)
}

// writeError answers a request refused before its handler, then the
// connection is closed.
func (c *conn) writeError(status int) int {
	var hdr http.Header
	var body []byte
	if c.srv.ErrorResponse != nil {
		hdr, body = c.srv.ErrorResponse(status)
	} else {
		hdr = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
		body = []byte(statusLine(status)[len("HTTP/1.1 ") : len(statusLine(status))-2])
	}
	if c.res.http09 {
		// An HTTP/0.9 request gets the page alone.
		_ = c.writeConn(body)
		return len(body)
	}
	var b []byte
	if c.wbuf != nil {
		b = (*c.wbuf)[:0]
	}
	b = append(b, statusLine(status)...)
	if _, ok := hdr["Date"]; !ok {
		b = append(b, "Date: "...)
		b = appendDate(b, time.Now())
		b = append(b, "\r\n"...)
	}
	b = appendHeader(b, hdr, &c.res.keys, func(k string) bool {
		return k == "Content-Length" || k == "Connection" || k == "Transfer-Encoding"
	})
	sent := 0
	if c.req.Method == http.MethodHead {
		// As Apache: neither the page nor its length.
		b = append(b, "Connection: close\r\n\r\n"...)
	} else {
		b = append(b, "Content-Length: "...)
		b = appendInt(b, int64(len(body)))
		b = append(b, "\r\nConnection: close\r\n\r\n"...)
		b = append(b, body...)
		sent = len(body)
	}
	_ = c.writeConn(b)
	return sent
}

var errHeadTooLarge = errors.New("http1: request head too large")

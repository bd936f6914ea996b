package mpm

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// Every accepted connection gets a request-head guard (timedConn): a
// timer (mod_reqtimeout's header stage) and Apache's LimitRequestLine,
// LimitRequestFieldSize and LimitRequestFields checks on the bytes as they
// come. net/http closes a connection whose head times out without a word
// and answers 431 to any oversized head; Apache answers 408, 414 or 400,
// and so do we.

// timedConn is a connection whose request heads are timed.
type timedConn struct {
	net.Conn
	settings phases.ConnSettings
	banner   string // the Server header of a refusal
	// outer is what the HTTP server reads and writes (the *tls.Conn over
	// this one for https): the 408 must go through it.
	outer net.Conn

	mu      sync.Mutex
	reading bool      // a request head is being waited for and the timer runs
	idle    bool      // between requests: the next byte starts a head
	idleAt  time.Time // when idle was last set (TLS only: see idleSince)
	start   time.Time
	got     int64
	timer   *time.Timer

	// The head scan: the length of the current line, how many lines so
	// far, whether the blank line ending the head was seen.
	scanning bool
	lineLen  int
	lines    int
	// encrypted: TLS runs over this connection, so its bytes cannot be
	// scanned (net/http's head budget still applies there).
	encrypted bool

	// worker is the worker bound to the connection (-1: none, event);
	// release gives it (or the connection's budget place) back, once.
	worker   int
	release  func()
	released atomic.Bool

	// firstLine is the request line as far as it was read (up to
	// LimitRequestLine+1 bytes); refused, if set, logs a refusal.
	firstLine []byte
	refused   func(status int, requestLine string, bodyBytes int)
}

// releaseOnce runs release the first time; it reports whether it did.
func (c *timedConn) releaseOnce() bool {
	if !c.released.CompareAndSwap(false, true) {
		return false
	}
	if c.release != nil {
		c.release()
	}
	return true
}

// startHead starts timing a request head.
func (c *timedConn) startHead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle, c.scanning, c.lineLen, c.lines = false, true, 0, 0
	c.firstLine = c.firstLine[:0]
	if c.settings.HeaderTimeout <= 0 {
		return
	}
	c.reading, c.start, c.got = true, time.Now(), 0
	c.armLocked()
}

// dataArrivedLocked starts timing the head of a keep-alive connection's next
// request, whose first bytes Read has just got. The timer is armed only if
// the read ends with the head still incomplete: nearly every head arrives
// whole in one read, and then no timer is touched at all.
func (c *timedConn) dataArrivedLocked() {
	c.idle, c.scanning, c.lineLen, c.lines = false, true, 0, 0
	c.firstLine = c.firstLine[:0]
	if c.settings.HeaderTimeout > 0 {
		c.reading, c.start, c.got = true, time.Now(), 0
	}
}

func (c *timedConn) armLocked() {
	d := c.settings.HeaderTimeout
	if c.settings.HeaderMinRate > 0 {
		d += time.Duration(float64(c.got) / float64(c.settings.HeaderMinRate) * float64(time.Second))
		if max := c.settings.HeaderMaxTimeout; max > 0 && d > max {
			d = max
		}
	}
	wait := time.Until(c.start.Add(d))
	if c.timer == nil {
		c.timer = time.AfterFunc(wait, c.expire)
	} else {
		c.timer.Reset(wait)
	}
}

// headDone stops the timer: the request head is in.
func (c *timedConn) headDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading = false
	if c.timer != nil {
		c.timer.Stop()
	}
}

// setIdle marks the connection as waiting for its next request; the
// KeepAliveTimeout governs until its first byte arrives.
func (c *timedConn) setIdle() {
	c.mu.Lock()
	c.idle = true
	if c.encrypted {
		c.idleAt = time.Now()
	}
	c.mu.Unlock()
}

// idleSince tells since when a TLS connection has been waiting for its
// next request (ok false: it is not). Plain connections are mpm/http1's,
// which keeps that itself (Server.CutIdle).
func (c *timedConn) idleSince() (t time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idleAt, c.idle && c.encrypted && !c.idleAt.IsZero()
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.idle {
			c.dataArrivedLocked()
		}
		if c.scanning && !c.encrypted {
			if status, why := c.scanLocked(p[:n]); status != 0 {
				c.reading = false
				c.mu.Unlock()
				c.refuse(status, why)
				return 0, net.ErrClosed
			}
		}
		if c.reading {
			c.got += int64(n)
			if c.scanning || c.encrypted {
				c.armLocked() // more of the head to wait for
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *timedConn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// scanLocked checks the head bytes in b against the LimitRequest*
// directives and returns the status to refuse the request with, if any.
func (c *timedConn) scanLocked(b []byte) (int, string) {
	cs := c.settings
	for len(b) > 0 {
		// The rest of the current line in this read.
		seg := b
		nl := bytes.IndexByte(b, '\n')
		if nl >= 0 {
			seg = b[:nl]
		}
		if len(seg) > 0 {
			if c.lines == 0 && (cs.LimitRequestLine <= 0 || len(c.firstLine) <= cs.LimitRequestLine) {
				keep := seg // for the log of a refusal, up to the limit + 1
				if cs.LimitRequestLine > 0 {
					keep = keep[:min(len(keep), cs.LimitRequestLine+1-len(c.firstLine))]
				}
				c.firstLine = append(c.firstLine, keep...)
			}
			c.lineLen += len(seg)
			if c.lines == 0 && cs.LimitRequestLine > 0 && c.lineLen > cs.LimitRequestLine+1 {
				return http.StatusRequestURITooLong, ""
			}
			if c.lines > 0 && cs.LimitRequestFieldSz > 0 && c.lineLen > cs.LimitRequestFieldSz+1 {
				return http.StatusBadRequest, "Size of a request header field exceeds server limit."
			}
		}
		if nl < 0 {
			return 0, ""
		}
		b = b[nl+1:]
		if c.lineLen <= 1 && c.lines > 0 { // the blank line: the head is complete
			c.scanning = false
			return 0, ""
		}
		if c.lineLen <= 1 && c.lines == 0 { // blank lines before a request are skipped
			c.lineLen = 0
			c.firstLine = c.firstLine[:0]
			continue
		}
		c.lines++
		c.lineLen = 0
		if cs.LimitRequestFields > 0 && c.lines-1 > cs.LimitRequestFields {
			return http.StatusBadRequest, "The number of request header fields exceeds this server's limit."
		}
	}
	return 0, ""
}

func (c *timedConn) expire() {
	c.mu.Lock()
	if !c.reading {
		c.mu.Unlock()
		return
	}
	c.reading = false
	c.mu.Unlock()
	c.refuse(http.StatusRequestTimeout, "")
}

// refuse writes Apache's error response for status and closes.
func (c *timedConn) refuse(status int, why string) {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	body := errorPageNotes(status, "GET", "", why)
	server := ""
	if c.banner != "" {
		server = "Server: " + c.banner + "\r\n"
	}
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nDate: %s\r\n%sContent-Length: %d\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n%s",
		status, http.StatusText(status), time.Now().UTC().Format(http.TimeFormat), server, len(body), body)
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.outer.Write([]byte(resp))
	_ = c.Conn.Close()
	c.mu.Lock()
	line := strings.TrimRight(string(c.firstLine), "\r")
	c.mu.Unlock()
	// A connection that never sent a byte has no request to log (as
	// Apache, which logs no 408 for it).
	if c.refused != nil && (line != "" || status != http.StatusRequestTimeout) {
		c.refused(status, line, len(body))
	}
}

// CloseWrite half-closes the TCP connection (a lingering close after an
// error answer).
func (c *timedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets net/http reach the TCP connection's ReadFrom (sendfile).
func (c *timedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

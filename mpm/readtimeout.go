package mpm

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// timedListener gives every accepted connection a request-head timer
// (mod_reqtimeout's header stage). net/http closes a connection whose head
// times out without a word; Apache answers 408, and so do we.
type timedListener struct {
	net.Listener
	settings func() phases.ConnSettings
}

func (l *timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &timedConn{Conn: c, settings: l.settings()}
	tc.outer = tc
	tc.startHead()
	return tc, nil
}

// timedConn is a connection whose request heads are timed.
type timedConn struct {
	net.Conn
	settings phases.ConnSettings
	// outer is what the HTTP server reads and writes (the *tls.Conn over
	// this one for https): the 408 must go through it.
	outer net.Conn

	mu      sync.Mutex
	reading bool // a request head is being waited for and the timer runs
	idle    bool // between requests: the next byte starts a head
	start   time.Time
	got     int64
	timer   *time.Timer
}

// startHead starts timing a request head.
func (c *timedConn) startHead() {
	if c.settings.HeaderTimeout <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading, c.idle, c.start, c.got = true, false, time.Now(), 0
	c.armLocked()
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
	c.mu.Unlock()
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		idle := c.idle
		if c.reading {
			c.got += int64(n)
			if c.settings.HeaderMinRate > 0 {
				c.armLocked()
			}
		}
		c.mu.Unlock()
		if idle {
			c.startHead()
		}
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

// expire answers 408 and closes, unless the head arrived meanwhile.
func (c *timedConn) expire() {
	c.mu.Lock()
	if !c.reading {
		c.mu.Unlock()
		return
	}
	c.reading = false
	c.mu.Unlock()
	body := errorPage(http.StatusRequestTimeout, "GET", "")
	resp := fmt.Sprintf("HTTP/1.1 408 Request Timeout\r\nDate: %s\r\nContent-Length: %d\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n%s",
		time.Now().UTC().Format(http.TimeFormat), len(body), body)
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.outer.Write([]byte(resp))
	_ = c.Conn.Close()
}

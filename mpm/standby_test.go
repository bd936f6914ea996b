package mpm

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// An acceptor in standby does not take connections while another process
// accepts; it takes them once standby ends, and takes connections left
// queued for standbyPatience looks even while still in standby (the other
// process is stuck).
func TestAcceptorStandby(t *testing.T) {
	l, fd := listenFD(t)
	a, err := newAcceptor()
	if err != nil {
		t.Fatal(err)
	}
	var standby atomic.Bool
	standby.Store(true)
	a.standby = standby.Load
	got := make(chan net.Conn, 4)
	a.setSockets([]*acceptSocket{{fd: fd, deliver: func(c net.Conn) { got <- c }}})
	gate, _ := oneWorkerGate()
	go a.run(gate, func(s *acceptSocket, c net.Conn, _ int, release func()) {
		s.deliver(c)
		release()
	})
	defer a.stopAndWait()

	// A stuck sibling: the connection waits standbyPatience looks, then
	// this process takes it.
	start := time.Now()
	c1, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	select {
	case c := <-got:
		c.Close()
		if d := time.Since(start); d < time.Duration(standbyPatience-1)*standbyTick {
			t.Fatalf("taken after %v in standby, before %d looks", d, standbyPatience)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a connection left queued was never taken in standby")
	}

	// Standby over: watching again, a connection is taken at once (well
	// within the patience).
	standby.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		active := a.active
		a.mu.Unlock()
		if active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("watchers not started after standby ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c2, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	select {
	case c := <-got:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("not accepted after standby ended")
	}
}

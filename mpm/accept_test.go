package mpm

import (
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// listenFD opens a loopback listening socket and returns it with a
// descriptor of it the acceptor can use (as a child's inherited copy).
func listenFD(t *testing.T) (net.Listener, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); f.Close() })
	return l, int(f.Fd())
}

// oneWorkerGate is prefork's gate: a single worker.
func oneWorkerGate() (func(stop <-chan struct{}) (int, func(), bool), *atomic.Int32) {
	slot := make(chan struct{}, 1)
	var held atomic.Int32
	return func(stop <-chan struct{}) (int, func(), bool) {
		select {
		case slot <- struct{}{}:
			held.Add(1)
			return 0, func() { held.Add(-1); <-slot }, true
		case <-stop:
			return -1, nil, false
		}
	}, &held
}

// TestAcceptorOneWorkerWatchesEverySocket: with one worker (prefork) and
// two listening sockets, a connection on either is accepted — the worker
// is held only while a connection is served, not while a socket is
// waited for — and a connection queued before the acceptor started is
// taken too (the poller reports readiness as an edge).
func TestAcceptorOneWorkerWatchesEverySocket(t *testing.T) {
	la, fdA := listenFD(t)
	lb, fdB := listenFD(t)

	early, err := net.Dial("tcp", lb.Addr().String()) // queued before run
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()

	a, err := newAcceptor()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 8)
	serve := func(name string) func(net.Conn) {
		return func(c net.Conn) {
			// One byte from the client, echoed: the connection is served
			// while it holds the worker.
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err == nil {
				c.Write(b[:])
			}
			c.Close()
			got <- name
		}
	}
	a.setSockets([]*acceptSocket{{fd: fdA, deliver: serve("a")}, {fd: fdB, deliver: serve("b")}})
	gate, held := oneWorkerGate()
	go a.run(gate, func(s *acceptSocket, c net.Conn, _ int, release func()) {
		go func() { s.deliver(c); release() }()
	})
	defer a.stopAndWait()

	exchange := func(c net.Conn) {
		t.Helper()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatalf("no answer on %s: %v", c.RemoteAddr(), err)
		}
	}
	exchange(early)
	if name := <-got; name != "b" {
		t.Fatalf("early connection served by %q", name)
	}
	for _, l := range []net.Listener{la, lb, la, la, lb} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		exchange(c)
		c.Close()
		want := map[net.Listener]string{la: "a", lb: "b"}[l]
		if name := <-got; name != want {
			t.Fatalf("connection to %s served by %q", want, name)
		}
	}
	// A connection arriving while the one worker is busy waits in the
	// queue and is served once the worker is free.
	busy, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	deadline := time.Now().Add(5 * time.Second)
	for held.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	waiting, err := net.Dial("tcp", lb.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	exchange(busy)
	exchange(waiting)
}

// TestAcceptorStopsPromptly: stopAndWait returns while watchers wait in
// the poller and in the gate, and the sockets stay open for the other
// processes sharing them.
func TestAcceptorStopsPromptly(t *testing.T) {
	la, fdA := listenFD(t)
	_, fdB := listenFD(t)
	a, err := newAcceptor()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{}, 1)
	closeConn := func(c net.Conn) { c.Close(); served <- struct{}{} }
	a.setSockets([]*acceptSocket{{fd: fdA, deliver: closeConn}, {fd: fdB, deliver: closeConn}})
	gate, _ := oneWorkerGate()
	go a.run(gate, func(s *acceptSocket, c net.Conn, _ int, release func()) { s.deliver(c); release() })
	// One connection served: the watchers are in their loops, waiting.
	first, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("nothing accepted")
	}
	start := time.Now()
	a.stopAndWait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stopAndWait took %v", d)
	}
	// The listening socket still accepts (in this process, as the master).
	done := make(chan error, 1)
	go func() {
		c, err := la.Accept()
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	c, err := net.Dial("tcp", la.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("listener after stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("listener after stop accepts nothing")
	}
	// The descriptors handed to the acceptor are still open.
	for _, fd := range []int{fdA, fdB} {
		if _, err := os.Stat("/proc/self/fd/" + strconv.Itoa(fd)); err != nil {
			t.Fatalf("fd %d closed by the acceptor: %v", fd, err)
		}
	}
}

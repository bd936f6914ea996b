package mpm

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// acceptor takes connections off the listening sockets the way Apache's
// children do: only while a worker is free (the MPM's gate), waiting with
// poll(2) on every socket at once and accepting from whichever is ready.
// The sockets are shared with the master and the other children; a
// connection another process takes first is simply not ours (EAGAIN), and
// a connection left in the queue waits there for the next free worker in
// any process, so a busy or finishing child never strands one.
type acceptor struct {
	wakeR, wakeW *os.File // wakes the poll when the socket set changes or on stop

	mu      sync.Mutex
	sockets []*acceptSocket
	stopped bool
	// stopCh closes on stop (it also wakes a gate waiting for a worker);
	// done closes when run has returned: no connection is being accepted
	// or delivered any more.
	stopCh chan struct{}
	done   chan struct{}
	once   sync.Once
}

// acceptSocket is one listening socket and where its connections go.
type acceptSocket struct {
	fd      int
	deliver func(net.Conn)
}

func newAcceptor() (*acceptor, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(int(r.Fd()), true); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &acceptor{wakeR: r, wakeW: w, stopCh: make(chan struct{}), done: make(chan struct{})}, nil
}

// setSockets replaces the socket set; the poll in progress restarts.
func (a *acceptor) setSockets(s []*acceptSocket) {
	a.mu.Lock()
	a.sockets = s
	a.mu.Unlock()
	a.wake()
}

func (a *acceptor) wake() { _, _ = a.wakeW.Write([]byte{0}) }

// stop ends run; the sockets stay open (they are not the acceptor's).
func (a *acceptor) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	a.once.Do(func() { close(a.stopCh) })
	a.wake()
}

// stopAndWait stops the acceptor and waits until a connection it was
// accepting has been delivered, so closing the listeners after it cannot
// drop an accepted connection (its client would see a reset).
func (a *acceptor) stopAndWait() {
	a.stop()
	select {
	case <-a.done:
	case <-time.After(5 * time.Second): // a deliver stuck on a dead server: do not hang the exit
	}
}

func (a *acceptor) isStopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped
}

// run accepts until stop: gate blocks until a worker may take a connection
// and returns the worker and what releases it (ok false: stop); the
// connection is handed to deliver with them.
func (a *acceptor) run(gate func(stop <-chan struct{}) (worker int, release func(), ok bool), deliver func(s *acceptSocket, c net.Conn, worker int, release func())) {
	defer close(a.done)
	for {
		worker, release, ok := gate(a.stopCh)
		if !ok {
			return
		}
		for {
			if a.isStopped() {
				release()
				return
			}
			s, c, err := a.acceptOne()
			if err != nil || c == nil {
				continue
			}
			deliver(s, c, worker, release)
			break
		}
	}
}

// acceptOne waits (bounded, so stop is noticed) for a ready socket and
// accepts one connection from it; nil when none was ready or another
// process took it.
func (a *acceptor) acceptOne() (*acceptSocket, net.Conn, error) {
	a.mu.Lock()
	sockets := a.sockets
	a.mu.Unlock()
	fds := make([]unix.PollFd, 0, len(sockets)+1)
	fds = append(fds, unix.PollFd{Fd: int32(a.wakeR.Fd()), Events: unix.POLLIN})
	for _, s := range sockets {
		fds = append(fds, unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN})
	}
	n, err := unix.Poll(fds, 1000)
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return nil, nil, nil
		}
		time.Sleep(10 * time.Millisecond) // a closed fd in a race with setSockets
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, nil
	}
	if fds[0].Revents != 0 {
		var buf [64]byte
		_, _ = unix.Read(int(a.wakeR.Fd()), buf[:])
	}
	for i, s := range sockets {
		if ev := fds[i+1].Revents; ev&(unix.POLLNVAL|unix.POLLERR) != 0 {
			// Closed under us by a socket-set change: wait for the new set
			// rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if fds[i+1].Revents&unix.POLLIN == 0 {
			continue
		}
		nfd, _, err := unix.Accept4(s.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			continue // EAGAIN: another process took it
		}
		f := os.NewFile(uintptr(nfd), "client")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		return s, c, nil
	}
	return nil, nil, nil
}

// connListener is a net.Listener fed by the acceptor: what net/http's
// Serve takes connections from.
type connListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// push hands c to Serve; false when the listener is closed (c is closed).
func (l *connListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		c.Close()
		return false
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

package mpm

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// acceptor takes connections off the listening sockets the way Apache's
// children do: only while a worker is free (the MPM's gate), from whichever
// socket is ready. The sockets are shared with the master and the other
// children; a connection another process takes first is simply not ours
// (EAGAIN), and a connection left in the queue waits there for the next free
// worker in any process, so a busy or finishing child never strands one.
//
// Each socket has a watcher goroutine that waits for it in Go's network
// poller, not in a blocking poll(2): a thread parked in a system call is
// taken back by the runtime's monitor, which then polls every 20 µs for a
// while — on a small machine that churn of thread wake-ups cost more than
// the accepts themselves when clients reconnect often (MaxKeepAliveRequests).
// A watcher takes a worker from the gate only to try an accept, and gives
// it back when the queue turns out empty, so with one worker and several
// sockets (prefork) every socket is still watched.
type acceptor struct {
	mu       sync.Mutex
	sockets  []*acceptSocket
	watchers []*socketWatcher
	gate     func(stop <-chan struct{}) (worker int, release func(), ok bool)
	deliver  func(s *acceptSocket, c net.Conn, worker int, release func())
	stopped  bool

	// standby, when set, tells whether to leave new connections to
	// another process (workers.standby): the watchers then stop, so new
	// connections do not even wake this process, and the socket queues
	// are looked at every standbyTick; when connections stay queued
	// (standbyPatience) they are taken: the other process is stuck.
	standby func() bool
	active  bool // the watchers are running

	// watching counts the watcher goroutines; stopCh closes on stop (it
	// also wakes a gate waiting for a worker); done closes when run has
	// returned: no connection is being accepted or delivered any more.
	watching sync.WaitGroup
	stopCh   chan struct{}
	done     chan struct{}
	once     sync.Once
}

// acceptSocket is one listening socket and where its connections go.
type acceptSocket struct {
	fd      int
	deliver func(net.Conn)
}

// socketWatcher waits for one socket: a duplicate of its descriptor in
// the network poller, so that closing it here leaves the socket open for
// the master and the other children.
type socketWatcher struct {
	socket *acceptSocket
	file   *os.File
	raw    syscall.RawConn
	quit   chan struct{}
	once   sync.Once
}

func newAcceptor() (*acceptor, error) {
	return &acceptor{stopCh: make(chan struct{}), done: make(chan struct{})}, nil
}

// setSockets replaces the socket set: the watchers of the old set stop,
// new ones start (once run has started).
func (a *acceptor) setSockets(s []*acceptSocket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sockets = s
	if a.gate == nil || a.stopped || !a.active {
		return
	}
	a.restartWatchersLocked()
}

func (a *acceptor) stopWatchersLocked() {
	for _, w := range a.watchers {
		w.stop()
	}
	a.watchers = nil
	a.active = false
}

func (a *acceptor) restartWatchersLocked() {
	a.stopWatchersLocked()
	a.active = true
	for _, s := range a.sockets {
		w, err := newSocketWatcher(s)
		if err != nil {
			// The descriptor is gone (a socket-set change raced with us):
			// the next setSockets brings the live set.
			continue
		}
		a.watchers = append(a.watchers, w)
		a.watching.Add(1)
		go a.watch(w, a.gate, a.deliver)
	}
}

func newSocketWatcher(s *acceptSocket) (*socketWatcher, error) {
	fd, err := unix.Dup(s.fd)
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	// Non-blocking (a flag of the socket itself, shared by every copy):
	// an accept must answer EAGAIN, never wait in the kernel.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "listener")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &socketWatcher{socket: s, file: f, raw: raw, quit: make(chan struct{})}, nil
}

// stop ends the watcher: its gate wait and its poller wait both return.
func (w *socketWatcher) stop() {
	w.once.Do(func() {
		close(w.quit)
		_ = w.file.SetReadDeadline(time.Unix(1, 0))
	})
}

func (w *socketWatcher) stopping() bool {
	select {
	case <-w.quit:
		return true
	default:
		return false
	}
}

// stop ends run; the sockets stay open (they are not the acceptor's).
func (a *acceptor) stop() {
	a.mu.Lock()
	a.stopped = true
	a.stopWatchersLocked()
	a.mu.Unlock()
	a.once.Do(func() { close(a.stopCh) })
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

// run accepts until stop: gate blocks until a worker may take a connection
// and returns the worker and what releases it (ok false: stop); the
// connection is handed to deliver with them.
func (a *acceptor) run(gate func(stop <-chan struct{}) (worker int, release func(), ok bool), deliver func(s *acceptSocket, c net.Conn, worker int, release func())) {
	defer close(a.done)
	a.mu.Lock()
	a.gate, a.deliver = gate, deliver
	if !a.stopped && (a.standby == nil || !a.standby()) {
		a.restartWatchersLocked()
	}
	a.mu.Unlock()
	if a.standby != nil {
		a.superviseStandby()
	}
	<-a.stopCh
	a.watching.Wait()
}

// standbyTick is how often a process in standby looks at the scoreboard
// and at its sockets' queues; standbyPatience is how many looks in a row
// must find a connection queued before it takes what is queued: a busy
// process leaves one queued for a fraction of a millisecond now and then
// (seen at a third of the looks under full load), a stuck one leaves
// them all.
const (
	standbyTick     = 10 * time.Millisecond
	standbyPatience = 10
)

// superviseStandby starts and stops the watchers as standby says, until
// stop.
func (a *acceptor) superviseStandby() {
	t := time.NewTicker(standbyTick)
	defer t.Stop()
	// Two looks in a row, for either change: a process that has no
	// idle worker for an instant is not swamped.
	backlog, alone := 0, 0
	for {
		select {
		case <-a.stopCh:
			return
		case <-t.C:
		}
		standby := a.standby()
		if standby {
			alone = 0
		} else {
			alone++
		}
		a.mu.Lock()
		switch {
		case a.stopped:
		case !standby:
			backlog = 0
			if alone >= 2 && !a.active {
				a.restartWatchersLocked()
			}
		case a.active:
			a.stopWatchersLocked()
		case a.queuedLocked():
			if backlog++; backlog >= standbyPatience {
				backlog = 0
				// Until the next tick: what is queued now and what
				// comes meanwhile is ours.
				a.restartWatchersLocked()
			}
		default:
			backlog = 0
		}
		a.mu.Unlock()
	}
}

// queuedLocked tells whether a connection waits in a socket's accept
// queue (TCP_INFO's unacked is a listening socket's queue length); a
// socket it cannot tell for counts as having one.
func (a *acceptor) queuedLocked() bool {
	for _, s := range a.sockets {
		info, err := unix.GetsockoptTCPInfo(s.fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil || info.Unacked > 0 {
			return true
		}
	}
	return false
}

// watch accepts from one socket until its watcher stops.
func (a *acceptor) watch(w *socketWatcher, gate func(stop <-chan struct{}) (int, func(), bool), deliver func(*acceptSocket, net.Conn, int, func())) {
	defer a.watching.Done()
	defer w.file.Close()
	for !w.stopping() {
		nfd, worker, release, err := w.acceptOne(gate)
		if errors.Is(err, errGateClosed) || (err != nil && w.stopping()) {
			return
		}
		if err != nil {
			// EMFILE and the like: the connection stays queued; try again
			// shortly rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		f := os.NewFile(uintptr(nfd), "client")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			release()
			continue
		}
		// Delivered even if the watcher is stopping meanwhile: the
		// client is connected, and a closing server answers it properly.
		deliver(w.socket, c, worker, release)
	}
}

// errGateClosed: the gate gave no worker (the child or this watcher is
// stopping).
var errGateClosed = errors.New("accept: no more workers")

// acceptOne returns an accepted descriptor with the worker it holds. It
// tries the accept first and waits for the socket only after EAGAIN: the
// poller reports a socket's readiness as an edge, and a connection queued
// before the wait began would raise none.
func (w *socketWatcher) acceptOne(gate func(stop <-chan struct{}) (int, func(), bool)) (nfd, worker int, release func(), err error) {
	nfd = -1
	var acceptErr error
	waitErr := w.raw.Read(func(fd uintptr) bool {
		var ok bool
		worker, release, ok = gate(w.quit)
		if !ok {
			return true
		}
		for {
			n, _, e := unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			switch {
			case e == nil:
				nfd = n
				return true
			case errors.Is(e, unix.EINTR), errors.Is(e, unix.ECONNABORTED):
				continue
			}
			release()
			release = nil
			if errors.Is(e, unix.EAGAIN) {
				return false // another process took it, or none yet: wait
			}
			acceptErr = e
			return true
		}
	})
	if nfd >= 0 {
		return nfd, worker, release, nil
	}
	if waitErr != nil {
		return -1, 0, nil, waitErr
	}
	if acceptErr != nil {
		return -1, 0, nil, acceptErr
	}
	return -1, 0, nil, errGateClosed
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

package mpm

import (
	"sync"
	"sync/atomic"

	"github.com/httpdg/httpdg/mpm/scoreboard"
)

// workers are a child's worker slots: how many connections or requests it
// serves at once, and the scoreboard record of each.
//
//   - prefork and worker bind a worker to a connection for the
//     connection's life (prefork has one): a child only accepts while one
//     is free.
//   - event binds a worker to a request: an idle keep-alive connection
//     holds none. Connections are bounded separately (Apache's
//     AsyncRequestWorkerFactor: ThreadsPerChild × (1 + factor)).
type workers struct {
	perRequest bool
	free       chan int      // free worker indexes
	conns      chan struct{} // event: the connection budget
	board      *scoreboard.Board
	slot       int // the process slot in the board
	// generation is the child's config generation (standby compares
	// it); accepting mirrors what the board says of this child.
	generation int
	accepting  atomic.Bool
	acceptMu   sync.Mutex  // orders the board's writes with accepting
	stopped    atomic.Bool // no longer accepting for good

	closed   chan struct{}
	once     sync.Once
	open     atomic.Int64 // connections open
	accepted atomic.Int64 // connections accepted, for MaxConnectionsPerChild
	// maxConns is MaxConnectionsPerChild (0: none); full closes when the
	// child has accepted that many.
	maxConns int64
	full     chan struct{}
	fullOnce sync.Once
}

// countConnection counts an accepted connection and reports whether it
// was the child's last (MaxConnectionsPerChild).
func (w *workers) countConnection() bool {
	n := w.accepted.Add(1)
	if w.maxConns > 0 && n >= w.maxConns {
		w.fullOnce.Do(func() { close(w.full) })
		return true
	}
	return false
}

// newWorkers makes n workers in process slot slot of board (nil: no
// scoreboard); perRequest is the event MPM's binding, with connLimit
// connections at most.
func newWorkers(n int, perRequest bool, connLimit int, board *scoreboard.Board, slot int) *workers {
	w := &workers{perRequest: perRequest, free: make(chan int, n), board: board, slot: slot, closed: make(chan struct{}), full: make(chan struct{})}
	for i := 0; i < n; i++ {
		w.free <- i
		w.setState(i, scoreboard.Idle)
	}
	if board != nil {
		_, threadLimit := board.Limits()
		for i := n; i < threadLimit; i++ {
			w.setState(i, scoreboard.Open)
		}
	}
	if perRequest {
		w.conns = make(chan struct{}, connLimit)
	}
	return w
}

func (w *workers) worker(i int) *scoreboard.Worker {
	if w.board == nil || i < 0 {
		return nil
	}
	return w.board.Worker(w.slot, i)
}

func (w *workers) setState(i int, s scoreboard.State) {
	if sw := w.worker(i); sw != nil {
		sw.SetState(s)
	}
}

// close wakes every waiter: no more connections or requests.
func (w *workers) close() {
	w.once.Do(func() { close(w.closed) })
	w.stopAccepting()
}

// connGate is the acceptor's gate: it waits for a worker (prefork,
// worker) or a connection budget (event) and returns what releases it
// with the worker index bound to the connection (-1 for event).
func (w *workers) connGate(stop <-chan struct{}) (worker int, release func(), ok bool) {
	if w.perRequest {
		select {
		case w.conns <- struct{}{}:
			return -1, func() { <-w.conns }, true
		default:
		}
		// Out of connection budget: children in standby take over.
		w.setAccepting(false)
		defer w.setAccepting(true)
		select {
		case w.conns <- struct{}{}:
			return -1, func() { <-w.conns }, true
		case <-w.closed:
			return -1, nil, false
		case <-stop:
			return -1, nil, false
		}
	}
	select {
	case i := <-w.free:
		return i, func() { w.setState(i, scoreboard.Idle); w.free <- i }, true
	case <-w.closed:
		return -1, nil, false
	case <-stop:
		return -1, nil, false
	}
}

// requestWorker returns the worker a request runs on: the connection's
// (bound) or, for event, a free one taken for the request, to be given
// back with releaseRequestWorker. ok is false when the child is stopping.
func (w *workers) requestWorker(bound int) (worker int, ok bool) {
	if !w.perRequest {
		return bound, true
	}
	select {
	case i := <-w.free:
		if len(w.free) == 0 {
			// No idle worker: as Apache's listener stops accepting
			// until one is, children in standby take over.
			w.setAccepting(false)
		}
		return i, true
	case <-w.closed:
		return -1, false
	}
}

// releaseRequestWorker gives back what requestWorker took (a method, not
// a returned closure: no allocation per request).
func (w *workers) releaseRequestWorker(i int) {
	if !w.perRequest {
		return
	}
	w.setState(i, scoreboard.Idle)
	w.free <- i
	if !w.accepting.Load() && len(w.conns) < cap(w.conns) {
		w.setAccepting(true)
	}
}

// setAccepting publishes (event, with a scoreboard) whether the child
// takes connections now; only changes touch the shared board.
func (w *workers) setAccepting(on bool) {
	if !w.perRequest || w.board == nil || w.accepting.Load() == on {
		return
	}
	w.acceptMu.Lock()
	defer w.acceptMu.Unlock()
	if on && w.stopped.Load() {
		return
	}
	if w.accepting.Load() != on {
		w.accepting.Store(on)
		w.board.SetAccepting(w.slot, on)
	}
}

// stopAccepting says for good that the child takes no more connections.
func (w *workers) stopAccepting() {
	w.stopped.Store(true)
	w.setAccepting(false)
}

// standby tells whether the child should leave new connections to a
// lower-slot child of its generation that accepts now (event). Its
// workers are bound to requests, not connections, so one child can hold
// many; connections gathered in the fewest children are served faster
// than spread ones, because each Go process that sleeps and wakes between
// requests pays its runtime's thread hand-offs, and on a small machine
// that cost decides (README, Performance). Apache promises no
// distribution of connections over its children.
func (w *workers) standby() bool {
	return w.board.AcceptingBefore(w.slot, w.generation) > 0
}

// standbyFunc is standby for the acceptor, or nil where a child never
// stands by: prefork and worker (a worker holds a connection), no
// scoreboard (one process), the first slot.
func (w *workers) standbyFunc() func() bool {
	if !w.perRequest || w.board == nil || w.slot == 0 {
		return nil
	}
	return w.standby
}

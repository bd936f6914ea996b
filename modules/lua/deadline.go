package lua

import (
	"context"
	"sync"
	"time"
)

// callDeadline is the context LuaTimeout puts on a state's calls, one per
// state and reused: context.WithTimeout would allocate a context and a
// timer for every request. arm starts a call's clock, disarm ends it; a
// deadline that passes in between closes Done, which gopher-lua's loop
// watches. Done is read without a lock: it only changes in arm, before
// the call, on the goroutine that runs it.
type callDeadline struct {
	done  chan struct{}
	timer *time.Timer

	mu    sync.Mutex
	armed bool
	at    time.Time // when the armed call's time is up
	err   error
}

var _ context.Context = (*callDeadline)(nil)

func newCallDeadline() *callDeadline {
	d := &callDeadline{done: make(chan struct{})}
	d.timer = time.AfterFunc(time.Hour, d.expire)
	d.timer.Stop()
	return d
}

// arm starts a call that may run for timeout.
func (d *callDeadline) arm(timeout time.Duration) {
	d.mu.Lock()
	if d.err != nil { // the last call timed out: its channel is closed
		d.done = make(chan struct{})
		d.err = nil
	}
	d.armed = true
	d.at = time.Now().Add(timeout)
	d.mu.Unlock()
	d.timer.Reset(timeout)
}

// disarm ends the call; a timer firing late does nothing.
func (d *callDeadline) disarm() {
	d.timer.Stop()
	d.mu.Lock()
	d.armed = false
	d.mu.Unlock()
}

func (d *callDeadline) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	// A late firing meant for an earlier call finds a later "at".
	if d.armed && d.err == nil && !time.Now().Before(d.at) {
		d.err = context.DeadlineExceeded
		close(d.done)
	}
}

func (d *callDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *callDeadline) Done() <-chan struct{}       { return d.done }
func (d *callDeadline) Value(any) any               { return nil }

func (d *callDeadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

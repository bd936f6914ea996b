package lua

import (
	"context"
	"sync"
	"time"
)

// callDeadline is the context a state's calls run under, one per state
// and reused: context.WithTimeout would allocate a context and a timer for
// every request. It stops a call past LuaTimeout and one whose state grew
// past LuaMemoryLimit.
//
// arm starts a call's clock, disarm ends it; a deadline that passes in
// between closes Done, which gopher-lua's loop watches. gopher-lua calls
// Done before every instruction, on the goroutine running the script:
// that is where the memory guard (mem, see memlimit.go) measures the
// state. Done is read without a lock: it only changes in arm, before the
// call, on that same goroutine. The context of a coroutine (gopher-lua
// derives it with context.WithCancel) is tied to this one through
// AfterFunc, so that no goroutine of the context package calls Done from
// elsewhere.
type callDeadline struct {
	done  chan struct{}
	timer *time.Timer

	// mem is the running call's LuaMemoryLimit guard, nil without a
	// limit; memSize is the state's size when the guard stopped the call.
	mem     *memoryGuard
	memSize int64

	mu    sync.Mutex
	armed bool
	at    time.Time // when the armed call's time is up
	err   error
	after map[int]func() // AfterFunc's functions, by registration
	next  int
}

var _ context.Context = (*callDeadline)(nil)

func newCallDeadline() *callDeadline {
	d := &callDeadline{done: make(chan struct{})}
	d.timer = time.AfterFunc(time.Hour, d.expire)
	d.timer.Stop()
	return d
}

// arm starts a call that may run for timeout (0: no time limit) with the
// memory guard mem (nil: no memory limit).
func (d *callDeadline) arm(timeout time.Duration, mem *memoryGuard) {
	d.mu.Lock()
	if d.err != nil { // the last call was stopped: its channel is closed
		d.done = make(chan struct{})
		d.err = nil
	}
	d.armed = true
	d.at = time.Now().Add(timeout)
	d.mu.Unlock()
	d.mem, d.memSize = mem, 0
	if mem != nil {
		mem.start()
	}
	if timeout > 0 {
		d.timer.Reset(timeout)
	}
}

// disarm ends the call; a timer firing late does nothing.
func (d *callDeadline) disarm() {
	d.timer.Stop()
	if d.mem != nil {
		d.mem.sampler.end()
		d.mem = nil
	}
	d.mu.Lock()
	d.armed = false
	d.mu.Unlock()
}

func (d *callDeadline) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	// A late firing meant for an earlier call finds a later "at".
	if d.armed && !time.Now().Before(d.at) {
		d.stop(context.DeadlineExceeded)
	}
}

// stopForMemory stops the call: its state holds about size bytes, past
// LuaMemoryLimit. It runs on the script's goroutine.
func (d *callDeadline) stopForMemory(size int64) {
	d.memSize = size
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed {
		d.stop(errMemoryLimit)
	}
}

// stop ends the armed call with err (the first reason wins). d.mu is held.
func (d *callDeadline) stop(err error) {
	if d.err != nil {
		return
	}
	d.err = err
	close(d.done)
	for id, f := range d.after {
		delete(d.after, id)
		go f()
	}
}

func (d *callDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *callDeadline) Value(any) any               { return nil }

func (d *callDeadline) Done() <-chan struct{} {
	if g := d.mem; g != nil && d.memSize == 0 && !g.poll() {
		d.stopForMemory(g.size)
	}
	return d.done
}

func (d *callDeadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// AfterFunc runs f (in a goroutine of its own) when the call is stopped;
// stop unregisters it. context.WithCancel uses it for coroutines' contexts.
func (d *callDeadline) AfterFunc(f func()) (stop func() bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		go f()
		return func() bool { return false }
	}
	if d.after == nil {
		d.after = map[int]func(){}
	}
	id := d.next
	d.next++
	d.after[id] = f
	return func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.after[id]
		delete(d.after, id)
		return ok
	}
}

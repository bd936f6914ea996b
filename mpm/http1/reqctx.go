package http1

import (
	"context"
	"sync"
	"time"
)

// requestContext is a request's context, as net/http gives one: its
// connection context's values and deadline, canceled when the handler
// returns or the answer cannot be written. Unlike context.WithCancel it
// makes its Done channel (and watches the parent) only when asked: most
// handlers never ask, and a served request then costs one small
// allocation instead of a cancelCtx and its cancellation.
type requestContext struct {
	parent context.Context
	mu     sync.Mutex
	done   chan struct{}
	err    error
	stop   func() bool // stops the watch on parent
}

func newRequestContext(parent context.Context) *requestContext {
	return &requestContext{parent: parent}
}

func (c *requestContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *requestContext) Value(key any) any { return c.parent.Value(key) }

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err == nil {
			c.err = c.parent.Err()
		}
		if c.err != nil {
			close(c.done)
		} else if c.parent.Done() != nil {
			parent := c.parent
			c.stop = context.AfterFunc(parent, func() { c.cancel(parent.Err()) })
		}
	}
	return c.done
}

// Err is nil until Done is closed (or would be, had it been made).
func (c *requestContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.done == nil {
		c.err = c.parent.Err()
	}
	return c.err
}

// cancel ends the context with err (the first call counts).
func (c *requestContext) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
}

func (c *requestContext) String() string { return "http1.requestContext" }

package phases

import (
	"fmt"
	"sync"
)

// Pool is an APR-style lifetime: things registered on a pool are cleaned up
// when it is cleared or destroyed. Pools nest (pglobal ⊃ pconf ⊃ ptemp,
// pchild ⊃ connection ⊃ request); clearing a pool first destroys its
// sub-pools, then runs its own cleanups, last registered first.
type Pool struct {
	name   string
	parent *Pool

	mu       sync.Mutex
	subs     []*Pool
	cleanups []*Cleanup
	userdata map[string]any
	// The first key set lives here, not in the map: most request pools
	// hold one entry, and a map per request is two allocations.
	firstKey  string
	firstVal  any
	hasFirst  bool
	destroyed bool
	onError   func(error)
}

// Cleanup is a registered cleanup; Kill and Run take it.
type Cleanup struct {
	fn     func() error
	origin string
}

// NewPool returns a root pool (pglobal). onError receives every error or
// panic of a cleanup, which never stops the other cleanups; sub-pools
// inherit it. It may be nil.
func NewPool(name string, onError func(error)) *Pool {
	return &Pool{name: name, onError: onError}
}

// Sub creates a sub-pool, destroyed when p is cleared or destroyed.
func (p *Pool) Sub(name string) *Pool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.destroyed {
		panic(fmt.Sprintf("pool %s: Sub after Destroy", p.name))
	}
	s := &Pool{name: name, parent: p, onError: p.onError}
	p.subs = append(p.subs, s)
	return s
}

// Name is the pool's name: pglobal, pconf, plog, ptemp, pchild, connection,
// request.
func (p *Pool) Name() string { return p.name }

// Destroyed reports whether the pool has been destroyed.
func (p *Pool) Destroyed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.destroyed
}

// Parent is the enclosing pool, nil for a root.
func (p *Pool) Parent() *Pool { return p.parent }

// CleanupRegister arranges for fn to run when p is cleared or destroyed.
// origin names the registrant in error reports (e.g. "startuplog.ChildInit").
func (p *Pool) CleanupRegister(origin string, fn func() error) *Cleanup {
	c := &Cleanup{fn: fn, origin: origin}
	p.mu.Lock()
	p.cleanups = append(p.cleanups, c)
	p.mu.Unlock()
	return c
}

// CleanupKill unregisters c without running it.
func (p *Pool) CleanupKill(c *Cleanup) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.cleanups {
		if x == c {
			p.cleanups = append(p.cleanups[:i], p.cleanups[i+1:]...)
			return true
		}
	}
	return false
}

// CleanupRun unregisters c and runs it now, returning its error.
func (p *Pool) CleanupRun(c *Cleanup) error {
	if !p.CleanupKill(c) {
		return nil
	}
	return p.runOne(c)
}

// SetUserdata stores module state under key for the pool's lifetime.
func (p *Pool) SetUserdata(key string, v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.hasFirst || p.firstKey == key {
		p.firstKey, p.firstVal, p.hasFirst = key, v, true
		return
	}
	if p.userdata == nil {
		p.userdata = map[string]any{}
	}
	p.userdata[key] = v
}

// Userdata returns what SetUserdata stored under key.
func (p *Pool) Userdata(key string) (any, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hasFirst && p.firstKey == key {
		return p.firstVal, true
	}
	v, ok := p.userdata[key]
	return v, ok
}

// Clear destroys the sub-pools, then runs the cleanups last registered
// first, and empties the userdata; the pool stays usable. It returns every
// cleanup failure (each also reported to the error function).
func (p *Pool) Clear() []error {
	p.mu.Lock()
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	var errs []error
	for i := len(subs) - 1; i >= 0; i-- {
		errs = append(errs, subs[i].destroy(false)...)
	}
	for {
		// Take one at a time: a cleanup may register another.
		p.mu.Lock()
		n := len(p.cleanups)
		if n == 0 {
			p.userdata = nil
			p.firstKey, p.firstVal, p.hasFirst = "", nil, false
			p.mu.Unlock()
			return errs
		}
		c := p.cleanups[n-1]
		p.cleanups = p.cleanups[:n-1]
		p.mu.Unlock()
		if err := p.runOne(c); err != nil {
			errs = append(errs, err)
		}
	}
}

// Destroy clears the pool and detaches it from its parent; it must not be
// used afterwards.
func (p *Pool) Destroy() []error { return p.destroy(true) }

func (p *Pool) destroy(detach bool) []error {
	errs := p.Clear()
	p.mu.Lock()
	p.destroyed = true
	p.mu.Unlock()
	if detach && p.parent != nil {
		p.parent.mu.Lock()
		for i, s := range p.parent.subs {
			if s == p {
				p.parent.subs = append(p.parent.subs[:i], p.parent.subs[i+1:]...)
				break
			}
		}
		p.parent.mu.Unlock()
	}
	return errs
}

func (p *Pool) runOne(c *Cleanup) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pool %s: cleanup %s panicked: %v", p.name, c.origin, r)
		}
		if err != nil && p.onError != nil {
			p.onError(err)
		}
	}()
	if e := c.fn(); e != nil {
		return fmt.Errorf("pool %s: cleanup %s failed: %w", p.name, c.origin, e)
	}
	return nil
}

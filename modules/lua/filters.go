package lua

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// LuaOutputFilter and LuaInputFilter, as mod_lua runs them: the function
// is a coroutine, resumed with r. Before its first coroutine.yield it sets
// up (a yielded string goes before the body; returning instead, e.g.
// apache2.DECLINED, removes the filter); then it is resumed once per chunk
// with the chunk in the global `bucket`, and what it yields goes on in
// place of the chunk; after the last chunk `bucket` is nil and what it
// yields then goes after the body.

// filterDecl is one LuaOutputFilter/LuaInputFilter line and where it was
// written (sec nil: outside any section of srv).
type filterDecl struct {
	hook Hook
	srv  *config.Server
	sec  *config.Section
}

// registerFilters makes every declared Lua filter name known to the
// generation. As in mod_lua, the name is global, but which script runs is
// decided per request, by the declarations of the contexts that apply to
// it (the last one wins); a request none applies to is left unfiltered.
func (rt *runtime) registerFilters(h *phases.RequestHooks) {
	decls := map[string][]filterDecl{} // by "output_filter:name"
	add := func(hk Hook, srv *config.Server, sec *config.Section) {
		if hk.Phase != "output_filter" && hk.Phase != "input_filter" {
			return
		}
		key := hk.Phase + ":" + strings.ToLower(hk.Name)
		decls[key] = append(decls[key], filterDecl{hook: hk, srv: srv, sec: sec})
	}
	for _, srv := range append([]*config.Server{rt.cfg.Main}, rt.cfg.Vhosts...) {
		for _, hk := range ServerOf(srv).Hooks {
			add(hk, srv, nil)
		}
		var walk func([]*config.Section)
		walk = func(secs []*config.Section) {
			for _, sec := range secs {
				for _, hk := range rt.sections[sec].Hooks {
					add(hk, srv, sec)
				}
				walk(sec.Children)
			}
		}
		walk(srv.Sections)
	}
	for key, ds := range decls {
		phase, name, _ := strings.Cut(key, ":")
		newFilter := func(r *phases.Request) phases.Filter {
			return &runningFilter{rt: rt, r: r, decl: rt.filterFor(r, ds), output: phase == "output_filter"}
		}
		if phase == "output_filter" {
			h.RegisterOutputFilter(name, newFilter)
		} else {
			h.RegisterInputFilter(name, newFilter)
		}
	}
}

// filterFor picks the declaration that applies to r: the last in Apache's
// merge order (main server, virtual host, then r's sections); nil if none.
func (rt *runtime) filterFor(r *phases.Request, ds []filterDecl) *filterDecl {
	var best *filterDecl
	bestRank := -1
	for i := range ds {
		d := &ds[i]
		rank := -1
		switch {
		case d.sec == nil && d.srv == rt.cfg.Main:
			rank = 0
		case d.sec == nil && d.srv == r.Vhost:
			rank = 1
		case d.sec != nil && (d.srv == rt.cfg.Main || d.srv == r.Vhost):
			if j := slices.Index(r.Sections, d.sec); j >= 0 {
				rank = 2 + j
			}
		}
		if rank >= bestRank && rank >= 0 {
			best, bestRank = d, rank
		}
	}
	return best
}

// runningFilter is one Lua filter running for one request: its state, held
// from Start to End (locked only while the coroutine runs, so the
// request's handler may use the same state in between, as in mod_lua),
// and the coroutine.
type runningFilter struct {
	rt     *runtime
	r      *phases.Request
	decl   *filterDecl
	output bool

	s    runSettings
	v    *vm
	co   *lua.LState
	fn   *lua.LFunction
	done bool // the state was given back
	// nested: the current resume runs while the request's handler, in
	// the same state (LuaScope request or conn, the same script), holds
	// it: its r:puts is what called the filter.
	nested bool
}

// lock takes the state for a resume. With LuaScope request or conn the
// state is the request's own and may be held by its handler, which is
// then running on this goroutine and waiting for the filter: the resume
// nests in the handler's call (as coroutine.resume would), without the
// lock.
func (f *runningFilter) lock() {
	f.nested = false
	if f.s.scope == "request" || f.s.scope == "conn" {
		f.nested = !f.v.mu.TryLock()
		return
	}
	f.v.mu.Lock()
}

// unlock ends a resume taken with lock.
func (f *runningFilter) unlock() {
	if !f.nested {
		f.v.mu.Unlock()
	}
}

// Start acquires the state and runs the function up to its first yield.
func (f *runningFilter) Start(r *phases.Request) ([]byte, bool, error) {
	if f.decl == nil {
		return nil, false, nil // declared for other contexts only
	}
	f.s = f.rt.settings(r)
	v, nested, err := f.rt.acquireState(r, f.s, f.decl.hook.File, true)
	if err != nil {
		return nil, false, err
	}
	f.v, f.nested = v, nested
	fn, ok := v.L.GetGlobal(f.decl.hook.Function).(*lua.LFunction)
	if !ok {
		f.release()
		return nil, false, fmt.Errorf("%s: no function '%s' to call (not a valid function)", v.name, f.decl.hook.Function)
	}
	f.fn = fn
	f.co, _ = v.L.NewThread()
	if r.Pool != nil {
		// The body may never end (the handler failed, another filter
		// did): the state goes back with the request at the latest.
		r.Pool.CleanupRegister("lua_module filter "+f.decl.hook.Name, func() error {
			if !f.done {
				f.lock()
				f.release()
			}
			return nil
		})
	}
	out, yielded, err := f.resume(v.newRequest(r))
	if err != nil {
		f.release()
		return nil, false, err
	}
	if !yielded {
		// Returned before yielding: the script does not filter this one.
		f.release()
		return nil, false, nil
	}
	if f.output {
		// As mod_lua: the body changes, so do its validators.
		r.HeadersOut.Del("Content-MD5")
		r.HeadersOut.Del("ETag")
	}
	f.unlock()
	return out, true, nil
}

// Chunk resumes the coroutine with bucket set to p.
func (f *runningFilter) Chunk(p []byte) ([]byte, error) {
	if f.done {
		return nil, errors.New("the filter ended before the body did")
	}
	f.lock()
	f.v.L.SetGlobal("bucket", lua.LString(p))
	out, yielded, err := f.resume()
	if err != nil {
		f.release()
		return nil, err
	}
	if !yielded {
		f.release()
		return nil, fmt.Errorf("%s: %s returned before the end of the body", f.v.name, f.decl.hook.Function)
	}
	f.unlock()
	return out, nil
}

// End resumes the coroutine a last time with bucket nil and gives the
// state back.
func (f *runningFilter) End() ([]byte, error) {
	if f.done {
		return nil, nil
	}
	f.lock()
	f.v.L.SetGlobal("bucket", lua.LNil)
	out, _, err := f.resume()
	f.release()
	return out, err
}

// resume runs the coroutine until it yields (yielded true; its first
// value, a string or number, is the output) or returns, under LuaTimeout
// and LuaMemoryLimit as any call. f.v.mu is held.
func (f *runningFilter) resume(args ...lua.LValue) (out []byte, yielded bool, err error) {
	v := f.v
	var ctx context.Context
	if f.nested {
		// The handler's call is armed: the coroutine runs under it.
		if hc := v.L.Context(); hc != nil {
			ctx = hc
			f.co.SetContext(hc)
			defer f.co.RemoveContext()
		}
	} else if f.s.timeout > 0 || v.memLimit > 0 {
		if v.deadline == nil {
			v.deadline = newCallDeadline()
		}
		var guard *memoryGuard
		if v.memLimit > 0 {
			guard = v.memoryGuard()
		}
		v.deadline.arm(f.s.timeout, guard)
		ctx = v.deadline
		f.co.SetContext(ctx)
		defer func() {
			f.co.RemoveContext()
			v.deadline.disarm()
		}()
	}
	st, rerr, values := v.L.Resume(f.co, f.fn, args...)
	switch st {
	case lua.ResumeError:
		if ctx != nil {
			switch stopped := ctx.Err(); {
			case errors.Is(stopped, context.DeadlineExceeded):
				v.broken = true
				return nil, false, &timeoutError{msg: timeoutMessage(rerr, f.s.timeout)}
			case errors.Is(stopped, errMemoryLimit):
				v.broken = true
				return nil, false, &memoryError{msg: memoryMessage(rerr, v.memLimit, v.deadline.memSize)}
			}
		}
		return nil, false, fmt.Errorf("%s %s:%s failed: %w", f.kind(), v.name, f.decl.hook.Function, callError(rerr))
	case lua.ResumeYield:
		yielded = true
	}
	if len(values) > 0 {
		switch x := values[0].(type) {
		case lua.LString:
			out = []byte(x)
		case lua.LNumber:
			out = []byte(x.String())
		}
	}
	return out, yielded, nil
}

func (f *runningFilter) kind() string {
	if f.output {
		return "LuaOutputFilter " + f.decl.hook.Name
	}
	return "LuaInputFilter " + f.decl.hook.Name
}

// release gives the state back (taken with lock; unlocked by it).
func (f *runningFilter) release() {
	if f.done {
		f.unlock()
		return
	}
	f.done = true
	f.v.L.SetGlobal("bucket", lua.LNil)
	if f.nested {
		// The handler holds the request's state and gives it back.
		return
	}
	f.rt.release(f.v, f.s)
}

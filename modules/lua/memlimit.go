package lua

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// LuaMemoryLimit. gopher-lua allocates through Go's heap and has no
// allocator hook, and Go cannot tell which goroutine's objects are whose,
// so a state's memory can only be known by walking what it can reach. The
// enforcement rests on three facts:
//
//   - While a call runs with a context, gopher-lua polls the context's
//     Done before every instruction, on the goroutine running the script.
//     callDeadline is that context: its Done is a per-instruction hook
//     from which the state can be walked without racing the script.
//   - A state cannot grow by more than the process allocates. A sampler
//     goroutine reads the Go heap's cumulative allocation counter
//     (runtime/metrics, once a millisecond while a limited call runs) into
//     an atomic; Done compares it with the point at which the state's
//     headroom (limit minus its size at the last walk) would be used up,
//     one atomic load per instruction, and walks only then. A script that
//     allocates nothing is never walked; a script growing fast is walked
//     within a millisecond of passing its limit.
//   - A walk costs time in proportion to the objects it visits: the next
//     walk waits at least ten times as long as the last one took, so a big
//     state near its limit in a busy process spends at most about a tenth
//     of its time being measured.
//
// string.rep, the one library function that can build a string of any
// size in a single call, is checked against the headroom before it
// allocates.
//
// What a walk counts (the state's "size", an estimate of the Go memory
// it holds): every table reachable from the globals, the registry
// (package.loaded...), the named locals and the functions of the frames
// being run, and from coroutines, at 56 bytes plus 32 per entry; every
// string at its length plus 16 (a long string reached twice counts once);
// functions at 40 bytes plus 16 per upvalue; userdata at 48 bytes; the
// contents of all of these. Not counted: compiled code (shared by the
// states of a script), gopher-lua's own stacks (bounded by CallStackSize
// and RegistryMaxSize), unnamed temporaries, the Go memory behind userdata
// (a request's headers), the tables every state shares read-only
// (apache2, httpdg.shared), and memory that is garbage but not yet
// collected.

// errMemoryLimit is what the call's context reports when the state grew
// past LuaMemoryLimit.
var errMemoryLimit = errors.New("LuaMemoryLimit exceeded")

// memoryError is a call stopped by LuaMemoryLimit.
type memoryError struct{ msg string }

func (e *memoryError) Error() string { return e.msg }

// allocSampler publishes the process's cumulative heap allocations
// (bytes) while at least one limited call runs. One per generation.
type allocSampler struct {
	bytes atomic.Uint64

	mu      sync.Mutex
	active  int
	started bool
	stopped bool
	wake    chan struct{}
	quit    chan struct{}
}

func newAllocSampler() *allocSampler {
	return &allocSampler{wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

// sampleEvery is how often the counter is read while limited calls run.
const sampleEvery = time.Millisecond

var allocsMetric = "/gc/heap/allocs:bytes"

func readAllocs() uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// begin counts a limited call in and returns the counter now.
func (s *allocSampler) begin() uint64 {
	s.mu.Lock()
	s.active++
	if !s.started && !s.stopped {
		s.started = true
		go s.run()
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	now := readAllocs()
	s.bytes.Store(now)
	return now
}

func (s *allocSampler) end() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
}

func (s *allocSampler) run() {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s.mu.Lock()
		idle := s.active == 0
		s.mu.Unlock()
		if idle {
			t.Stop()
			select {
			case <-s.wake:
				t.Reset(sampleEvery)
			case <-s.quit:
				return
			}
		}
		select {
		case <-t.C:
			s.bytes.Store(readAllocs())
		case <-s.quit:
			return
		}
	}
}

// stop ends the sampler (the generation is over).
func (s *allocSampler) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.quit)
	}
	return nil
}

// memoryGuard is the LuaMemoryLimit state of one call; it lives in the
// call's callDeadline and runs on the script's goroutine only (Done).
type memoryGuard struct {
	L       *lua.LState
	limit   int64
	sampler *allocSampler
	shared  map[*lua.LTable]bool // tables every state shares: not counted

	walkAt   uint64    // walk when the sampler's counter reaches this
	notUntil time.Time // and not before this (the walks' own cost)
	size     int64     // the state's size at the last walk
}

// headroom is what the state may still grow by, as last measured.
func (g *memoryGuard) headroom() int64 { return max(0, g.limit-g.size) }

// start sets the guard up for a call. The state's size is the last one
// measured (a state only grows during calls, which are all guarded; a
// fresh state counts as empty until first measured, its libraries being
// about 12K): no walk is needed to begin, which matters with LuaScope
// once, a fresh state per request.
func (g *memoryGuard) start() {
	base := g.sampler.begin()
	g.notUntil = time.Time{}
	g.walkAt = base + uint64(g.headroom())
}

// measure walks the state and sets the next trigger; it reports whether
// the state is within its limit.
func (g *memoryGuard) measure(allocs uint64) bool {
	t0 := time.Now()
	g.size = stateSize(g.L, g.shared, g.limit)
	took := time.Since(t0)
	g.notUntil = t0.Add(10 * took)
	g.walkAt = allocs + uint64(g.headroom())
	return g.size <= g.limit
}

// poll is called before every instruction: it returns false when the
// state is past its limit.
func (g *memoryGuard) poll() bool {
	now := g.sampler.bytes.Load()
	if now < g.walkAt {
		return true
	}
	if !g.notUntil.IsZero() && time.Now().Before(g.notUntil) {
		return true
	}
	return g.measure(now)
}

// allow checks an allocation of n bytes a library function is about to
// make (string.rep).
func (g *memoryGuard) allow(n int64) bool { return n <= g.headroom() }

// Estimated sizes of gopher-lua's objects (64-bit).
const (
	tableCost    = 56
	entryCost    = 32
	stringCost   = 16
	functionCost = 40
	upvalueCost  = 16
	userdataCost = 48
	// longString: strings at least this long are counted once however
	// often they are reached.
	longString = 64
)

// stateSize estimates what L holds (see the comment at the top), stopping
// early once past stopAt.
func stateSize(L *lua.LState, shared map[*lua.LTable]bool, stopAt int64) int64 {
	var total int64
	seen := map[any]bool{}
	strs := map[*byte]bool{}
	var work []lua.LValue
	push := func(v lua.LValue) {
		switch x := v.(type) {
		case lua.LString:
			n := len(x)
			if n >= longString {
				p := unsafe.StringData(string(x))
				if strs[p] {
					return
				}
				strs[p] = true
			}
			total += stringCost + int64(n)
		case *lua.LTable:
			if x != nil && !seen[x] && !shared[x] {
				seen[x] = true
				work = append(work, x)
			}
		case *lua.LFunction:
			if x != nil && !seen[x] {
				seen[x] = true
				work = append(work, x)
			}
		case *lua.LUserData:
			if x != nil && !seen[x] {
				seen[x] = true
				work = append(work, x)
			}
		case *lua.LState:
			if x != nil && !seen[x] {
				seen[x] = true
				work = append(work, x)
			}
		}
	}
	push(L.G.Global)
	push(L.G.Registry)
	push(L.Env)
	push(L)
	for len(work) > 0 && total <= stopAt {
		v := work[len(work)-1]
		work = work[:len(work)-1]
		switch x := v.(type) {
		case *lua.LTable:
			total += tableCost
			x.ForEach(func(k, val lua.LValue) {
				total += entryCost
				push(k)
				push(val)
			})
			if x.Metatable != nil {
				push(x.Metatable)
			}
		case *lua.LFunction:
			total += functionCost + upvalueCost*int64(len(x.Upvalues))
			for _, uv := range x.Upvalues {
				if uv != nil {
					push(uv.Value())
				}
			}
			if x.Env != nil {
				push(x.Env)
			}
		case *lua.LUserData:
			total += userdataCost
			if x.Metatable != nil {
				push(x.Metatable)
			}
			if x.Env != nil {
				push(x.Env)
			}
		case *lua.LState:
			// The frames being run: their functions and named locals.
			for level := 0; level < 1<<16; level++ {
				dbg, ok := x.GetStack(level)
				if !ok {
					break
				}
				if fn, err := x.GetInfo("f", dbg, lua.LNil); err == nil {
					push(fn)
				}
				for n := 1; ; n++ {
					name, val := x.GetLocal(dbg, n)
					if name == "" {
						break
					}
					push(val)
				}
			}
		}
	}
	return total
}

// memoryMessage is the error of a call LuaMemoryLimit stopped, with the
// script's position taken from gopher-lua's error.
func memoryMessage(err error, limit, size int64) string {
	where := ""
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ae.Object.String()
		if i := len(msg) - len(errMemoryLimit.Error()); i > 0 && msg[i:] == errMemoryLimit.Error() {
			where = msg[:i]
		}
	}
	return fmt.Sprintf("%sthe state grew past LuaMemoryLimit (%s; about %s counted) and was stopped", where, sizeText(limit), approxSize(size))
}

func approxSize(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 10<<10:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// guardedRep is string.rep checked against LuaMemoryLimit before it
// allocates: string.rep("x", 1e10) would otherwise take the whole process
// down in one call.
func (v *vm) guardedRep(rep lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if g := v.guard(); g != nil {
			per, n := int64(len(L.CheckString(1))), int64(L.CheckInt(2))
			if per > 0 && n > 0 && (n > (1<<62)/per || !g.allow(per*n)) {
				v.deadline.stopForMemory(g.size + per*n)
				L.RaiseError("%s", errMemoryLimit.Error())
			}
		}
		return rep(L)
	}
}

// guardCoroutines makes the coroutines a script creates run under the
// call's context too: gopher-lua gives a coroutine a context of its own
// (derived with context.WithCancel), whose Done is not the memory guard's
// hook, so a coroutine could otherwise grow unmeasured until it yields.
func (v *vm) guardCoroutines() {
	co, ok := v.L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		return
	}
	adopt := func(x lua.LValue) {
		if v.deadline == nil {
			return
		}
		switch t := x.(type) {
		case *lua.LState:
			t.SetContext(v.deadline)
		case *lua.LFunction: // coroutine.wrap's function holds its thread
			for _, uv := range t.Upvalues {
				if th, ok := uv.Value().(*lua.LState); ok {
					th.SetContext(v.deadline)
				}
			}
		}
	}
	for _, name := range []string{"create", "wrap"} {
		orig, ok := co.RawGetString(name).(*lua.LFunction)
		if !ok || !orig.IsG {
			continue
		}
		f := orig.GFunction
		co.RawSetString(name, v.L.NewFunction(func(L *lua.LState) int {
			n := f(L)
			if n > 0 {
				adopt(L.Get(-n))
			}
			return n
		}))
	}
}

// guard is the running call's memory guard, or nil.
func (v *vm) guard() *memoryGuard {
	if v.deadline == nil {
		return nil
	}
	return v.deadline.mem
}

// sharedTables are the tables every state of the generation shares
// read-only (apache2's constants, httpdg.shared's view): not any state's.
func (rt *runtime) sharedTables() map[*lua.LTable]bool {
	rt.sharedOnceT.Do(func() {
		rt.shared = map[*lua.LTable]bool{}
		for _, meta := range []*lua.LTable{apache2Meta(), rt.sharedMeta()} {
			rt.shared[meta] = true
			if idx, ok := meta.RawGetString("__index").(*lua.LTable); ok {
				rt.shared[idx] = true
			}
		}
	})
	return rt.shared
}

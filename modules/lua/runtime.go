package lua

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/lua/shdict"
	"github.com/httpdg/httpdg/phases"
)

// runtime is lua_module's run time for one config generation: the code
// cache, the pools of Lua states of LuaScope thread/server, the states of
// the life-cycle hooks, and the settings of every server and section,
// gathered while the hooks are registered (so requests only read them).
type runtime struct {
	cfg    *config.Config
	global *Global

	// servers and sections hold each server's per-directory defaults and
	// each section's lua_module settings.
	servers  map[*config.Server]*DirSettings
	sections map[*config.Section]*DirSettings
	// info holds what the server objects (s, r.server) show.
	info map[*config.Server]*serverInfo
	// handlers maps a section (nil key: a server's defaults, per server)
	// to its AddHandler extension map, for "AddHandler lua-script .lua".
	mimeServers  map[*config.Server]*mimeHandlers
	mimeSections map[*config.Section]*mimeHandlers

	scripts sync.Map // path → *cachedScript

	mu    sync.Mutex
	pools map[string]*vmPool // LuaScope thread/server states, by state key

	lcMu      sync.Mutex
	lifecycle map[string]*vm // the life-cycle hooks' states, by script path

	// dicts are the LuaSharedDicts, by name, set by open_logs (see
	// shared.go) before any state exists; sharedProxyMeta is the
	// metatable of every state's httpdg.shared, made once from them.
	dicts           map[string]*shdict.Dict
	sharedOnce      sync.Once
	sharedProxyMeta *lua.LTable

	// memLimited is set when some LuaMemoryLimit is not 0; sampler feeds
	// the memory guards (see memlimit.go), stopped with pconf; shared
	// lists the tables every state shares, which no state's size counts.
	memLimited  bool
	sampler     *allocSampler
	sharedOnceT sync.Once
	shared      map[*lua.LTable]bool
}

// serverInfo is what a server object shows of a config.Server.
type serverInfo struct {
	srv        *config.Server
	hostname   string
	port       int
	admin      string
	docroot    string
	next       *config.Server
	isVirtual  bool
	serverName string
}

// mimeHandlers is mod_mime's AddHandler/RemoveHandler of one context.
type mimeHandlers struct {
	add    map[string]string
	remove []string
}

// cachedScript is one compiled script of the code cache.
type cachedScript struct {
	proto *lua.FunctionProto
	err   error
	mtime time.Time
	size  int64
}

// runSettings are the lua_module settings in effect for one call.
type runSettings struct {
	scope     string
	scopeMax  int
	codeCache string
	allowIO   bool
	timeout   time.Duration
	memLimit  int64 // LuaMemoryLimit, bytes; 0: none
	pkgPath   []string
}

func defaultSettings() runSettings {
	return runSettings{scope: DefaultScope, codeCache: DefaultCodeCache, timeout: DefaultTimeout}
}

// merge lays d's settings (those it sets) over s.
func (s *runSettings) merge(d *DirSettings) {
	if d == nil {
		return
	}
	if d.Scope != "" {
		s.scope, s.scopeMax = d.Scope, d.ScopeMax
	}
	if d.CodeCache != "" {
		s.codeCache = d.CodeCache
	}
	if d.AllowIO != nil {
		s.allowIO = *d.AllowIO
	}
	if d.Timeout != nil {
		s.timeout = *d.Timeout
	}
	if d.MemoryLimit != nil {
		s.memLimit = *d.MemoryLimit
	}
	if len(d.PackagePath) > 0 {
		s.pkgPath = append(s.pkgPath[:len(s.pkgPath):len(s.pkgPath)], d.PackagePath...)
	}
}

// settings returns the settings in effect for r: the main server's
// defaults, the virtual host's, then those of r's sections in merge order.
func (rt *runtime) settings(r *phases.Request) runSettings {
	s := defaultSettings()
	s.merge(rt.servers[rt.cfg.Main])
	if r.Vhost != nil && r.Vhost != rt.cfg.Main {
		s.merge(rt.servers[r.Vhost])
	}
	for _, sec := range r.Sections {
		s.merge(rt.sections[sec])
	}
	return s
}

// mainSettings are the main server's settings (the life-cycle hooks').
func (rt *runtime) mainSettings() runSettings {
	s := defaultSettings()
	s.merge(rt.servers[rt.cfg.Main])
	return s
}

func newRuntime(cfg *config.Config) *runtime {
	rt := &runtime{
		cfg: cfg, global: GlobalOf(cfg),
		servers: map[*config.Server]*DirSettings{}, sections: map[*config.Section]*DirSettings{},
		info:        map[*config.Server]*serverInfo{},
		mimeServers: map[*config.Server]*mimeHandlers{}, mimeSections: map[*config.Section]*mimeHandlers{},
		pools: map[string]*vmPool{}, lifecycle: map[string]*vm{},
		sampler: newAllocSampler(),
	}
	return rt
}

// script returns the compiled script at path as LuaCodeCache mode wants:
// forever keeps the first compile, stat recompiles a script whose mtime or
// size changed, never compiles it for every call. The compile of the
// config load is used when the file has not changed since.
func (rt *runtime) script(path, mode string) (*lua.FunctionProto, error) {
	name := displayPath(rt.cfg, path)
	if mode == "never" {
		s := compileScript(path, name)
		return s.Proto, s.Err
	}
	v, cached := rt.scripts.Load(path)
	c, _ := v.(*cachedScript)
	if cached && mode == "forever" && c.err == nil {
		return c.proto, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if cached && c.mtime.Equal(st.ModTime()) && c.size == st.Size() {
		return c.proto, c.err
	}
	if !cached {
		if s := rt.global.scripts[path]; s != nil && s.Proto != nil && s.ModTime.Equal(st.ModTime()) && s.Size == st.Size() {
			c = &cachedScript{proto: s.Proto, mtime: s.ModTime, size: s.Size}
			rt.scripts.Store(path, c)
			return c.proto, nil
		}
	}
	s := compileScript(path, name)
	c = &cachedScript{proto: s.Proto, err: s.Err, mtime: s.ModTime, size: s.Size}
	if c.mtime.IsZero() {
		c.mtime, c.size = st.ModTime(), st.Size()
	}
	rt.scripts.Store(path, c)
	return c.proto, c.err
}

// vm is one Lua state and what lua_module keeps with it. A state runs one
// script (as in mod_lua, states are per file); mu is held while it runs.
type vm struct {
	mu   sync.Mutex
	L    *lua.LState
	rt   *runtime
	path string // the script's absolute path
	name string // the script as messages show it (relative to ServerRoot)
	key  string // the pool key (path and the sandbox settings)

	loaded *lua.FunctionProto // the compile whose top level has run here

	// deadline times calls under LuaTimeout (made on first use).
	deadline *callDeadline

	// server is the server record of the call in progress, or of the last
	// one (httpdg.* functions, the log and pool cleanups read it).
	server *phases.Server

	reqMeta, tableMeta, poolMeta, serverMeta, connMeta *lua.LTable
	reqMethods                                         map[string]*lua.LFunction

	// pending counts cleanups registered on pools and not yet run: a state
	// with some is only closed when the last has run.
	pending       int
	closeWhenDone bool
	closed        bool
	// io is whether the state has the io library.
	io bool
	// broken is set when a call was stopped (LuaTimeout, LuaMemoryLimit):
	// the state is not reused.
	broken bool
	// semHeld: the state holds a slot of its LuaScope server pool's max
	// (filters take none), given back by release.
	semHeld bool

	// memLimit is the LuaMemoryLimit of the calls being made (set as the
	// state is acquired); memGuard measures the state (made on first use).
	memLimit int64
	memGuard *memoryGuard
}

// libs are opened in every state; a request-time state's os is cut down
// to time, date and clock and it gets io only with LuaAllowIO On.
func (rt *runtime) newVM(path string, sandbox, allowIO bool, pkgPath []string) *vm {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 256, RegistryMaxSize: 1024 * 1024, CallStackSize: 200, MinimizeStackMemory: true})
	open := func(name string, f lua.LGFunction) {
		L.Push(L.NewFunction(f))
		L.Push(lua.LString(name))
		L.Call(1, 0)
	}
	open(lua.LoadLibName, lua.OpenPackage)
	open(lua.BaseLibName, lua.OpenBase)
	open(lua.TabLibName, lua.OpenTable)
	open(lua.StringLibName, lua.OpenString)
	open(lua.MathLibName, lua.OpenMath)
	open(lua.CoroutineLibName, lua.OpenCoroutine)
	open(lua.OsLibName, lua.OpenOs)
	if !sandbox || allowIO {
		open(lua.IoLibName, lua.OpenIo)
	}
	if !sandbox {
		open(lua.DebugLibName, lua.OpenDebug)
	}
	pkg := L.GetGlobal("package").(*lua.LTable)
	loaded := L.GetField(pkg, "loaded").(*lua.LTable)
	paths := strings.Join(pkgPath, ";")
	if sandbox {
		full := L.GetGlobal("os").(*lua.LTable)
		safe := L.NewTable()
		for _, n := range []string{"time", "date", "clock"} {
			safe.RawSetString(n, full.RawGetString(n))
		}
		L.SetGlobal("os", safe)
		loaded.RawSetString("os", safe)
		if !allowIO {
			L.SetGlobal("dofile", lua.LNil)
			L.SetGlobal("loadfile", lua.LNil)
		}
		L.SetField(pkg, "path", lua.LString(paths))
	} else if paths != "" {
		L.SetField(pkg, "path", lua.LString(paths+";"+lua.LVAsString(L.GetField(pkg, "path"))))
	}
	L.SetField(pkg, "cpath", lua.LString(""))
	v := &vm{L: L, rt: rt, path: path, name: displayPath(rt.cfg, path), io: !sandbox || allowIO}
	if rt.memLimited {
		str := L.GetGlobal("string").(*lua.LTable)
		if rep, ok := str.RawGetString("rep").(*lua.LFunction); ok && rep.IsG {
			str.RawSetString("rep", L.NewFunction(v.guardedRep(rep.GFunction)))
		}
		v.guardCoroutines()
	}
	v.openAPI(loaded)
	return v
}

// ensureLoaded runs the script's top level in the state, once per compile.
func (v *vm) ensureLoaded(proto *lua.FunctionProto, timeout time.Duration) error {
	if v.loaded == proto {
		return nil
	}
	fn := v.L.NewFunctionFromProto(proto)
	if _, err := v.pcall(fn, timeout); err != nil {
		return err
	}
	v.loaded = proto
	return nil
}

// memoryGuard returns the state's LuaMemoryLimit guard, set to memLimit.
func (v *vm) memoryGuard() *memoryGuard {
	if v.memGuard == nil {
		v.memGuard = &memoryGuard{L: v.L, sampler: v.rt.sampler, shared: v.rt.sharedTables()}
	}
	v.memGuard.limit = v.memLimit
	return v.memGuard
}

// timeoutError is a call LuaTimeout stopped.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }

// call runs the global function fn with args and returns its first result.
func (v *vm) call(fn string, timeout time.Duration, args ...lua.LValue) (lua.LValue, error) {
	f, ok := v.L.GetGlobal(fn).(*lua.LFunction)
	if !ok {
		return nil, fmt.Errorf("%s: no function '%s' to call (not a valid function)", v.name, fn)
	}
	return v.pcall(f, timeout, args...)
}

// pcall calls f under LuaTimeout: an error comes back as "file:line:
// message" and the traceback; a call past the timeout is stopped.
func (v *vm) pcall(f *lua.LFunction, timeout time.Duration, args ...lua.LValue) (ret lua.LValue, err error) {
	L := v.L
	var ctx context.Context
	if timeout > 0 || v.memLimit > 0 {
		if v.deadline == nil {
			v.deadline = newCallDeadline()
		}
		var guard *memoryGuard
		if v.memLimit > 0 {
			guard = v.memoryGuard()
		}
		v.deadline.arm(timeout, guard)
		ctx = v.deadline
		L.SetContext(ctx)
		defer func() {
			L.RemoveContext()
			v.deadline.disarm()
		}()
	}
	L.Push(f)
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args), 1, nil); err != nil {
		if ctx != nil {
			switch stopped := ctx.Err(); {
			case errors.Is(stopped, context.DeadlineExceeded):
				v.broken = true
				return nil, &timeoutError{msg: timeoutMessage(err, timeout)}
			case errors.Is(stopped, errMemoryLimit):
				v.broken = true
				return nil, &memoryError{msg: memoryMessage(err, v.memLimit, v.deadline.memSize)}
			}
		}
		return nil, callError(err)
	}
	ret = L.Get(-1)
	L.Pop(1)
	return ret, nil
}

func timeoutMessage(err error, timeout time.Duration) string {
	where := ""
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ae.Object.String()
		if i := strings.Index(msg, " context deadline exceeded"); i > 0 {
			where = msg[:i] + " "
		}
	}
	return fmt.Sprintf("%sthe script ran longer than LuaTimeout (%v) and was stopped", where, timeout)
}

// callError renders a Lua error as its message and traceback.
func callError(err error) error {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ae.Object.String()
		if ae.StackTrace != "" {
			msg += "\n" + ae.StackTrace
		}
		return errors.New(msg)
	}
	return err
}

// discard closes the state, or marks it to close once its pending
// cleanups have run. v.mu is held.
func (v *vm) discard() {
	if v.closed {
		return
	}
	if v.pending > 0 {
		v.closeWhenDone = true
		return
	}
	v.closed = true
	v.L.Close()
}

// statusOf maps a hook's Lua result to a status: nil (or anything not a
// number) is OK.
func statusOf(v lua.LValue) phases.Status {
	switch x := v.(type) {
	case lua.LNumber:
		return phases.Status(int(x))
	case lua.LString:
		if n, err := strconv.Atoi(strings.TrimSpace(string(x))); err == nil {
			return phases.Status(n)
		}
	}
	return phases.OK
}

// vmPool holds the idle states of one script for LuaScope thread/server.
type vmPool struct {
	mu   sync.Mutex
	idle []*vm
	max  int           // idle states kept
	sem  chan struct{} // LuaScope server's max: states in use at once
}

// maxIdle is the number of idle states kept per script when LuaScope
// names no maximum: a state per CPU and then some, as Apache's thread
// scope keeps one per worker thread.
var maxIdle = max(16, 4*goruntime.GOMAXPROCS(0))

func stateKey(path string, s runSettings) string {
	var b strings.Builder
	b.WriteString(path)
	if s.allowIO {
		b.WriteString("\x00io")
	}
	for _, p := range s.pkgPath {
		b.WriteString("\x00")
		b.WriteString(p)
	}
	return b.String()
}

// acquire returns a state for the script at path as LuaScope wants,
// locked and with the script loaded; release gives it back.
func (rt *runtime) acquire(r *phases.Request, s runSettings, path string) (*vm, error) {
	v, _, err := rt.acquireState(r, s, path, false)
	return v, err
}

// acquireState is acquire; with mayNest, a LuaScope request or conn state
// held by the request's running handler (a filter called from its
// r:puts) is returned unlocked, nested true: the caller runs inside the
// handler's call and must not release it.
func (rt *runtime) acquireState(r *phases.Request, s runSettings, path string, mayNest bool) (*vm, bool, error) {
	proto, err := rt.script(path, s.codeCache)
	if err != nil {
		return nil, false, err
	}
	key := stateKey(path, s)
	var v *vm
	switch s.scope {
	case "thread", "server":
		p := rt.pool(key, s)
		// A filter does not wait for a slot: its setup runs inside the
		// output or body read of a handler that may hold the last one.
		held := p.sem != nil && !mayNest
		if held {
			p.sem <- struct{}{}
		}
		p.mu.Lock()
		if n := len(p.idle); n > 0 {
			v = p.idle[n-1]
			p.idle = p.idle[:n-1]
		}
		p.mu.Unlock()
		if v == nil {
			v = rt.newVM(path, true, s.allowIO, s.pkgPath)
			v.key = key
		}
		v.mu.Lock()
		v.semHeld = held
	case "request", "conn":
		pool := r.Pool
		if s.scope == "conn" && r.Conn != nil && r.Conn.Pool != nil {
			pool = r.Conn.Pool
		}
		if pool == nil {
			v = rt.newVM(path, true, s.allowIO, s.pkgPath)
			v.mu.Lock()
			break
		}
		ukey := "lua_module:" + s.scope + ":" + key
		rt.mu.Lock()
		if x, ok := pool.Userdata(ukey); ok {
			v = x.(*vm)
		} else {
			v = rt.newVM(path, true, s.allowIO, s.pkgPath)
			v.key = key
			pool.SetUserdata(ukey, v)
			nv := v
			pool.CleanupRegister("lua_module state of "+v.name, func() error {
				nv.mu.Lock()
				defer nv.mu.Unlock()
				nv.discard()
				return nil
			})
		}
		rt.mu.Unlock()
		if mayNest && !v.mu.TryLock() {
			// Held, and a request's or connection's state is only used by
			// its own requests, one at a time: by the running handler.
			return v, true, nil
		} else if !mayNest {
			v.mu.Lock()
		}
		if v.broken || v.closed {
			// stopped by LuaTimeout earlier: start afresh
			v.mu.Unlock()
			v = rt.newVM(path, true, s.allowIO, s.pkgPath)
			v.key = key
			v.mu.Lock()
			pool.SetUserdata(ukey, v)
		}
	default: // once
		v = rt.newVM(path, true, s.allowIO, s.pkgPath)
		v.mu.Lock()
	}
	v.server = r.Server
	v.memLimit = s.memLimit
	if err := v.ensureLoaded(proto, s.timeout); err != nil {
		rt.release(v, s)
		return nil, false, err
	}
	return v, false, nil
}

// release gives back a state acquire returned.
func (rt *runtime) release(v *vm, s runSettings) {
	switch s.scope {
	case "thread", "server":
		p := rt.pool(v.key, s)
		held := v.semHeld
		v.semHeld = false
		if v.broken {
			v.discard()
			v.mu.Unlock()
		} else {
			v.mu.Unlock()
			p.mu.Lock()
			keep := len(p.idle) < p.max
			if keep {
				p.idle = append(p.idle, v)
			}
			p.mu.Unlock()
			if !keep {
				v.mu.Lock()
				v.discard()
				v.mu.Unlock()
			}
		}
		if held {
			<-p.sem
		}
	case "request", "conn":
		if v.broken {
			v.discard()
		}
		v.mu.Unlock()
	default:
		v.discard()
		v.mu.Unlock()
	}
}

func (rt *runtime) pool(key string, s runSettings) *vmPool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	p := rt.pools[key]
	if p == nil {
		p = &vmPool{max: maxIdle}
		if s.scope == "server" && s.scopeMax > 0 {
			p.max = s.scopeMax
			p.sem = make(chan struct{}, s.scopeMax)
		}
		rt.pools[key] = p
	}
	return p
}

// lifecycleVM returns the state the life-cycle hooks of the script at path
// share in this process and generation (so open_logs can leave a file
// handle for post_config, child_init and child_exit), locked and loaded.
// Life-cycle states are not sandboxed: they run at config time, like the
// config itself.
func (rt *runtime) lifecycleVM(path string, s *phases.Server, closeOn *phases.Pool) (*vm, error) {
	st := rt.mainSettings()
	// One compile per generation whatever LuaCodeCache says: rerunning the
	// top level between open_logs and child_exit would lose what the
	// script keeps in its locals; a restart reads the script afresh.
	proto, err := rt.script(path, "forever")
	if err != nil {
		return nil, err
	}
	rt.lcMu.Lock()
	v := rt.lifecycle[path]
	if v != nil {
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			v = nil
		}
	}
	if v == nil {
		v = rt.newVM(path, false, true, st.pkgPath)
		rt.lifecycle[path] = v
		// Closed with the pool of its first call (pconf, or pchild in a
		// child process), after the cleanups the script registers there.
		nv := v
		closeOn.CleanupRegister("lua_module state of "+v.name, func() error {
			nv.mu.Lock()
			defer nv.mu.Unlock()
			nv.discard()
			return nil
		})
		v.mu.Lock()
	}
	rt.lcMu.Unlock()
	v.server = s
	v.memLimit = st.memLimit
	if err := v.ensureLoaded(proto, st.timeout); err != nil {
		v.mu.Unlock()
		return nil, err
	}
	return v, nil
}

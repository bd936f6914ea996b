package lua

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/lua/shdict"
	"github.com/httpdg/httpdg/phases"
)

// LuaSharedDict: the master creates each declared dict (a memfd, see
// package shdict) in open_logs, keeps it on pglobal so that it outlives
// the generation, and hands it to its children through phases.Files, the
// way the log files go down; the same open_logs handler, rerun in each
// child, maps the inherited segment. Scripts reach the dicts as
// httpdg.shared.NAME.

// sharedDictsKey is the pglobal userdata holding the master's dicts.
const sharedDictsKey = "lua_module:shared_dicts"

// dictRegistry is the dicts a process created, by name; it lives on
// pglobal and is only touched by open_logs (one goroutine).
type dictRegistry struct {
	dicts map[string]*shdict.Dict
}

func (reg *dictRegistry) closeAll() error {
	var errs []error
	for name, d := range reg.dicts {
		errs = append(errs, d.Close())
		delete(reg.dicts, name)
	}
	return errors.Join(errs...)
}

// dictFileKey is a dict's key in phases.Files.
func dictFileKey(name string) string { return "lua_shared_dict:" + name }

// registerSharedDicts attaches the open_logs handler that makes the
// generation's dicts (and ties the memory sampler to pconf): after
// core_module's (so the configured error log is open for its messages),
// before any Lua open_logs hook (which may use them), and again in each
// child.
func (rt *runtime) registerSharedDicts(h *phases.ServerHooks) {
	h.OpenLogs.Add(phases.Entry[phases.ServerHookFunc]{Fn: rt.openSharedDicts, Origin: "lua_module (Go)",
		Module: ModuleName, Order: phases.ReallyFirst, Predecessors: []string{core.ModuleName}, RerunInChild: true})
}

// openSharedDicts makes rt.dicts: in a child, maps the segments the master
// handed down; elsewhere (the master, -X), keeps each dict of the previous
// generation whose size is unchanged, recreates those whose size changed,
// creates the new ones and drops those no longer declared.
func (rt *runtime) openSharedDicts(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	pconf.CleanupRegister("lua_module memory sampler", rt.sampler.stop)
	decls := rt.global.SharedDicts
	rt.dicts = make(map[string]*shdict.Dict, len(decls))
	logRepair := func(msg string) {
		if s.Log != nil {
			s.Log.Error("lua", "%s", msg)
		}
	}
	if s.Process != nil && s.Process.InChild {
		for _, sd := range decls {
			f, err := s.Files.Open(dictFileKey(sd.Name), func() (*os.File, error) {
				return nil, errors.New("the master handed down no shared memory for it")
			})
			if err != nil {
				return fmt.Errorf("LuaSharedDict %s: %w", sd.Name, err)
			}
			d, err := shdict.Attach(sd.Name, f)
			if err != nil {
				return fmt.Errorf("LuaSharedDict %s: %w", sd.Name, err)
			}
			d.SetRepairLog(logRepair)
			pconf.CleanupRegister("lua_module shared dict "+sd.Name, d.Close)
			rt.dicts[sd.Name] = d
		}
		return nil
	}
	reg := rt.dictRegistry(pconf, s)
	declared := make(map[string]bool, len(decls))
	for _, sd := range decls {
		declared[sd.Name] = true
		d := reg.dicts[sd.Name]
		if d != nil && d.Size() != sd.Size {
			s.Log.Notice("lua", "LuaSharedDict %s: size changed from %s to %s (%s), recreated empty", sd.Name, sizeText(d.Size()), sizeText(sd.Size), sd.Origin.Short())
			d.Close()
			delete(reg.dicts, sd.Name)
			d = nil
		}
		if d == nil {
			var err error
			if d, err = shdict.Create(sd.Name, sd.Size); err != nil {
				return fmt.Errorf("LuaSharedDict %s (%s): %w", sd.Name, sd.Origin.Short(), err)
			}
			reg.dicts[sd.Name] = d
		}
		d.SetRepairLog(logRepair)
		if _, err := s.Files.Open(dictFileKey(sd.Name), func() (*os.File, error) { return d.File(), nil }); err != nil {
			return fmt.Errorf("LuaSharedDict %s: %w", sd.Name, err)
		}
		rt.dicts[sd.Name] = d
	}
	for name, d := range reg.dicts {
		if !declared[name] {
			s.Log.Notice("lua", "LuaSharedDict %s is no longer declared: its memory is released", name)
			d.Close()
			delete(reg.dicts, name)
		}
	}
	return nil
}

// dictRegistry returns the process's dicts: on pglobal, so that they
// outlive generations (closed when the process's pools are destroyed);
// without a pglobal (a bare generation in tests), on pconf.
func (rt *runtime) dictRegistry(pconf *phases.Pool, s *phases.Server) *dictRegistry {
	pool := pconf
	if s.Process != nil && s.Process.Pglobal != nil {
		pool = s.Process.Pglobal
	}
	if v, ok := pool.Userdata(sharedDictsKey); ok {
		return v.(*dictRegistry)
	}
	reg := &dictRegistry{dicts: map[string]*shdict.Dict{}}
	pool.SetUserdata(sharedDictsKey, reg)
	pool.CleanupRegister("lua_module shared dicts", reg.closeAll)
	return reg
}

func sizeText(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// sharedMeta is the metatable of every state's httpdg.shared of this
// generation: a read-only view of a table of the dicts, built once and
// shared by every state (a state pays one empty table for it).
func (rt *runtime) sharedMeta() *lua.LTable {
	rt.sharedOnce.Do(func() {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		rt.sharedProxyMeta = newSharedMeta(L, rt.dicts)
	})
	return rt.sharedProxyMeta
}

// newSharedMeta builds, in L, the metatable of httpdg.shared for dicts.
func newSharedMeta(L *lua.LState, dicts map[string]*shdict.Dict) *lua.LTable {
	methods := L.NewTable()
	for name, fn := range dictMethods {
		methods.RawSetString(name, L.NewFunction(fn))
	}
	dictMeta := L.NewTable()
	dictMeta.RawSetString("__index", methods)
	dictMeta.RawSetString("__metatable", lua.LString("shared_dict"))
	all := L.NewTable()
	for name, d := range dicts {
		ud := L.NewUserData()
		ud.Value = d
		ud.Metatable = dictMeta
		all.RawSetString(name, ud)
	}
	meta := L.NewTable()
	meta.RawSetString("__index", all)
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("httpdg.shared is read-only: dicts are declared with LuaSharedDict")
		return 0
	}))
	meta.RawSetString("__metatable", lua.LFalse)
	return meta
}

// dictMethods are a dict's methods, OpenResty's ngx.shared.DICT API.
var dictMethods = map[string]lua.LGFunction{
	"get":           dictGet,
	"set":           dictStore("set"),
	"safe_set":      dictStore("safe_set"),
	"add":           dictStore("add"),
	"safe_add":      dictStore("safe_add"),
	"replace":       dictStore("replace"),
	"incr":          dictIncr,
	"delete":        dictDelete,
	"ttl":           dictTTL,
	"expire":        dictExpire,
	"keys":          dictKeys,
	"get_keys":      dictKeys, // OpenResty's name
	"flush_all":     dictFlushAll,
	"flush_expired": dictFlushExpired,
	"capacity":      dictCapacity,
	"free_space":    dictFreeSpace,
}

// checkDict is argument 1, the dict a method is called on.
func checkDict(L *lua.LState, method string) *shdict.Dict {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if d, ok := ud.Value.(*shdict.Dict); ok {
			return d
		}
	}
	L.RaiseError("%s: not called on a shared dict (write httpdg.shared.NAME:%s(...), with a colon)", method, method)
	return nil
}

// dictKey is argument 2, the key: a string, or a number (as its string).
// A nil key is reported as OpenResty does, as a failure "nil key".
func dictKey(L *lua.LState) (key string, ok bool) {
	switch k := L.Get(2).(type) {
	case lua.LString:
		return string(k), true
	case lua.LNumber:
		return k.String(), true
	}
	if L.Get(2) == lua.LNil {
		return "", false
	}
	L.ArgError(2, "the key must be a string, not a "+L.Get(2).Type().String())
	return "", false
}

// maxTTL keeps now+ttl within time.Time's nanoseconds.
const maxTTL = 100 * 365 * 24 * time.Hour

// ttlArg is an optional ttl in seconds (fractions allowed): 0 or absent
// never expires.
func ttlArg(L *lua.LState, n int) time.Duration {
	secs := float64(L.OptNumber(n, 0))
	if secs < 0 || math.IsNaN(secs) {
		L.ArgError(n, "the ttl must be 0 (no expiry) or a number of seconds")
	}
	if secs*float64(time.Second) >= float64(maxTTL) {
		return maxTTL
	}
	ttl := time.Duration(secs * float64(time.Second))
	if secs > 0 && ttl == 0 {
		ttl = 1 // a ttl too small to count still expires
	}
	return ttl
}

func toValue(v lua.LValue) (shdict.Value, bool) {
	switch x := v.(type) {
	case lua.LString:
		return shdict.String(string(x)), true
	case lua.LNumber:
		return shdict.Number(float64(x)), true
	case lua.LBool:
		return shdict.Bool(bool(x)), true
	}
	return shdict.Value{}, false
}

func fromValue(v shdict.Value) lua.LValue {
	switch v.Kind {
	case shdict.KindNumber:
		return lua.LNumber(v.Num)
	case shdict.KindBool:
		return lua.LBool(v.Bool)
	}
	return lua.LString(v.Str)
}

// expected tells the errors a method returns to the script (nil and the
// message, OpenResty's strings) from those it raises (a dict that is
// closed or damaged: the script fails, logged).
func expected(err error) bool {
	for _, e := range []error{shdict.ErrNoMemory, shdict.ErrExists, shdict.ErrNotFound, shdict.ErrNotNumber,
		shdict.ErrEmptyKey, shdict.ErrKeyLen, shdict.ErrBadTTL} {
		if err == e {
			return true
		}
	}
	return false
}

// The failures the Lua side adds to shdict's, OpenResty's strings.
var (
	errNilKey   = errors.New("nil key")
	errBadValue = errors.New("bad value type")
)

// raise raises err unless it is nil or expected.
func raise(L *lua.LState, err error) {
	if err != nil && !expected(err) {
		L.RaiseError("%v", err)
	}
}

// nilAnd returns nil and msg, a method's failure.
func nilAnd(L *lua.LState, msg string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	return 2
}

// failed returns nil and err's message for an expected error, and raises
// the others.
func failed(L *lua.LState, err error) int {
	raise(L, err)
	return nilAnd(L, err.Error())
}

// dictGet is value = dict:get(key); nil when absent or expired.
func dictGet(L *lua.LState) int {
	d := checkDict(L, "get")
	key, ok := dictKey(L)
	if !ok {
		return nilAnd(L, errNilKey.Error())
	}
	v, found, err := d.Get(key)
	if err != nil {
		return failed(L, err)
	}
	if !found {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(fromValue(v))
	return 1
}

// dictStore is set, add, replace (ok, err, forcible: false and the error
// on failure) and safe_set, safe_add (true, or nil and the error). A nil
// value deletes the key (set and safe_set, as OpenResty).
func dictStore(op string) lua.LGFunction {
	safe := op == "safe_set" || op == "safe_add"
	return func(L *lua.LState) int {
		d := checkDict(L, op)
		// done returns the method's results.
		done := func(err error, forcible bool) int {
			switch {
			case err != nil && safe:
				return nilAnd(L, err.Error())
			case err != nil:
				L.Push(lua.LFalse)
				L.Push(lua.LString(err.Error()))
			case safe:
				L.Push(lua.LTrue)
				return 1
			default:
				L.Push(lua.LTrue)
				L.Push(lua.LNil)
			}
			L.Push(lua.LBool(forcible))
			return 3
		}
		key, ok := dictKey(L)
		if !ok {
			return done(errNilKey, false)
		}
		ttl := ttlArg(L, 4)
		var forcible bool
		var err error
		if L.Get(3) == lua.LNil && (op == "set" || op == "safe_set") {
			err = d.Delete(key)
		} else if v, ok := toValue(L.Get(3)); !ok {
			return done(errBadValue, false)
		} else {
			switch op {
			case "set":
				forcible, err = d.Set(key, v, ttl)
			case "safe_set":
				err = d.SafeSet(key, v, ttl)
			case "add":
				forcible, err = d.Add(key, v, ttl)
			case "safe_add":
				err = d.SafeAdd(key, v, ttl)
			case "replace":
				forcible, err = d.Replace(key, v, ttl)
			}
		}
		raise(L, err)
		return done(err, forcible)
	}
}

// dictIncr is newval, err, forcible = dict:incr(key, n[, init[, init_ttl]]).
func dictIncr(L *lua.LState) int {
	d := checkDict(L, "incr")
	key, ok := dictKey(L)
	if !ok {
		return nilAnd(L, errNilKey.Error())
	}
	n := float64(L.CheckNumber(3))
	var init *float64
	switch x := L.Get(4).(type) {
	case lua.LNumber:
		f := float64(x)
		init = &f
	default:
		if x != lua.LNil {
			L.ArgError(4, "init must be a number")
		}
	}
	initTTL := ttlArg(L, 5)
	sum, forcible, err := d.Incr(key, n, init, initTTL)
	forcibleValue := lua.LValue(lua.LNil)
	if init != nil {
		forcibleValue = lua.LBool(forcible)
	}
	if err != nil {
		failed(L, err)
	} else {
		L.Push(lua.LNumber(sum))
		L.Push(lua.LNil)
	}
	L.Push(forcibleValue)
	return 3
}

// dictDelete is dict:delete(key).
func dictDelete(L *lua.LState) int {
	d := checkDict(L, "delete")
	key, ok := dictKey(L)
	if !ok {
		return 0
	}
	raise(L, d.Delete(key))
	return 0
}

// dictTTL is secs = dict:ttl(key): what the key has left (0: no expiry),
// or nil, "not found".
func dictTTL(L *lua.LState) int {
	d := checkDict(L, "ttl")
	key, ok := dictKey(L)
	if !ok {
		return nilAnd(L, errNilKey.Error())
	}
	left, err := d.TTL(key)
	if err != nil {
		return failed(L, err)
	}
	L.Push(lua.LNumber(left.Seconds()))
	return 1
}

// dictExpire is ok, err = dict:expire(key, ttl).
func dictExpire(L *lua.LState) int {
	d := checkDict(L, "expire")
	key, ok := dictKey(L)
	if !ok {
		return nilAnd(L, errNilKey.Error())
	}
	if err := d.Expire(key, ttlArg(L, 3)); err != nil {
		return failed(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// dictKeys is dict:keys([max]): up to max keys (default 1024, 0 for all).
func dictKeys(L *lua.LState) int {
	d := checkDict(L, "keys")
	max := L.OptInt(2, shdict.DefaultMaxKeys)
	if max < 0 {
		L.ArgError(2, "max must be 0 (all) or more")
	}
	keys, err := d.Keys(max)
	raise(L, err)
	t := L.CreateTable(len(keys), 0)
	for _, k := range keys {
		t.Append(lua.LString(k))
	}
	L.Push(t)
	return 1
}

func dictFlushAll(L *lua.LState) int {
	raise(L, checkDict(L, "flush_all").FlushAll())
	return 0
}

// dictFlushExpired is n = dict:flush_expired([max]).
func dictFlushExpired(L *lua.LState) int {
	d := checkDict(L, "flush_expired")
	n, err := d.FlushExpired(L.OptInt(2, 0))
	raise(L, err)
	L.Push(lua.LNumber(n))
	return 1
}

func dictCapacity(L *lua.LState) int {
	L.Push(lua.LNumber(checkDict(L, "capacity").Capacity()))
	return 1
}

func dictFreeSpace(L *lua.LState) int {
	free, err := checkDict(L, "free_space").FreeSpace()
	raise(L, err)
	L.Push(lua.LNumber(free))
	return 1
}

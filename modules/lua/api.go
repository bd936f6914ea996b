package lua

import (
	"net/http"
	"os"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// statusConstants are Apache's HTTP_* names (httpd.h), as apache2.HTTP_*.
var statusConstants = map[string]int{
	"HTTP_CONTINUE":                        100,
	"HTTP_SWITCHING_PROTOCOLS":             101,
	"HTTP_PROCESSING":                      102,
	"HTTP_OK":                              200,
	"HTTP_CREATED":                         201,
	"HTTP_ACCEPTED":                        202,
	"HTTP_NON_AUTHORITATIVE":               203,
	"HTTP_NO_CONTENT":                      204,
	"HTTP_RESET_CONTENT":                   205,
	"HTTP_PARTIAL_CONTENT":                 206,
	"HTTP_MULTI_STATUS":                    207,
	"HTTP_ALREADY_REPORTED":                208,
	"HTTP_IM_USED":                         226,
	"HTTP_MULTIPLE_CHOICES":                300,
	"HTTP_MOVED_PERMANENTLY":               301,
	"HTTP_MOVED_TEMPORARILY":               302,
	"HTTP_SEE_OTHER":                       303,
	"HTTP_NOT_MODIFIED":                    304,
	"HTTP_USE_PROXY":                       305,
	"HTTP_TEMPORARY_REDIRECT":              307,
	"HTTP_PERMANENT_REDIRECT":              308,
	"HTTP_BAD_REQUEST":                     400,
	"HTTP_UNAUTHORIZED":                    401,
	"HTTP_PAYMENT_REQUIRED":                402,
	"HTTP_FORBIDDEN":                       403,
	"HTTP_NOT_FOUND":                       404,
	"HTTP_METHOD_NOT_ALLOWED":              405,
	"HTTP_NOT_ACCEPTABLE":                  406,
	"HTTP_PROXY_AUTHENTICATION_REQUIRED":   407,
	"HTTP_REQUEST_TIME_OUT":                408,
	"HTTP_CONFLICT":                        409,
	"HTTP_GONE":                            410,
	"HTTP_LENGTH_REQUIRED":                 411,
	"HTTP_PRECONDITION_FAILED":             412,
	"HTTP_REQUEST_ENTITY_TOO_LARGE":        413,
	"HTTP_REQUEST_URI_TOO_LARGE":           414,
	"HTTP_UNSUPPORTED_MEDIA_TYPE":          415,
	"HTTP_RANGE_NOT_SATISFIABLE":           416,
	"HTTP_EXPECTATION_FAILED":              417,
	"HTTP_MISDIRECTED_REQUEST":             421,
	"HTTP_UNPROCESSABLE_ENTITY":            422,
	"HTTP_LOCKED":                          423,
	"HTTP_FAILED_DEPENDENCY":               424,
	"HTTP_TOO_EARLY":                       425,
	"HTTP_UPGRADE_REQUIRED":                426,
	"HTTP_PRECONDITION_REQUIRED":           428,
	"HTTP_TOO_MANY_REQUESTS":               429,
	"HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE": 431,
	"HTTP_UNAVAILABLE_FOR_LEGAL_REASONS":   451,
	"HTTP_INTERNAL_SERVER_ERROR":           500,
	"HTTP_NOT_IMPLEMENTED":                 501,
	"HTTP_BAD_GATEWAY":                     502,
	"HTTP_SERVICE_UNAVAILABLE":             503,
	"HTTP_GATEWAY_TIME_OUT":                504,
	"HTTP_VERSION_NOT_SUPPORTED":           505,
	"HTTP_VARIANT_ALSO_VARIES":             506,
	"HTTP_INSUFFICIENT_STORAGE":            507,
	"HTTP_LOOP_DETECTED":                   508,
	"HTTP_NOT_EXTENDED":                    510,
	"HTTP_NETWORK_AUTHENTICATION_REQUIRED": 511,
}

// otherConstants are mod_lua's other apache2.* numbers.
var otherConstants = map[string]int{
	"OK":                   int(phases.OK),
	"DECLINED":             int(phases.DECLINED),
	"DONE":                 int(phases.DONE),
	"AUTHZ_DENIED":         0,
	"AUTHZ_GRANTED":        1,
	"AUTHZ_NEUTRAL":        2,
	"AUTHZ_GENERAL_ERROR":  3,
	"AUTHZ_DENIED_NO_USER": 4,
	"PROXYREQ_NONE":        0,
	"PROXYREQ_PROXY":       1,
	"PROXYREQ_REVERSE":     2,
	"PROXYREQ_RESPONSE":    3,
}

// Version is apache2.version.
var Version = "Apache/" + config.CompatVersion + " (httpdg)"

// logLevel maps the names scripts use (mod_lua's r:err, s:error...) to the
// error log's.
func logLevel(name string) (string, bool) {
	switch name = strings.ToLower(name); name {
	case "err", "error":
		return "error", true
	case "emerg", "alert", "crit", "warn", "notice", "info", "debug",
		"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8":
		return name, true
	}
	return "", false
}

var logMethods = []string{"emerg", "alert", "crit", "err", "error", "warn", "notice", "info", "debug",
	"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8"}

// log writes msg into l (a request's log is its virtual host's), else
// the error log of the call's server.
func (v *vm) log(l *phases.ErrorLog, level, msg string) {
	if l == nil && v.server != nil {
		l = v.server.Log
	}
	if l == nil {
		l = phases.StderrLog()
	}
	l.Log("lua", level, "%s", msg)
}

// serverLog is s's error log, nil without a server.
func serverLog(s *phases.Server) *phases.ErrorLog {
	if s == nil {
		return nil
	}
	return s.Log
}

// sharedConstants is the apache2 table's content, shared by every state
// through a read-only proxy (so a fresh state costs less).
var (
	sharedOnce       sync.Once
	apache2ProxyMeta *lua.LTable
)

func apache2Meta() *lua.LTable {
	sharedOnce.Do(func() {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		c := L.NewTable()
		for n, x := range statusConstants {
			c.RawSetString(n, lua.LNumber(x))
		}
		for n, x := range otherConstants {
			c.RawSetString(n, lua.LNumber(x))
		}
		c.RawSetString("version", lua.LString(Version))
		apache2ProxyMeta = L.NewTable()
		apache2ProxyMeta.RawSetString("__index", c)
		apache2ProxyMeta.RawSetString("__metatable", lua.LFalse)
	})
	return apache2ProxyMeta
}

// openAPI installs the globals every script sees: apache2 and httpdg
// (also as require "apache2" / "httpdg"). The metatables of the objects
// handed to hooks are made on first use.
func (v *vm) openAPI(loaded *lua.LTable) {
	L := v.L
	a := L.NewTable()
	a.Metatable = apache2Meta()
	L.SetGlobal("apache2", a)
	loaded.RawSetString("apache2", a)

	h := L.NewTable()
	proc := func() *phases.Process {
		if v.server != nil {
			return v.server.Process
		}
		return nil
	}
	L.SetFuncs(h, map[string]lua.LGFunction{
		"pid":  func(L *lua.LState) int { L.Push(lua.LNumber(os.Getpid())); return 1 },
		"ppid": func(L *lua.LState) int { L.Push(lua.LNumber(os.Getppid())); return 1 },
		"restart_count": func(L *lua.LState) int {
			n := 0
			if p := proc(); p != nil {
				n = p.RestartCount
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"generation": func(L *lua.LState) int {
			n := 0
			if p := proc(); p != nil {
				n = p.Generation
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"state": func(L *lua.LState) int {
			st := phases.StateRunning
			if p := proc(); p != nil {
				st = p.State
			}
			L.Push(lua.LString(st))
			return 1
		},
		"mpm":         func(L *lua.LState) int { L.Push(lua.LString(v.rt.cfg.MPM)); return 1 },
		"server_root": func(L *lua.LState) int { L.Push(lua.LString(v.rt.cfg.ServerRoot)); return 1 },
		"log": func(L *lua.LState) int {
			level, ok := logLevel(L.CheckString(1))
			if !ok {
				L.ArgError(1, "not a log level (emerg, alert, crit, error, warn, notice, info, debug, trace1..8)")
			}
			v.log(nil, level, L.CheckString(2))
			return 0
		},
	})
	shared := L.NewTable()
	shared.Metatable = v.rt.sharedMeta()
	h.RawSetString("shared", shared)
	L.SetGlobal("httpdg", h)
	loaded.RawSetString("httpdg", h)
}

// objectMeta makes the metatables of the table, pool, server and
// connection objects.
func (v *vm) objectMeta() {
	if v.tableMeta != nil {
		return
	}
	L := v.L
	v.tableMeta = L.NewTable()
	v.tableMeta.RawSetString("__index", L.NewFunction(tableIndex))
	v.tableMeta.RawSetString("__newindex", L.NewFunction(tableNewIndex))
	v.tableMeta.RawSetString("__metatable", lua.LString("apr_table"))

	v.poolMeta = L.NewTable()
	poolMethods := L.NewTable()
	poolMethods.RawSetString("cleanup_register", L.NewFunction(v.poolCleanupRegister))
	v.poolMeta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		p := checkPool(L)
		k := L.CheckString(2)
		if k == "name" {
			L.Push(lua.LString(p.Name()))
			return 1
		}
		L.Push(poolMethods.RawGetString(k))
		return 1
	}))
	v.poolMeta.RawSetString("__metatable", lua.LString("pool"))

	v.serverMeta = L.NewTable()
	serverMethods := L.NewTable()
	for _, m := range logMethods {
		level, _ := logLevel(m)
		serverMethods.RawSetString(m, L.NewFunction(func(L *lua.LState) int {
			so := checkServer(L)
			v.log(serverLog(so.s), level, L.CheckString(2))
			return 0
		}))
	}
	v.serverMeta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		so := checkServer(L)
		k := L.CheckString(2)
		if m := serverMethods.RawGetString(k); m != lua.LNil {
			L.Push(m)
			return 1
		}
		L.Push(v.serverField(so, k))
		return 1
	}))
	v.serverMeta.RawSetString("__metatable", lua.LString("server_rec"))

	v.connMeta = L.NewTable()
	v.connMeta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		c := checkConn(L)
		switch L.CheckString(2) {
		case "pool":
			L.Push(v.newPool(c.Pool))
		case "client_ip", "remote_ip":
			L.Push(lua.LString(c.ClientIP))
		case "client_port":
			L.Push(lua.LNumber(c.ClientPort))
		case "local_ip":
			L.Push(lua.LString(c.LocalIP))
		case "local_port":
			L.Push(lua.LNumber(c.LocalPort))
		case "keepalive":
			L.Push(lua.LBool(c.Keepalive))
		case "notes":
			L.Push(v.newTable(mapTable{c.Notes}))
		default:
			L.Push(lua.LNil)
		}
		return 1
	}))
	v.connMeta.RawSetString("__metatable", lua.LString("conn_rec"))

}

// strTable is an apr_table as scripts see it: r.headers_in, r.notes...
type strTable interface {
	get(k string) (string, bool)
	set(k, val string)
	del(k string)
	each(func(k, val string))
}

type headerTable struct{ h http.Header }

func (t headerTable) get(k string) (string, bool) {
	vs := t.h.Values(k)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ", "), true
}
func (t headerTable) set(k, val string) { t.h.Set(k, val) }
func (t headerTable) del(k string)      { t.h.Del(k) }
func (t headerTable) each(f func(k, val string)) {
	for k, vs := range t.h {
		for _, x := range vs {
			f(k, x)
		}
	}
}

// mapTable is a notes-like table; as apr_tables are, keys are found
// without regard to case.
type mapTable struct{ m map[string]string }

func (t mapTable) get(k string) (string, bool) {
	if x, ok := t.m[k]; ok {
		return x, true
	}
	for mk, x := range t.m {
		if strings.EqualFold(mk, k) {
			return x, true
		}
	}
	return "", false
}
func (t mapTable) set(k, val string) {
	t.del(k)
	t.m[k] = val
}
func (t mapTable) del(k string) {
	for mk := range t.m {
		if strings.EqualFold(mk, k) {
			delete(t.m, mk)
		}
	}
}
func (t mapTable) each(f func(k, val string)) {
	for k, x := range t.m {
		f(k, x)
	}
}

func (v *vm) newTable(t strTable) lua.LValue {
	if t == nil {
		return lua.LNil
	}
	if mt, ok := t.(mapTable); ok && mt.m == nil {
		return lua.LNil
	}
	if ht, ok := t.(headerTable); ok && ht.h == nil {
		return lua.LNil
	}
	ud := v.L.NewUserData()
	ud.Value = t
	v.objectMeta()
	ud.Metatable = v.tableMeta
	return ud
}

// plainTable copies t into a Lua table (r.headers_in_table and the like).
func (v *vm) plainTable(t strTable) lua.LValue {
	out := v.L.NewTable()
	t.each(func(k, val string) { out.RawSetString(k, lua.LString(val)) })
	return out
}

func checkTable(L *lua.LState) strTable {
	ud := L.CheckUserData(1)
	t, ok := ud.Value.(strTable)
	if !ok {
		L.ArgError(1, "table expected")
	}
	return t
}

func tableIndex(L *lua.LState) int {
	t := checkTable(L)
	if x, ok := t.get(L.CheckString(2)); ok {
		L.Push(lua.LString(x))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func tableNewIndex(L *lua.LState) int {
	t := checkTable(L)
	k := L.CheckString(2)
	if L.Get(3) == lua.LNil {
		t.del(k)
		return 0
	}
	t.set(k, L.ToString(3))
	return 0
}

// newPool is the pool object p: p.name, p:cleanup_register(fn).
func (v *vm) newPool(p *phases.Pool) lua.LValue {
	if p == nil {
		return lua.LNil
	}
	ud := v.L.NewUserData()
	ud.Value = p
	v.objectMeta()
	ud.Metatable = v.poolMeta
	return ud
}

func checkPool(L *lua.LState) *phases.Pool {
	p, ok := L.CheckUserData(1).Value.(*phases.Pool)
	if !ok {
		L.ArgError(1, "pool expected")
	}
	return p
}

// poolCleanupRegister is p:cleanup_register(fn): fn runs, in this state,
// when the pool is cleared or destroyed (last registered first).
func (v *vm) poolCleanupRegister(L *lua.LState) int {
	p := checkPool(L)
	fn := L.CheckFunction(2)
	if p.Destroyed() {
		L.RaiseError("cleanup_register: pool %s is destroyed", p.Name())
	}
	timeout := v.rt.mainSettings().timeout
	v.pending++ // v.mu is held: a call is running
	p.CleanupRegister(v.name, func() error {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.pending--
		if v.closed {
			return nil
		}
		_, err := v.pcall(fn, timeout)
		if v.closeWhenDone && v.pending == 0 {
			v.discard()
		}
		return err
	})
	return 0
}

// serverObj is the server object s (and r.server).
type serverObj struct {
	s    *phases.Server
	info *serverInfo
}

func (v *vm) newServer(s *phases.Server, srv *config.Server) lua.LValue {
	if srv == nil {
		return lua.LNil
	}
	ud := v.L.NewUserData()
	ud.Value = &serverObj{s: s, info: v.rt.info[srv]}
	v.objectMeta()
	ud.Metatable = v.serverMeta
	return ud
}

func checkServer(L *lua.LState) *serverObj {
	so, ok := L.CheckUserData(1).Value.(*serverObj)
	if !ok {
		L.ArgError(1, "server expected")
	}
	return so
}

func (v *vm) serverField(so *serverObj, k string) lua.LValue {
	in := so.info
	if in == nil {
		return lua.LNil
	}
	switch k {
	case "server_hostname":
		return lua.LString(in.hostname)
	case "port":
		return lua.LNumber(in.port)
	case "server_admin":
		return lua.LString(in.admin)
	case "is_virtual":
		return lua.LBool(in.isVirtual)
	case "next":
		return v.newServer(so.s, in.next)
	case "document_root":
		return lua.LString(in.docroot)
	case "defn_name":
		if in.srv.Origin != nil {
			return lua.LString(in.srv.Origin.File)
		}
		return lua.LString(v.rt.cfg.File)
	}
	return lua.LNil
}

func (v *vm) newConn(c *phases.Connection) lua.LValue {
	if c == nil {
		return lua.LNil
	}
	ud := v.L.NewUserData()
	ud.Value = c
	v.objectMeta()
	ud.Metatable = v.connMeta
	return ud
}

func checkConn(L *lua.LState) *phases.Connection {
	c, ok := L.CheckUserData(1).Value.(*phases.Connection)
	if !ok {
		L.ArgError(1, "connection expected")
	}
	return c
}

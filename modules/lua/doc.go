// Package lua is httpdg's lua_module, the counterpart of Apache's mod_lua:
// it declares mod_lua's directives (LuaRoot, LuaScope, LuaCodeCache, the
// LuaHook* family, LuaMapHandler, the Lua filters and authz providers) and
// httpdg's additions for the server life cycle (LuaHookOpenLogs,
// LuaHookPostConfig, LuaHookChildInit, LuaHookChildExit), shared dicts
// (LuaSharedDict) and the sandbox (LuaAllowIO, LuaTimeout, LuaMemoryLimit,
// LuaCompile).
//
// At config time every script a directive names must exist and, with
// LuaCompile eager (the default), compile with gopher-lua, so `httpdg -t`
// catches Lua syntax errors with the script's file and line. Each distinct
// script is compiled once per config load; the compiled prototypes are
// kept for the run time (see Compiled).
//
// The run time (runtime.go, hooks.go, api.go, request.go) attaches, for
// each generation, the life-cycle hooks (f(pconf, plog, ptemp, s) and
// f(pchild, s), sharing one unsandboxed state per script and process),
// the LuaHook* request hooks and LuaQuickHandler on their phases with
// early/late order, LuaMapHandler ($1... filled from the URI) and the
// lua-script handler (SetHandler or AddHandler: handle(r) of r.filename).
// Request-time states follow LuaScope: once (a fresh state per call),
// request and conn (one per request or connection pool), thread and server
// (a pool of states reused across requests; server min max caps the
// states in use). LuaCodeCache stat reloads a script whose mtime or size
// changed, forever keeps the first compile, never recompiles per call; a
// reused state reruns the top level of a script that changed. Request-time
// states are sandboxed (string, table, math, coroutine, os.time/date/clock,
// io only with LuaAllowIO On) and each call is stopped after LuaTimeout
// (a 503). A Lua error fails the hook with "file:line: message" and the
// traceback (a 500 for a request).
package lua

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
package lua

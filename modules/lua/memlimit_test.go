package lua

import (
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
)

// limitedVM is a sandboxed state of a bare runtime whose calls run under
// LuaMemoryLimit limit.
func limitedVM(t *testing.T, limit int64) *vm {
	t.Helper()
	rt := newRuntime(&config.Config{})
	rt.memLimited = true
	t.Cleanup(func() { rt.sampler.stop() })
	v := rt.newVM("test.lua", true, false, nil)
	t.Cleanup(v.L.Close)
	v.memLimit = limit
	return v
}

func runLimited(t *testing.T, v *vm, script string) error {
	t.Helper()
	fn, err := v.L.LoadString(script)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := v.pcall(fn, 30*time.Second)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the script was not stopped")
		return nil
	}
}

func TestMemoryLimitStopsGrowth(t *testing.T) {
	for _, c := range []struct{ name, script string }{
		{"table", `local t = {} local i = 0 while true do i = i + 1 t[i] = i end`},
		{"global table of strings", `big = {} while true do big[#big + 1] = "item " .. #big end`},
		{"string", `local s = "x" while true do s = s .. s end`},
		{"string built slowly", `local s = "" local chunk = string.rep("0123456789", 100) while true do s = s .. chunk end`},
		{"nested tables", `local t = {} local cur = t while true do cur.next = {} cur = cur.next end`},
		{"string.rep in one call", `local s = string.rep("x", 1e9)`},
		{"closure upvalue", `local t = {} local function add() t[#t+1] = {} end while true do add() end`},
		{"inside a coroutine", `local co = coroutine.create(function() local t = {} while true do t[#t+1] = {1, 2, 3} end end) coroutine.resume(co) error("the coroutine returned")`},
		{"inside coroutine.wrap", `local f = coroutine.wrap(function() local s = "x" while true do s = s .. s end end) f()`},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := limitedVM(t, 1<<20)
			err := runLimited(t, v, c.script)
			var me *memoryError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a LuaMemoryLimit stop", err)
			}
			if !strings.Contains(me.msg, "the state grew past LuaMemoryLimit (1M; about") || !v.broken {
				t.Fatalf("message %q, broken %v", me.msg, v.broken)
			}
		})
	}
}

// A script that stays under its limit runs to its end, however much it
// allocates and drops on the way.
func TestMemoryLimitLetsSmallStatesRun(t *testing.T) {
	v := limitedVM(t, 1<<20)
	err := runLimited(t, v, `
		local keep = {}
		for i = 1, 200000 do
			local tmp = {} for j = 1, 10 do tmp[j] = j end -- garbage
			keep[i % 1000] = string.rep("y", 100)
		end
		result = #keep`)
	if err != nil {
		t.Fatal(err)
	}
	if n := v.L.GetGlobal("result"); n != lua.LNumber(999) {
		t.Fatalf("result %v", n)
	}
	if v.broken {
		t.Fatal("a state within its limit was marked broken")
	}
}

func TestStateSizeCounts(t *testing.T) {
	v := limitedVM(t, 64<<20)
	base := stateSize(v.L, v.rt.sharedTables(), 1<<62)
	if err := v.L.DoString(`big = string.rep("z", 100000) t = {} for i = 1, 1000 do t[i] = i end`); err != nil {
		t.Fatal(err)
	}
	grown := stateSize(v.L, v.rt.sharedTables(), 1<<62) - base
	// 100000 bytes of string, 1000 entries, their table, and the globals'
	// two new entries.
	if want := int64(100000 + stringCost + 1000*entryCost + tableCost); grown < want || grown > want+1000 {
		t.Fatalf("grew by %d, want about %d", grown, want)
	}
	if base > 64<<10 {
		t.Fatalf("a fresh state counts %d bytes", base)
	}
}

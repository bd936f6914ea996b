package lua

import (
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/modules/lua/shdict"
)

// sharedState is a bare Lua state whose httpdg.shared holds dicts, and
// whose advance(secs) moves the dicts' clock.
func sharedState(t *testing.T, meta *lua.LTable, now *time.Time) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	h := L.NewTable()
	shared := L.NewTable()
	shared.Metatable = meta
	h.RawSetString("shared", shared)
	L.SetGlobal("httpdg", h)
	L.SetGlobal("advance", L.NewFunction(func(L *lua.LState) int {
		*now = now.Add(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
		return 0
	}))
	return L
}

func testDicts(t *testing.T, now *time.Time, sizes map[string]int64) map[string]*shdict.Dict {
	t.Helper()
	dicts := map[string]*shdict.Dict{}
	for name, size := range sizes {
		d, err := shdict.Create(name, size)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		d.SetClock(func() time.Time { return *now })
		dicts[name] = d
	}
	return dicts
}

func TestSharedDictLuaAPI(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	dicts := testDicts(t, &now, map[string]int64{"counters": 256 << 10, "small": shdict.MinSize})
	meta := newSharedMeta(lua.NewState(), dicts)
	cases := []struct{ name, script string }{
		{"types", `
			local d = httpdg.shared.counters
			assert(httpdg.shared.nope == nil)
			local ok, err, forcible = d:set("s", "hello")
			assert(ok == true and err == nil and forcible == false)
			assert(d:get("s") == "hello")
			d:set("n", 1.5)            assert(d:get("n") == 1.5)
			d:set("b", false)          assert(d:get("b") == false)
			d:set("t", true)           assert(d:get("t") == true)
			d:set(7, "seven")          assert(d:get("7") == "seven" and d:get(7) == "seven")
			assert(d:set("s", nil))    assert(d:get("s") == nil)
			assert(d:get("never") == nil)`},
		{"bad arguments", `
			local d = httpdg.shared.counters
			local v, e = d:get(nil)                 assert(v == nil and e == "nil key")
			local ok, err = d:set("t", {})          assert(ok == false and err == "bad value type")
			ok, err = d:set("", 1)                  assert(ok == false and err == "empty key")
			ok, err = d:set(string.rep("k", 65536), 1) assert(ok == false and err == "key too long")
			local okc, msg = pcall(function() return d.get("k") end)
			assert(not okc and msg:find("with a colon"), msg)
			okc, msg = pcall(function() return d:set("k", 1, -1) end)
			assert(not okc and msg:find("ttl"), msg)
			okc, msg = pcall(function() httpdg.shared.other = 1 end)
			assert(not okc and msg:find("read%-only"), msg)
			assert(getmetatable(d) == "shared_dict")`},
		{"add replace", `
			local d = httpdg.shared.counters
			local ok, err, forcible = d:add("a", 1)       assert(ok == true and err == nil and forcible == false)
			ok, err, forcible = d:add("a", 2)             assert(ok == false and err == "exists" and forcible == false)
			ok, err = d:safe_add("a", 2)                  assert(ok == nil and err == "exists")
			assert(d:get("a") == 1)
			ok, err = d:replace("nobody", 1)              assert(ok == false and err == "not found")
			assert(d:replace("a", "two"))                 assert(d:get("a") == "two")
			assert(d:safe_set("a", 3))                    assert(d:get("a") == 3)`},
		{"incr", `
			local d = httpdg.shared.counters
			local v, e, f = d:incr("missing", 1)   assert(v == nil and e == "not found" and f == nil)
			v, e, f = d:incr("c", 5, 10)           assert(v == 15 and e == nil and f == false)
			v = d:incr("c", -0.5)                  assert(v == 14.5)
			d:set("str", "x")
			v, e = d:incr("str", 1)                assert(v == nil and e == "not a number")
			v = d:incr("ttl", 1, 0, 2)             assert(v == 1 and d:ttl("ttl") == 2)`},
		{"ttl expire", `
			local d = httpdg.shared.counters
			d:flush_all()
			d:set("tmp", "x", 1.5)
			assert(d:ttl("tmp") == 1.5)
			advance(1)                             assert(d:get("tmp") == "x")
			advance(0.5)                           assert(d:get("tmp") == nil)
			local v, e = d:ttl("tmp")              assert(v == nil and e == "not found")
			d:set("p", 1)                          assert(d:ttl("p") == 0)
			assert(d:expire("p", 1))               advance(1)  assert(d:get("p") == nil)
			v, e = d:expire("p", 1)                assert(v == nil and e == "not found")
			d:set("e1", 1, 1) d:set("e2", 1, 1) d:set("e3", 1)
			advance(1)
			local fe = d:flush_expired() assert(fe == 4, tostring(fe)) -- tmp, p, e1, e2
			assert(d:get("e3") == 1 and d:flush_expired() == 0)`},
		{"keys flush delete", `
			local d = httpdg.shared.counters
			d:flush_all()
			for i = 1, 1100 do d:set("k" .. i, i) end
			assert(#d:keys() == 1024 and #d:get_keys() == 1024)
			assert(#d:keys(0) == 1100 and #d:keys(10) == 10 and d:keys(1)[1] == "k1")
			d:delete("k1")                         assert(d:get("k1") == nil and #d:keys(0) == 1099)
			d:flush_all()                          assert(#d:keys(0) == 0)
			assert(d:capacity() > 0 and d:free_space() == d:capacity())`},
		{"no memory", `
			local d = httpdg.shared.small
			local big = string.rep("v", 200)
			local n = 0
			while true do
				local ok, err = d:safe_set("k" .. n, big)
				if not ok then assert(err == "no memory", err) break end
				n = n + 1
			end
			assert(n > 10, tostring(n))
			local ok, err, forcible = d:set("one more", big)
			assert(ok == true and err == nil and forcible == true)
			ok, err = d:set("huge", string.rep("h", 9000))
			assert(ok == false and err == "no memory")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			L := sharedState(t, meta, &now)
			if err := L.DoString(c.script); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// States running at once on goroutines share the metatable and the dict.
func TestSharedDictManyStates(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	dicts := testDicts(t, &now, map[string]int64{"c": 64 << 10})
	meta := newSharedMeta(lua.NewState(), dicts)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		L := sharedState(t, meta, &now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := L.DoString(`for i = 1, 500 do httpdg.shared.c:incr("n", 1, 0) end`); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v, _, _ := dicts["c"].Get("n"); v.Num != 2000 {
		t.Fatalf("n = %v, want 2000", v.Num)
	}
}

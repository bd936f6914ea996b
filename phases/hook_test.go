package phases

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type fn func() (Status, error)

func ret(s Status) fn { return func() (Status, error) { return s, nil } }

func TestHookKinds(t *testing.T) {
	boom := errors.New("boom")
	fail := func() (Status, error) { return OK, boom }
	cases := []struct {
		name     string
		kind     Kind
		handlers []fn
		want     Status
		ran      int    // handlers called
		stopper  string // origin of the handler that ended the run
	}{
		{"run_all empty is OK", RunAll, nil, OK, 0, ""},
		{"run_all all declined is OK", RunAll, []fn{ret(DECLINED), ret(DECLINED)}, OK, 2, ""},
		{"run_all ok and declined run all", RunAll, []fn{ret(OK), ret(DECLINED), ret(OK)}, OK, 3, ""},
		{"run_all stops at error status", RunAll, []fn{ret(OK), ret(403), ret(OK)}, 403, 2, "h1"},
		{"run_all stops at DONE", RunAll, []fn{ret(DONE), ret(OK)}, DONE, 1, "h0"},
		{"run_all error is 500", RunAll, []fn{ret(OK), fail, ret(OK)}, 500, 2, "h1"},
		{"run_first empty is DECLINED", RunFirst, nil, DECLINED, 0, ""},
		{"run_first all declined", RunFirst, []fn{ret(DECLINED), ret(DECLINED)}, DECLINED, 2, ""},
		{"run_first stops at OK", RunFirst, []fn{ret(DECLINED), ret(OK), ret(404)}, OK, 2, "h1"},
		{"run_first stops at status", RunFirst, []fn{ret(404), ret(OK)}, 404, 1, "h0"},
		{"run_first stops at DONE", RunFirst, []fn{ret(DECLINED), ret(DONE)}, DONE, 2, "h1"},
		{"void runs all despite failures", Void, []fn{ret(500), fail, ret(OK)}, OK, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := NewHook[fn]("test", c.kind)
			for i, f := range c.handlers {
				h.Add(Entry[fn]{Fn: f, Origin: "h" + string(rune('0'+i)), Order: Middle})
			}
			ran, voidErrs := 0, 0
			res, err := h.Run(func(f fn) (Status, error) { ran++; return f() }, func(string, Status, error) { voidErrs++ })
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.want || ran != c.ran || res.Stopper != c.stopper {
				t.Fatalf("got status %v ran %d stopper %q; want %v, %d, %q", res.Status, ran, res.Stopper, c.want, c.ran, c.stopper)
			}
			if c.kind == Void && voidErrs != 2 {
				t.Fatalf("void hook reported %d failures, want 2", voidErrs)
			}
		})
	}
}

func TestHookOrdering(t *testing.T) {
	type reg struct {
		origin string
		order  Order
		pred   []string
		succ   []string
	}
	cases := []struct {
		name string
		regs []reg
		want []string
		err  string
	}{
		{"levels", []reg{{"late", Last, nil, nil}, {"rl", ReallyLast, nil, nil}, {"mid", Middle, nil, nil}, {"rf", ReallyFirst, nil, nil}, {"first", First, nil, nil}},
			[]string{"rf", "first", "mid", "late", "rl"}, ""},
		{"stable within a level", []reg{{"a", Middle, nil, nil}, {"b", First, nil, nil}, {"c", Middle, nil, nil}, {"d", First, nil, nil}, {"e", Middle, nil, nil}},
			[]string{"b", "d", "a", "c", "e"}, ""},
		{"predecessor moves a handler later", []reg{{"a", First, []string{"b"}, nil}, {"b", Middle, nil, nil}, {"c", Last, nil, nil}},
			[]string{"b", "a", "c"}, ""},
		{"successor moves a handler earlier", []reg{{"a", Middle, nil, nil}, {"b", Last, nil, []string{"a"}}},
			[]string{"b", "a"}, ""},
		{"unknown predecessor ignored", []reg{{"a", Middle, []string{"nope"}, nil}, {"b", First, nil, nil}},
			[]string{"b", "a"}, ""},
		{"cycle is an error", []reg{{"a", Middle, []string{"b"}, nil}, {"b", Middle, []string{"a"}, nil}, {"c", Middle, nil, nil}},
			nil, "form a cycle"},
		{"self reference ignored", []reg{{"a", Middle, []string{"a"}, nil}}, []string{"a"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := NewHook[int]("test", RunAll)
			for _, r := range c.regs {
				h.Add(Entry[int]{Origin: r.origin, Module: r.origin, Order: r.order, Predecessors: r.pred, Successors: r.succ})
			}
			entries, err := h.Entries()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want error containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Origin)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("order %v, want %v", got, c.want)
			}
		})
	}
}

func TestOrderOf(t *testing.T) {
	for in, want := range map[string]Order{"": Middle, "early": First, "LATE": Last, "really_first": ReallyFirst} {
		if got, err := OrderOf(in); err != nil || got != want {
			t.Errorf("OrderOf(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := OrderOf("soon"); err == nil {
		t.Error("OrderOf(soon) should fail")
	}
}

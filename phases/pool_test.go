package phases

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestPoolCleanupOrder(t *testing.T) {
	var got []string
	note := func(s string) func() error { return func() error { got = append(got, s); return nil } }
	global := NewPool("pglobal", nil)
	pconf := global.Sub("pconf")
	ptemp := pconf.Sub("ptemp")
	pchild := pconf.Sub("pchild")
	conn := pchild.Sub("connection")
	req := conn.Sub("request")
	pconf.CleanupRegister("conf1", note("pconf-1"))
	pconf.CleanupRegister("conf2", note("pconf-2"))
	ptemp.CleanupRegister("temp", note("ptemp"))
	pchild.CleanupRegister("child1", note("pchild-1"))
	pchild.CleanupRegister("child2", note("pchild-2"))
	conn.CleanupRegister("conn", note("connection"))
	req.CleanupRegister("req", note("request"))

	if errs := req.Destroy(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if want := []string{"request"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("destroying request ran %v", got)
	}
	got = nil
	pconf.Clear()
	// Sub-pools first (last created first, each depth-first), then pconf's
	// own cleanups last-registered first.
	want := []string{"connection", "pchild-2", "pchild-1", "ptemp", "pconf-2", "pconf-1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("clear ran %v, want %v", got, want)
	}
	got = nil
	pconf.Clear()
	if len(got) != 0 {
		t.Fatalf("second clear ran %v, want nothing", got)
	}
	// A cleared pool is reusable.
	pconf.CleanupRegister("again", note("again"))
	global.Destroy()
	if !reflect.DeepEqual(got, []string{"again"}) {
		t.Fatalf("destroying pglobal ran %v", got)
	}
}

func TestPoolFailingCleanupsDoNotStopOthers(t *testing.T) {
	var reported []error
	var ran []string
	p := NewPool("pchild", func(err error) { reported = append(reported, err) })
	p.CleanupRegister("first", func() error { ran = append(ran, "first"); return nil })
	p.CleanupRegister("panics", func() error { panic("kaboom") })
	p.CleanupRegister("errs", func() error { return errors.New("disk full") })
	p.CleanupRegister("last", func() error { ran = append(ran, "last"); return nil })
	errs := p.Destroy()
	if !reflect.DeepEqual(ran, []string{"last", "first"}) {
		t.Fatalf("ran %v", ran)
	}
	if len(errs) != 2 || len(reported) != 2 {
		t.Fatalf("errs %v reported %v, want 2 each", errs, reported)
	}
	if !strings.Contains(errs[0].Error(), "cleanup errs failed: disk full") || !strings.Contains(errs[1].Error(), "cleanup panics panicked: kaboom") {
		t.Fatalf("errors: %v", errs)
	}
}

func TestPoolKillRunUserdata(t *testing.T) {
	p := NewPool("pconf", nil)
	n := 0
	c1 := p.CleanupRegister("killed", func() error { n += 100; return nil })
	c2 := p.CleanupRegister("run", func() error { n++; return nil })
	if !p.CleanupKill(c1) {
		t.Fatal("kill failed")
	}
	if err := p.CleanupRun(c2); err != nil || n != 1 {
		t.Fatalf("run: %v n=%d", err, n)
	}
	p.SetUserdata("mod", 42)
	if v, ok := p.Userdata("mod"); !ok || v != 42 {
		t.Fatalf("userdata %v %v", v, ok)
	}
	// Several keys, and overwriting the first and a later one.
	p.SetUserdata("other", "x")
	p.SetUserdata("third", 3)
	p.SetUserdata("mod", 43)
	p.SetUserdata("third", 4)
	for k, want := range map[string]any{"mod": 43, "other": "x", "third": 4} {
		if v, ok := p.Userdata(k); !ok || v != want {
			t.Fatalf("userdata %s = %v %v, want %v", k, v, ok, want)
		}
	}
	if _, ok := p.Userdata("none"); ok {
		t.Fatal("a key never set is there")
	}
	p.Clear()
	if _, ok := p.Userdata("other"); ok {
		t.Fatal("userdata survived clear")
	}
	if n != 1 {
		t.Fatalf("killed or already-run cleanup ran again: n=%d", n)
	}
	if _, ok := p.Userdata("mod"); ok {
		t.Fatal("userdata survived clear")
	}
}

func TestPoolCleanupRegisteringCleanup(t *testing.T) {
	p := NewPool("p", nil)
	var ran []string
	p.CleanupRegister("outer", func() error {
		ran = append(ran, "outer")
		p.CleanupRegister("inner", func() error { ran = append(ran, "inner"); return nil })
		return nil
	})
	p.Clear()
	if !reflect.DeepEqual(ran, []string{"outer", "inner"}) {
		t.Fatalf("ran %v", ran)
	}
}

func TestPoolConcurrentRegister(t *testing.T) {
	p := NewPool("connection", nil)
	var mu sync.Mutex
	count := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				p.CleanupRegister("c", func() error { mu.Lock(); count++; mu.Unlock(); return nil })
				p.Sub("request").Destroy()
			}
		}()
	}
	wg.Wait()
	p.Destroy()
	if count != 800 {
		t.Fatalf("ran %d cleanups, want 800", count)
	}
}

package phases

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/httpdg/httpdg/config"
)

// recorder is a set of hooks that note what ran, with the restart count.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) note(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) serverHook(name string, fail error) ServerHookFunc {
	return func(pconf, plog, ptemp *Pool, s *Server) error {
		if pconf.Name() != "pconf" || plog.Name() != "plog" || ptemp.Name() != "ptemp" || ptemp.Parent() != pconf {
			return errors.New("wrong pools")
		}
		r.note(name + ":" + string(rune('0'+s.Process.RestartCount)))
		return fail
	}
}

func (r *recorder) childHook(name string, fail error) ChildHookFunc {
	return func(p *Pool, s *Server) error {
		if p.Name() != "pchild" {
			return errors.New("wrong pool")
		}
		r.note(name)
		return fail
	}
}

// newTestLifecycle returns a life cycle whose hooks come from add, with an
// empty config and the error log captured in logBuf.
func newTestLifecycle(t *testing.T, add func(h *ServerHooks)) (*Lifecycle, *bytes.Buffer) {
	t.Helper()
	var logBuf bytes.Buffer
	lc := NewLifecycle(func() (*config.Config, error) {
		return &config.Config{Main: config.NewServer(nil, false, nil)}, nil
	})
	lc.Log = NewErrorLog(&logBuf, ErrorLogOptions{Level: "debug"})
	lc.buildHooks = func(*config.Config) (*ServerHooks, error) {
		h := NewServerHooks()
		add(h)
		return h, nil
	}
	lc.logFor = func() *ErrorLog { return lc.Log }
	return lc, &logBuf
}

func TestLifecycleStartThenRestart(t *testing.T) {
	var r recorder
	lc, _ := newTestLifecycle(t, func(h *ServerHooks) {
		h.OpenLogs.Add(Entry[ServerHookFunc]{Fn: r.serverHook("open_logs", nil), Origin: "t"})
		h.PostConfig.Add(Entry[ServerHookFunc]{Fn: r.serverHook("post_config", nil), Origin: "t"})
		h.ChildInit.Add(Entry[ChildHookFunc]{Fn: r.childHook("child_init", nil), Origin: "t"})
		h.ChildExit.Add(Entry[ChildHookFunc]{Fn: r.childHook("child_exit", nil), Origin: "t"})
	})
	var pconfCleanups int
	if err := lc.Start(); err != nil {
		t.Fatal(err)
	}
	if lc.Process.RestartCount != 2 || lc.Process.Generation != 1 {
		t.Fatalf("after start: restart count %d generation %d", lc.Process.RestartCount, lc.Process.Generation)
	}
	lc.Pconf.CleanupRegister("gen1", func() error { pconfCleanups++; return nil })
	pchild := lc.ChildInit()
	if lc.Process.State != StateRunning {
		t.Fatalf("state %s", lc.Process.State)
	}
	lc.ChildExit(pchild)
	lc.ClearConfig()
	if pconfCleanups != 1 {
		t.Fatal("pconf cleanups did not run at restart")
	}
	if err := lc.RunGeneration(); err != nil {
		t.Fatal(err)
	}
	want := []string{"open_logs:1", "post_config:1", "open_logs:2", "post_config:2", "child_init", "child_exit", "open_logs:3", "post_config:3"}
	if !reflect.DeepEqual(r.calls, want) {
		t.Fatalf("calls %v\nwant  %v", r.calls, want)
	}
}

func TestLifecycleFailingPostConfigAborts(t *testing.T) {
	var r recorder
	lc, _ := newTestLifecycle(t, func(h *ServerHooks) {
		h.PostConfig.Add(Entry[ServerHookFunc]{Fn: r.serverHook("bad", errors.New("no database")), Origin: "mymod.PostConfig (Go)"})
		h.PostConfig.Add(Entry[ServerHookFunc]{Fn: r.serverHook("later", nil), Origin: "t"})
	})
	err := lc.Start()
	if err == nil || err.Error() != "post_config handler mymod.PostConfig (Go) failed: no database" {
		t.Fatalf("got %v", err)
	}
	if !reflect.DeepEqual(r.calls, []string{"bad:1"}) {
		t.Fatalf("calls %v: RUN_ALL must stop at the failure, and the start must not go on", r.calls)
	}
}

func TestLifecycleFailingChildInitIsLogged(t *testing.T) {
	var r recorder
	lc, log := newTestLifecycle(t, func(h *ServerHooks) {
		h.ChildInit.Add(Entry[ChildHookFunc]{Fn: r.childHook("init1", errors.New("cache unreachable")), Origin: "mymod.ChildInit (Go)"})
		h.ChildInit.Add(Entry[ChildHookFunc]{Fn: r.childHook("init2", nil), Origin: "t"})
	})
	if err := lc.Start(); err != nil {
		t.Fatal(err)
	}
	lc.ChildInit()
	if !reflect.DeepEqual(r.calls, []string{"init1", "init2"}) {
		t.Fatalf("calls %v", r.calls)
	}
	if !strings.Contains(log.String(), "child_init handler mymod.ChildInit (Go) failed: cache unreachable") {
		t.Fatalf("log: %s", log)
	}
}

func TestLifecycleFailingChildExitStopsLaterButCleansUp(t *testing.T) {
	var r recorder
	lc, log := newTestLifecycle(t, func(h *ServerHooks) {
		h.ChildExit.Add(Entry[ChildHookFunc]{Fn: r.childHook("exit1", errors.New("flush failed")), Origin: "mymod.ChildExit (Go)"})
		h.ChildExit.Add(Entry[ChildHookFunc]{Fn: r.childHook("exit2", nil), Origin: "t"})
	})
	if err := lc.Start(); err != nil {
		t.Fatal(err)
	}
	pchild := lc.ChildInit()
	cleaned := false
	pchild.CleanupRegister("t", func() error { cleaned = true; return nil })
	lc.ChildExit(pchild)
	if !reflect.DeepEqual(r.calls, []string{"exit1"}) {
		t.Fatalf("calls %v: a failing child_exit must stop the later ones", r.calls)
	}
	if !cleaned {
		t.Fatal("pchild cleanups did not run")
	}
	if !strings.Contains(log.String(), "child_exit handler mymod.ChildExit (Go) failed: flush failed") {
		t.Fatalf("log: %s", log)
	}
}

func TestLifecycleConfigErrorAborts(t *testing.T) {
	lc := NewLifecycle(func() (*config.Config, error) { return nil, errors.New("Syntax error on line 1 of x") })
	if err := lc.Start(); err == nil || !strings.Contains(err.Error(), "Syntax error") {
		t.Fatalf("got %v", err)
	}
}

// TestPanickingServerHookIsAFailure: a life-cycle handler's panic is its
// failure with the panic's place, not the process's end.
func TestPanickingServerHookIsAFailure(t *testing.T) {
	h := NewHook[ServerHookFunc]("post_config", RunAll)
	h.Add(Entry[ServerHookFunc]{Origin: "bug.PostConfig (Go)", Fn: func(pconf, plog, ptemp *Pool, s *Server) error {
		var p *Process
		p.Generation++ // a nil pointer: a runtime panic
		return nil
	}})
	err := RunServerHook(h, nil, nil, nil, &Server{})
	if err == nil || !strings.Contains(err.Error(), "post_config handler bug.PostConfig (Go) failed: panic: runtime error: invalid memory address") || !strings.Contains(err.Error(), "lifecycle_test.go:") {
		t.Fatalf("err %v", err)
	}
}

package phases

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// phaseTrace registers one handler on every request hook that records the
// phase and returns what answers says for it (OK by default; DECLINED for
// RUN_FIRST hooks so later phases run).
func phaseTrace(answers map[string]Status, fail map[string]error) (*RequestHooks, *[]string) {
	h := NewRequestHooks()
	var ran []string
	for _, hook := range []*Hook[RequestHookFunc]{h.PostReadRequest, h.QuickHandler, h.TranslateName, h.MapToStorage,
		h.HeaderParser, h.AccessChecker, h.CheckUserID, h.AuthChecker, h.TypeChecker, h.Fixups, h.InsertFilter,
		h.Handler, h.LogTransaction} {
		name, kind := hook.Name, hook.Kind
		hook.Add(Entry[RequestHookFunc]{Origin: "trace", Fn: func(r *Request) (Status, error) {
			ran = append(ran, name)
			if st, ok := answers[name]; ok {
				return st, fail[name]
			}
			if kind == RunFirst && name != "handler" {
				return DECLINED, nil
			}
			return OK, fail[name]
		}})
	}
	return h, &ran
}

var allPhases = []string{"post_read_request", "quick_handler", "translate_name", "map_to_storage", "header_parser",
	"access_checker", "check_user_id", "auth_checker", "type_checker", "fixups", "insert_filter", "handler", "log_transaction"}

func TestProcessRequestPhases(t *testing.T) {
	cases := []struct {
		name    string
		answers map[string]Status
		fail    map[string]error
		want    Status
		status  int
		ran     []string
	}{
		{"all phases in Apache's order", nil, nil, OK, 200, allPhases},
		{"quick handler answers: only log_transaction follows", map[string]Status{"quick_handler": OK}, nil, OK, 200,
			[]string{"post_read_request", "quick_handler", "log_transaction"}},
		{"access_checker forbids", map[string]Status{"access_checker": 403}, nil, 403, 403,
			[]string{"post_read_request", "quick_handler", "translate_name", "map_to_storage", "header_parser", "access_checker", "log_transaction"}},
		{"translate_name redirects", map[string]Status{"translate_name": 301}, nil, 301, 301,
			[]string{"post_read_request", "quick_handler", "translate_name", "log_transaction"}},
		{"no handler takes it: 404", map[string]Status{"handler": DECLINED}, nil, 404, 404, allPhases},
		{"handler DONE", map[string]Status{"handler": DONE}, nil, DONE, 200, allPhases},
		{"fixups error is a 500", nil, map[string]error{"fixups": errors.New("boom")}, 500, 500,
			[]string{"post_read_request", "quick_handler", "translate_name", "map_to_storage", "header_parser", "access_checker",
				"check_user_id", "auth_checker", "type_checker", "fixups", "log_transaction"}},
		{"insert_filter failure is ignored (VOID)", map[string]Status{"insert_filter": 500}, nil, OK, 200, allPhases},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, ran := phaseTrace(c.answers, c.fail)
			pool := NewPool("request", nil)
			destroyed := false
			pool.CleanupRegister("t", func() error { destroyed = true; return nil })
			r := &Request{Pool: pool}
			if got := ProcessRequest(h, r, nil); got != c.want {
				t.Errorf("status %v, want %v", got, c.want)
			}
			if r.Status != c.status {
				t.Errorf("r.Status %d, want %d", r.Status, c.status)
			}
			if !reflect.DeepEqual(*ran, c.ran) {
				t.Errorf("ran %v\nwant %v", *ran, c.ran)
			}
			if !destroyed {
				t.Error("request pool not destroyed")
			}
		})
	}
}

// TestPanickingHookIsAFailure: a Go handler's panic becomes a 500 for the
// request with a log line naming the panic and where it was raised; the
// later phases and log_transaction still run their course.
func TestPanickingHookIsAFailure(t *testing.T) {
	var buf bytes.Buffer
	h := NewRequestHooks()
	h.Fixups.Add(Entry[RequestHookFunc]{Origin: "bug.Fixup (Go)", Fn: func(r *Request) (Status, error) {
		var m map[string]int
		m["x"] = 1 // a nil map write: a runtime panic
		return OK, nil
	}})
	logged := false
	h.LogTransaction.Add(Entry[RequestHookFunc]{Origin: "log", Fn: func(r *Request) (Status, error) { logged = true; return OK, nil }})
	if err := h.sortAll(); err != nil {
		t.Fatal(err)
	}
	r := &Request{Server: &Server{Log: NewErrorLog(&buf, ErrorLogOptions{})}, Notes: map[string]string{}}
	st := ProcessRequest(h, r, nil)
	if st != 500 || r.Status != 500 || !logged {
		t.Fatalf("status %d / %d, logged %v", st, r.Status, logged)
	}
	if !strings.Contains(buf.String(), "fixups handler bug.Fixup (Go) failed: panic: assignment to entry in nil map (at ") || !strings.Contains(buf.String(), "request_test.go:") {
		t.Fatalf("log %q", buf.String())
	}
}

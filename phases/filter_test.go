package phases

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// wireWriter is a ResponseWriter that records what would go on the wire:
// the status, the headers as they were when it was sent, every write and
// every flush, in order.
type wireWriter struct {
	r        *Request
	status   int
	head     http.Header
	events   []string // "w:<bytes>" or "flush"
	body     bytes.Buffer
	headless bool // HEAD: bytes are counted, not kept
}

func (w *wireWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.head = w.r.HeadersOut.Clone()
}

func (w *wireWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(200)
	}
	w.events = append(w.events, "w:"+string(p))
	if !w.headless {
		w.body.Write(p)
	}
	return len(p), nil
}

func (w *wireWriter) Flush() error {
	w.events = append(w.events, "flush")
	return nil
}

// upper is an output or input filter that upper-cases every chunk, with a
// prefix and a suffix, recording what it saw.
type upper struct {
	prefix, suffix string
	decline        bool
	seen           []string
	failOn         string
}

func (u *upper) Start(r *Request) ([]byte, bool, error) {
	if u.decline {
		return nil, false, nil
	}
	return []byte(u.prefix), true, nil
}

func (u *upper) Chunk(p []byte) ([]byte, error) {
	u.seen = append(u.seen, string(p))
	if u.failOn != "" && strings.Contains(string(p), u.failOn) {
		return nil, errors.New("refusing " + u.failOn)
	}
	return bytes.ToUpper(p), nil
}

func (u *upper) End() ([]byte, error) { return []byte(u.suffix), nil }

// serve runs the phases for a request whose handler is handler, with the
// filters insert adds in insert_filter.
func serve(t *testing.T, method string, body io.Reader, insert func(r *Request), handler RequestHookFunc) (*Request, *wireWriter, Status) {
	t.Helper()
	h := NewRequestHooks()
	h.RegisterOutputFilter("UPPER", func(*Request) Filter { return &upper{prefix: "<", suffix: ">"} })
	h.InsertFilter.Add(Entry[RequestHookFunc]{Origin: "test", Fn: func(r *Request) (Status, error) { insert(r); return OK, nil }})
	h.Handler.Add(Entry[RequestHookFunc]{Origin: "test", Fn: handler})
	r := &Request{Method: method, HeadersIn: http.Header{}, HeadersOut: http.Header{}, ErrHeadersOut: http.Header{},
		Notes: map[string]string{}, SubprocessEnv: map[string]string{}, Hooks: h, Body: body}
	w := &wireWriter{r: r, headless: method == http.MethodHead}
	r.Output = w
	var final Status
	ProcessRequest(h, r, func(r *Request, st Status) {
		final = st
		if w.status == 0 {
			w.WriteHeader(r.Status) // the engine's bare status or error page
		}
	})
	return r, w, final
}

func TestOutputFilterChunksFlushPrependAppend(t *testing.T) {
	f := &upper{prefix: "<<", suffix: ">>"}
	r, w, st := serve(t, "GET", nil, func(r *Request) { r.AddOutputFilterFunc("upper", f) }, func(r *Request) (Status, error) {
		r.HeadersOut.Set("Content-Length", "11")
		r.HeadersOut.Set("X-Kept", "yes")
		r.Output.WriteHeader(201)
		io.WriteString(r.Output, "hello")
		if err := r.Output.Flush(); err != nil {
			return 500, err
		}
		io.WriteString(r.Output, " world")
		return OK, nil
	})
	if st != OK || w.status != 201 {
		t.Fatalf("status %v / %d, want OK / 201", st, w.status)
	}
	want := []string{"w:<<", "w:HELLO", "flush", "w: WORLD", "w:>>"}
	if strings.Join(w.events, "|") != strings.Join(want, "|") {
		t.Errorf("wire events %q, want %q", w.events, want)
	}
	if got := strings.Join(f.seen, "|"); got != "hello| world" {
		t.Errorf("filter saw %q, want the handler's two chunks", got)
	}
	if w.head.Get("Content-Length") != "" || w.head.Get("X-Kept") != "yes" {
		t.Errorf("head %v: want the handler's Content-Length dropped and its other fields kept", w.head)
	}
	if _, ok := r.Replayable(); ok || !r.noReplay {
		t.Error("a filtered request must never be replayable")
	}
	if _, ok := r.Output.(*wireWriter); !ok {
		t.Errorf("r.Output is %T after the handler, want the engine's writer back", r.Output)
	}
}

func TestOutputFilterByNameAndUnknownName(t *testing.T) {
	_, w, _ := serve(t, "GET", nil, func(r *Request) {
		r.AddOutputFilter("no-such-filter") // logged and ignored, as Apache
		r.AddOutputFilter("upper")          // names are case-insensitive
	}, func(r *Request) (Status, error) {
		io.WriteString(r.Output, "abc")
		return OK, nil
	})
	if got := w.body.String(); got != "<ABC>" {
		t.Errorf("body %q, want <ABC>", got)
	}
}

func TestTwoOutputFiltersInOrder(t *testing.T) {
	_, w, _ := serve(t, "GET", nil, func(r *Request) {
		r.AddOutputFilterFunc("a", &upper{prefix: "[", suffix: "]"})
		r.AddOutputFilterFunc("b", &upper{prefix: "(", suffix: ")"})
	}, func(r *Request) (Status, error) {
		io.WriteString(r.Output, "x")
		return OK, nil
	})
	// a's prefix and suffix go through b; b's wrap everything.
	if got := w.body.String(); got != "([X])" {
		t.Errorf("body %q, want ([X])", got)
	}
}

func TestDecliningFilterKeepsContentLength(t *testing.T) {
	_, w, _ := serve(t, "GET", nil, func(r *Request) { r.AddOutputFilterFunc("no", &upper{decline: true}) }, func(r *Request) (Status, error) {
		r.HeadersOut.Set("Content-Length", "3")
		io.WriteString(r.Output, "abc")
		return OK, nil
	})
	if w.body.String() != "abc" || w.head.Get("Content-Length") != "3" {
		t.Errorf("body %q, Content-Length %q: a declining filter changes nothing", w.body.String(), w.head.Get("Content-Length"))
	}
}

func TestOutputFilterHead(t *testing.T) {
	_, w, _ := serve(t, "HEAD", nil, func(r *Request) { r.AddOutputFilter("upper") }, func(r *Request) (Status, error) {
		r.HeadersOut.Set("Content-Length", "3")
		io.WriteString(r.Output, "abc")
		return OK, nil
	})
	// The filters run (their output is what the engine counts and drops).
	if w.status != 200 || strings.Join(w.events, "|") != "w:<|w:ABC|w:>" || w.head.Get("Content-Length") != "" {
		t.Errorf("HEAD: status %d, writes %q, Content-Length %q; want 200, the filtered body, none", w.status, w.events, w.head.Get("Content-Length"))
	}
}

func TestOutputFilterNotOnErrorPagesOrBodilessAnswers(t *testing.T) {
	f := &upper{prefix: "<", suffix: ">"}
	_, w, st := serve(t, "GET", nil, func(r *Request) { r.AddOutputFilterFunc("upper", f) }, func(r *Request) (Status, error) {
		return http.StatusNotFound, nil
	})
	if st != http.StatusNotFound || w.status != 404 || len(w.events) != 0 || f.seen != nil {
		t.Errorf("a handler's 404: status %v/%d, events %q; want the engine's page, unfiltered", st, w.status, w.events)
	}
	_, w, _ = serve(t, "GET", nil, func(r *Request) { r.AddOutputFilter("upper") }, func(r *Request) (Status, error) {
		r.Output.WriteHeader(http.StatusNotModified)
		return OK, nil
	})
	if w.status != 304 || len(w.events) != 0 {
		t.Errorf("304: status %d, events %q; want no body", w.status, w.events)
	}
	// A handler that only sets r.Status (the engine sends it).
	_, w, _ = serve(t, "GET", nil, func(r *Request) { r.AddOutputFilter("upper") }, func(r *Request) (Status, error) {
		r.Status = http.StatusNoContent
		return OK, nil
	})
	if w.status != 204 || len(w.events) != 0 {
		t.Errorf("r.Status 204: status %d, events %q; want no body", w.status, w.events)
	}
}

func TestOutputFilterFailure(t *testing.T) {
	// Nothing sent yet: a 500.
	r, w, st := serve(t, "GET", nil, func(r *Request) { r.AddOutputFilterFunc("f", &upper{failOn: "bad"}) }, func(r *Request) (Status, error) {
		io.WriteString(r.Output, "bad")
		return OK, nil
	})
	if st != 500 || w.status != 500 || r.ConnectionAborted() {
		t.Errorf("failure before anything was sent: status %v/%d, aborted %v; want a 500", st, w.status, r.ConnectionAborted())
	}
	// Part sent: the connection is cut.
	r, w, _ = serve(t, "GET", nil, func(r *Request) { r.AddOutputFilterFunc("f", &upper{failOn: "bad"}) }, func(r *Request) (Status, error) {
		io.WriteString(r.Output, "good")
		if _, err := io.WriteString(r.Output, "bad"); err == nil {
			t.Error("the handler's write through a failing filter succeeded")
		}
		return OK, nil
	})
	if !r.ConnectionAborted() || w.body.String() != "GOOD" {
		t.Errorf("failure after a chunk: aborted %v, body %q; want the connection cut after GOOD", r.ConnectionAborted(), w.body.String())
	}
}

func TestInputFilterUppercasesBody(t *testing.T) {
	var read string
	body := strings.NewReader(strings.Repeat("abc", 5000)) // more than one read
	_, _, st := serve(t, "POST", body, func(r *Request) {
		r.AddInputFilterFunc("up", &upper{prefix: "<", suffix: ">"})
	}, func(r *Request) (Status, error) {
		b, err := io.ReadAll(r.Body)
		read = string(b)
		return OK, err
	})
	if st != OK || read != "<"+strings.Repeat("ABC", 5000)+">" {
		t.Errorf("status %v, handler read %d bytes (%.20q...)", st, len(read), read)
	}
}

func TestNoFiltersNoWrapper(t *testing.T) {
	_, w, _ := serve(t, "GET", strings.NewReader("x"), func(*Request) {}, func(r *Request) (Status, error) {
		if _, ok := r.Output.(*wireWriter); !ok {
			t.Errorf("r.Output is %T without filters, want the engine's writer", r.Output)
		}
		if _, ok := r.Body.(*strings.Reader); !ok {
			t.Errorf("r.Body is %T without filters, want the engine's reader", r.Body)
		}
		r.HeadersOut.Set("Content-Length", "1")
		io.WriteString(r.Output, "x")
		return OK, nil
	})
	if w.head.Get("Content-Length") != "1" {
		t.Error("without filters the handler's Content-Length stays")
	}
}

func TestTwoInputFiltersInOrder(t *testing.T) {
	var read string
	a, b := &upper{prefix: "[", suffix: "]"}, &upper{prefix: "(", suffix: ")"}
	serve(t, "POST", strings.NewReader("x"), func(r *Request) {
		r.AddInputFilterFunc("a", a)
		r.AddInputFilterFunc("b", b)
	}, func(r *Request) (Status, error) {
		got, err := io.ReadAll(r.Body)
		read = string(got)
		return OK, err
	})
	// As on output: a's prefix and suffix go through b (started before
	// they reach it); b's wrap everything.
	if read != "([X])" {
		t.Errorf("handler read %q, want ([X])", read)
	}
	if got := strings.Join(b.seen, "|"); got != "[|X|]" {
		t.Errorf("the second filter saw %q, want [|X|]", got)
	}
}

func TestInputFilterFailureEndsTheBody(t *testing.T) {
	var read string
	var readErr error
	// a's prefix makes b fail: nothing of the body may reach the handler
	// unfiltered after that.
	serve(t, "POST", strings.NewReader("secret"), func(r *Request) {
		r.AddInputFilterFunc("a", &upper{prefix: "bad"})
		r.AddInputFilterFunc("b", &upper{failOn: "bad"})
	}, func(r *Request) (Status, error) {
		got, err := io.ReadAll(r.Body)
		read, readErr = string(got), err
		return OK, nil
	})
	if readErr == nil || !strings.Contains(readErr.Error(), "input filter b") || read != "" {
		t.Errorf("handler read %q, error %v; want nothing and b's error", read, readErr)
	}
	// A failure mid-body: what was filtered before it, then the error.
	serve(t, "POST", io.MultiReader(strings.NewReader("good"), strings.NewReader("bad"), strings.NewReader("more")), func(r *Request) {
		r.AddInputFilterFunc("f", &upper{failOn: "bad"})
	}, func(r *Request) (Status, error) {
		got, err := io.ReadAll(r.Body)
		read, readErr = string(got), err
		return OK, nil
	})
	if readErr == nil || read != "GOOD" {
		t.Errorf("handler read %q, error %v; want GOOD and the filter's error", read, readErr)
	}
}

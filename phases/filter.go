package phases

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Filters, as Apache's resource filters: a request's output filters see
// the response body on its way from the handler to the client, chunk by
// chunk as the handler writes and flushes it, and may change it; its input
// filters see the request body on its way from the client to the handler.
//
// A request gets filters in insert_filter or before (SetOutputFilter,
// AddOutputFilter, a module calling Request.AddOutputFilter). A request
// without filters pays nothing: r.Output and r.Body stay the engine's, no
// wrapper is made. One with filters is never replayed: its answer is the
// filters' doing.

// Filter transforms a body chunk by chunk. The same interface serves both
// directions; which one depends on where it is registered.
type Filter interface {
	// Start runs once, when the first chunk (or the end of a body without
	// any) reaches the filter: it returns what goes before the body, or
	// ok false to decline, which removes the filter from the request
	// (Apache's filter returning without its first yield). For an output
	// filter, the response's status and headers are settled but not sent.
	Start(r *Request) (prefix []byte, ok bool, err error)
	// Chunk returns what goes on in place of p (nothing for now when
	// empty). The result is used before the next call; it may alias p.
	Chunk(p []byte) ([]byte, error)
	// End runs after the last chunk (Apache's EOS) and returns what goes
	// after the body.
	End() ([]byte, error)
}

// FilterFlusher is a Filter that holds bytes back (a compressor): when
// the handler flushes, Flush returns what it holds, which goes out before
// the flush does.
type FilterFlusher interface {
	Flush() ([]byte, error)
}

// NewFilter makes a filter's instance for one request.
type NewFilter func(r *Request) Filter

// RegisterOutputFilter makes the output filter name known to this
// generation (Apache's ap_register_output_filter): SetOutputFilter,
// AddOutputFilter and Request.AddOutputFilter can then name it. Names are
// case-insensitive. Modules call it from RegisterHooks.
func (h *RequestHooks) RegisterOutputFilter(name string, f NewFilter) {
	if h.outputFilters == nil {
		h.outputFilters = map[string]NewFilter{}
	}
	h.outputFilters[strings.ToLower(name)] = f
}

// RegisterInputFilter is RegisterOutputFilter for request bodies.
func (h *RequestHooks) RegisterInputFilter(name string, f NewFilter) {
	if h.inputFilters == nil {
		h.inputFilters = map[string]NewFilter{}
	}
	h.inputFilters[strings.ToLower(name)] = f
}

// namedFilter is one filter inserted in a request.
type namedFilter struct {
	name string
	f    Filter
}

// AddOutputFilter inserts the registered output filter name at the end of
// r's chain (ap_add_output_filter). As in Apache, an unknown name is
// logged and ignored; a call after the handler has started is ignored
// too (the chain is built when the handler runs).
func (r *Request) AddOutputFilter(name string) {
	if nf := r.lookupFilter(name, "output"); nf != nil {
		r.AddOutputFilterFunc(name, nf(r))
	}
}

// AddInputFilter inserts the registered input filter name (see
// AddOutputFilter).
func (r *Request) AddInputFilter(name string) {
	if nf := r.lookupFilter(name, "input"); nf != nil {
		r.AddInputFilterFunc(name, nf(r))
	}
}

// AddOutputFilterFunc inserts f, an unregistered filter, under name (which
// log lines show).
func (r *Request) AddOutputFilterFunc(name string, f Filter) {
	rs := r.rareOf()
	rs.outputFilters = append(rs.outputFilters, namedFilter{name: name, f: f})
}

// AddInputFilterFunc inserts f as an input filter under name.
func (r *Request) AddInputFilterFunc(name string, f Filter) {
	rs := r.rareOf()
	rs.inputFilters = append(rs.inputFilters, namedFilter{name: name, f: f})
}

func (r *Request) lookupFilter(name, direction string) NewFilter {
	var m map[string]NewFilter
	if r.Hooks != nil {
		m = r.Hooks.outputFilters
		if direction == "input" {
			m = r.Hooks.inputFilters
		}
	}
	if nf, ok := m[strings.ToLower(name)]; ok {
		return nf
	}
	if r.Log() != nil {
		r.Log().Error("core", "an unknown filter was not added: %s", name)
	}
	return nil
}

// AbortConnection says that r's answer cannot be completed (an output
// filter failed after part of it was sent): the engine closes the
// connection without finishing the body, as Apache aborts it.
func (r *Request) AbortConnection() { r.aborted = true }

// ConnectionAborted reports whether AbortConnection was called.
func (r *Request) ConnectionAborted() bool { return r.aborted }

// startFilters puts r's filters between the handler and the engine, if it
// has any: called after insert_filter, before the handler.
func (r *Request) startFilters() {
	rs := r.rare
	if len(rs.outputFilters) > 0 {
		r.noReplay = true
		rs.outChain = &outputChain{r: r, out: r.Output, stages: rs.outputFilters}
		r.Output = rs.outChain
	}
	if len(rs.inputFilters) > 0 && r.Body != nil {
		r.noReplay = true
		r.Body = &inputChain{r: r, in: r.Body, stages: rs.inputFilters}
	}
}

// finishFilters ends the output chain after the handler returned st and
// gives r.Output back to the engine. A handler that ended in an error
// before sending anything has its error page sent unfiltered (Apache's
// ap_send_error_response drops the resource filters); otherwise the end of
// the body goes through the filters. It returns st, or the status a
// filter's failure calls for.
func (r *Request) finishFilters(st Status) Status {
	c := r.rare.outChain
	r.rare.outChain = nil
	r.Output = c.out
	if !c.headSent && st != OK && st != DONE {
		return st
	}
	if c.err == nil {
		c.close()
	}
	if c.err == nil {
		return st
	}
	if c.headSent {
		r.AbortConnection()
		return st
	}
	return http.StatusInternalServerError
}

// outputChain is r.Output while r has output filters. The head waits
// until the first bytes leave the last filter (or the body ends), so a
// filter's Start may still change the headers; Content-Length, which a
// filter makes wrong, is dropped then.
type outputChain struct {
	r      *Request
	out    ResponseWriter // the engine's writer
	stages []namedFilter
	// started counts the stages whose Start has run; removed marks those
	// that declined.
	started  int
	removed  []bool
	status   int // what the handler gave WriteHeader
	headSent bool
	closed   bool
	err      error // the first failure; the chain then passes nothing
}

// WriteHeader keeps the status for when the body starts.
func (c *outputChain) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *outputChain) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, errors.New("output filters: write after the end of the body")
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := c.pass(0, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush passes what filters hold on, then flushes the engine's writer.
func (c *outputChain) Flush() error {
	if c.err != nil {
		return c.err
	}
	for i := 0; i < c.started; i++ {
		if c.removed[i] {
			continue
		}
		if fl, ok := c.stages[i].f.(FilterFlusher); ok {
			b, err := fl.Flush()
			if err != nil {
				return c.fail(i, err)
			}
			if err := c.pass(i+1, b); err != nil {
				return err
			}
		}
	}
	c.sendHead()
	return c.out.Flush()
}

// close is the end of the body: each filter's End, in order, its output
// going through the filters after it.
func (c *outputChain) close() {
	if c.closed || c.err != nil {
		return
	}
	c.closed = true
	if c.bodyless() {
		c.sendHead()
		return
	}
	for i := 0; i < len(c.stages); i++ {
		if err := c.start(i); err != nil {
			_ = c.fail(i, err)
			return
		}
		if c.removed[i] {
			continue
		}
		b, err := c.stages[i].f.End()
		if err != nil {
			_ = c.fail(i, err)
			return
		}
		if err := c.pass(i+1, b); err != nil {
			return
		}
	}
	c.sendHead()
}

// bodyless: the handler's status allows no body (1xx, 204, 304), so the
// filters do not run.
func (c *outputChain) bodyless() bool {
	s := c.statusCode()
	return s == http.StatusNoContent || s == http.StatusNotModified || (s >= 100 && s < 200)
}

// pass sends p into stage i (the engine's writer past the last one).
func (c *outputChain) pass(i int, p []byte) error {
	for ; i < len(c.stages); i++ {
		if len(p) == 0 {
			return nil
		}
		if err := c.start(i); err != nil {
			return c.fail(i, err)
		}
		if c.removed[i] {
			continue
		}
		b, err := c.stages[i].f.Chunk(p)
		if err != nil {
			return c.fail(i, err)
		}
		p = b
	}
	if len(p) == 0 {
		return nil
	}
	c.sendHead()
	if _, err := c.out.Write(p); err != nil {
		c.err = err
		return err
	}
	return nil
}

// start runs stage i's Start the first time something reaches it; its
// prefix goes through the stages after it.
func (c *outputChain) start(i int) error {
	if i < c.started {
		return nil
	}
	if c.removed == nil {
		c.removed = make([]bool, len(c.stages))
	}
	c.started = i + 1
	prefix, ok, err := c.stages[i].f.Start(c.r)
	if err != nil {
		return err
	}
	if !ok {
		c.removed[i] = true
		return nil
	}
	if len(prefix) > 0 {
		if err := c.pass(i+1, prefix); err != nil {
			return err
		}
	}
	return nil
}

// fail records stage i's error and logs it.
func (c *outputChain) fail(i int, err error) error {
	if c.err != nil {
		return c.err
	}
	c.err = fmt.Errorf("output filter %s: %w", c.stages[i].name, err)
	if c.r.Log() != nil {
		c.r.Log().Error("core", "%v", c.err)
	}
	return c.err
}

// sendHead sends the status and headers, without the handler's
// Content-Length when a filter is active (Apache's content-length filter
// computes it again; the engine sends the body chunked or
// close-delimited when it cannot).
func (c *outputChain) sendHead() {
	if c.headSent {
		return
	}
	c.headSent = true
	// A filter not started yet may still change the body: only when all
	// of them declined does the handler's length stand.
	for i := range c.stages {
		if i >= c.started || !c.removed[i] {
			c.r.HeadersOut.Del("Content-Length")
			break
		}
	}
	c.out.WriteHeader(c.statusCode())
}

// statusCode is the answer's status: what the handler gave WriteHeader,
// else r.Status (a handler that sets it and writes nothing), else 200.
func (c *outputChain) statusCode() int {
	switch {
	case c.status != 0:
		return c.status
	case c.r.Status != 0:
		return c.r.Status
	}
	return http.StatusOK
}

// inputChain is r.Body while r has input filters: each read of the
// underlying body goes through the filters in order, and their output is
// what the handler reads. As on output, a filter starts when the first
// bytes (or the end of the body) reach it, and its prefix goes through
// the filters after it.
type inputChain struct {
	r       *Request
	in      io.Reader
	stages  []namedFilter
	started int    // stages whose Start has run
	removed []bool // stages that declined
	pending []byte // filtered bytes not yet read
	buf     []byte
	done    bool  // the underlying body ended and the filters' End ran
	err     error // the first failure; nothing is read past it
}

func (c *inputChain) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.done {
			return 0, io.EOF
		}
		c.fill()
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// fill reads one chunk of the body and runs it through the filters (at
// the body's end, their End).
func (c *inputChain) fill() {
	if c.buf == nil {
		c.buf = make([]byte, 8192)
	}
	n, err := c.in.Read(c.buf)
	if n > 0 && !c.through(0, c.buf[:n]) {
		return
	}
	if err == io.EOF {
		for i := range c.stages {
			if !c.start(i) {
				return
			}
			if c.removed[i] {
				continue
			}
			b, err := c.stages[i].f.End()
			if err != nil {
				c.fail(i, err)
				return
			}
			if !c.through(i+1, b) {
				return
			}
		}
		c.done = true
	} else if err != nil {
		c.err = err
	}
}

// through runs p through the stages from i on and appends the result to
// what the handler will read. It reports false when a filter failed.
func (c *inputChain) through(i int, p []byte) bool {
	for ; i < len(c.stages); i++ {
		if len(p) == 0 {
			return true
		}
		if !c.start(i) {
			return false
		}
		if c.removed[i] {
			continue
		}
		b, err := c.stages[i].f.Chunk(p)
		if err != nil {
			c.fail(i, err)
			return false
		}
		p = b
	}
	c.pending = append(c.pending, p...)
	return true
}

// start runs stage i's Start the first time something reaches it; its
// prefix goes through the stages after it.
func (c *inputChain) start(i int) bool {
	if i < c.started {
		return true
	}
	if c.removed == nil {
		c.removed = make([]bool, len(c.stages))
	}
	c.started = i + 1
	prefix, ok, err := c.stages[i].f.Start(c.r)
	if err != nil {
		c.fail(i, err)
		return false
	}
	c.removed[i] = !ok
	return !ok || c.through(i+1, prefix)
}

func (c *inputChain) fail(i int, err error) {
	if c.err != nil {
		return
	}
	c.err = fmt.Errorf("input filter %s: %w", c.stages[i].name, err)
	if c.r.Log() != nil {
		c.r.Log().Error("core", "%v", c.err)
	}
}

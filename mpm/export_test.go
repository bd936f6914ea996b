package mpm

import (
	"errors"
	"net/http"
	"os"

	"github.com/httpdg/httpdg/phases"
)

// NewHandlerForTest returns the engine's request handler for lc's current
// generation with pchild as the child pool, without sockets: what
// benchmarks of the request path call ServeHTTP on.
func NewHandlerForTest(lc *phases.Lifecycle, pchild *phases.Pool) http.Handler {
	noSockets := func(phases.ListenAddr) (*os.File, error) { return nil, errors.New("no sockets here") }
	e := newEngineWith(noSockets, newWorkers(64, true, 1<<20, nil, 0))
	e.gen.Store(newGeneration(lc.Server, lc.Hooks.Request, pchild))
	return e
}

// ReplaysForTest is how many requests h (from NewHandlerForTest) answered
// from a replay.
func ReplaysForTest(h http.Handler) int64 { return h.(*engine).replayed.Load() }

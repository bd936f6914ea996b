package phases

import (
	"fmt"
	"sort"
	"strings"
)

// Status is what a hook handler returns: OK, DECLINED, DONE or an HTTP
// status.
type Status int

// Apache's handler results.
const (
	OK       Status = 0
	DECLINED Status = -1
	DONE     Status = -2
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case DECLINED:
		return "DECLINED"
	case DONE:
		return "DONE"
	}
	return fmt.Sprintf("%d", int(s))
}

// Kind is how a hook runs its handlers (Apache's AP_IMPLEMENT_HOOK_*).
type Kind int

const (
	// RunAll runs handlers until one returns neither OK nor DECLINED and
	// returns that; else OK.
	RunAll Kind = iota
	// RunFirst runs handlers until one returns other than DECLINED and
	// returns that; else DECLINED.
	RunFirst
	// Void runs every handler and ignores results.
	Void
)

func (k Kind) String() string {
	return [...]string{"RUN_ALL", "RUN_FIRST", "VOID"}[k]
}

// Order is a handler's place in its hook, Apache's APR_HOOK_* values.
type Order int

const (
	ReallyFirst Order = -10
	First       Order = 0
	Middle      Order = 10
	Last        Order = 20
	ReallyLast  Order = 30
)

// OrderOf maps the config's "early"/"late" (and the full names) to an Order.
func OrderOf(s string) (Order, error) {
	switch strings.ToLower(s) {
	case "", "middle":
		return Middle, nil
	case "early", "first":
		return First, nil
	case "late", "last":
		return Last, nil
	case "really_first", "reallyfirst":
		return ReallyFirst, nil
	case "really_last", "reallylast":
		return ReallyLast, nil
	}
	return 0, fmt.Errorf("hook order must be early or late, not '%s'", s)
}

// Entry is one handler registered on a hook.
type Entry[F any] struct {
	Fn     F
	Origin string // "startuplog.OpenLogs (Go)" or "conf/lua/x.lua:open_logs"
	Module string // name other entries' Predecessors/Successors refer to
	Order  Order
	// Predecessors must run before this entry; Successors after it. They
	// name modules; a name with no entry on the hook is ignored, as in APR.
	Predecessors []string
	Successors   []string
	// RerunInChild marks an open_logs or post_config handler that builds
	// process state a forked child would inherit (the error log, access
	// logs, TLS certificates). Go cannot fork, so such handlers run again in
	// every child process, with the master's files; the others (user hooks,
	// Lua, startuplog) run in the master only, as in Apache.
	RerunInChild bool
	// Replayable declares that the handler's effect on a request depends
	// on nothing but the request's replay key (listening address, Host,
	// method, URI, protocol), the configuration and the stat of
	// r.Filename, and that it writes none of r's maps when it runs in
	// log_transaction; a handler that sometimes depends on more (a client
	// address, a header, a script) calls r.NotReplayable() when it does.
	// The engine may then answer a later identical request by replaying
	// the first one's outcome (see Request.OfferReplay). User hooks
	// (GoHook*, Lua) are never replayable.
	Replayable bool
}

// Hook is one phase's ordered handlers.
type Hook[F any] struct {
	Name    string
	Kind    Kind
	entries []Entry[F]
	sorted  []Entry[F]
	// unreplayable is set when some handler is not Replayable: a request
	// this hook runs for can then not be replayed.
	unreplayable bool
}

// NewHook returns an empty hook.
func NewHook[F any](name string, kind Kind) *Hook[F] {
	return &Hook[F]{Name: name, Kind: kind}
}

// Add registers a handler; Sort must run before the hook is run again.
func (h *Hook[F]) Add(e Entry[F]) {
	h.entries = append(h.entries, e)
	h.sorted = nil
	if !e.Replayable {
		h.unreplayable = true
	}
}

// HasHandlers reports whether any handler is registered on the hook (a
// caller can skip running an empty one on a hot path).
func (h *Hook[F]) HasHandlers() bool { return len(h.entries) > 0 }

// Sort orders the handlers: by Order, then registration order (stable),
// adjusted so predecessors run first and successors after. A cycle among
// those constraints is an error naming the handlers in it.
func (h *Hook[F]) Sort() error {
	n := len(h.entries)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return h.entries[idx[a]].Order < h.entries[idx[b]].Order })
	// rank[i] is entry i's position in the plain order; edges go from an
	// entry to the ones that must follow it.
	rank := make([]int, n)
	for pos, i := range idx {
		rank[i] = pos
	}
	after := make([][]int, n)
	indeg := make([]int, n)
	edge := func(from, to int) {
		if from != to {
			after[from] = append(after[from], to)
			indeg[to]++
		}
	}
	for i, e := range h.entries {
		for j, o := range h.entries {
			for _, p := range e.Predecessors {
				if o.Module == p {
					edge(j, i)
				}
			}
			for _, s := range e.Successors {
				if o.Module == s {
					edge(i, j)
				}
			}
		}
	}
	// Kahn's algorithm, always taking the ready entry earliest in the plain
	// order, so constraints move as little as possible.
	out := make([]Entry[F], 0, n)
	done := make([]bool, n)
	for len(out) < n {
		best := -1
		for i := 0; i < n; i++ {
			if !done[i] && indeg[i] == 0 && (best < 0 || rank[i] < rank[best]) {
				best = i
			}
		}
		if best < 0 {
			var cyc []string
			for i := range h.entries {
				if !done[i] {
					cyc = append(cyc, h.entries[i].Origin)
				}
			}
			return fmt.Errorf("hook %s: the predecessor/successor constraints of %s form a cycle", h.Name, strings.Join(cyc, ", "))
		}
		done[best] = true
		out = append(out, h.entries[best])
		for _, j := range after[best] {
			indeg[j]--
		}
	}
	h.sorted = out
	return nil
}

// Entries returns the handlers in run order (sorting them if needed).
func (h *Hook[F]) Entries() ([]Entry[F], error) {
	if h.sorted == nil && len(h.entries) > 0 {
		if err := h.Sort(); err != nil {
			return nil, err
		}
	}
	return h.sorted, nil
}

// Only returns a hook with the handlers keep accepts, in run order.
func (h *Hook[F]) Only(keep func(Entry[F]) bool) (*Hook[F], error) {
	entries, err := h.Entries()
	if err != nil {
		return nil, err
	}
	out := NewHook[F](h.Name, h.Kind)
	for _, e := range entries {
		if keep(e) {
			out.entries = append(out.entries, e)
			out.unreplayable = out.unreplayable || !e.Replayable
		}
	}
	out.sorted = out.entries
	return out, nil
}

// Result is the outcome of running a hook.
type Result struct {
	Status Status
	// Stopper is the origin of the handler whose result ended the run (a
	// RUN_ALL failure, a RUN_FIRST answer), "" when none did.
	Stopper string
	// Err is the stopping handler's error, if it returned one.
	Err error
}

// Run calls every handler per the hook's kind. call invokes one handler; an
// error it returns counts as a failure (status 500 unless call sets another
// non-OK status). Void hooks report failures through onVoidError and go on.
func (h *Hook[F]) Run(call func(F) (Status, error), onVoidError func(origin string, st Status, err error)) (Result, error) {
	entries, err := h.Entries()
	if err != nil {
		return Result{}, err
	}
	for _, e := range entries {
		st, err := call(e.Fn)
		if err != nil && (st == OK || st == DECLINED) {
			st = 500
		}
		switch h.Kind {
		case Void:
			if err != nil || (st != OK && st != DECLINED) {
				if onVoidError != nil {
					onVoidError(e.Origin, st, err)
				}
			}
		case RunAll:
			if st != OK && st != DECLINED {
				return Result{Status: st, Stopper: e.Origin, Err: err}, nil
			}
		case RunFirst:
			if st != DECLINED {
				return Result{Status: st, Stopper: e.Origin, Err: err}, nil
			}
		}
	}
	if h.Kind == RunFirst {
		return Result{Status: DECLINED}, nil
	}
	return Result{Status: OK}, nil
}

package mpm

import (
	"net"
	"net/http"

	"github.com/httpdg/httpdg/phases"
)

// hasConnectionHooks reports whether g has pre_connection or
// process_connection handlers; without any, connections go straight to
// HTTP and cost nothing more.
func hasConnectionHooks(g *generation) bool {
	pre, _ := g.hooks.PreConnection.Entries()
	proc, _ := g.hooks.ProcessConnection.Entries()
	return len(pre)+len(proc) > 0
}

// serveConnection runs the connection hooks on a connection the acceptor
// took, on the connection's own goroutine, as Apache's
// ap_process_connection does: pre_connection (RUN_ALL; anything but OK,
// DECLINED or DONE aborts the connection, which is closed without a
// word), then process_connection (RUN_FIRST; a handler that does not
// decline has served the connection, which is then closed). When all
// decline, HTTP serves it with the same conn_rec: its pool and notes go
// on to the requests.
func (e *engine) serveConnection(s *acceptSocket, tc *timedConn) {
	cs := newConnState(tc)
	// The raw connection: the head scan and its 408/414 answers are for
	// HTTP, which has not started.
	cs.conn.Stream = tc.Conn
	end := func() {
		_ = tc.Close()
		e.connGone(tc)
		cs.mu.Lock()
		if cs.pool != nil {
			cs.pool.Destroy()
			cs.pool = nil
		}
		cs.mu.Unlock()
	}
	defer func() {
		// A handler's panic ends its connection, not the child.
		if v := recover(); v != nil {
			if g := e.gen.Load(); g != nil && g.server.Log != nil {
				g.server.Log.Error("core", "connection hook panicked: %v", v)
			}
			end()
		}
	}()
	if e.runConnectionHooks(tc, cs) {
		end()
		return
	}
	e.prepared.Store(tc, cs)
	s.deliver(tc)
}

// runConnectionHooks runs the hooks on cs, giving it its pool; it reports
// whether they ended the connection (aborted or served it).
func (e *engine) runConnectionHooks(tc *timedConn, cs *connState) bool {
	// Like a request, pre_connection keeps a restart waiting until it is
	// done; process_connection does not (a handler may keep the
	// connection for long).
	e.serving.RLock()
	g := e.gen.Load()
	cs.mu.Lock()
	cs.pool = g.pchild.Sub("connection")
	cs.conn.Pool = cs.pool
	cs.mu.Unlock()
	st := func() phases.Status {
		defer e.serving.RUnlock()
		return phases.RunConnectionHook(g.hooks.PreConnection, &cs.conn, g.server)
	}()
	if st != phases.OK && st != phases.DECLINED && st != phases.DONE {
		if g.server.Log != nil {
			g.server.Log.Debug("core", "connection from %s aborted by pre_connection (%s)", cs.conn.ClientIP, statusText(st))
		}
		return true
	}
	// A protocol handler owns the connection's time: no request-head
	// timeout runs under it. HTTP gets a fresh one if all decline.
	tc.headDone()
	if phases.RunConnectionHook(g.hooks.ProcessConnection, &cs.conn, g.server) != phases.DECLINED {
		return true
	}
	tc.startHead()
	return false
}

// newConnState is the conn_rec of c: its addresses, notes and stream.
func newConnState(c net.Conn) *connState {
	cs := &connState{}
	cs.conn.ClientIP, cs.conn.ClientPort = splitAddr(c.RemoteAddr())
	cs.conn.LocalIP, cs.conn.LocalPort = splitAddr(c.LocalAddr())
	cs.conn.Notes = map[string]string{}
	cs.conn.Stream = c
	return cs
}

func statusText(st phases.Status) string {
	if t := http.StatusText(int(st)); t != "" {
		return t
	}
	return st.String()
}

package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait in these tests; they wait on conditions,
// never for a fixed time.
const waitLimit = 10 * time.Second

// serve starts a Listener at a fresh path (in a directory that does not
// exist yet) serving handle, and closes it at the end of the test, checking
// that Serve returns.
func serve(t *testing.T, handle func(Request) Response) (*Listener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logs", "ctl.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		l.Serve(handle)
		close(done)
	}()
	t.Cleanup(func() {
		l.Close()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("Serve did not return after Close")
		}
	})
	return l, path
}

func echo(req Request) Response {
	return Response{OK: true, Message: "got " + req.Command}
}

func TestRoundTrip(t *testing.T) {
	_, path := serve(t, echo)
	resp, err := Send(path, Request{Command: "status"}, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	want := Response{OK: true, Message: "got status", Pid: os.Getpid()}
	if resp != want {
		t.Fatalf("got %+v, want %+v", resp, want)
	}
}

func TestSocketModeAndNoLeftovers(t *testing.T) {
	_, path := serve(t, echo)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want a socket with 0600", fi.Mode())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "ctl.sock" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only ctl.sock (the private bind directory must be gone)", names)
	}
}

func TestCloseRemovesSocket(t *testing.T) {
	l, path := serve(t, echo)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket file still there after Close: %v", err)
	}
	if _, err := Send(path, Request{Command: "status"}, waitLimit); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Send after Close: %v, want ErrNoServer", err)
	}
}

func TestCloseLeavesAReplacedSocket(t *testing.T) {
	l, path := serve(t, echo)
	// Another server has taken the path over (its own socket renamed onto it).
	other := makeStaleSocket(t, filepath.Join(filepath.Dir(path), "other.sock"))
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("Close removed a socket that was not its own: %v", err)
	}
}

// makeStaleSocket leaves a socket file at path that nothing listens on, as
// a server killed with -9 does.
func makeStaleSocket(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	return path
}

func TestStaleSocketReplaced(t *testing.T) {
	path := makeStaleSocket(t, filepath.Join(t.TempDir(), "ctl.sock"))
	if _, err := Send(path, Request{Command: "status"}, waitLimit); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Send to a stale socket: %v, want ErrNoServer", err)
	}
	l, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	go l.Serve(echo)
	resp, err := Send(path, Request{Command: "graceful"}, waitLimit)
	if err != nil || resp.Message != "got graceful" {
		t.Fatalf("after replacing the stale socket: %+v, %v", resp, err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("replaced socket: %v, %v", fi, err)
	}
}

func TestLiveSocketRefused(t *testing.T) {
	_, path := serve(t, echo)
	l, err := Listen(path)
	if err == nil {
		l.Close()
		t.Fatal("a second Listen on a live socket succeeded")
	}
	if !strings.Contains(err.Error(), "another server uses it") {
		t.Fatalf("error %q does not say another server uses the socket", err)
	}
	// The first server is untouched.
	if resp, err := Send(path, Request{Command: "status"}, waitLimit); err != nil || !resp.OK {
		t.Fatalf("first server after the refused Listen: %+v, %v", resp, err)
	}
}

func TestConcurrentListenOneWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	const servers = 4
	results := make(chan *Listener, servers)
	for range servers {
		go func() {
			l, err := Listen(path)
			if err != nil {
				l = nil
			}
			results <- l
		}()
	}
	var winners []*Listener
	for range servers {
		if l := <-results; l != nil {
			winners = append(winners, l)
		}
	}
	for _, l := range winners {
		defer l.Close()
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d simultaneous Listens succeeded, want exactly 1", len(winners), servers)
	}
	go winners[0].Serve(echo)
	if resp, err := Send(path, Request{Command: "status"}, waitLimit); err != nil || !resp.OK {
		t.Fatalf("the winner does not answer: %+v, %v", resp, err)
	}
}

func TestNonSocketPathLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := Listen(path); err == nil {
		l.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
		t.Fatalf("the regular file was touched: %q, %v", b, err)
	}
}

func TestErrNoServer(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing.sock")
	stale := makeStaleSocket(t, filepath.Join(t.TempDir(), "stale.sock"))
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"missing": missing, "refused": stale, "under a file": filepath.Join(file, "ctl.sock")} {
		_, err := Send(path, Request{Command: "stop"}, waitLimit)
		if !errors.Is(err, ErrNoServer) {
			t.Errorf("%s: %v, want ErrNoServer", name, err)
		}
	}
}

// rawExchange writes b to the server at path and reads one framed answer.
func rawExchange(t *testing.T, path string, b []byte) Response {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	// Stop sending, so a server waiting for the rest of a frame sees EOF.
	_ = c.(*net.UnixConn).CloseWrite()
	var resp Response
	if err := readFrame(c, &resp); err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp
}

func frame(body string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(b, body...)
}

func TestMalformedFrames(t *testing.T) {
	called := make(chan Request, 10)
	_, path := serve(t, func(r Request) Response { called <- r; return Response{OK: true} })
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"bad json", "malformed message", frame("{bad}")},
		{"not an object", "malformed message", frame(`"graceful"`)},
		{"trailing bytes", "malformed message", frame(`{"command":"stop"} x`)},
		{"empty", "empty message", frame("")},
		{"cut short", "cut short", frame(`{"command":"stop"}`)[:10]},
		{"short header", "unexpected EOF", []byte{0, 0}},
	}
	for _, c := range cases {
		resp := rawExchange(t, path, c.data)
		if resp.OK || !strings.Contains(resp.Error, c.want) {
			t.Errorf("%s: got %+v, want an error containing %q", c.name, resp, c.want)
		}
	}
	select {
	case r := <-called:
		t.Fatalf("the handler ran for a malformed frame: %+v", r)
	default:
	}
	// The server is still serving.
	if resp, err := Send(path, Request{Command: "status"}, waitLimit); err != nil || !resp.OK {
		t.Fatalf("after malformed frames: %+v, %v", resp, err)
	}
}

func TestOversizeFrame(t *testing.T) {
	_, path := serve(t, echo)
	hdr := binary.BigEndian.AppendUint32(nil, MaxMessageSize+1)
	resp := rawExchange(t, path, hdr)
	if resp.OK || !strings.Contains(resp.Error, "larger than the limit") {
		t.Fatalf("got %+v", resp)
	}
	if resp, err := Send(path, Request{Command: "status"}, waitLimit); err != nil || !resp.OK {
		t.Fatalf("after an oversize frame: %+v, %v", resp, err)
	}
}

func TestOversizeResponseRefusedByClient(t *testing.T) {
	// A server cannot send more than MaxMessageSize either: writeFrame
	// refuses, and a client reading a too-large header stops.
	if err := writeFrame(io.Discard, Response{Message: strings.Repeat("x", MaxMessageSize)}); err == nil {
		t.Fatal("writeFrame accepted an oversize message")
	}
	var r Response
	hdr := binary.BigEndian.AppendUint32(nil, MaxMessageSize+1)
	if err := readFrame(strings.NewReader(string(hdr)), &r); !errors.As(err, new(errTooLarge)) {
		t.Fatalf("readFrame of an oversize header: %v", err)
	}
}

func TestConcurrentClients(t *testing.T) {
	const clients = 8
	// Every handler waits until all clients are inside a handler at once:
	// this only completes if each connection has its own goroutine.
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	_, path := serve(t, func(r Request) Response {
		mu.Lock()
		arrived++
		if arrived == clients {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return Response{OK: true, Message: r.Command}
		case <-time.After(waitLimit):
			return Response{Error: "not all clients arrived"}
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := fmt.Sprintf("c%d", i)
			resp, err := Send(path, Request{Command: cmd}, 2*waitLimit)
			if err == nil && (!resp.OK || resp.Message != cmd) {
				err = fmt.Errorf("client %d: %+v", i, resp)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestPeerUIDAllowed(t *testing.T) {
	cases := []struct {
		peer, server uint32
		want         bool
	}{
		{1000, 1000, true},
		{0, 1000, true}, // root may always talk to the server
		{0, 0, true},
		{1001, 1000, false},
		{1000, 0, false}, // a root server serves no one but root
		{65534, 33, false},
	}
	for _, c := range cases {
		if got := peerUIDAllowed(c.peer, c.server); got != c.want {
			t.Errorf("peerUIDAllowed(%d, %d) = %v, want %v", c.peer, c.server, got, c.want)
		}
	}
}

func TestPeerUIDIsOurs(t *testing.T) {
	a, b, err := unixPair(filepath.Join(t.TempDir(), "pair.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	uid, err := peerUID(a)
	if err != nil {
		t.Fatal(err)
	}
	if uid != uint32(os.Geteuid()) {
		t.Fatalf("peer uid %d, want %d", uid, os.Geteuid())
	}
}

// unixPair returns the two ends of a connected Unix stream socket.
func unixPair(path string) (*net.UnixConn, *net.UnixConn, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	client, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	server, err := ln.AcceptUnix()
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return server, client, nil
}

func TestForeignPeerDenied(t *testing.T) {
	// Tests cannot change uid (and may run as root, whom the real decision
	// always serves), so the decision is replaced by one that refuses
	// every uid: this checks what a refused peer gets.
	path := filepath.Join(t.TempDir(), "ctl.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan uint32, 1)
	l.peerAllowed = func(uid uint32) bool {
		seen <- uid
		return false
	}
	called := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		l.Serve(func(Request) Response { called <- struct{}{}; return Response{OK: true} })
		close(done)
	}()
	defer func() {
		l.Close()
		<-done
	}()
	resp, err := Send(path, Request{Command: "stop"}, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	if resp.OK || resp.Error != PermissionDenied || resp.Pid != 0 {
		t.Fatalf("got %+v, want only %q", resp, PermissionDenied)
	}
	select {
	case <-called:
		t.Fatal("the handler ran for a refused peer")
	default:
	}
	if uid := <-seen; uid != uint32(os.Geteuid()) {
		t.Fatalf("the decision saw uid %d, want %d", uid, os.Geteuid())
	}
}

func TestHandlerPanicAnswered(t *testing.T) {
	_, path := serve(t, func(r Request) Response {
		if r.Command == "boom" {
			panic("boom")
		}
		return Response{OK: true}
	})
	resp, err := Send(path, Request{Command: "boom"}, waitLimit)
	if err != nil || resp.OK || !strings.Contains(resp.Error, "internal error") {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if resp, err := Send(path, Request{Command: "status"}, waitLimit); err != nil || !resp.OK {
		t.Fatalf("after a panic: %+v, %v", resp, err)
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	_, path := serve(t, func(Request) Response {
		<-release
		return Response{OK: true}
	})
	defer close(release) // before the cleanup that waits for Serve
	_, err := Send(path, Request{Command: "graceful"}, 50*time.Millisecond)
	if err == nil || errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("got %v, want a timeout", err)
	}
}

func TestCloseAbortsIdleConnections(t *testing.T) {
	l, path := serve(t, echo)
	// A client that connects and never sends must not hold Serve up after
	// Close (the cleanup checks Serve returns).
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Make sure the server has accepted it: a later request is answered,
	// and connections are accepted in order.
	if _, err := Send(path, Request{Command: "status"}, waitLimit); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l.Close()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the idle connection got data")
	}
	if d := time.Since(start); d > defaultIOTimeout/2 {
		t.Fatalf("the idle connection was closed after %v, not at Close", d)
	}
}

func TestListenRejectsLongPath(t *testing.T) {
	path := "/tmp/" + strings.Repeat("x", 120) + ".sock"
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("got %v", err)
	}
}

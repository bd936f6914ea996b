// Package control is the master's control socket (SPEC §9): a Unix stream
// socket, mode 0600, over which `httpdg -k ...` sends one command and gets
// one answer, the outcome included (the config error of a failed reload,
// say), where signals can only be sent and never answered.
//
// Wire format: each message is a 4-byte big-endian length followed by that
// many bytes of JSON (at most MaxMessageSize). A connection carries exactly
// one Request from the client, then one Response from the server, which
// then closes it.
//
// Only a peer with the server's effective uid, or root, is served (checked
// with SO_PEERCRED on every connection); the 0600 mode already keeps other
// users out, the uid check is the second lock should the file's mode or
// directory ever be loosened by hand.
package control

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Request is what a client asks the master.
type Request struct {
	// Command is one of "graceful", "restart", "stop", "graceful-stop",
	// "status" (the -k commands that act on a running server).
	Command string `json:"command"`
}

// Response is the master's answer to one Request.
type Response struct {
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`   // why it failed (e.g. the config error of a failed reload)
	Message string `json:"message,omitempty"` // e.g. the status summary text
	Pid     int    `json:"pid,omitempty"`     // the master's pid
}

// MaxMessageSize bounds one framed message, request or response, so that a
// confused or hostile peer cannot make either side allocate without limit.
const MaxMessageSize = 1 << 20

// defaultIOTimeout bounds how long the server waits for a request to arrive
// and for its response to be written. The handler itself is not bounded: a
// graceful restart legitimately takes as long as building the new
// generation.
const defaultIOTimeout = 10 * time.Second

// maxSocketPath is the longest path a Unix socket address can hold on
// Linux (sun_path is 108 bytes including the terminating NUL).
const maxSocketPath = 107

// ErrNoServer means nothing listens on the control socket: the file does
// not exist, or it does and a connect is refused (a stale socket left by a
// server that died). Callers fall back to signals on it. Other failures
// (permission, timeout) are not ErrNoServer: a server may be there.
var ErrNoServer = errors.New("no server is listening on the control socket")

// ErrInUse is returned by Listen when a live server answers on the path.
var ErrInUse = errors.New("another server uses it (is httpdg already running?)")

// PermissionDenied is the Error of the Response a peer of another uid gets.
const PermissionDenied = "permission denied"

// Listener is a listening control socket. Its descriptor is close-on-exec:
// the master's children do not inherit it.
type Listener struct {
	path      string
	ln        *net.UnixListener
	ident     os.FileInfo // the socket file Listen created, so Close removes only that one
	pid       int         // the serving process, reported in every answer to an allowed peer
	ioTimeout time.Duration
	// peerAllowed decides whether a peer uid is served; a field so tests
	// can exercise the rejection path even when they run as root.
	peerAllowed func(peerUID uint32) bool

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	closed  bool
	reading map[*net.UnixConn]struct{} // connections still reading their request: Close aborts them
	conns   sync.WaitGroup             // connection goroutines Serve waits for
}

// Listen creates the control socket at path (mode 0600, its directory
// created if missing) and listens on it. A socket file already at path that
// refuses connections is stale and replaced; if a server answers on it,
// Listen fails saying another server uses it. Anything else at path (a
// regular file, a directory) is left alone and is an error.
func Listen(path string) (*Listener, error) {
	if path == "" {
		return nil, errors.New("control socket: empty path")
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: the path is %d bytes long, a Unix socket path can have at most %d", path, len(path), maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("control socket %s: creating its directory: %w", path, err)
	}
	// Two servers starting at the same moment could both find the path
	// free or stale, and the second rename would orphan the first one's
	// socket: checking and replacing happen under a lock on the directory.
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer unlock()
	if err := checkNotInUse(path); err != nil {
		return nil, err
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ident, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	serverUID := uint32(os.Geteuid())
	return &Listener{
		path:        path,
		ln:          ln,
		ident:       ident,
		pid:         os.Getpid(),
		ioTimeout:   defaultIOTimeout,
		peerAllowed: func(peerUID uint32) bool { return peerUIDAllowed(peerUID, serverUID) },
		reading:     make(map[*net.UnixConn]struct{}),
	}, nil
}

// lockDir takes an exclusive flock(2) on dir and returns its release.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking its directory: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking its directory: %w", err)
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}

// checkNotInUse returns nil if path is free or holds a stale socket (which
// the rename in listenPrivate then replaces), and an error if a server
// answers there or path is something other than a socket.
func checkNotInUse(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: the path exists and is not a socket (remove it or set ControlSocket elsewhere)", path)
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: %w", path, ErrInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("control socket %s: checking whether a server uses it: %w", path, err)
	}
	// Refused: the server that made it died without removing it.
	return nil
}

// listenPrivate binds a socket that is never reachable with a mode wider
// than 0600. bind(2) creates the file with 0777 &^ umask, and the umask is
// process-wide (changing it would race with files other goroutines create
// meanwhile), so the socket is bound inside a fresh 0700 directory nobody
// else can enter, chmod'ed to 0600 there, and only then renamed to path. The
// directory is in path's parent, so the rename stays on one file system: it
// is atomic, and replaces a stale socket in the same step.
func listenPrivate(path string) (*net.UnixListener, error) {
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".ctl")
	if err != nil {
		return nil, fmt.Errorf("creating a private directory to bind in: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "s")
	if len(tmp) > maxSocketPath {
		return nil, fmt.Errorf("the temporary name %s is longer than a Unix socket path can be (%d bytes); use a shorter ControlSocket path", tmp, maxSocketPath)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// The file moves away from the name the kernel recorded; Close removes
	// it itself, by its final name and only if it is still ours.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod 0600: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("moving the socket into place: %w", err)
	}
	return ln, nil
}

// Path returns the socket's path.
func (l *Listener) Path() string { return l.path }

// Serve accepts connections, one goroutine each, and answers each request
// with handle. Response.Pid is set to this process's pid unless handle set
// it (a master is the process serving its control socket). A handler that
// panics is answered with an error Response instead of crashing the
// server. Serve returns once the Listener is closed and every connection
// it accepted is finished, so a master that calls Close and then waits for
// Serve knows every answer (the "stop" one included) has been written.
// handle must therefore not wait for Serve to return. Call Serve once.
func (l *Listener) Serve(handle func(Request) Response) {
	defer l.conns.Wait()
	var backoff time.Duration
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			if l.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of fds or the like: pause and retry, as net/http does,
			// rather than spin or give up on the control socket.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		l.conns.Add(1)
		go func() {
			defer l.conns.Done()
			l.serveConn(c, handle)
		}()
	}
}

// Close stops accepting, aborts connections that have not finished sending
// their request, and removes the socket file (unless another server has
// replaced it since). Handlers already running finish and their answers are
// written; Serve returns after that. Close does not wait and may be called
// from a handler.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		for c := range l.reading {
			c.Close()
		}
		l.mu.Unlock()
		l.closeErr = l.ln.Close()
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.ident) {
			if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) && l.closeErr == nil {
				l.closeErr = fmt.Errorf("control socket %s: removing it: %w", l.path, err)
			}
		}
	})
	return l.closeErr
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// startReading registers c as reading its request; false if the Listener
// is already closed.
func (l *Listener) startReading(c *net.UnixConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.reading[c] = struct{}{}
	return true
}

// doneReading unregisters c; false if Close ran meanwhile (and closed c).
func (l *Listener) doneReading(c *net.UnixConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.reading, c)
	return !l.closed
}

// serveConn reads one request from c, answers it and closes c.
func (l *Listener) serveConn(c *net.UnixConn, handle func(Request) Response) {
	defer c.Close()
	if !l.startReading(c) {
		return
	}
	uid, credErr := peerUID(c)
	allowed := credErr == nil && l.peerAllowed(uid)

	// The request is read even from a peer that is refused, so that its
	// write does not fail on a closed socket before it can read why.
	_ = c.SetReadDeadline(time.Now().Add(l.ioTimeout))
	var req Request
	readErr := readFrame(c, &req)
	if !l.doneReading(c) {
		return
	}
	var resp Response
	switch {
	case !allowed:
		resp = Response{Error: PermissionDenied}
	case errors.Is(readErr, io.EOF):
		return // connected and went away without a word (e.g. Listen's liveness probe)
	case readErr != nil:
		resp = Response{Error: fmt.Sprintf("bad request: %v", readErr), Pid: l.pid}
	default:
		resp = l.call(handle, req)
		if resp.Pid == 0 {
			resp.Pid = l.pid
		}
	}
	_ = c.SetWriteDeadline(time.Now().Add(l.ioTimeout))
	_ = writeFrame(c, resp) // the peer may be gone; there is no one else to tell
}

// call runs handle, turning a panic into an error Response: a bug in one
// command's handler must not take the server down with it.
func (l *Listener) call(handle func(Request) Response, req Request) (resp Response) {
	defer func() {
		if r := recover(); r != nil {
			resp = Response{Error: fmt.Sprintf("internal error handling %q: %v", req.Command, r)}
		}
	}()
	return handle(req)
}

// peerUIDAllowed is the access decision: the server's own uid, or root.
func peerUIDAllowed(peerUID, serverUID uint32) bool {
	return peerUID == serverUID || peerUID == 0
}

// Send sends req to the server listening at path and returns its answer.
// timeout bounds the whole exchange (connect, request, the server's work,
// response); zero or less means no limit. A Response with OK false is not
// an error here: the server did answer, and its Error says why. The error
// wraps ErrNoServer when nothing listens at path.
func Send(path string, req Request, timeout time.Duration) (Response, error) {
	var dialer net.Dialer
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
		dialer.Deadline = deadline
	}
	c, err := dialer.Dial("unix", path)
	if err != nil {
		// No socket file (ENOTDIR: a directory on the way is a file), or
		// one nobody listens on.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, fmt.Errorf("control socket %s: %w", path, ErrNoServer)
		}
		return Response{}, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer c.Close()
	if !deadline.IsZero() {
		_ = c.SetDeadline(deadline)
	}
	writeErr := writeFrame(c, req)
	// Read even if the write failed: a server that refuses the request
	// (permission, size) may have answered and closed before we finished.
	var resp Response
	if err := readFrame(c, &resp); err != nil {
		if writeErr != nil {
			return Response{}, fmt.Errorf("control socket %s: sending %q: %w", path, req.Command, writeErr)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Response{}, fmt.Errorf("control socket %s: no answer to %q within %v", path, req.Command, timeout)
		}
		if errors.Is(err, io.EOF) {
			return Response{}, fmt.Errorf("control socket %s: the server closed the connection without answering %q", path, req.Command)
		}
		return Response{}, fmt.Errorf("control socket %s: reading the answer to %q: %w", path, req.Command, err)
	}
	return resp, nil
}

// errTooLarge is a frame whose announced length exceeds MaxMessageSize.
type errTooLarge struct{ size uint32 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("message of %d bytes is larger than the limit of %d", e.size, MaxMessageSize)
}

// writeFrame writes v as one frame, in one write so that a frame is never
// interleaved or half sent on a short path.
func writeFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	if len(body) > MaxMessageSize {
		return errTooLarge{uint32(min(len(body), 1<<32-1))}
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err = w.Write(buf)
	return err
}

// readFrame reads one frame into v. It returns io.EOF only when the peer
// closed before sending any byte; a frame cut short is
// io.ErrUnexpectedEOF.
func readFrame(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return errors.New("empty message")
	}
	if n > MaxMessageSize {
		return errTooLarge{n}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("message cut short: %w", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	return nil
}

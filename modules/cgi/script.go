package cgi

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// killGrace is how long a script has to exit after SIGTERM before its
// process group gets SIGKILL (APR's kill_after_timeout: 3 s).
const killGrace = 3 * time.Second

// clientPollInterval is how often the client's connection is checked
// while a script runs.
var clientPollInterval = 200 * time.Millisecond

// maxInternalRedirects is Apache's default LimitInternalRecursion.
const maxInternalRedirects = 10

// copyBufferSize is the size of the reads of the script's output and of
// the request body.
const copyBufferSize = 32 * 1024

// Why a script was stopped before it finished.
const (
	stopNone       int32 = iota
	stopClientGone       // the client closed its connection
	stopTimeout          // no output for Timeout
	stopBody             // reading the request body failed
	stopAbandoned        // its answer is decided (a bad header block)
)

// maxHeld is how much of a script's output is held in memory while the
// request body is still going to its stdin (the answer cannot start
// before the body is read): a script that answers as it reads goes on
// writing meanwhile. Past it, the script waits (Apache holds none: it
// writes the whole body before it reads any output).
const maxHeld = 1 << 20

// Errors of a read of the script's output.
var (
	errTimeout    = errors.New("no output from the script for Timeout")
	errClientGone = errors.New("the client closed the connection")
)

// chunk is one read of the script's stdout.
type chunk struct {
	b   []byte
	err error
}

// script is one running CGI process and the goroutines around it.
type script struct {
	r       *phases.Request
	lg      *phases.ErrorLog
	cmd     *exec.Cmd
	pid     int
	timeout time.Duration

	stdin  *os.File // our ends of its pipes
	stdout *os.File
	stderr *os.File

	exited  chan struct{} // closed when the process has exited (not yet reaped)
	stopped atomic.Int32  // why it was stopped (stopNone: it was not)

	mu     sync.Mutex // orders signals against the reaping of the leader
	reaped bool

	chunks     chan chunk    // what the stdout reader read
	quit       chan struct{} // closed by finish: the stdout reader stops
	readerDone chan struct{} // closed when the stdout reader returned

	bodyDone chan struct{} // closed when the request body is read out
	bodyErr  error         // the client-side error reading it, if any

	stderrDone chan struct{} // closed when stderr is read out

	gone      chan struct{} // closed when the client has left
	watchStop chan struct{} // stops the client watch
	watchDone chan struct{} // closed when the client watch returned

	finished bool
}

// run is cgi_handler's part after the checks: start the script, give it
// the body, read its header block and answer.
func run(r *phases.Request, lg *phases.ErrorLog) (phases.Status, error) {
	s, err := start(r, lg)
	if err != nil {
		lg.Error(logModule, "%s: exec of '%s' failed", aprError(err), r.Filename)
		lg.Error(logModule, "End of script output before headers: %s", scriptName(r))
		return http.StatusInternalServerError, nil
	}
	defer s.finish()
	o := &output{s: s}
	out := bufio.NewReaderSize(o, maxHeaderLine+2)
	hdr, herr := readHeader(out, r.RequestTime)
	if herr == nil {
		herr = o.holdUntilBodyDone()
	}
	if herr != nil {
		// The answer is an error whatever comes next: the script is not
		// waited for (the body pump would wait for it to read).
		var pe *parseError
		switch {
		case errors.Is(herr, errClientGone):
			s.stop(stopClientGone)
		case errors.As(herr, &pe) && errors.Is(pe.err, errTimeout):
			s.stop(stopTimeout)
		default:
			s.stop(stopAbandoned)
		}
	}
	// Nothing goes to the client before the body is read out: net/http
	// and mpm/http1 read the body and write the answer on one goroutine.
	<-s.bodyDone
	if s.stopped.Load() == stopClientGone {
		return s.clientGone(), nil
	}
	if s.bodyErr != nil {
		return bodyStatus(lg, s.bodyErr), nil
	}
	if herr != nil {
		return s.headerFailed(herr), nil
	}
	for _, line := range hdr.dropped {
		lg.Debug(logModule, "header from script '%s' not passed on: %s", scriptName(r), line)
	}
	status := http.StatusOK
	if hdr.status != 0 {
		status = hdr.status
	}
	loc := hdr.out.Get("Location")
	if loc != "" && status == http.StatusOK {
		// A redirect, internal or not: the rest of the output is not sent.
		if err := s.discard(out); err != nil {
			return s.outputFailed(err, false), nil
		}
		s.finish()
		applyHeader(r, hdr)
		if loc[0] == '/' {
			return internalRedirect(r, lg, loc)
		}
		return http.StatusFound, nil
	}
	applyHeader(r, hdr)
	r.Status = status
	r.Output.WriteHeader(status)
	if !bodyAllowed(status) {
		if err := s.discard(out); err != nil {
			return s.outputFailed(err, true), nil
		}
		return phases.OK, nil
	}
	return s.stream(out), nil
}

// output is the script's stdout as the handler reads it: the stdout
// reader's chunks, a read waiting at most Timeout once the request body
// is delivered (before that the script may be reading it), and failing
// at once when the client leaves.
type output struct {
	s       *script
	pending []byte // read from a chunk, not yet returned
	err     error  // the end of the output (io.EOF) or a read error, once reached
}

func (o *output) Read(p []byte) (int, error) {
	if len(o.pending) > 0 {
		n := copy(p, o.pending)
		o.pending = o.pending[n:]
		return n, nil
	}
	if o.err != nil {
		return 0, o.err
	}
	s := o.s
	body := s.bodyDone
	var timeout <-chan time.Time
	for {
		select {
		case <-body:
			body = nil
			t := time.NewTimer(s.timeout)
			defer t.Stop()
			timeout = t.C
			continue
		default:
		}
		select {
		case c := <-s.chunks:
			if len(c.b) == 0 && c.err == nil {
				continue
			}
			o.err = c.err
			n := copy(p, c.b)
			o.pending = c.b[n:]
			if n == 0 && o.err != nil {
				return 0, o.err
			}
			return n, nil
		case <-body:
		case <-timeout:
			return 0, errTimeout
		case <-s.gone:
			return 0, errClientGone
		}
	}
}

// holdUntilBodyDone keeps reading the script's output, up to maxHeld,
// until the request body is read out; what it read comes next.
func (o *output) holdUntilBodyDone() error {
	s := o.s
	for {
		var chunks chan chunk
		if len(o.pending) < maxHeld && o.err == nil {
			chunks = s.chunks
		}
		select {
		case <-s.bodyDone:
			return nil
		case c := <-chunks:
			o.pending = append(o.pending, c.b...)
			o.err = c.err
		case <-s.gone:
			return errClientGone
		}
	}
}

// applyHeader puts the script's header fields into r's answer.
func applyHeader(r *phases.Request, h *scriptHeader) {
	for k, v := range h.out {
		r.HeadersOut[k] = v
	}
	for k, v := range h.errOut {
		r.ErrHeadersOut[k] = append(r.ErrHeadersOut[k], v...)
	}
	if h.hasType {
		r.ContentType = withDefaultCharset(r, h.contentType)
	}
	if r.ContentType == "" {
		// No type from the script nor for its file: none is sent (nil
		// keeps the HTTP layer from guessing one).
		r.HeadersOut["Content-Type"] = nil
	}
}

// withDefaultCharset adds AddDefaultCharset's charset to a text/plain or
// text/html type without one, as Apache's header filter does.
func withDefaultCharset(r *phases.Request, ctype string) string {
	cs := ""
	for c := range phases.EachDirConf[core.DirSettings](r, core.ModuleName) {
		if c.AddDefaultCharset != "" {
			cs = c.AddDefaultCharset
		}
	}
	if cs == "" || strings.EqualFold(cs, "off") {
		return ctype
	}
	base, _, _ := strings.Cut(ctype, ";")
	base = strings.TrimSpace(base)
	if (base == "text/plain" || base == "text/html") && !strings.Contains(strings.ToLower(ctype), "charset=") {
		return ctype + "; charset=" + cs
	}
	return ctype
}

// internalRedirect serves loc in place of r, as a GET without a body
// (Apache's ap_internal_redirect_handler for a script's local Location).
func internalRedirect(r *phases.Request, lg *phases.ErrorLog, loc string) (phases.Status, error) {
	depth := 0
	for p := r.Prev; p != nil; p = p.Prev {
		depth++
	}
	if depth >= maxInternalRedirects {
		lg.Error("core", "Request exceeded the limit of %d internal redirects due to probable configuration error. Use 'LimitInternalRecursion' to increase the limit if necessary. Use 'LogLevel debug' to get a backtrace.", maxInternalRedirects)
		return http.StatusInternalServerError, nil
	}
	if r.Method != http.MethodHead {
		r.Method = http.MethodGet
	}
	// The body went to the script: the new request has none.
	r.HeadersIn.Del("Content-Length")
	r.HeadersIn.Del("Transfer-Encoding")
	r.Body = http.NoBody
	nr, st := phases.InternalRedirect(r, loc)
	if st == phases.OK || st == phases.DONE {
		if nr.Status != 0 {
			r.Status = nr.Status
		}
		return st, nil
	}
	// An error status nobody answered: r's error page, as for an
	// ErrorDocument that fails.
	if o, ok := r.Output.(interface{ SetRequest(*phases.Request) }); ok {
		o.SetRequest(r)
	}
	if st == phases.DECLINED {
		st = http.StatusNotFound
	}
	return st, nil
}

// bodyAllowed reports whether an answer with status has a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// bodyStatus is the answer when the request body could not be read
// (Apache's ap_map_http_request_error): 413 past LimitRequestBody, 408
// on a timeout, else 400.
func bodyStatus(lg *phases.ErrorLog, err error) phases.Status {
	lg.Error(logModule, "Error reading request entity data: %v", err)
	var ne net.Error
	switch {
	case errors.Is(err, core.ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// start runs the script with its pipes, and the goroutines around it:
// the exit watch, the body pump, the stdout reader, the stderr logger,
// the client watch.
func start(r *phases.Request, lg *phases.ErrorLog) (*script, error) {
	s := &script{r: r, lg: lg, timeout: timeoutOf(r), exited: make(chan struct{}),
		chunks: make(chan chunk), quit: make(chan struct{}), readerDone: make(chan struct{}),
		bodyDone: make(chan struct{}), stderrDone: make(chan struct{}),
		gone: make(chan struct{}), watchStop: make(chan struct{}), watchDone: make(chan struct{})}
	closeAll := func(fs ...*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, err
	}
	s.stdin, s.stdout, s.stderr = inW, outR, errR
	s.cmd = &exec.Cmd{
		Path:   r.Filename,
		Args:   scriptArgs(r),
		Env:    environ(r),
		Dir:    filepath.Dir(r.Filename),
		Stdin:  inR,
		Stdout: outW,
		Stderr: errW,
		// Its own process group, so that what it starts dies with it.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	closeInheritedOnExec()
	err = s.cmd.Start()
	closeAll(inR, outW, errW) // the script's ends
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	lg.Debug(logModule, "started %s (pid %d)", r.Filename, s.pid)
	go s.waitExit()
	go s.pumpBody(r.Body)
	go s.readStdout()
	go s.logStderr()
	if probe := newClientProbe(r.Conn); probe != nil {
		go s.watchClient(probe)
	} else {
		close(s.watchDone)
	}
	return s, nil
}

// timeoutOf is the Timeout of r's virtual host, else the main server's,
// else Apache's default of 60 s.
func timeoutOf(r *phases.Request) time.Duration {
	if r.Vhost != nil {
		if t := core.ServerOf(r.Vhost).Timeout; t > 0 {
			return t
		}
	}
	if r.Server != nil {
		if r.Server.Main != nil {
			if t := core.ServerOf(r.Server.Main).Timeout; t > 0 {
				return t
			}
		}
		if r.Server.Conn.Timeout > 0 {
			return r.Server.Conn.Timeout
		}
	}
	return 60 * time.Second
}

// waitExit closes s.exited when the process has exited, leaving it a
// zombie (WNOWAIT) so that its pid, which is its process group's id,
// stays taken until finish reaps it: a signal to the group can never
// reach another process.
func (s *script) waitExit() {
	defer close(s.exited)
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, s.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// signalGroup sends sig to the script's process group while its leader
// is not reaped.
func (s *script) signalGroup(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.reaped {
		_ = syscall.Kill(-s.pid, sig)
	}
}

// kill ends the process group: SIGTERM, then after killGrace (or once the
// leader is gone) SIGKILL for whatever of the group is left.
func (s *script) kill() {
	s.signalGroup(syscall.SIGTERM)
	t := time.NewTimer(killGrace)
	select {
	case <-s.exited:
	case <-t.C:
	}
	t.Stop()
	s.signalGroup(syscall.SIGKILL)
	<-s.exited
}

// stop records why the script is stopped (the first reason wins) and
// kills it.
func (s *script) stop(why int32) {
	if s.stopped.CompareAndSwap(stopNone, why) {
		s.kill()
	}
}

// finish ends everything the script left: a leader still running gets
// SIGTERM and SIGKILL (APR's kill_after_timeout, as at the end of an
// Apache request), the leader is reaped, the goroutines are waited for.
// Only the handler's goroutine calls it.
func (s *script) finish() {
	if s.finished {
		return
	}
	s.finished = true
	close(s.watchStop)
	select {
	case <-s.exited:
	default:
		s.kill()
	}
	s.mu.Lock()
	_ = s.cmd.Wait()
	s.reaped = true
	s.mu.Unlock()
	close(s.quit)
	s.stdout.Close() // a process that left the group may hold its end
	<-s.readerDone
	<-s.watchDone
	<-s.bodyDone
	<-s.stderrDone
	s.stderr.Close()
	if st := s.cmd.ProcessState; st != nil && !st.Success() && s.stopped.Load() == stopNone {
		s.lg.Debug(logModule, "%s (pid %d) ended: %v", s.r.Filename, s.pid, st)
	}
}

// pumpBody copies the request body to the script's stdin, then closes
// it. When the script stops reading (it exited, or a write waited
// Timeout), the rest of the body is read and dropped, as Apache does; a
// client-side read error stops the script.
func (s *script) pumpBody(body io.Reader) {
	defer close(s.bodyDone)
	feeding := true
	defer func() {
		if feeding {
			s.stdin.Close()
		}
	}()
	if body == nil || body == http.NoBody {
		return
	}
	buf := make([]byte, copyBufferSize)
	for {
		n, err := body.Read(buf)
		if n > 0 && feeding {
			_ = s.stdin.SetWriteDeadline(time.Now().Add(s.timeout))
			if _, werr := s.stdin.Write(buf[:n]); werr != nil {
				s.lg.Debug(logModule, "%s stopped reading its input: %v", s.r.Filename, werr)
				feeding = false
				s.stdin.Close()
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			s.bodyErr = err
			s.stop(stopBody)
			return
		}
	}
}

// readStdout passes what the script writes on stdout to the handler, in
// chunks, until the end of it (or finish).
func (s *script) readStdout() {
	defer close(s.readerDone)
	for {
		buf := make([]byte, copyBufferSize)
		n, err := s.stdout.Read(buf)
		select {
		case s.chunks <- chunk{buf[:n], err}:
		case <-s.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// logStderr writes each line the script prints on stderr to the error
// log, as "line: script" (Apache's log_script_err). A line waits at most
// Timeout.
func (s *script) logStderr() {
	defer close(s.stderrDone)
	br := bufio.NewReaderSize(&deadlineReader{f: s.stderr, d: s.timeout}, 8192)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			line := strings.TrimRight(string(b), "\r\n")
			s.lg.Error(logModule, "%s: %s", line, s.r.Filename)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// watchClient stops the script when the client's connection is gone.
func (s *script) watchClient(p *clientProbe) {
	defer close(s.watchDone)
	defer p.close()
	t := time.NewTicker(clientPollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.watchStop:
			return
		case <-t.C:
			if p.gone() {
				s.lg.Info(logModule, "client closed the connection: stopping %s (pid %d)", s.r.Filename, s.pid)
				close(s.gone)
				s.stop(stopClientGone)
				return
			}
		}
	}
}

// deadlineReader reads a pipe with a deadline of d from each read.
type deadlineReader struct {
	f *os.File
	d time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	_ = d.f.SetReadDeadline(time.Now().Add(d.d))
	return d.f.Read(p)
}

// headerFailed answers a header block that could not be read, with
// Apache's messages.
func (s *script) headerFailed(err error) phases.Status {
	r, lg, name := s.r, s.lg, scriptName(s.r)
	var pe *parseError
	if !errors.As(err, &pe) {
		pe = &parseError{kind: headerRead, err: err}
	}
	switch pe.kind {
	case headerEOF:
		lg.Error(logModule, "End of script output before headers: %s", name)
	case headerPremature:
		lg.Error(logModule, "Premature end of script headers: %s", name)
	case headerMalformed:
		lg.Error(logModule, "malformed header from script '%s': Bad header: %s", name, truncate30(pe.line))
	case headerStatus:
		lg.Error(logModule, "Invalid status line from script '%s': %s", name, truncate30(pe.line))
	default:
		if errors.Is(pe.err, errTimeout) {
			lg.Error(logModule, "Timeout waiting for output from CGI script %s", r.Filename)
			lg.Error(logModule, "Script timed out before returning headers: %s", name)
			return http.StatusGatewayTimeout
		}
		lg.Error(logModule, "reading the output of %s: %v", r.Filename, pe.err)
	}
	return http.StatusInternalServerError
}

// clientGone ends a request whose client left: nothing more is sent and
// the connection is closed.
func (s *script) clientGone() phases.Status {
	s.r.AbortConnection()
	return phases.DONE
}

// outputFailed ends a request whose script output could not be read
// through (err: a timeout, the client gone, a read error). sent says the
// answer's head went out.
func (s *script) outputFailed(err error, sent bool) phases.Status {
	switch {
	case errors.Is(err, errClientGone):
		s.stop(stopClientGone)
		return s.clientGone()
	case errors.Is(err, errTimeout):
		s.lg.Error(logModule, "Timeout waiting for output from CGI script %s", s.r.Filename)
		s.stop(stopTimeout)
		if !sent {
			return http.StatusGatewayTimeout
		}
	default:
		s.lg.Error(logModule, "reading the output of %s: %v", s.r.Filename, err)
		s.stop(stopAbandoned)
		if !sent {
			return http.StatusInternalServerError
		}
	}
	// The body is cut short: the connection must not look complete.
	s.r.AbortConnection()
	return phases.DONE
}

// discard reads the script's output to its end (Apache's
// discard_script_output).
func (s *script) discard(out *bufio.Reader) error {
	_, err := io.Copy(io.Discard, out)
	return err
}

// stream sends the rest of the script's output as the body, as it comes:
// what a read returned goes out with a flush when the script paused (the
// read was short), as Apache flushes when the script's pipe is empty.
func (s *script) stream(out *bufio.Reader) phases.Status {
	r := s.r
	buf := make([]byte, copyBufferSize)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			if _, werr := r.Output.Write(buf[:n]); werr != nil {
				s.lg.Debug(logModule, "client went away while the output of %s was sent: %v", r.Filename, werr)
				return s.outputFailed(errClientGone, true)
			}
			if n < len(buf) {
				_ = r.Output.Flush()
			}
		}
		if err == io.EOF {
			return phases.OK
		}
		if err != nil {
			return s.outputFailed(err, true)
		}
	}
}

// aprError is an error as APR logs it: "(13)Permission denied".
func aprError(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	msg, ok := strerror[errno]
	if !ok {
		// Go's text is C's in lower case.
		msg = errno.Error()
		if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
			msg = string(msg[0]-'a'+'A') + msg[1:]
		}
	}
	return "(" + strconv.Itoa(int(errno)) + ")" + msg
}

// strerror is glibc's text for the errors exec(2) gives most.
var strerror = map[syscall.Errno]string{
	syscall.EACCES:  "Permission denied",
	syscall.ENOENT:  "No such file or directory",
	syscall.ENOEXEC: "Exec format error",
	syscall.ENOTDIR: "Not a directory",
	syscall.ELOOP:   "Too many levels of symbolic links",
	syscall.E2BIG:   "Argument list too long",
	syscall.ENOMEM:  "Cannot allocate memory",
	syscall.ETXTBSY: "Text file busy",
	syscall.EPERM:   "Operation not permitted",
	syscall.EISDIR:  "Is a directory",
	syscall.EMFILE:  "Too many open files",
	syscall.EAGAIN:  "Resource temporarily unavailable",
}

// inheritedOnce marks the inherited descriptors once per process.
var inheritedOnce sync.Once

// closeInheritedOnExec marks every descriptor of this process from 3 up
// close-on-exec, so that a script gets its three pipes and nothing else.
// What Go opens is close-on-exec already; what a child process inherits
// from the master (listening sockets, the scoreboard, its status and life
// pipes, log files) is not, and a script holding the status pipe would
// keep the master from seeing the child end. Go's exec.Cmd passes the
// files it is given by dup2, which this does not affect.
func closeInheritedOnExec() {
	inheritedOnce.Do(func() {
		d, err := os.Open("/proc/self/fd")
		if err != nil {
			return
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err != nil || fd < 3 {
				continue
			}
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
				unix.CloseOnExec(fd)
			}
		}
	})
}

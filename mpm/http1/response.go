package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The write buffer of a response, before its head is final:
//
//	[wstart, hdrEnd)        status line and the handler's fields, written
//	                        at WriteHeader (net/http also snapshots the
//	                        header map there)
//	[hdrEnd, bodyStart)     a gap of gapSize bytes
//	[bodyStart, wend)       the body written so far
//
// When the framing is known (the handler returned with the whole body in
// the buffer: Content-Length; or the buffer filled or was flushed first:
// chunked or close-delimited), the framing fields, the Connection field,
// the blank line and the first chunk size go into the end of the gap and
// the head is moved up against them: one contiguous run of bytes, one
// write, and only the head (a few hundred bytes) is ever moved.
const gapSize = 128

// chunkHeadRoom is the room kept before the data of a chunk for its size
// line ("ffffffff\r\n").
const chunkHeadRoom = 10

// sniffLen is how much of the body net/http's Content-Type sniffing looks
// at.
const sniffLen = 512

// response is the http.ResponseWriter of a connection, reused for each of
// its requests.
type response struct {
	c      *conn
	req    *http.Request
	header http.Header
	keys   []string // scratch for sorting header keys

	// Set from the request by readRequest.
	closeAfterRequest bool // the request asked for the connection not to be reused
	wants10KeepAlive  bool
	http09            bool // an HTTP/0.9 request: the body alone, then close

	status      int
	wroteHeader bool // WriteHeader called (the head is serialized)
	committed   bool // the framing is decided and the head final
	handlerDone bool

	// What WriteHeader saw in the handler's header.
	contentLength int64    // the handler's Content-Length, -1 if none
	connValues    []string // the handler's Connection field
	teValue       string   // the handler's Transfer-Encoding
	haveType      bool     // Content-Type set (or suppressed)
	haveEncoding  bool     // Content-Encoding set: no sniffing
	isHEAD        bool
	bodyAllowed   bool // by the status

	hdrEnd, bodyStart int
	written           int64 // body bytes the handler wrote
	chunking          bool
	chunkOpen         bool // a chunk's data starts at chunkData
	chunkData         int
	closeAfter        bool // close the connection after this response
}

func (w *response) reset(req *http.Request) {
	h := w.header
	if h == nil {
		h = make(http.Header, 16)
	} else {
		clear(h)
	}
	*w = response{
		c:                 w.c,
		req:               req,
		header:            h,
		keys:              w.keys,
		closeAfterRequest: w.closeAfterRequest,
		wants10KeepAlive:  w.wants10KeepAlive,
		http09:            w.http09,
		contentLength:     -1,
		isHEAD:            req.Method == http.MethodHead,
	}
}

// Header returns the response header map. As with net/http, changes after
// WriteHeader are not sent (but for trailers, which are not supported).
func (w *response) Header() http.Header { return w.header }

// buf returns the write buffer, taking one from the pool if needed.
func (w *response) buf() []byte {
	c := w.c
	if c.wbuf == nil {
		c.wbuf = c.srv.getWriteBuffer()
		c.wstart, c.wend = 0, 0
	}
	return *c.wbuf
}

// WriteHeader serializes the status line and the handler's fields now, as
// net/http snapshots the header map at this call.
func (w *response) WriteHeader(code int) {
	if w.c.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.c.body.expectContinue = false // a final status: no 100 Continue any more
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = bodyAllowedForStatus(code)
	h := w.header

	// The fields the server writes itself at commit, or drops.
	if v := h["Content-Length"]; len(v) > 0 {
		if n, ok := parseContentLength(strings.Trim(v[0], " \t")); ok {
			w.contentLength = n
		} else {
			w.c.srv.logf("http1: invalid Content-Length of %q", v[0])
		}
	}
	if v := h["Transfer-Encoding"]; len(v) > 0 {
		w.teValue = v[0]
	}
	if w.contentLength >= 0 && w.teValue != "" && w.teValue != "identity" {
		// Both: the length is dropped, as net/http does.
		w.contentLength = -1
	}
	w.connValues = h["Connection"]
	_, w.haveType = h["Content-Type"]
	w.haveEncoding = len(h["Content-Encoding"]) > 0 && h["Content-Encoding"][0] != ""
	dropLength := w.contentLength < 0 || !w.bodyAllowed
	drop304 := code == http.StatusNotModified

	if w.http09 {
		// HTTP/0.9 has no status line and no header: the body is the
		// whole answer, whatever the status (Apache's r->assbackwards).
		w.buf()
		w.c.wstart = w.c.wend
		w.hdrEnd, w.bodyStart = w.c.wend, w.c.wend
		w.bodyAllowed = true
		return
	}

	b := w.buf()[:w.c.wend]
	start := len(b)
	b = append(b, statusLine(code)...)
	if _, ok := h["Date"]; !ok {
		b = append(b, "Date: "...)
		b = appendDate(b, w.c.reqTime)
		b = append(b, "\r\n"...)
	}
	b = appendHeader(b, h, &w.keys, func(k string) bool {
		switch k {
		case "Date", "Connection", "Transfer-Encoding", "Trailer":
			// Trailer: trailers are not sent, so none is announced.
			return true
		case "Content-Length":
			return dropLength
		case "Content-Type":
			return drop304
		}
		return strings.HasPrefix(k, http.TrailerPrefix)
	})
	w.hdrEnd = len(b)
	w.c.wstart = start
	b = w.adopt(b, gapSize)
	w.bodyStart = len(b) + gapSize
	w.c.wend = w.bodyStart
}

// adopt makes the array under b (built by appending to the write buffer,
// which may have grown it) the write buffer, with room for extra more
// bytes after b. A grown buffer is not pooled again (putWriteBuffer).
func (w *response) adopt(b []byte, extra int) []byte {
	if cap(b)-len(b) < extra {
		nb := make([]byte, len(b), len(b)+extra+4096)
		copy(nb, b)
		b = nb
	}
	*w.c.wbuf = b[:cap(b)]
	return b
}

// writeInformational sends a 1xx (but 101) head at once, as net/http.
func (w *response) writeInformational(code int) {
	if code == http.StatusContinue {
		w.c.body.expectContinue = false
	}
	c := w.c
	b := w.buf()[:c.wend]
	b = append(b, statusLine(code)...)
	b = appendHeader(b, w.header, &w.keys, func(k string) bool {
		return k == "Content-Length" || k == "Transfer-Encoding"
	})
	b = append(b, "\r\n"...)
	w.adopt(b, 0)
	c.wend = len(b)
	w.flush()
}

// WritePreparedHeader is WriteHeader for a head rendered earlier with
// AppendFields: fields are its lines (every field but Date, Connection,
// Transfer-Encoding and Trailer), contentLength its Content-Length (-1
// for none), haveType whether it had a Content-Type (even an empty one,
// which stops sniffing). The header map must hold nothing but a
// Connection field. It returns false, writing nothing, for a status
// WriteHeader treats specially (informational, out of range) or a
// response already under way.
func (w *response) WritePreparedHeader(code int, fields []byte, contentLength int64, haveType bool) bool {
	if w.c.hijacked || w.wroteHeader || w.http09 || code < 200 || code > 999 {
		return false
	}
	w.c.body.expectContinue = false
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = bodyAllowedForStatus(code)
	w.contentLength = contentLength
	w.connValues = w.header["Connection"]
	w.haveType = haveType
	b := w.buf()[:w.c.wend]
	start := len(b)
	b = append(b, statusLine(code)...)
	b = append(b, "Date: "...)
	b = appendDate(b, w.c.reqTime)
	b = append(b, "\r\n"...)
	b = append(b, fields...)
	w.hdrEnd = len(b)
	w.c.wstart = start
	b = w.adopt(b, gapSize)
	w.bodyStart = len(b) + gapSize
	w.c.wend = w.bodyStart
	return true
}

// commit decides the framing and the connection's fate and completes the
// head. final is set when the handler has returned: a body that is all
// in the buffer then gets a Content-Length.
func (w *response) commit(final bool) {
	if w.committed {
		return
	}
	w.committed = true
	c := w.c
	req := w.req
	at11 := req.ProtoMajor > 1 || req.ProtoMinor >= 1
	buf := *c.wbuf
	bodyLen := c.wend - w.bodyStart
	w.closeAfter = w.closeAfter || w.closeAfterRequest || req.Close || !c.srv.keepAlivesEnabled() ||
		valuesHaveToken(w.connValues, "close")
	if w.http09 {
		// The end of the body is the end of the connection.
		w.closeAfter = true
		return
	}
	// A request body the handler left: read it now, before answering, so
	// that a client that sends its whole request before reading is not
	// stuck (net/http does the same); too much of it and the connection
	// is closed instead.
	if !w.closeAfter && !c.body.discardRest() {
		w.closeAfter = true
		c.linger = true
	}

	var tail []byte
	var tmp [gapSize]byte
	tail = tmp[:0]
	if w.bodyAllowed && !w.haveType && !w.haveEncoding && w.teValue == "" && bodyLen > 0 {
		// net/http sniffs a missing Content-Type from the body's start.
		tail = append(tail, "Content-Type: "...)
		tail = append(tail, http.DetectContentType(buf[w.bodyStart:w.bodyStart+min(bodyLen, sniffLen)])...)
		tail = append(tail, "\r\n"...)
	}
	hasLength := w.contentLength >= 0
	switch {
	case w.isHEAD || !w.bodyAllowed:
		if w.isHEAD && final && w.bodyAllowed && !hasLength && w.teValue == "" && w.written > 0 {
			tail = append(tail, "Content-Length: "...)
			tail = appendInt(tail, w.written)
			tail = append(tail, "\r\n"...)
			hasLength = true
		}
		c.wend = w.bodyStart // HEAD: what was kept for sniffing goes
		bodyLen = 0
	case hasLength:
	case final && w.teValue == "":
		w.contentLength = int64(bodyLen)
		tail = append(tail, "Content-Length: "...)
		tail = appendInt(tail, int64(bodyLen))
		tail = append(tail, "\r\n"...)
		hasLength = true
	case at11 && w.teValue != "identity":
		w.chunking = true
		if w.teValue != "" && !strings.EqualFold(w.teValue, "chunked") {
			tail = append(tail, "Transfer-Encoding: "...)
			tail = appendFieldValue(tail, w.teValue)
			tail = append(tail, "\r\n"...)
		}
		tail = append(tail, "Transfer-Encoding: chunked\r\n"...)
	default:
		// HTTP/1.0, or the handler asked for identity: the end of the
		// body is the end of the connection.
		w.closeAfter = true
	}
	if w.wants10KeepAlive && !(w.isHEAD || hasLength || !w.bodyAllowed) {
		w.closeAfter = true
	}
	switch {
	case w.closeAfter && !(w.status == http.StatusSwitchingProtocols && len(w.connValues) > 0):
		// Apache says so to HTTP/1.0 clients too (net/http only to 1.1).
		tail = append(tail, "Connection: close\r\n"...)
	case len(w.connValues) > 0:
		for _, v := range w.connValues {
			tail = append(tail, "Connection: "...)
			tail = appendFieldValue(tail, v)
			tail = append(tail, "\r\n"...)
		}
	case w.wants10KeepAlive:
		tail = append(tail, "Connection: keep-alive\r\n"...)
	}
	tail = append(tail, "\r\n"...)
	if w.chunking && bodyLen > 0 {
		tail = appendHex(tail, bodyLen)
		tail = append(tail, "\r\n"...)
	}

	if len(tail) > gapSize {
		// Long Connection values: move the body up to make room.
		more := len(tail) - gapSize
		b := w.adopt(buf[:c.wend], more+7)
		b = b[:c.wend+more]
		copy(b[w.bodyStart+more:], b[w.bodyStart:c.wend])
		c.wend += more
		w.bodyStart += more
		buf = *c.wbuf
	}
	// The tail ends where the body starts; the head is moved up to it.
	tailStart := w.bodyStart - len(tail)
	copy(buf[tailStart:], tail)
	shift := tailStart - w.hdrEnd
	copy(buf[c.wstart+shift:], buf[c.wstart:w.hdrEnd])
	c.wstart += shift
	if w.chunking && bodyLen > 0 {
		c.wend = w.appendTo(c.wend, "\r\n")
	}
}

// appendTo appends s at end in the write buffer (there is always room:
// callers keep it) and returns the new end.
func (w *response) appendTo(end int, s string) int {
	return end + copy((*w.c.wbuf)[end:], s)
}

// flush writes out what the buffer holds, closing an open chunk first.
func (w *response) flush() {
	c := w.c
	if c.wbuf == nil {
		return
	}
	if w.chunkOpen {
		w.closeChunk()
	}
	if c.wend > c.wstart {
		_ = c.writeConn((*c.wbuf)[c.wstart:c.wend])
	}
	c.wstart, c.wend = 0, 0
}

// openChunk starts a chunk in the (empty) buffer, leaving room for its
// size line.
func (w *response) openChunk() {
	c := w.c
	w.buf()
	c.wstart, c.wend = 0, chunkHeadRoom
	w.chunkData = chunkHeadRoom
	w.chunkOpen = true
}

// closeChunk writes the open chunk's size line before its data and its
// CRLF after it; an empty chunk is dropped (it would end the body).
func (w *response) closeChunk() {
	c := w.c
	w.chunkOpen = false
	n := c.wend - w.chunkData
	if n == 0 {
		c.wend = c.wstart
		return
	}
	var tmp [chunkHeadRoom]byte
	line := appendHex(tmp[:0], n)
	line = append(line, "\r\n"...)
	c.wstart = w.chunkData - len(line)
	copy((*c.wbuf)[c.wstart:], line)
	c.wend = w.appendTo(c.wend, "\r\n")
}

// room is the free space for body bytes in the buffer, keeping what a
// chunk's end or the last chunk needs.
func (w *response) room() int {
	r := cap(*w.c.wbuf) - w.c.wend
	if w.chunking || !w.committed {
		// The chunk's CRLF (or, before commit, the first chunk's) and
		// the last chunk "0\r\n\r\n".
		r -= 2 + 5
	}
	return r
}

// Write buffers p; see the package doc for when it goes out.
func (w *response) Write(p []byte) (int, error) { return w.write(p, "") }

// WriteString is Write for a string, without a conversion.
func (w *response) WriteString(s string) (int, error) { return w.write(nil, s) }

func (w *response) write(p []byte, s string) (int, error) {
	if w.c.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n := len(p) + len(s)
	if n == 0 {
		return 0, nil
	}
	if !w.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	w.c.body.expectContinue = false // as net/http: writing first means no body wanted
	// Counted even when refused, as net/http does: once past the length,
	// every later write fails too and the response ends short (the
	// connection is then closed).
	w.written += int64(n)
	if w.contentLength >= 0 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.isHEAD {
		// Eaten, but the start is kept until commit for the sniffing.
		if !w.committed {
			c := w.c
			if keep := min(n, w.bodyStart+sniffLen-c.wend, cap(*c.wbuf)-c.wend); keep > 0 {
				if p != nil {
					c.wend += copy((*c.wbuf)[c.wend:], p[:keep])
				} else {
					c.wend += copy((*c.wbuf)[c.wend:], s[:keep])
				}
			}
		}
		return n, nil
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	done := 0
	for done < n {
		if w.committed && w.chunking && !w.chunkOpen {
			w.openChunk()
		}
		c := w.c
		free := w.room()
		rest := n - done
		if w.committed && !w.chunking && c.wend == c.wstart && rest >= cap(*c.wbuf) && p != nil {
			// A large write on an empty buffer goes out as is.
			if err := c.writeConn(p[done:]); err != nil {
				return done, err
			}
			return n, nil
		}
		if free > 0 {
			k := min(free, rest)
			if p != nil {
				copy((*c.wbuf)[c.wend:], p[done:done+k])
			} else {
				copy((*c.wbuf)[c.wend:], s[done:done+k])
			}
			c.wend += k
			done += k
			if done == n {
				break
			}
		}
		// Full: the head is settled (chunked or close-delimited unless
		// the handler gave a length) and the buffer goes out.
		w.commit(false)
		w.flush()
		if c.werr != nil {
			return done, c.werr
		}
	}
	return n, nil
}

// Flush sends what is buffered (http.Flusher).
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting the write error (for
// http.ResponseController).
func (w *response) FlushError() error {
	if w.c.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.commit(false)
	w.flush()
	return w.c.werr
}

// finish completes the response after the handler returned: the head if
// not yet final, the last chunk, and the one write of whatever is left.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c := w.c
	w.commit(true)
	if w.chunking {
		if w.chunkOpen {
			w.closeChunk()
		} else if c.wend == c.wstart {
			c.wstart, c.wend = 0, 0
		}
		c.wend = w.appendTo(c.wend, "0\r\n\r\n")
	}
	if c.srv.WriteTimeout <= 0 || c.wend == c.wstart {
		// The idle deadline is counted from here (a write under
		// WriteTimeout takes the time itself).
		c.now = time.Now()
	}
	w.flush()
	if !w.isHEAD && w.bodyAllowed && w.contentLength >= 0 && w.written != w.contentLength {
		// Short of the promised length: the client would wait for the rest.
		w.closeAfter = true
	}
	if c.werr != nil {
		w.closeAfter = true
	}
	if !w.closeAfter && !c.body.discardRest() {
		w.closeAfter = true
	}
	if w.closeAfter && !c.body.sawEOF {
		// Closing on an unread body: linger, or the kernel may answer
		// the unread bytes with a reset that destroys the response.
		c.linger = true
	}
}

// ReadFrom sends src as the body (io.ReaderFrom). It reads into the write
// buffer, so a small file and its head still leave in one write; once the
// buffer is full and the response has a Content-Length, the rest goes by
// the connection's own ReadFrom (sendfile(2) for a file on TCP).
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if w.c.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c := w.c
	if w.isHEAD || !w.bodyAllowed || c.werr != nil {
		return io.Copy(writerOnly{w}, src)
	}
	w.c.body.expectContinue = false
	var total int64
	for {
		if w.committed && !w.chunking && c.wend == c.wstart {
			if rf, ok := c.rwc.(io.ReaderFrom); ok {
				n, err := w.sendRest(rf, src)
				return total + n, err
			}
		}
		if w.committed && w.chunking && !w.chunkOpen {
			w.openChunk()
		}
		free := w.room()
		if w.contentLength >= 0 {
			// Read one byte past the length to catch a src that is longer.
			free = int(min(int64(free), w.contentLength-w.written+1))
		}
		if free > 0 {
			n, err := src.Read((*c.wbuf)[c.wend : c.wend+free])
			if w.contentLength >= 0 && w.written+int64(n) > w.contentLength {
				n = int(w.contentLength - w.written)
				err = http.ErrContentLength
			}
			c.wend += n
			w.written += int64(n)
			total += int64(n)
			if err == io.EOF {
				return total, nil
			}
			if err != nil {
				return total, err
			}
			if n > 0 || w.room() > 0 {
				continue
			}
		}
		w.commit(false)
		w.flush()
		if c.werr != nil {
			return total, c.werr
		}
	}
}

// sendChunk bounds one ReadFrom of the connection so that the write
// deadline, which is per write (Apache's Timeout), is renewed now and then
// during a long sendfile.
const sendChunk = 1 << 20

// sendRest sends what is left of src by the connection's ReadFrom.
func (w *response) sendRest(rf io.ReaderFrom, src io.Reader) (int64, error) {
	c := w.c
	inner, left := src, int64(-1)
	var total int64
	if lr, ok := src.(*io.LimitedReader); ok {
		// Unwrapped, so that net's sendfile sees the *os.File.
		inner, left = lr.R, lr.N
		defer func(n int64) { lr.N = n - total }(lr.N)
	}
	if w.contentLength >= 0 {
		if rest := w.contentLength - w.written; left < 0 || rest < left {
			left = rest + 1 // one more to catch an overlong src
		}
	}
	for left != 0 {
		if d := c.srv.WriteTimeout; d > 0 {
			c.now = time.Now()
			c.setWriteDeadline(c.now.Add(d), 0)
		}
		step := int64(sendChunk)
		if left >= 0 && left < step {
			step = left
		}
		if w.contentLength >= 0 && w.written+step > w.contentLength {
			// Never send past the length: the extra byte is only peeked.
			step = w.contentLength - w.written
			if step == 0 {
				var one [1]byte
				if n, _ := inner.Read(one[:]); n > 0 {
					return total, http.ErrContentLength
				}
				return total, nil
			}
		}
		n, err := rf.ReadFrom(&io.LimitedReader{R: inner, N: step})
		total += n
		w.written += n
		if left > 0 {
			left -= n
		}
		if err != nil {
			c.werr = err
			return total, err
		}
		if n < step {
			return total, nil // src ended
		}
	}
	return total, nil
}

// writerOnly hides ReadFrom so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// Hijack hands the connection over (http.Hijacker). What was buffered is
// written first.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := w.c
	if c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader {
		w.commit(false)
	}
	w.flush()
	if c.werr != nil {
		return nil, nil, c.werr
	}
	c.hijacked = true
	_ = c.rwc.SetDeadline(time.Time{})
	br := c.br
	c.br = nil // now the caller's: not pooled
	c.setState(http.StateHijacked)
	return c.rwc, bufio.NewReadWriter(br, bufio.NewWriter(c.rwc)), nil
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController.
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.rdl = t
	return w.c.rwc.SetReadDeadline(t)
}

func (w *response) SetWriteDeadline(t time.Time) error {
	w.c.wdl = t
	return w.c.rwc.SetWriteDeadline(t)
}

package http1

import (
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"time"
)

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

var errTrailerTooLarge = errors.New("http1: request trailer too large")

// body is a request body, reused for each request of its connection: a
// Content-Length body, or a chunked one (its trailer is read and
// dropped).
type body struct {
	c *conn
	// remaining is the unread length of a Content-Length body; -1 for a
	// chunked body.
	remaining int64
	chunks    io.Reader // the de-chunking reader of a chunked body
	// expectContinue: the client waits for 100 Continue before sending;
	// it is sent on the first Read unless the response has begun.
	expectContinue bool
	// continueAsked: the request had Expect: 100-continue. Its body is
	// never drained: the client may not have sent it (as net/http, the
	// connection is closed unless the handler read it all).
	continueAsked bool
	sawEOF        bool
	closed        bool
	err           error // sticky read error
}

func (b *body) reset(length int64, expectContinue bool) {
	*b = body{c: b.c, remaining: length, expectContinue: expectContinue, continueAsked: expectContinue, sawEOF: length == 0}
}

// Read reads the body. After Close it fails with http.ErrBodyReadAfterClose.
func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

func (b *body) read(p []byte) (int, error) {
	if b.sawEOF {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	c := b.c
	if b.expectContinue {
		b.expectContinue = false
		if !c.res.wroteHeader && !c.hijacked {
			if err := c.writeConn(continueLine); err != nil {
				b.err = err
				return 0, err
			}
		}
	}
	if c.br.Buffered() == 0 {
		if d := c.srv.ReadTimeout; d > 0 {
			c.setReadDeadline(time.Now().Add(d), d/8)
		} else {
			c.setReadDeadline(time.Time{}, 0)
		}
	}
	if b.remaining < 0 {
		return b.readChunked(p)
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := c.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		b.sawEOF = true
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *body) readChunked(p []byte) (int, error) {
	if b.chunks == nil {
		b.chunks = httputil.NewChunkedReader(b.c.br)
	}
	n, err := b.chunks.Read(p)
	if err == io.EOF {
		// The last chunk: the trailer fields follow, then an empty line.
		// They are read (bounded) and dropped.
		if terr := b.skipTrailer(); terr != nil {
			b.err = terr
			return n, terr
		}
		b.sawEOF = true
		return n, io.EOF
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *body) skipTrailer() error {
	c := b.c
	c.headBytes = 0
	limit := c.srv.maxHeaderBytes()
	for {
		line, err := c.readLine(limit)
		if errors.Is(err, errHeadTooLarge) {
			return errTrailerTooLarge
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// Close marks the body closed; what the handler left unread is dealt with
// when the response is finished.
func (b *body) Close() error {
	b.closed = true
	return nil
}

// discardRest reads and drops what is left of the body, up to
// maxPostHandlerReadBytes, so the connection can serve its next request.
// It reports whether the body was read to its end.
func (b *body) discardRest() bool {
	if b.sawEOF {
		return true
	}
	if b.err != nil || b.continueAsked {
		// The client may never send a body it was not asked for.
		return false
	}
	if b.remaining > maxPostHandlerReadBytes {
		return false
	}
	_, err := io.CopyN(io.Discard, readerFunc(b.read), maxPostHandlerReadBytes+1)
	return err == io.EOF && b.sawEOF
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

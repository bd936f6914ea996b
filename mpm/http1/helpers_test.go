package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strings"
	"testing"
	"time"
)

// testTimeout bounds every blocking step of a test, so a bug shows as a
// failure, not a hang.
const testTimeout = 5 * time.Second

// startServer serves h with s on a loopback port until the test ends.
func startServer(t testing.TB, s *Server, h http.Handler) string {
	t.Helper()
	if s.Handler == nil {
		s.Handler = h
	}
	if s.ErrorLog == nil {
		s.ErrorLog = discardLog
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		select {
		case err := <-done:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(testTimeout):
			t.Error("Serve did not return after Close")
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := s.Wait(ctx); err != nil {
			t.Errorf("connections still open after Close: %v", err)
		}
	})
	return ln.Addr().String()
}

// client is a raw connection to a test server.
type client struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return &client{t: t, conn: c, br: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// response reads one response to a request of method.
func (c *client) response(method string) *resp {
	c.t.Helper()
	r, err := readResp(c.br, method)
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	return r
}

// closed reports whether the server closed the connection (EOF, or a
// reset, with nothing more sent) before the test deadline.
func (c *client) closed() bool {
	c.t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Errorf("unexpected byte %q after the response", b)
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// resp is a response as read off the wire.
type resp struct {
	status  int
	proto   string
	raw     string // the head as received
	header  http.Header
	body    string
	chunked bool
	// truncated: the connection ended before Content-Length bytes came.
	truncated bool
}

// readResp reads one response with net/http's reader (and keeps the raw
// head to check what net/http normalizes away).
func readResp(br *bufio.Reader, method string) (*resp, error) {
	var head strings.Builder
	// Read the head byte-exact first, then let net/http parse it.
	for {
		line, err := br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return nil, fmt.Errorf("head %q: %w", head.String(), err)
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	// The head alone goes to net/http's parser; the body is read here
	// by the framing, so that nothing past this response is consumed.
	req, _ := http.NewRequest(method, "http://x/", nil)
	r, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head.String())), req)
	if err != nil {
		return nil, err
	}
	out := &resp{
		status:  r.StatusCode,
		proto:   r.Proto,
		raw:     head.String(),
		header:  r.Header,
		chunked: len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked",
	}
	var body []byte
	switch {
	case method == http.MethodHead || r.StatusCode/100 == 1 || r.StatusCode == 204 || r.StatusCode == 304:
	case out.chunked:
		body, err = io.ReadAll(httputil.NewChunkedReader(br))
		for err == nil {
			var line string
			if line, err = br.ReadString('\n'); line == "\r\n" {
				break
			}
		}
	case r.ContentLength >= 0:
		body = make([]byte, r.ContentLength)
		var n int
		n, err = io.ReadFull(br, body)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			body, err, out.truncated = body[:n], nil, true
		}
	default:
		body, err = io.ReadAll(br)
	}
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	out.body = string(body)
	return out, nil
}

// field returns the raw head's value of name, compared case-sensitively
// (the server must not change the handler's spelling).
func (r *resp) field(name string) (string, bool) {
	for _, line := range strings.Split(r.raw, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ": "); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// echo answers with a description of the request it got, reading the
// body: what the tests check request parsing with.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "method=%s uri=%s path=%q rawpath=%q query=%q scheme=%q urlhost=%q opaque=%q force=%v\n",
		r.Method, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.Scheme, r.URL.Host, r.URL.Opaque, r.URL.ForceQuery)
	fmt.Fprintf(&b, "proto=%s %d.%d host=%s cl=%d te=%v close=%v\n", r.Proto, r.ProtoMajor, r.ProtoMinor, r.Host, r.ContentLength, r.TransferEncoding, r.Close)
	for _, k := range keys {
		fmt.Fprintf(&b, "h %s=%q\n", k, r.Header[k])
	}
	fmt.Fprintf(&b, "body=%q err=%v\n", body, err)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, b.String())
}

var discardLog = log.New(io.Discard, "", 0)

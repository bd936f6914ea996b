package http1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var big = strings.Repeat("0123456789abcdef", 100<<10/16) // 100 KB: past the write buffer

// testMux answers the paths the table tests use.
func testMux() http.Handler {
	mux := http.NewServeMux()
	// ServeMux answers "*" and CONNECT itself; the tests want to see them.
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "*" || r.Method == http.MethodConnect {
			echo(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/4k", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4096")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, strings.Repeat("a", 4096))
	})
	mux.HandleFunc("/nolen", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world\n")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, big)
	})
	mux.HandleFunc("/biglen", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		io.WriteString(w, big)
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first,")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(code)
		if _, err := io.WriteString(w, "body!"); err != nil {
			w.Header().Set("X-Too-Late", err.Error()) // not sent: after WriteHeader
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	mux.HandleFunc("/inject", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Bad", "a\r\nSet-Cookie: evil=1")
		w.Header()["Bad Name"] = []string{"x"}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/spelling", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["ETag"] = []string{`"abc"`}
		w.Header()["x-lower"] = []string{"kept"}
		w.Header()["WWW-Authenticate"] = []string{"Basic"}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/nodate", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // as with net/http: no Date at all
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/ignorebody", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ignored")
	})
	mux.HandleFunc("/identity", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "identity")
		io.WriteString(w, "streamed")
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "12345")
	})
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		_, err := io.WriteString(w, "12345")
		if !errors.Is(err, http.ErrContentLength) {
			panic(fmt.Sprintf("overlong write: %v", err))
		}
		// Refused too, as with net/http: the response ends short.
		io.WriteString(w, "123")
	})
	mux.HandleFunc("/sniff", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body>x</body></html>")
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		panic("handler panic (expected by the test)")
	})
	return top
}

// errorPage is an ErrorResponse hook standing for the engine's pages.
func errorPage(status int) (http.Header, []byte) {
	return http.Header{"Content-Type": {"text/html; charset=iso-8859-1"}, "X-Error-Page": {strconv.Itoa(status)}},
		[]byte(fmt.Sprintf("<title>%d %s</title>\n", status, http.StatusText(status)))
}

// exchange is one request (or a pipelined run) and the response
// expected to the first of it.
type exchange struct {
	name   string
	req    string
	method string // of the request, to read the response (default GET)
	status int
	fields map[string]string // exact raw fields
	absent []string          // fields that must not be there
	body   string            // the exact body, unless "*": not checked
	has    []string          // substrings of the body
	// truncated: the connection ends before the body's promised length.
	truncated bool
	closes    bool // the server closes after this response
}

func TestExchanges(t *testing.T) {
	s := &Server{ErrorResponse: errorPage, ReadHeaderTimeout: testTimeout, IdleTimeout: testTimeout}
	addr := startServer(t, s, testMux())
	const host = "Host: x\r\n"
	for _, tc := range []exchange{
		// Keep-alive rules.
		{name: "1.1 keeps by default", req: "GET /nolen HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": "13"}, absent: []string{"Connection"}, body: "hello, world\n"},
		{name: "1.1 Connection: close", req: "GET /nolen HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, body: "hello, world\n", closes: true},
		{name: "1.1 Connection: Close, other tokens", req: "GET /nolen HTTP/1.1\r\n" + host + "Connection: TE, Close\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, body: "*", closes: true},
		{name: "1.0 closes by default, saying so as Apache does", req: "GET /nolen HTTP/1.0\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close", "Content-Length": "13"}, body: "hello, world\n", closes: true},
		{name: "1.0 keep-alive with a length", req: "GET /nolen HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "keep-alive", "Content-Length": "13"}, body: "hello, world\n"},
		{name: "1.0 keep-alive without a length ends with the connection", req: "GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, absent: []string{"Content-Length", "Transfer-Encoding"}, body: "first,second", closes: true},
		{name: "handler's Connection: close", req: "GET /close HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, body: "bye", closes: true},
		{name: "responses are HTTP/1.1 to 1.0 clients (Apache)", req: "GET /nolen HTTP/1.0\r\n\r\n", status: 200, body: "*", closes: true},

		// Response framing.
		{name: "handler's length", req: "GET /4k HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": "4096", "Content-Type": "text/html"}, body: strings.Repeat("a", 4096)},
		{name: "empty body gets Content-Length: 0", req: "GET /empty HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": "0"}, body: ""},
		{name: "past the buffer: chunked", req: "GET /big HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Transfer-Encoding": "chunked"}, absent: []string{"Content-Length"}, body: big},
		{name: "past the buffer with a length", req: "GET /biglen HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": strconv.Itoa(len(big))}, absent: []string{"Transfer-Encoding"}, body: big},
		{name: "past the buffer to 1.0: close-delimited", req: "GET /big HTTP/1.0\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, absent: []string{"Content-Length", "Transfer-Encoding"}, body: big, closes: true},
		{name: "flush: chunked", req: "GET /flush HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Transfer-Encoding": "chunked"}, body: "first,second"},
		{name: "Transfer-Encoding: identity: close-delimited", req: "GET /identity HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, absent: []string{"Transfer-Encoding", "Content-Length"}, body: "streamed", closes: true},
		{name: "short of the length: closed", req: "GET /short HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": "10"}, body: "12345", truncated: true, closes: true},
		{name: "past the length: ErrContentLength", req: "GET /long HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Length": "3"}, body: "", truncated: true},
		{name: "sniffed type", req: "GET /sniff HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"Content-Type": "text/html; charset=utf-8"}, body: "*"},
		{name: "HEAD: length, no body", req: "HEAD /4k HTTP/1.1\r\n" + host + "\r\n", method: "HEAD", status: 200,
			fields: map[string]string{"Content-Length": "4096"}, body: ""},
		{name: "HEAD without a length: the body's", req: "HEAD /big HTTP/1.1\r\n" + host + "\r\n", method: "HEAD", status: 200,
			fields: map[string]string{"Content-Length": strconv.Itoa(len(big))}, absent: []string{"Transfer-Encoding"}, body: ""},
		{name: "204: no body, no length", req: "GET /status/204 HTTP/1.1\r\n" + host + "\r\n", status: 204,
			absent: []string{"Content-Length", "Transfer-Encoding", "X-Too-Late"}, body: ""},
		{name: "304: no body, no length or type", req: "GET /status/304 HTTP/1.1\r\n" + host + "\r\n", status: 304,
			absent: []string{"Content-Length", "Content-Type", "Transfer-Encoding"}, body: ""},
		{name: "an unknown status", req: "GET /status/299 HTTP/1.1\r\n" + host + "\r\n", status: 299, body: "body!"},
		{name: "CR LF in values become spaces; bad names dropped", req: "GET /inject HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"X-Bad": "a  Set-Cookie: evil=1"}, absent: []string{"Set-Cookie", "Bad Name"}, body: "ok"},
		{name: "names as the handler spelt them", req: "GET /spelling HTTP/1.1\r\n" + host + "\r\n", status: 200,
			fields: map[string]string{"ETag": `"abc"`, "x-lower": "kept", "WWW-Authenticate": "Basic"}, body: "ok"},
		{name: "Date suppressed by a nil value", req: "GET /nodate HTTP/1.1\r\n" + host + "\r\n", status: 200,
			absent: []string{"Date"}, body: "ok"},

		// Request bodies.
		{name: "Content-Length body", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", status: 200,
			has: []string{`body="hello"`, "cl=5 te=[]"}},
		{name: "chunked body, trailer dropped", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n", status: 200,
			has: []string{`body="hello world"`, "cl=-1 te=[chunked]"}},
		{name: "chunked wins over Content-Length, connection closed (Apache)", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", status: 200,
			fields: map[string]string{"Connection": "close"}, has: []string{`body="ab"`}, closes: true},
		{name: "chunked must be the last coding (Apache: 400)", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", status: 400,
			fields: map[string]string{"X-Error-Page": "400", "Connection": "close"}, body: "*", closes: true},
		{name: "gzip, chunked", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", status: 200,
			has: []string{`body="z"`, "te=[chunked gzip]"}},
		{name: "unread body drained, connection kept", req: "POST /ignorebody HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", status: 200,
			absent: []string{"Connection"}, body: "ignored"},
		{name: "duplicate Content-Length (Apache: 400)", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 1\r\n\r\na", status: 400, body: "*", closes: true},
		{name: "signed Content-Length", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: +1\r\n\r\na", status: 400, body: "*", closes: true},
		{name: "Content-Length list", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 1, 1\r\n\r\na", status: 400, body: "*", closes: true},
		{name: "Expect other than 100-continue", req: "GET /echo HTTP/1.1\r\n" + host + "Expect: teapot\r\n\r\n", status: 417, body: "*", closes: true},

		// Request parsing.
		{name: "fields: canonical keys, values trimmed, repeats kept", req: "GET /echo HTTP/1.1\r\nhost: x\r\nx-multi: a\r\nX-MULTI:  b \r\nuser-agent: t\r\n\r\n", status: 200,
			has: []string{`h X-Multi=["a" "b"]`, `h User-Agent=["t"]`, "host=x "}},
		{name: "absolute URI: its host wins", req: "GET http://example.com:81/echo?q HTTP/1.1\r\nHost: other\r\n\r\n", status: 200,
			has: []string{`uri=http://example.com:81/echo?q path="/echo"`, `scheme="http" urlhost="example.com:81"`, "host=example.com:81 "}},
		{name: "OPTIONS *", req: "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", status: 200, has: []string{`uri=* path="*"`}},
		{name: "escaped path", req: "GET /echo%2Fx/%41?a=%20 HTTP/1.1\r\n" + host + "\r\n", status: 404, body: "*"},
		{name: "forced empty query", req: "GET /echo? HTTP/1.1\r\n" + host + "\r\n", status: 200, has: []string{`query="" scheme="" urlhost="" opaque="" force=true`}},
		{name: "HTTP/1.0 without Host", req: "GET /echo HTTP/1.0\r\n\r\n", status: 200, has: []string{"host= ", "proto=HTTP/1.0 1.0"}, closes: true},
		{name: "HTTP/2.0 served as 1.1 (Apache; net/http: 505)", req: "GET /echo HTTP/2.0\r\n" + host + "\r\n", status: 200, has: []string{"proto=HTTP/2.0 2.0"}},
		{name: "blank lines before the request", req: "\r\n\r\nGET /nolen HTTP/1.1\r\n" + host + "\r\n", status: 200, body: "hello, world\n"},
		{name: "CONNECT authority", req: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status: 200,
			has: []string{`uri=example.com:443 path="" rawpath="" query="" scheme="" urlhost="example.com:443"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.req)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := c.response(method)
			checkResp(t, r, tc)
			if r.truncated != tc.truncated {
				t.Errorf("truncated body: %v", r.truncated)
			}
			if tc.truncated {
				return
			}
			if tc.closes != c.closedAfter(r) {
				t.Errorf("connection closed: %v, want %v", !tc.closes, tc.closes)
			}
		})
	}
}

// closedAfter tells whether the server closed the connection after r: it
// either closes at once, or answers a further request.
func (c *client) closedAfter(r *resp) bool {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, "GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return true
	}
	next, err := readResp(c.br, "GET")
	if err != nil {
		return true
	}
	if next.status != 200 || next.body != "hello, world\n" {
		c.t.Errorf("the next request on the connection got %d %q", next.status, next.body)
	}
	return false
}

func checkResp(t *testing.T, r *resp, tc exchange) {
	t.Helper()
	if r.status != tc.status {
		t.Errorf("status %d, want %d\n%s", r.status, tc.status, r.raw)
	}
	if !strings.HasPrefix(r.raw, "HTTP/1.1 ") {
		t.Errorf("status line %q, want HTTP/1.1", strings.SplitN(r.raw, "\r\n", 2)[0])
	}
	for k, want := range tc.fields {
		if got, ok := r.field(k); !ok || got != want {
			t.Errorf("%s: %q (present %v), want %q\n%s", k, got, ok, want, r.raw)
		}
	}
	for _, k := range tc.absent {
		if got, ok := r.field(k); ok {
			t.Errorf("%s: %q, want none\n%s", k, got, r.raw)
		}
	}
	if _, ok := r.field("Date"); !ok && !contains(tc.absent, "Date") {
		t.Errorf("no Date\n%s", r.raw)
	}
	switch {
	case tc.body == "*":
	case len(tc.has) > 0:
		for _, h := range tc.has {
			if !strings.Contains(r.body, h) {
				t.Errorf("body lacks %q:\n%s", h, r.body)
			}
		}
	case r.body != tc.body:
		t.Errorf("body %q, want %q", trunc(r.body), trunc(tc.body))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func trunc(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// TestRefused covers requests answered before the handler: the status
// Apache gives (checked against Apache 2.4.67), the ErrorResponse page,
// Connection: close and the close.
func TestRefused(t *testing.T) {
	s := &Server{ErrorResponse: errorPage, MaxHeaderBytes: 1024}
	addr := startServer(t, s, testMux())
	for _, tc := range []struct{ name, req string }{
		{"HTTP/0.9 request (AllowHTTP09 off)", "GET /\r\n\r\n"},
		{"bare LF line ends (Apache's strict reading)", "GET / HTTP/1.1\nHost: x\n\n"},
		{"bare LF after a field", "GET / HTTP/1.1\r\nHost: x\n\r\n"},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n"},
		{"four words", "GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"},
		{"bad method byte", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n"},
		{"not HTTP", "GET / HTTX/1.1\r\nHost: x\r\n\r\n"},
		{"lower-case http", "GET / http/1.1\r\nHost: x\r\n\r\n"},
		{"two-digit minor", "GET / HTTP/1.10\r\nHost: x\r\n\r\n"},
		{"leading zero", "GET / HTTP/01.1\r\nHost: x\r\n\r\n"},
		{"relative target", "GET x HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"control byte in target", "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"tab in target", "GET /\tx HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"missing Host in 1.1", "GET / HTTP/1.1\r\n\r\n"},
		{"empty Host in 1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"},
		{"field without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"},
		{"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX : y\r\n\r\n"},
		{"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n"},
		{"folded line", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n"},
		{"control byte in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n"},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"too many blank lines", strings.Repeat("\r\n", 12) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.req)
			r := c.response("GET")
			checkResp(t, r, exchange{status: 400, fields: map[string]string{
				"Connection": "close", "X-Error-Page": "400", "Content-Type": "text/html; charset=iso-8859-1",
			}, body: "<title>400 Bad Request</title>\n"})
			if !c.closed() {
				t.Error("connection not closed")
			}
		})
	}
	t.Run("head too large: 431", func(t *testing.T) {
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 6000) + "\r\n\r\n")
		r := c.response("GET")
		checkResp(t, r, exchange{status: 431, fields: map[string]string{"Connection": "close"}, body: "<title>431 Request Header Fields Too Large</title>\n"})
		if !c.closed() {
			t.Error("connection not closed")
		}
	})
	t.Run("without a hook: text/plain", func(t *testing.T) {
		addr := startServer(t, &Server{}, testMux())
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\n\r\n")
		r := c.response("GET")
		checkResp(t, r, exchange{status: 400, fields: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, body: "400 Bad Request"})
	})
}

func TestPipelining(t *testing.T) {
	addr := startServer(t, &Server{}, testMux())
	c := dial(t, addr)
	// All at once, bodies and a HEAD among them: answered in order.
	c.send("GET /echo?1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo?2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"HEAD /4k HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /ignorebody HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
		"GET /echo?5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	for i, want := range []string{`query="1"`, `body="abc"`, "", "ignored", `query="5"`} {
		method := "GET"
		if i == 2 {
			method = "HEAD"
		}
		r := c.response(method)
		if r.status != 200 || !strings.Contains(r.body, want) {
			t.Errorf("response %d: %d %q, want one with %q", i+1, r.status, trunc(r.body), want)
		}
	}
	if !c.closed() {
		t.Error("not closed after Connection: close")
	}
}

func TestExpectContinue(t *testing.T) {
	addr := startServer(t, &Server{}, testMux())
	t.Run("100 on the first read", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		r := c.response("GET")
		if r.status != 100 {
			t.Fatalf("status %d, want 100 before the body", r.status)
		}
		c.send("data")
		r = c.response("GET")
		if r.status != 200 || !strings.Contains(r.body, `body="data"`) {
			t.Errorf("got %d %q", r.status, r.body)
		}
		if c.closedAfter(r) {
			t.Error("connection closed")
		}
	})
	t.Run("no 100 when the body is not read; then closed", func(t *testing.T) {
		c := dial(t, addr)
		c.send("POST /ignorebody HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
		r := c.response("GET")
		if r.status != 200 || r.body != "ignored" {
			t.Errorf("got %d %q", r.status, r.body)
		}
		if v, _ := r.field("Connection"); v != "close" || !c.closed() {
			t.Errorf("Connection: %q; want close, and closed", v)
		}
	})
}

func TestUnreadBodyTooLarge(t *testing.T) {
	addr := startServer(t, &Server{}, testMux())
	c := dial(t, addr)
	n := maxPostHandlerReadBytes + 1
	c.send(fmt.Sprintf("POST /ignorebody HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", n))
	// The client writes its body while the server answers and closes.
	go func() { _, _ = c.conn.Write(make([]byte, n)) }()
	r := c.response("GET")
	if v, _ := r.field("Connection"); r.status != 200 || v != "close" {
		t.Errorf("got %d, Connection %q; want 200 and close", r.status, v)
	}
	if !c.closed() {
		t.Error("connection not closed")
	}
}

func TestTimeouts(t *testing.T) {
	s := &Server{ErrorResponse: errorPage, ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 100 * time.Millisecond}
	addr := startServer(t, s, testMux())
	t.Run("idle", func(t *testing.T) {
		c := dial(t, addr)
		c.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
		c.response("GET")
		start := time.Now()
		if !c.closed() {
			t.Fatal("idle connection not closed")
		}
		if d := time.Since(start); d < 80*time.Millisecond || d > 2*time.Second {
			t.Errorf("closed after %v, want about 100ms", d)
		}
	})
	t.Run("head: 408", func(t *testing.T) {
		c := dial(t, addr)
		c.send("GET /nolen HTTP/1.1\r\nHo")
		start := time.Now()
		r := c.response("GET")
		if r.status != 408 {
			t.Errorf("status %d, want 408", r.status)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("answered after %v, before ReadHeaderTimeout", d)
		}
		if !c.closed() {
			t.Error("not closed")
		}
	})
	t.Run("no request at all: closed without a word", func(t *testing.T) {
		c := dial(t, addr)
		if !c.closed() {
			t.Error("not closed")
		}
	})
}

// TestDrain: a keep-alive client whose connection is idle when the drain
// starts sends one more request: it is answered, with Connection: close,
// and the connection then closed, never reset.
func TestDrain(t *testing.T) {
	s := &Server{IdleTimeout: testTimeout}
	addr := startServer(t, s, testMux())
	idle := dial(t, addr)
	idle.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := idle.response("GET"); r.status != 200 {
		t.Fatal(r.status)
	}
	quiet := dial(t, addr) // never sends: closed at its timeout
	quiet.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
	quiet.response("GET")

	s.Drain()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after Drain")
	}
	idle.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
	r := idle.response("GET")
	if v, _ := r.field("Connection"); r.status != 200 || v != "close" || !strings.Contains(r.body, "method=GET") {
		t.Errorf("got %d, Connection %q, body %q", r.status, v, trunc(r.body))
	}
	if !idle.closed() {
		t.Error("not closed after the drained response")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx); err == nil {
		t.Error("Wait returned while the quiet connection is still open")
	}
	// The quiet one would go at its IdleTimeout (TestDrainIdleTimeout);
	// here its client leaves.
	quiet.conn.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	if err := s.Wait(ctx2); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

// TestDrainIdleTimeout: idle connections are closed by their
// IdleTimeout, not at once.
func TestDrainIdleTimeout(t *testing.T) {
	s := &Server{IdleTimeout: 200 * time.Millisecond}
	addr := startServer(t, s, testMux())
	c := dial(t, addr)
	c.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
	c.response("GET")
	start := time.Now()
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("idle connection cut after %v, before its IdleTimeout", d)
	}
	if !c.closed() {
		t.Error("not closed")
	}
}

// slowHandler answers "done"; /slow first closes entered and waits until
// release is closed (a request in flight for as long as a test needs).
func slowHandler() (h http.Handler, entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	})
	return h, entered, release
}

// CutIdle closes the connections idle for at least the given time, and
// only those: not one idle for less, not one with a request in flight.
func TestCutIdle(t *testing.T) {
	h, entered, release := slowHandler()
	s := &Server{IdleTimeout: time.Minute} // only CutIdle closes within the client's deadline
	addr := startServer(t, s, h)
	idle := dial(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.response("GET")
	busy := dial(t, addr)
	busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered

	// Idle for less than an hour: kept, and it serves its next request.
	s.CutIdle(time.Hour)
	idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := idle.response("GET"); r.status != 200 || r.body != "done" {
		t.Fatalf("a connection idle for less than the limit was cut: %d %q", r.status, r.body)
	}
	// As the drain does, again and again: the connection turns idle a
	// moment after its answer went out.
	stopCutting := make(chan struct{})
	go func() {
		for {
			s.CutIdle(0)
			select {
			case <-stopCutting:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	closed := idle.closed()
	close(stopCutting)
	if !closed {
		t.Error("idle connection not closed by CutIdle")
	}
	close(release)
	if r := busy.response("GET"); r.body != "done" {
		t.Errorf("the request in flight: %q", r.body)
	}
}

func TestShutdown(t *testing.T) {
	h, entered, release := slowHandler()
	s := &Server{IdleTimeout: testTimeout}
	addr := startServer(t, s, h)
	idle := dial(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.response("GET")
	busy := dial(t, addr)
	busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a request in flight: %v, want deadline exceeded", err)
	}
	if !idle.closed() {
		t.Error("idle connection not closed by Shutdown")
	}
	close(release)
	r := busy.response("GET")
	if v, _ := r.field("Connection"); r.body != "done" || v != "close" {
		t.Errorf("in-flight request: %q, Connection %q", r.body, v)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestConnStateAndContext(t *testing.T) {
	type key struct{}
	var mu sync.Mutex
	var states []http.ConnState
	var ctxs []context.Context
	s := &Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, key{}, "conn-value")
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			mu.Lock()
			states = append(states, st)
			mu.Unlock()
		},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ctxs = append(ctxs, r.Context())
		mu.Unlock()
		if r.Context().Err() != nil {
			t.Error("context done during the handler")
		}
		if _, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); !ok {
			t.Error("no LocalAddrContextKey")
		}
		fmt.Fprintf(w, "%v %s", r.Context().Value(key{}), r.RemoteAddr)
	})
	addr := startServer(t, s, h)
	c := dial(t, addr)
	for range 2 {
		c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("GET")
		if want := "conn-value " + c.conn.LocalAddr().String(); r.body != want {
			t.Errorf("body %q, want %q", r.body, want)
		}
	}
	c.conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s.Drain()
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []http.ConnState{http.StateNew, http.StateActive, http.StateIdle, http.StateActive, http.StateIdle, http.StateClosed}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", states, want)
	}
	if len(ctxs) != 2 || ctxs[0] == ctxs[1] {
		t.Fatalf("request contexts %v: want two distinct", ctxs)
	}
	for i, ctx := range ctxs {
		if ctx.Err() == nil {
			t.Errorf("request %d's context not cancelled after its handler", i)
		}
	}
}

func TestHijack(t *testing.T) {
	var states []http.ConnState
	var mu sync.Mutex
	s := &Server{ConnState: func(c net.Conn, st http.ConnState) { mu.Lock(); states = append(states, st); mu.Unlock() }}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		line, _ := rw.ReadString('\n')
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\necho:" + line)
		rw.Flush()
	})
	addr := startServer(t, s, h)
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n\r\nping\n")
	r := c.response("GET")
	if r.status != 101 {
		t.Fatalf("status %d", r.status)
	}
	rest, _ := io.ReadAll(c.br)
	if string(rest) != "echo:ping\n" {
		t.Errorf("after the hijack: %q", rest)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(states); got != fmt.Sprint([]http.ConnState{http.StateNew, http.StateActive, http.StateHijacked}) {
		t.Errorf("states %s", got)
	}
}

func TestPanicClosesConnection(t *testing.T) {
	addr := startServer(t, &Server{}, testMux())
	c := dial(t, addr)
	c.send("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
	if !c.closed() {
		t.Error("connection open after a handler panic")
	}
	c2 := dial(t, addr)
	c2.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c2.response("GET"); r.status != 200 {
		t.Errorf("after a panic: %d", r.status)
	}
}

func TestKeepAlivesDisabled(t *testing.T) {
	s := &Server{}
	s.SetKeepAlivesEnabled(false)
	addr := startServer(t, s, testMux())
	c := dial(t, addr)
	c.send("GET /nolen HTTP/1.1\r\nHost: x\r\n\r\n")
	r := c.response("GET")
	if v, _ := r.field("Connection"); v != "close" || !c.closed() {
		t.Errorf("Connection %q; want close, and closed", v)
	}
}

// TestReadFrom: a file body goes through ReadFrom, by the buffer when it
// fits and by the connection's ReadFrom (sendfile) past it.
func TestReadFrom(t *testing.T) {
	dir := t.TempDir()
	small := strings.Repeat("s", 3000)
	large := strings.Repeat("0123456789", 300_000) // 3 MB: several sendfile steps
	for name, content := range map[string]string{"small": small, "large": large} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(filepath.Join(dir, strings.TrimPrefix(r.URL.Path, "/")))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		if r.URL.Query().Has("len") {
			w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		}
		var src io.Reader = f
		if r.URL.Query().Has("limit") {
			src = io.LimitReader(f, fi.Size())
		}
		n, err := w.(io.ReaderFrom).ReadFrom(src)
		if err != nil || n != fi.Size() {
			t.Errorf("%s: ReadFrom %d, %v", r.URL, n, err)
		}
	})
	addr := startServer(t, &Server{}, h)
	c := dial(t, addr)
	for _, tc := range []struct{ path, want string }{
		{"/small?len", small}, {"/small", small}, {"/large?len&limit", large}, {"/large?len", large}, {"/large", large},
	} {
		c.send("GET " + tc.path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.response("GET")
		if r.body != tc.want {
			t.Errorf("%s: body of %d bytes, want %d", tc.path, len(r.body), len(tc.want))
		}
		if _, hasLen := r.field("Content-Length"); hasLen == r.chunked {
			t.Errorf("%s: length %v, chunked %v\n%s", tc.path, hasLen, r.chunked, r.raw)
		}
	}
}

// TestOneWrite checks the point of the package: a response that fits the
// buffer leaves in one write to the connection.
func TestOneWrite(t *testing.T) {
	writes := make(chan int, 100)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: testMux(), ErrorLog: discardLog}
	go func() { _ = s.Serve(countingListener{ln, writes}) }()
	t.Cleanup(func() { s.Close() })
	c := dial(t, ln.Addr().String())
	for _, path := range []string{"/4k", "/nolen", "/sniff"} {
		c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		c.response("GET")
		if n := <-writes; n < 100 {
			t.Errorf("%s: first write of %d bytes", path, n)
		}
		select {
		case n := <-writes:
			t.Errorf("%s: a second write of %d bytes", path, n)
		default:
		}
	}
}

type countingListener struct {
	net.Listener
	writes chan int
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes chan int
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes <- len(p)
	return c.Conn.Write(p)
}

// TestEdgesOfTheBuffer: heads past the read buffer and the write buffer,
// a long Connection value, 1xx answers.
func TestEdgesOfTheBuffer(t *testing.T) {
	huge := strings.Repeat("v", 40<<10) // a field bigger than the 32 KB write buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hugefield":
			w.Header().Set("X-Huge", huge)
			io.WriteString(w, "small body")
		case "/longconn":
			w.Header().Set("Connection", strings.Repeat("token-", 40)+"end")
			io.WriteString(w, "ok")
		case "/hints":
			w.Header().Set("Link", "</s.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			io.WriteString(w, "final")
		default:
			fmt.Fprintf(w, "cookie %d", len(r.Header.Get("Cookie")))
		}
	})
	s := &Server{}
	addr := startServer(t, s, h)
	c := dial(t, addr)

	c.send("GET / HTTP/1.1\r\nHost: x\r\nCookie: " + strings.Repeat("c", 9000) + "\r\n\r\n")
	if r := c.response("GET"); r.body != "cookie 9000" {
		t.Errorf("long request field: %q", r.body)
	}
	c.send("GET /hugefield HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c.response("GET"); r.body != "small body" || r.header.Get("X-Huge") != huge {
		t.Errorf("huge response field: body %q, field of %d bytes", r.body, len(r.header.Get("X-Huge")))
	}
	c.send("GET /longconn HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c.response("GET"); r.body != "ok" || !strings.HasSuffix(r.header.Get("Connection"), "end") {
		t.Errorf("long Connection value: %q\n%s", r.body, r.raw)
	}
	c.send("GET /hints HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c.response("GET"); r.status != 103 || r.header.Get("Link") == "" {
		t.Errorf("103: %d\n%s", r.status, r.raw)
	}
	if r := c.response("GET"); r.status != 200 || r.body != "final" || r.header.Get("Link") != "" {
		t.Errorf("after 103: %d %q\n%s", r.status, r.body, r.raw)
	}
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c.response("GET"); r.body != "cookie 0" {
		t.Errorf("after all that, %q", r.body)
	}
}

// TestIOTimeouts: ReadTimeout and WriteTimeout bound each read and write,
// so a client that stalls frees the handler with an error.
func TestIOTimeouts(t *testing.T) {
	errs := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/read" {
			_, err := io.ReadAll(r.Body)
			errs <- err
			return
		}
		chunk := make([]byte, 1<<20)
		for i := 0; i < 256; i++ { // far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	})
	s := &Server{ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond}
	addr := startServer(t, s, h)
	for _, req := range []string{
		"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf.",
		"GET /write HTTP/1.1\r\nHost: x\r\n\r\n", // and never read
	} {
		c := dial(t, addr)
		c.send(req)
		select {
		case err := <-errs:
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("%q: handler got %v, want a timeout", req[:10], err)
			}
		case <-time.After(testTimeout):
			t.Fatalf("%q: handler still blocked", req[:10])
		}
	}
}

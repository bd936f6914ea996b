package http1

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDifferentialNetHTTP sends the same raw requests to net/http's server
// and to this one, with the same handler, and compares what comes back:
// status, fields (but Date) and body. Where the two differ on purpose
// (Apache's behaviour, or a limit of net/http's), the case says how.
func TestDifferentialNetHTTP(t *testing.T) {
	ours := startServer(t, &Server{}, testMux())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	std := &http.Server{Handler: testMux(), ErrorLog: discardLog}
	go func() { _ = std.Serve(ln) }()
	t.Cleanup(func() { std.Close() })
	theirs := ln.Addr().String()

	const host = "Host: x\r\n"
	type diff struct {
		name, req, method string
		// statusOnly: the refusal's text differs (net/http words it,
		// the engine renders Apache's page), the status must not.
		statusOnly bool
		// differs describes the expected difference; the check then
		// asserts it instead of equality.
		differs func(t *testing.T, ours, theirs *resp)
	}
	for _, tc := range []diff{
		{name: "echo", req: "GET /echo?a=1&b=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n"},
		{name: "echo keep-alive fields", req: "GET /echo HTTP/1.1\r\n" + host + "Connection: keep-alive\r\nCookie: a=b\r\nCookie: c=d\r\n\r\n"},
		{name: "post body", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 11\r\n\r\nhello world"},
		{name: "post chunked", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{name: "post chunked with trailer", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nA: b\r\n\r\n"},
		{name: "4k", req: "GET /4k HTTP/1.1\r\n" + host + "\r\n"},
		{name: "no length", req: "GET /nolen HTTP/1.1\r\n" + host + "\r\n"},
		{name: "empty", req: "GET /empty HTTP/1.1\r\n" + host + "\r\n"},
		{name: "big, chunked", req: "GET /big HTTP/1.1\r\n" + host + "\r\n"},
		{name: "big with length", req: "GET /biglen HTTP/1.1\r\n" + host + "\r\n"},
		{name: "flush", req: "GET /flush HTTP/1.1\r\n" + host + "\r\n"},
		{name: "sniff", req: "GET /sniff HTTP/1.1\r\n" + host + "\r\n"},
		{name: "204", req: "GET /status/204 HTTP/1.1\r\n" + host + "\r\n"},
		{name: "304", req: "GET /status/304 HTTP/1.1\r\n" + host + "\r\n"},
		{name: "299", req: "GET /status/299 HTTP/1.1\r\n" + host + "\r\n"},
		{name: "spelling", req: "GET /spelling HTTP/1.1\r\n" + host + "\r\n"},
		{name: "injection", req: "GET /inject HTTP/1.1\r\n" + host + "\r\n"},
		{name: "no date", req: "GET /nodate HTTP/1.1\r\n" + host + "\r\n"},
		{name: "handler close", req: "GET /close HTTP/1.1\r\n" + host + "\r\n"},
		{name: "client close", req: "GET /nolen HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"},
		{name: "identity", req: "GET /identity HTTP/1.1\r\n" + host + "\r\n"},
		{name: "past the length", req: "GET /long HTTP/1.1\r\n" + host + "\r\n"},
		{name: "head 4k", req: "HEAD /4k HTTP/1.1\r\n" + host + "\r\n", method: "HEAD"},
		{name: "head small", req: "HEAD /nolen HTTP/1.1\r\n" + host + "\r\n", method: "HEAD"},
		{name: "absolute URI", req: "GET http://example.com/echo?x HTTP/1.1\r\nHost: other\r\n\r\n"},
		{name: "OPTIONS *", req: "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", differs: func(t *testing.T, o, s *resp) {
			// net/http answers OPTIONS * itself; the handler (the
			// engine, as Apache) decides here.
			if o.status != 200 || !strings.Contains(o.body, "uri=*") || s.status != 200 || s.body != "" {
				t.Errorf("ours %d %q, net/http %d %q", o.status, o.body, s.status, s.body)
			}
		}},
		{name: "CONNECT", req: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"},
		{name: "escapes", req: "GET /echo/%2e%2E/a%2Fb?q=%zz HTTP/1.1\r\n" + host + "\r\n"},
		{name: "1.0 keep-alive", req: "GET /nolen HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", differs: proto10},
		{name: "1.0", req: "GET /echo HTTP/1.0\r\n\r\n", differs: func(t *testing.T, o, s *resp) {
			proto10(t, o, s)
			// Apache says Connection: close to 1.0 clients; net/http
			// says nothing.
			if v, _ := o.field("Connection"); v != "close" {
				t.Errorf("ours: Connection %q", v)
			}
		}},
		{name: "missing Host", req: "GET / HTTP/1.1\r\n\r\n", statusOnly: true},
		{name: "two Hosts", req: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", statusOnly: true},
		{name: "bad Host", req: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", statusOnly: true},
		{name: "bad method", req: "G(T / HTTP/1.1\r\n" + host + "\r\n", statusOnly: true},
		{name: "bad escape", req: "GET /%zz HTTP/1.1\r\n" + host + "\r\n", statusOnly: true},
		{name: "bad version", req: "GET / HTTP/1.x\r\n" + host + "\r\n", statusOnly: true},
		{name: "bad Content-Length", req: "POST / HTTP/1.1\r\n" + host + "Content-Length: x\r\n\r\n", statusOnly: true},
		{name: "space before colon", req: "GET / HTTP/1.1\r\n" + host + "A : b\r\n\r\n", statusOnly: true},
		{name: "control in value", req: "GET / HTTP/1.1\r\n" + host + "A: \x00\r\n\r\n", statusOnly: true},
		{name: "unknown Expect", req: "GET / HTTP/1.1\r\n" + host + "Expect: x\r\n\r\n", statusOnly: true},
		{name: "chunked and gzip", req: "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", differs: statuses(400, 501)},
		{name: "HTTP/2.0 request line", req: "GET /nolen HTTP/2.0\r\n" + host + "\r\n", differs: statuses(200, 505)},
		{name: "equal Content-Lengths", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", differs: statuses(400, 200)},
		{name: "empty Host", req: "GET /nolen HTTP/1.1\r\nHost:\r\n\r\n", differs: statuses(400, 200)},
		{name: "folded field", req: "GET /echo HTTP/1.1\r\n" + host + "A: b\r\n c\r\n\r\n", differs: statuses(400, 200)},
		{name: "blank line first", req: "\r\nGET /nolen HTTP/1.1\r\n" + host + "\r\n", differs: statuses(200, 400)},
		{name: "Content-Length and chunked", req: "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
			differs: func(t *testing.T, o, s *resp) {
				// Both take the chunked body; Apache (and we) then close.
				if o.body != s.body {
					t.Errorf("bodies differ: %q vs %q", o.body, s.body)
				}
				if v, _ := o.field("Connection"); v != "close" {
					t.Errorf("ours: Connection %q, want close", v)
				}
			}},
		{name: "HEAD, unknown length past 2 KB", req: "HEAD /big HTTP/1.1\r\n" + host + "\r\n", method: "HEAD", differs: func(t *testing.T, o, s *resp) {
			// net/http only counts a body that fits its 2 KB buffer.
			if v, _ := o.field("Content-Length"); v != "102400" {
				t.Errorf("ours: Content-Length %q", v)
			}
			if _, ok := s.field("Content-Length"); ok {
				t.Errorf("net/http now gives a length")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			o := exchangeOnce(t, ours, tc.req, method)
			s := exchangeOnce(t, theirs, tc.req, method)
			switch {
			case tc.differs != nil:
				tc.differs(t, o, s)
			case tc.statusOnly:
				if o.status != s.status {
					t.Errorf("status: ours %d, net/http %d", o.status, s.status)
				}
			default:
				compareResp(t, o, s)
			}
		})
	}
}

func statuses(ours, theirs int) func(t *testing.T, o, s *resp) {
	return func(t *testing.T, o, s *resp) {
		if o.status != ours || s.status != theirs {
			t.Errorf("status: ours %d (want %d), net/http %d (want %d)", o.status, ours, s.status, theirs)
		}
	}
}

// proto10: to an HTTP/1.0 request we answer HTTP/1.1 as Apache does; the
// rest agrees.
func proto10(t *testing.T, o, s *resp) {
	t.Helper()
	if o.proto != "HTTP/1.1" || s.proto != "HTTP/1.0" {
		t.Errorf("protos: ours %s, net/http %s", o.proto, s.proto)
	}
	if o.status != s.status || o.body != s.body {
		t.Errorf("ours %d %q, net/http %d %q", o.status, o.body, s.status, s.body)
	}
}

// exchangeOnce sends req on a new connection and reads one response.
func exchangeOnce(t *testing.T, addr, req, method string) *resp {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	r, err := readResp(bufio.NewReader(c), method)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: no response", addr)
		}
		t.Fatal(err)
	}
	return r
}

// compareResp wants the same status, fields (but Date, and the request's
// address in echo bodies) and body.
func compareResp(t *testing.T, o, s *resp) {
	t.Helper()
	if o.status != s.status {
		t.Errorf("status: ours %d, net/http %d", o.status, s.status)
	}
	of, sf := rawFields(o), rawFields(s)
	if !slices.Equal(of, sf) {
		t.Errorf("fields differ:\nours:     %q\nnet/http: %q", of, sf)
	}
	if o.body != s.body {
		t.Errorf("body: ours %q, net/http %q", trunc(o.body), trunc(s.body))
	}
}

// rawFields lists the head's fields as sent, sorted, without Date.
func rawFields(r *resp) []string {
	var out []string
	for _, line := range strings.Split(r.raw, "\r\n")[1:] {
		if line == "" || strings.HasPrefix(line, "Date: ") {
			continue
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

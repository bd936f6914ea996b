package http1

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseURL checks the plain-path shortcut of parseURL against
// url.ParseRequestURI, which it must agree with on every target the
// request line lets through.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"/", "/a/b?c=d", "/a?", "/a??", "/%41", "/a b", "*", "/a#b", "/a;b=c,d", "//x/y", "/~u/!$&'()*+,;=:@", "/é", "/a?b#c", "/a%2fb", "http://h/p", "/[x]", "/a|b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if target == "" || strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return // refused by the request-line check
		}
		c := &conn{}
		ok := c.parseURL("GET", target)
		want, err := url.ParseRequestURI(target)
		if ok != (err == nil) {
			t.Fatalf("%q: parsed %v, url.ParseRequestURI error %v", target, ok, err)
		}
		if ok && !reflect.DeepEqual(c.url, *want) {
			t.Fatalf("%q: got %#v, want %#v", target, c.url, *want)
		}
	})
}

// FuzzReadRequest feeds arbitrary heads to the parser: it must not panic,
// and when both it and net/http's http.ReadRequest accept a head, the
// request must be the same.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a?b HTTP/1.0\r\nUser-Agent: u\r\nAccept: */*\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\nconnection: close\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET http://a.b/c HTTP/1.1\r\nHost: z\r\nX: 1\r\nx: 2\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\nHost: x\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newConn(&Server{MaxHeaderBytes: 8 << 10}, nil, context.Background())
		c.br = bufio.NewReaderSize(bytes.NewReader(data), readBufferSize)
		status, err := c.readRequest()
		if status != 0 || err != nil {
			return
		}
		std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return // net/http is stricter here (e.g. HTTP/2.0, leading blank lines)
		}
		got := &c.req
		if got.Method != std.Method || got.RequestURI != std.RequestURI || got.Proto != std.Proto ||
			got.Host != std.Host || got.URL.String() != std.URL.String() {
			t.Fatalf("request differs:\nours:     %s %q %s host %q url %q\nnet/http: %s %q %s host %q url %q",
				got.Method, got.RequestURI, got.Proto, got.Host, got.URL, std.Method, std.RequestURI, std.Proto, std.Host, std.URL)
		}
		if got.ContentLength != std.ContentLength && std.Header.Get("Content-Length") != "" {
			t.Fatalf("ContentLength %d, net/http %d", got.ContentLength, std.ContentLength)
		}
		want := std.Header.Clone()
		delete(want, "Host") // net/http's server drops it too
		if _, pragma := want["Pragma"]; pragma {
			// net/http adds Cache-Control: no-cache for Pragma (a
			// client-library nicety, not done here nor by Apache).
			delete(want, "Cache-Control")
			delete(got.Header, "Cache-Control")
		}
		if !reflect.DeepEqual(map[string][]string(got.Header), map[string][]string(want)) {
			t.Fatalf("header:\nours:     %q\nnet/http: %q", got.Header, want)
		}
	})
}

package http1

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// static4K answers like Apache's static handler for a 4 KB file: the same
// fields, a known length, one Write.
func static4K() http.Handler {
	body := []byte(strings.Repeat("a", 4096))
	// The values are shared read-only, so the handler allocates nothing
	// and allocs/op are the server's own.
	fields := [][2]any{
		{"Server", []string{"Apache/2.4.67 (Debian)"}},
		{"Last-Modified", []string{"Tue, 24 Nov 2026 16:27:53 GMT"}},
		{"ETag", []string{`"1000-661083139bc30"`}},
		{"Accept-Ranges", []string{"bytes"}},
		{"Content-Length", []string{strconv.Itoa(len(body))}},
		{"Content-Type", []string{"text/html"}},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range fields {
			h[f[0].(string)] = f[1].([]string)
		}
		_, _ = w.Write(body)
	})
}

// BenchmarkServe4K: keep-alive GETs of a 4 KB response over loopback,
// http1 against net/http. The client is a raw loop that allocates
// nothing, so allocs/op are the server's. "serial" is one connection,
// request after request (latency); "parallel" is 50 connections at once
// (throughput, as wrk -c50).
func BenchmarkServe4K(b *testing.B) {
	servers := map[string]func(b *testing.B) string{
		"http1": func(b *testing.B) string {
			return startServer(b, &Server{ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute, WriteTimeout: time.Minute}, static4K())
		},
		"nethttp": func(b *testing.B) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			s := &http.Server{Handler: static4K(), ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute, ErrorLog: discardLog}
			go func() { _ = s.Serve(ln) }()
			b.Cleanup(func() { s.Close() })
			return ln.Addr().String()
		},
	}
	for _, name := range []string{"http1", "nethttp"} {
		b.Run(name+"/serial", func(b *testing.B) {
			addr := servers[name](b)
			c := newBenchClient(b, addr)
			b.ReportAllocs()
			b.SetBytes(4096)
			for b.Loop() {
				c.get(b)
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			addr := servers[name](b)
			b.ReportAllocs()
			b.SetBytes(4096)
			b.SetParallelism(25) // 50 connections on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				c := newBenchClient(b, addr)
				for pb.Next() {
					c.get(b)
				}
			})
		})
	}
}

type benchClient struct {
	conn net.Conn
	br   *bufio.Reader
}

var benchRequest = []byte("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")

func newBenchClient(b *testing.B, addr string) *benchClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &benchClient{conn: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// get sends one request and reads its response (Content-Length framed).
func (c *benchClient) get(b *testing.B) {
	if _, err := c.conn.Write(benchRequest); err != nil {
		b.Fatal(err)
	}
	n := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n = 0
			for _, d := range bytes.TrimSpace(v) {
				n = n*10 + int(d-'0')
			}
		}
	}
	if n != 4096 {
		b.Fatalf("Content-Length %d", n)
	}
	if _, err := c.br.Discard(n); err != nil {
		b.Fatal(err)
	}
}

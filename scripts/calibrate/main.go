// Command calibrate is the floor a Go HTTP/1.1 server can reach on this
// machine: it answers every request with the same 4 KB response, one read
// and one write per request, nothing else (optionally one stat(2), as a
// replayed httpdg answer makes). scripts/calibrate.sh runs it in one and in
// several processes sharing a port, beside nginx, to tell how much of
// httpdg's gap to nginx is its own work and how much the Go runtime's cost
// of several processes sharing few cores.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18199", "address to listen on (SO_REUSEPORT: several processes may share it)")
	stat := flag.String("stat", "", "a file to stat(2) once per request")
	perConn := flag.Int("keepalive-requests", 100, "requests per connection before Connection: close (Apache's MaxKeepAliveRequests)")
	flag.Parse()

	const head = "HTTP/1.1 200 OK\r\nServer: calibrate\r\nDate: Tue, 24 Nov 2026 00:00:00 GMT\r\n" +
		"Content-Type: text/html\r\nContent-Length: 4096\r\nLast-Modified: Tue, 24 Nov 2026 00:00:00 GMT\r\n" +
		"ETag: \"1000-0\"\r\nAccept-Ranges: bytes\r\n"
	body := bytes.Repeat([]byte("a"), 4096)
	keep := append([]byte(head+"\r\n"), body...)
	last := append([]byte(head+"Connection: close\r\n\r\n"), body...)

	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); cerr != nil {
			return cerr
		}
		return err
	}}
	l, err := lc.Listen(context.Background(), "tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("calibrate: listening on %s (GOMAXPROCS %d)\n", l.Addr(), runtime.GOMAXPROCS(0))
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go serve(c, *stat, *perConn, keep, last)
	}
}

// serve answers requests on c until the client closes or perConn answers.
func serve(c net.Conn, stat string, perConn int, keep, last []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	for n := 1; ; n++ {
		for { // the request head, up to its blank line
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if stat != "" {
			var st unix.Stat_t
			_ = unix.Stat(stat, &st)
		}
		answer := keep
		if n == perConn {
			answer = last
		}
		if _, err := c.Write(answer); err != nil || n == perConn {
			return
		}
		if br.Buffered() == 0 {
			runtime.Gosched() // as mpm/http1 does between requests
		}
	}
}

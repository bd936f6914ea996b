package mpm

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/phases"
	"golang.org/x/sys/unix"
)

func TestHostWithoutPortMatchesSplitHostPort(t *testing.T) {
	for _, h := range []string{"", "example.com", "example.com:8080", "127.0.0.1:1", "[::1]:80", "[::1]", "::1", "a:b:c", "host:", ":80", "[fe80::1%25en0]:443"} {
		want := h
		if hh, _, err := net.SplitHostPort(h); err == nil {
			want = hh
		}
		if got := hostWithoutPort(h); got != want {
			t.Errorf("hostWithoutPort(%q) = %q, SplitHostPort gives %q", h, got, want)
		}
	}
}

// TestListenBacklog: the socket listens with ListenBacklog's queue length
// (for a listening socket, TCP_INFO's sacked field is the maximum backlog).
func TestListenBacklog(t *testing.T) {
	somaxconn := 4096
	if b, err := os.ReadFile("/proc/sys/net/core/somaxconn"); err == nil {
		somaxconn, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	for _, backlog := range []int{17, DefaultListenBacklog} {
		f, err := bindListenerBacklog(phases.ListenAddr{Host: "127.0.0.1", Port: 0}, backlog)
		if err != nil {
			t.Fatal(err)
		}
		info, err := unix.GetsockoptTCPInfo(int(f.Fd()), unix.IPPROTO_TCP, unix.TCP_INFO)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := min(backlog, somaxconn); int(info.Sacked) != want {
			t.Fatalf("backlog %d: the socket's is %d, want %d", backlog, info.Sacked, want)
		}
	}
}

package mpm

import (
	"net"
	"testing"
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

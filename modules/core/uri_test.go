package core_test

import (
	"testing"

	"github.com/httpdg/httpdg/modules/core"
)

// TestNormalizePath encodes what Apache 2.4.67 made of these request
// paths (ap_normalize_path, then ap_unescape_url with AllowEncodedSlashes
// Off), seen as the file it served or the status it answered; the
// end-to-end rows are in cmd/httpdg's TestApacheParity.
func TestNormalizePath(t *testing.T) {
	for _, c := range []struct {
		raw    string
		uri    string
		status int
	}{
		{"/alpha.txt", "/alpha.txt", 0},
		{"/", "/", 0},
		{"/dir/../alpha.txt", "/alpha.txt", 0},
		{"/../alpha.txt", "", 400},
		{"/%2e%2e/alpha.txt", "", 400},
		{"/dir/%2e%2e/alpha.txt", "/alpha.txt", 0},
		{"/dir/%2E%2E/alpha.txt", "/alpha.txt", 0},
		{"/dir/.%2e/alpha.txt", "/alpha.txt", 0},
		{"/dir/x/../../../alpha.txt", "", 400},
		{"/dir/..", "/", 0},
		{"/a/b/..", "/a/", 0},
		{"/a/b/.", "/a/b/", 0},
		{"/./alpha.txt", "/alpha.txt", 0},
		{"//alpha.txt", "/alpha.txt", 0},
		{"/a//b///c", "/a/b/c", 0},
		{"/a/.hidden", "/a/.hidden", 0},
		{"/a/...", "/a/...", 0},
		{"/..%2falpha.txt", "", 404},
		{"/%2e%2e%2f", "", 404},
		{"/dir%2findex.html", "", 404},
		{"/dir%2Findex.html", "", 404},
		{"/alpha.txt%00", "", 404},
		{"/alpha%zz.txt", "", 400},
		{"/alpha%2", "", 400},
		{"/a%20b", "/a b", 0},
		{"/d%69r/", "/dir/", 0},
		// Decoded once: "%252e" is the three characters "%2e", not a dot.
		{"/%252e%252e/x", "/%2e%2e/x", 0},
		{"alpha.txt", "", 400},
	} {
		uri, status := core.NormalizePath(c.raw)
		if uri != c.uri || status != c.status {
			t.Errorf("NormalizePath(%q) = %q, %d; want %q, %d", c.raw, uri, status, c.uri, c.status)
		}
	}
}

func TestEscapePath(t *testing.T) {
	// Apache's ap_escape_uri, as its mod_dir redirects and mod_autoindex
	// links show it: lower-case hex, ";:@&=$,+!*'()~" kept.
	for in, want := range map[string]string{
		"/odd dir;[x]/":   "/odd%20dir;%5bx%5d/",
		"s p&<x>":         "s%20p&%3cx%3e",
		"q?#%\"é":         "q%3f%23%25%22%c3%a9",
		"a:b@c=d$e,f+g!h": "a:b@c=d$e,f+g!h",
		"x;y[1]{2}|^`":    "x;y%5b1%5d%7b2%7d%7c%5e%60",
	} {
		if got := core.EscapePath(in); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

package static_test

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
	"github.com/httpdg/httpdg/phases"
)

// past is the modification time of every test file: far enough back that
// ETags are strong (Apache makes them weak within a second of a change).
var past = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// alphaETag is Apache 2.4's ETag for a 26-byte file modified at past
// ("FileETag MTime Size": size and microseconds in hex), as Apache 2.4.67
// sent it for the same file.
const alphaETag = `"1a-59b1f7226f340"`

const alpha = "abcdefghijklmnopqrstuvwxyz"

// start writes the test tree, with conf lines after the common ones
// ("{docs}" in them stands for the DocumentRoot), and starts httpdg on it.
func start(t testing.TB, lines ...string) *httpdgtest.Server {
	t.Helper()
	port := httpdgtest.FreePort(t)
	types, err := os.ReadFile("../../conf/mime.types")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"htdocs/alpha.txt":        alpha,
		"htdocs/page.html":        "<p>hi</p>\n",
		"htdocs/style.css":        "body{}\n",
		"htdocs/data.unknownext":  "x\n",
		"htdocs/noext":            "y\n",
		"htdocs/dir/index.html":   "<h1>index</h1>\n",
		"htdocs/idx/a.txt":        "a\n",
		"htdocs/idx/<b>&.txt":     "<b>\n",
		"htdocs/idx/sub/s.txt":    "s\n",
		"htdocs/noidx/b.txt":      "b\n",
		"htdocs/custom/start.htm": "<p>custom</p>\n",
		"htdocs/nofollow/.keep":   "",
		"htdocs/follow/.keep":     "",
		"htdocs/owner/.keep":      "",
		"htdocs/types/f.xyz":      "f\n",
		"htdocs/types/f.txt":      "t\n",
		"htdocs/forced/f.txt":     "t\n",
		"outside/secret.txt":      "secret\n",
		"conf/mime.types":         string(types),
	}
	root := httpdgtest.WriteTree(t, files)
	docs := filepath.Join(root, "htdocs")
	for _, l := range [][2]string{
		{"../alpha.txt", "nofollow/link.txt"},
		{"../alpha.txt", "follow/link.txt"},
		{"../alpha.txt", "owner/link.txt"},
		{"../../outside", "follow/out"},
		{"../../outside", "nofollow/out"},
		{"../outside/secret.txt", "toplink.txt"},
	} {
		if err := os.Symlink(l[0], filepath.Join(docs, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	for name := range files {
		_ = os.Chtimes(filepath.Join(root, name), past, past)
	}
	conf := []string{
		"DocumentRoot htdocs",
		"LogLevel info",
		"<Directory " + docs + "/idx>", "Options Indexes", "</Directory>",
		"<Directory " + docs + "/noidx>", "Options -Indexes", "</Directory>",
		"<Directory " + docs + "/custom>", "Options Indexes", "DirectoryIndex nothing.html start.htm", "</Directory>",
		"<Directory " + docs + "/nofollow>", "Options None", "</Directory>",
		"<Directory " + docs + "/follow>", "Options FollowSymLinks", "</Directory>",
		"<Directory " + docs + "/owner>", "Options SymLinksIfOwnerMatch", "</Directory>",
		"<Directory " + docs + "/types>", "AddType application/x-test .xyz", "AddDefaultCharset utf-8", "</Directory>",
		"<Directory " + docs + "/forced>", "ForceType image/gif", "</Directory>",
	}
	for _, l := range lines {
		conf = append(conf, strings.ReplaceAll(l, "{docs}", docs))
	}
	if err := os.WriteFile(filepath.Join(root, "conf", "httpd.conf"), []byte(httpdgtest.Conf(port, conf...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return httpdgtest.Start(t, root, port)
}

// raw sends one request as written (paths are not cleaned or re-encoded)
// and reads the answer.
func raw(t *testing.T, s *httpdgtest.Server, method, target string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method, target, s.Port)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return resp, string(body)
}

// absent marks a header that must not be sent.
const absent = "<absent>"

type tc struct {
	name    string
	method  string
	target  string
	hdr     map[string]string
	status  int
	want    map[string]string // header → value; "<absent>" = not sent
	body    string            // exact body when not ""
	noBody  bool
	contain string // a substring of the body
}

func run(t *testing.T, s *httpdgtest.Server, cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			resp, body := raw(t, s, method, c.target, c.hdr)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; headers %v; body %q", resp.StatusCode, c.status, resp.Header, body)
			}
			for k, v := range c.want {
				vals, ok := resp.Header[http.CanonicalHeaderKey(k)]
				got := strings.Join(vals, ", ")
				if v == absent {
					if ok {
						t.Errorf("%s: %q, want none", k, got)
					}
					continue
				}
				if got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if c.body != "" && body != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			if c.noBody && body != "" {
				t.Errorf("body %q, want none", body)
			}
			if c.contain != "" && !strings.Contains(body, c.contain) {
				t.Errorf("body %q lacks %q", body, c.contain)
			}
		})
	}
}

const lastMod = "Thu, 02 Jan 2020 03:04:05 GMT"

// TestStaticLikeApache encodes Apache 2.4.67's answers (checked against
// apache2 -X with the same tree and config) for the default handler,
// mod_dir, mod_autoindex and mod_mime.
func TestStaticLikeApache(t *testing.T) {
	s := start(t)
	loc := fmt.Sprintf("http://127.0.0.1:%d", s.Port)
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	file := h("ETag", alphaETag, "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Type", "text/plain")
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for k, v := range h(kv...) {
			out[k] = v
		}
		return out
	}
	run(t, s, []tc{
		// GET and HEAD
		{name: "GET", target: "/alpha.txt", status: 200, want: with(file, "Content-Length", "26"), body: alpha},
		{name: "HEAD has the headers and no body", method: "HEAD", target: "/alpha.txt", status: 200, want: with(file, "Content-Length", "26"), noBody: true},
		{name: "POST serves the file as Apache does", method: "POST", target: "/alpha.txt", status: 200, want: file, body: alpha},
		{name: "missing file", target: "/nothere.txt", status: 404, want: h("ETag", absent), contain: "<title>404 Not Found</title>"},
		{name: "file with a trailing slash", target: "/alpha.txt/", status: 404},
		{name: "file with path info", target: "/alpha.txt/extra", status: 404},
		{name: "POST to a missing file", method: "POST", target: "/nothere.txt", status: 404},

		// methods
		{name: "OPTIONS", method: "OPTIONS", target: "/alpha.txt", status: 200, want: h("Allow", "GET,POST,OPTIONS,HEAD,TRACE", "Content-Length", "0"), noBody: true},
		{name: "OPTIONS on a missing file", method: "OPTIONS", target: "/nothere.txt", status: 200, want: h("Allow", "GET,POST,OPTIONS,HEAD,TRACE")},
		{name: "PUT", method: "PUT", target: "/alpha.txt", status: 405, want: h("Allow", "GET,POST,OPTIONS,HEAD,TRACE")},
		{name: "DELETE on a missing file", method: "DELETE", target: "/nothere.txt", status: 405, want: h("Allow", "GET,POST,OPTIONS,HEAD,TRACE")},
		{name: "unknown method", method: "FOO", target: "/alpha.txt", status: 501, want: h("Allow", "GET,POST,OPTIONS,HEAD,TRACE")},

		// ranges
		{name: "range", target: "/alpha.txt", hdr: h("Range", "bytes=0-4"), status: 206, want: with(file, "Content-Range", "bytes 0-4/26", "Content-Length", "5"), body: "abcde"},
		{name: "suffix range", target: "/alpha.txt", hdr: h("Range", "bytes=-5"), status: 206, want: h("Content-Range", "bytes 21-25/26"), body: "vwxyz"},
		{name: "open range", target: "/alpha.txt", hdr: h("Range", "bytes=20-"), status: 206, want: h("Content-Range", "bytes 20-25/26"), body: "uvwxyz"},
		{name: "range past the end is clipped", target: "/alpha.txt", hdr: h("Range", "bytes=0-100"), status: 206, want: h("Content-Range", "bytes 0-25/26"), body: alpha},
		{name: "suffix longer than the file", target: "/alpha.txt", hdr: h("Range", "bytes=-100"), status: 206, want: h("Content-Range", "bytes 0-25/26"), body: alpha},
		{name: "overlapping ranges merge", target: "/alpha.txt", hdr: h("Range", "bytes=0-1,1-3"), status: 206, want: h("Content-Range", "bytes 0-3/26"), body: "abcd"},
		{name: "adjacent ranges merge", target: "/alpha.txt", hdr: h("Range", "bytes=0-1,2-3"), status: 206, want: h("Content-Range", "bytes 0-3/26"), body: "abcd"},
		{name: "unsatisfiable range among good ones is dropped", target: "/alpha.txt", hdr: h("Range", "bytes=0-5,100-200"), status: 206, want: h("Content-Range", "bytes 0-5/26"), body: "abcdef"},
		{name: "Range unit is case-insensitive", target: "/alpha.txt", hdr: h("Range", "Bytes=0-1"), status: 206, body: "ab"},
		{name: "unsatisfiable", target: "/alpha.txt", hdr: h("Range", "bytes=100-200"), status: 416, want: h("Content-Range", absent, "ETag", absent, "Content-Type", "text/html; charset=iso-8859-1")},
		{name: "start at the size is unsatisfiable", target: "/alpha.txt", hdr: h("Range", "bytes=26-"), status: 416},
		{name: "reversed range voids the header", target: "/alpha.txt", hdr: h("Range", "bytes=5-2"), status: 200, body: alpha},
		{name: "malformed range voids the header", target: "/alpha.txt", hdr: h("Range", "bytes=x"), status: 200, body: alpha},
		{name: "-0 voids the header", target: "/alpha.txt", hdr: h("Range", "bytes=-0"), status: 200},
		{name: "spaces void the header", target: "/alpha.txt", hdr: h("Range", "bytes= 0-1 , 4-5"), status: 200},
		{name: "leading comma voids the header", target: "/alpha.txt", hdr: h("Range", "bytes=,0-1"), status: 200},
		{name: "HEAD with a range", method: "HEAD", target: "/alpha.txt", hdr: h("Range", "bytes=0-4"), status: 206, want: h("Content-Range", "bytes 0-4/26", "Content-Length", "5"), noBody: true},
		{name: "POST with a range", method: "POST", target: "/alpha.txt", hdr: h("Range", "bytes=0-4"), status: 206, body: "abcde"},
		{name: "If-Range with the etag", target: "/alpha.txt", hdr: h("Range", "bytes=0-1", "If-Range", alphaETag), status: 206, body: "ab"},
		{name: "If-Range with another etag", target: "/alpha.txt", hdr: h("Range", "bytes=0-1", "If-Range", `"x"`), status: 200, body: alpha},
		{name: "If-Range with the date", target: "/alpha.txt", hdr: h("Range", "bytes=0-1", "If-Range", lastMod), status: 206, body: "ab"},
		{name: "If-Range with another date", target: "/alpha.txt", hdr: h("Range", "bytes=0-1", "If-Range", "Thu, 02 Jan 2020 03:04:06 GMT"), status: 200},

		// conditional requests
		{name: "If-None-Match matching", target: "/alpha.txt", hdr: h("If-None-Match", alphaETag), status: 304, want: h("ETag", alphaETag, "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Type", absent, "Content-Length", absent), noBody: true},
		{name: "If-None-Match weak comparison", target: "/alpha.txt", hdr: h("If-None-Match", `W/`+alphaETag), status: 304},
		{name: "If-None-Match in a list", target: "/alpha.txt", hdr: h("If-None-Match", `"x", `+alphaETag), status: 304},
		{name: "If-None-Match star", target: "/alpha.txt", hdr: h("If-None-Match", "*"), status: 304},
		{name: "If-None-Match other", target: "/alpha.txt", hdr: h("If-None-Match", `"x"`), status: 200, body: alpha},
		{name: "HEAD If-None-Match", method: "HEAD", target: "/alpha.txt", hdr: h("If-None-Match", alphaETag), status: 304},
		{name: "POST If-None-Match matching", method: "POST", target: "/alpha.txt", hdr: h("If-None-Match", alphaETag), status: 412},
		{name: "If-None-Match star on a missing file", target: "/nothere.txt", hdr: h("If-None-Match", "*"), status: 404},
		{name: "If-Match other", target: "/alpha.txt", hdr: h("If-Match", `"x"`), status: 412, want: with(file, "Content-Length", "0"), noBody: true},
		{name: "If-Match matching", target: "/alpha.txt", hdr: h("If-Match", alphaETag), status: 200},
		{name: "If-Match weak never matches", target: "/alpha.txt", hdr: h("If-Match", "W/"+alphaETag), status: 412},
		{name: "If-Match star", target: "/alpha.txt", hdr: h("If-Match", "*"), status: 200},
		{name: "If-Match star on a missing file", target: "/nothere.txt", hdr: h("If-Match", "*"), status: 404},
		{name: "If-Modified-Since equal", target: "/alpha.txt", hdr: h("If-Modified-Since", lastMod), status: 304, noBody: true},
		{name: "If-Modified-Since earlier", target: "/alpha.txt", hdr: h("If-Modified-Since", "Thu, 02 Jan 2020 03:04:04 GMT"), status: 200, body: alpha},
		{name: "If-Modified-Since in the future", target: "/alpha.txt", hdr: h("If-Modified-Since", "Thu, 02 Jan 2031 03:04:04 GMT"), status: 200},
		{name: "If-Modified-Since garbage", target: "/alpha.txt", hdr: h("If-Modified-Since", "garbage"), status: 200},
		{name: "If-Modified-Since with a range", target: "/alpha.txt", hdr: h("If-Modified-Since", lastMod, "Range", "bytes=0-1"), status: 304},
		{name: "If-Modified-Since ignored when If-None-Match differs", target: "/alpha.txt", hdr: h("If-Modified-Since", lastMod, "If-None-Match", `"x"`), status: 200},
		{name: "If-None-Match needs If-Modified-Since to agree", target: "/alpha.txt", hdr: h("If-Modified-Since", "Thu, 02 Jan 2020 03:04:04 GMT", "If-None-Match", alphaETag), status: 200},
		{name: "If-Unmodified-Since earlier", target: "/alpha.txt", hdr: h("If-Unmodified-Since", "Thu, 02 Jan 2020 03:04:04 GMT"), status: 412},
		{name: "If-Unmodified-Since equal", target: "/alpha.txt", hdr: h("If-Unmodified-Since", lastMod), status: 200},
		{name: "If-Unmodified-Since garbage", target: "/alpha.txt", hdr: h("If-Unmodified-Since", "garbage"), status: 200},
		{name: "If-Unmodified-Since checked after If-Match", target: "/alpha.txt", hdr: h("If-Unmodified-Since", "Thu, 02 Jan 2020 03:04:04 GMT", "If-Match", alphaETag), status: 412},
		{name: "If-Unmodified-Since before a range", target: "/alpha.txt", hdr: h("If-Unmodified-Since", "Thu, 02 Jan 2020 03:04:04 GMT", "Range", "bytes=0-1"), status: 412},

		// directories (mod_dir, mod_autoindex)
		{name: "directory without slash", target: "/dir", status: 301, want: h("Location", loc+"/dir/", "Content-Type", "text/html; charset=iso-8859-1"), contain: `<a href="` + loc + `/dir/">here</a>`},
		{name: "directory without slash keeps the query", target: "/dir?a=b&c", status: 301, want: h("Location", loc+"/dir/?a=b&c")},
		{name: "encoded directory name", target: "/d%69r", status: 301, want: h("Location", loc+"/dir/")},
		{name: "POST to a directory without slash", method: "POST", target: "/dir", status: 301},
		{name: "DirectoryIndex", target: "/dir/", status: 200, want: h("Content-Type", "text/html", "ETag", `"f-59b1f7226f340"`, "Content-Length", "15"), body: "<h1>index</h1>\n"},
		{name: "DirectoryIndex with a query", target: "/dir/?x=1", status: 200, body: "<h1>index</h1>\n"},
		{name: "DirectoryIndex second name", target: "/custom/", status: 200, want: h("Content-Type", "text/html"), body: "<p>custom</p>\n"},
		{name: "Indexes on", target: "/idx/", status: 200, want: h("Content-Type", "text/html;charset=ISO-8859-1"), contain: `<li><a href="%3cb%3e&amp;.txt"> &lt;b&gt;&amp;.txt</a></li>`},
		{name: "Indexes on, HEAD", method: "HEAD", target: "/idx/", status: 200, noBody: true},
		{name: "Indexes off", target: "/noidx/", status: 403, contain: "<title>403 Forbidden</title>"},
		{name: "POST to an unindexed directory", method: "POST", target: "/noidx/", status: 404},
		{name: "missing directory", target: "/nothere/", status: 404},

		// path escapes (Apache answers 400 for a climb above the root, 404 for NUL)
		{name: "dot-dot", target: "/../etc/passwd", status: 400},
		{name: "encoded dot-dot", target: "/%2e%2e/etc/passwd", status: 400},
		{name: "encoded dot-dot climbing twice", target: "/dir/%2E%2E/%2e%2e/etc/passwd", status: 400},
		{name: "NUL", target: "/alpha.txt%00", status: 404},
		{name: "NUL before an extension", target: "/alpha.txt%00.html", status: 404},

		// symlinks
		{name: "symlink without FollowSymLinks", target: "/nofollow/link.txt", status: 403},
		{name: "symlinked directory without FollowSymLinks", target: "/nofollow/out/secret.txt", status: 403},
		{name: "symlink with FollowSymLinks", target: "/follow/link.txt", status: 200, want: h("ETag", alphaETag), body: alpha},
		{name: "symlinked directory with FollowSymLinks", target: "/follow/out/secret.txt", status: 200, body: "secret\n"},
		{name: "symlink under Apache's default Options (FollowSymLinks)", target: "/toplink.txt", status: 200},
		{name: "SymLinksIfOwnerMatch, same owner", target: "/owner/link.txt", status: 200},

		// mod_mime
		{name: "html", target: "/page.html", status: 200, want: h("Content-Type", "text/html")},
		{name: "css", target: "/style.css", status: 200, want: h("Content-Type", "text/css")},
		{name: "unknown extension has no Content-Type", target: "/data.unknownext", status: 200, want: h("Content-Type", absent)},
		{name: "no extension has no Content-Type", target: "/noext", status: 200, want: h("Content-Type", absent)},
		{name: "AddType", target: "/types/f.xyz", status: 200, want: h("Content-Type", "application/x-test")},
		{name: "AddDefaultCharset on text/plain", target: "/types/f.txt", status: 200, want: h("Content-Type", "text/plain; charset=utf-8")},
		{name: "ForceType", target: "/forced/f.txt", status: 200, want: h("Content-Type", "image/gif")},
	})
}

// apacheListing is Apache 2.4.67's mod_autoindex page for the directory
// TestListingLikeApache builds (default IndexOptions, "Options Indexes"),
// byte for byte.
const apacheListing = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html>
 <head>
  <title>Index of /listing</title>
 </head>
 <body>
<h1>Index of /listing</h1>
<ul><li><a href="/"> Parent Directory</a></li>
<li><a href="%23x"> #x</a></li>
<li><a href=".hidden"> .hidden</a></li>
<li><a href="%3cb%3e&amp;.txt"> &lt;b&gt;&amp;.txt</a></li>
<li><a href="B.txt"> B.txt</a></li>
<li><a href="Zdir/"> Zdir/</a></li>
<li><a href="a%20b.txt"> a b.txt</a></li>
<li><a href="a.txt"> a.txt</a></li>
<li><a href="./c:d.txt"> c:d.txt</a></li>
<li><a href="pct%25.txt"> pct%.txt</a></li>
<li><a href="q%3f.txt"> q?.txt</a></li>
<li><a href="quote'%22.txt"> quote'&quot;.txt</a></li>
<li><a href="s%20p&amp;%3cx%3e/"> s p&amp;&lt;x&gt;/</a></li>
<li><a href="sub/"> sub/</a></li>
<li><a href="x;y%5b1%5d%7b2%7d%7c%5e%60.txt"> x;y[1]{2}|^` + "`" + `.txt</a></li>
<li><a href="%c3%a9.txt"> é.txt</a></li>
</ul>
</body></html>
`

// TestListingLikeApache compares the directory listing with Apache's for
// names that need escaping, dot files, subdirectories, and symlinks that
// "Options Indexes" (no FollowSymLinks) keeps out of the list; and the
// O=D and P= query arguments, the listing of a subdirectory and HEAD.
func TestListingLikeApache(t *testing.T) {
	s := start(t, "<Directory {docs}/listing>", "Options Indexes", "</Directory>")
	dir := filepath.Join(s.Root, "htdocs", "listing")
	for _, d := range []string{"Zdir", "sub", "s p&<x>"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a.txt", "#x", ".hidden", "<b>&.txt", "B.txt", "a b.txt", "c:d.txt", "pct%.txt", "q?.txt", `quote'".txt`, "x;y[1]{2}|^`.txt", "é.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "s p&<x>", "f"), []byte("f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"dirlink": "../dir", "broken": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	head := func(body string) string { return body[:strings.Index(body, "<ul>")] }
	entries := func(lines ...string) string { return "<ul>" + strings.Join(lines, "\n") + "\n</ul>\n</body></html>\n" }
	run(t, s, []tc{
		{name: "listing", target: "/listing/", status: 200, body: apacheListing,
			want: map[string]string{"Content-Type": "text/html;charset=ISO-8859-1", "Content-Length": fmt.Sprint(len(apacheListing))}},
		{name: "HEAD has no Content-Length", method: "HEAD", target: "/listing/", status: 200, noBody: true,
			want: map[string]string{"Content-Type": "text/html;charset=ISO-8859-1", "Content-Length": absent}},
		{name: "O=D and P=", target: "/listing/?O=D;P=*.txt", status: 200, body: head(apacheListing) + entries(
			`<li><a href="/"> Parent Directory</a></li>`,
			`<li><a href="%c3%a9.txt"> é.txt</a></li>`,
			`<li><a href="x;y%5b1%5d%7b2%7d%7c%5e%60.txt"> x;y[1]{2}|^`+"`"+`.txt</a></li>`,
			`<li><a href="quote'%22.txt"> quote'&quot;.txt</a></li>`,
			`<li><a href="q%3f.txt"> q?.txt</a></li>`,
			`<li><a href="pct%25.txt"> pct%.txt</a></li>`,
			`<li><a href="./c:d.txt"> c:d.txt</a></li>`,
			`<li><a href="a.txt"> a.txt</a></li>`,
			`<li><a href="a%20b.txt"> a b.txt</a></li>`,
			`<li><a href="B.txt"> B.txt</a></li>`,
			`<li><a href="%3cb%3e&amp;.txt"> &lt;b&gt;&amp;.txt</a></li>`)},
		{name: "subdirectory", target: "/listing/s%20p&%3cx%3e/", status: 200,
			body: strings.ReplaceAll(head(apacheListing), "Index of /listing", "Index of /listing/s p&amp;&lt;x&gt;") + entries(
				`<li><a href="/listing/"> Parent Directory</a></li>`,
				`<li><a href="f"> f</a></li>`)},
	})
}

func TestMultipleRanges(t *testing.T) {
	s := start(t)
	for _, c := range []struct {
		spec  string
		parts []string // "content-range|data"
	}{
		{"bytes=0-1,5-6", []string{"bytes 0-1/26|ab", "bytes 5-6/26|fg"}},
		{"bytes=5-6,0-1", []string{"bytes 5-6/26|fg", "bytes 0-1/26|ab"}},
		{"bytes=0-1,3-4,1-2", []string{"bytes 0-1/26|ab", "bytes 1-4/26|bcde"}},
		{"bytes=0-0,-1", []string{"bytes 0-0/26|a", "bytes 25-25/26|z"}},
		{"bytes=0-1,,3-5", []string{"bytes 0-1/26|ab", "bytes 3-5/26|def"}},
	} {
		t.Run(c.spec, func(t *testing.T) {
			resp, body := raw(t, s, "GET", "/alpha.txt", map[string]string{"Range": c.spec})
			if resp.StatusCode != 206 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/byteranges" || len(params["boundary"]) != 16 {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(body)) {
				t.Errorf("Content-Length %s, body %d bytes", cl, len(body))
			}
			// Apache's layout, to the byte.
			b := params["boundary"]
			want := ""
			for _, p := range c.parts {
				cr, data, _ := strings.Cut(p, "|")
				want += "\r\n--" + b + "\r\nContent-type: text/plain\r\nContent-range: " + cr + "\r\n\r\n" + data
			}
			want += "\r\n--" + b + "--\r\n"
			if body != want {
				t.Errorf("body %q\nwant %q", body, want)
			}
			mr := multipart.NewReader(strings.NewReader(body), b)
			n := 0
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				_, _ = io.ReadAll(p)
			}
			if n != len(c.parts) {
				t.Errorf("%d parts, want %d", n, len(c.parts))
			}
		})
	}
}

// TestWeakETagForFreshFile: Apache marks the ETag of a file changed within
// the last second weak.
func TestWeakETagForFreshFile(t *testing.T) {
	s := start(t)
	p := filepath.Join(s.Root, "htdocs", "fresh.txt")
	if err := os.WriteFile(p, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, _ := raw(t, s, "GET", "/fresh.txt", nil)
	if et := resp.Header.Get("ETag"); !strings.HasPrefix(et, `W/"4-`) {
		t.Errorf("ETag %q, want a weak one", et)
	}
}

func TestOptionsAndDirectives(t *testing.T) {
	s := start(t, "DirectorySlash Off", "TraceEnable off", "DefaultType application/octet-stream", "DirectoryIndex disabled")
	run(t, s, []tc{
		{name: "DirectorySlash Off", target: "/noidx", status: 403, want: map[string]string{"Location": absent}},
		{name: "DirectoryIndex disabled", target: "/dir/", status: 403},
		{name: "TraceEnable off leaves TRACE out of Allow", method: "OPTIONS", target: "/alpha.txt", status: 200, want: map[string]string{"Allow": "GET,POST,OPTIONS,HEAD"}},
		{name: "DefaultType", target: "/data.unknownext", status: 200, want: map[string]string{"Content-Type": "application/octet-stream"}},
	})
}

// BenchmarkStatic4K fetches a 4 KB file over keep-alive connections from
// several goroutines and reports requests per second.
func BenchmarkStatic4K(b *testing.B) {
	s := start(b)
	if err := os.WriteFile(filepath.Join(s.Root, "htdocs", "4k.bin"), []byte(strings.Repeat("x", 4096)), 0o644); err != nil {
		b.Fatal(err)
	}
	conns := 4 * runtime.GOMAXPROCS(0)
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := s.URL + "/4k.bin"
	var failed atomic.Int64
	get := func() {
		resp, err := client.Get(url)
		if err != nil {
			failed.Add(1)
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != 4096 {
			failed.Add(1)
		}
	}
	get() // warm up
	b.ResetTimer()
	begin := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < conns; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				get()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d requests failed", f)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// TestCachedFileRewrittenInPlace: a small file served (and so cached),
// then rewritten with the same size and its mtime put back, as a deploy
// tool preserving times does. The next answer has the new bytes (its ETag
// and Last-Modified are the old ones, as Apache's would be).
func TestCachedFileRewrittenInPlace(t *testing.T) {
	for _, mmap := range []string{"On", "Off"} {
		t.Run("EnableMMAP "+mmap, func(t *testing.T) {
			s := start(t, "EnableMMAP "+mmap, "EnableSendfile Off")
			path := filepath.Join(s.Root, "htdocs", "alpha.txt")
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// Wait for the file's ctime to age past the cache's settle time,
			// so the first answer puts it in the cache (cacheSettle, 2 s).
			ctime := time.Unix(fi.Sys().(*syscall.Stat_t).Ctim.Unix())
			for deadline := time.Now().Add(10 * time.Second); time.Since(ctime) <= 2100*time.Millisecond; {
				if time.Now().After(deadline) {
					t.Fatal("clock does not move")
				}
				time.Sleep(50 * time.Millisecond)
			}
			for i := 0; i < 2; i++ {
				if resp, body := raw(t, s, "GET", "/alpha.txt", nil); resp.StatusCode != 200 || body != alpha {
					t.Fatalf("before: %d %q", resp.StatusCode, body)
				}
			}
			changed := strings.ToUpper(alpha)
			if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, past, past); err != nil {
				t.Fatal(err)
			}
			if resp, body := raw(t, s, "GET", "/alpha.txt", nil); resp.StatusCode != 200 || body != changed {
				t.Fatalf("after rewrite: %d %q, want %q", resp.StatusCode, body, changed)
			}
		})
	}
}

// TestListingSignature: with ServerSignature On, the listing ends with
// Apache's address line, as mod_autoindex's does.
func TestListingSignature(t *testing.T) {
	s := start(t, "ServerSignature On")
	resp, err := http.Get(s.URL + "/idx/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := fmt.Sprintf("</ul>\n<address>httpdg/%s (Unix) Server at 127.0.0.1 Port %d</address>\n</body></html>\n", phases.Version, s.Port)
	if resp.StatusCode != 200 || !strings.HasSuffix(string(b), want) {
		t.Fatalf("%d, ends %q, want %q", resp.StatusCode, b[max(0, len(b)-120):], want)
	}
}

// TestLargeFileWithAndWithoutSendfile: a file past the cache and buffer
// sizes comes whole through sendfile (the default) and through reads and
// writes under EnableSendfile Off, ranges included.
func TestLargeFileWithAndWithoutSendfile(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 200<<10/16) // 200 KB
	for _, mode := range []string{"On", "Off"} {
		t.Run("EnableSendfile "+mode, func(t *testing.T) {
			s := start(t, "EnableSendfile "+mode)
			if err := os.WriteFile(filepath.Join(s.Root, "htdocs", "big.bin"), []byte(big), 0o644); err != nil {
				t.Fatal(err)
			}
			resp, body := raw(t, s, "GET", "/big.bin", nil)
			if resp.StatusCode != 200 || body != big {
				t.Fatalf("whole: %d, %d bytes", resp.StatusCode, len(body))
			}
			resp, body = raw(t, s, "GET", "/big.bin", map[string]string{"Range": "bytes=100000-170000"})
			if resp.StatusCode != 206 || body != big[100000:170001] {
				t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(body))
			}
		})
	}
}

package mpm_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/mpm"
	"github.com/httpdg/httpdg/mpm/http1"
)

// answer is one response as a client and a log would see it.
type answer struct {
	status int
	header http.Header
	body   string
}

func serve(h http.Handler, method, path string, header http.Header) answer {
	req := httptest.NewRequest(method, "http://localhost"+path, nil)
	req.RequestURI = path // as a server receives it
	req.RemoteAddr = "127.0.0.1:40000"
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	hdr := w.Result().Header
	hdr.Del("Date") // the one header that may differ between two answers
	return answer{status: w.Code, header: hdr, body: w.Body.String()}
}

// untilReplayed repeats a request until h answers it from a replay (the
// static module caches, and so offers replays of, files whose ctime is
// two seconds old) and returns the answers to the last full run and to
// the replay.
func untilReplayed(t *testing.T, h http.Handler, method, path string) (full, replayed answer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := mpm.ReplaysForTest(h)
		a := serve(h, method, path, nil)
		if mpm.ReplaysForTest(h) > before {
			return full, a
		}
		full = a
		if time.Now().After(deadline) {
			t.Fatalf("%s %s never replayed in 10s (last: %d %v)", method, path, a.status, a.header)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sameAnswer(t *testing.T, what string, a, b answer) {
	t.Helper()
	if a.status != b.status || a.body != b.body || !sameHeader(a.header, b.header) {
		t.Fatalf("%s: replayed answer differs:\nfull:   %d %v %q\nreplay: %d %v %q", what, a.status, a.header, a.body, b.status, b.header, b.body)
	}
}

func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// neverReplayed checks that n requests for path, made once replays are
// happening for other files, are all answered by the phases.
func neverReplayed(t *testing.T, h http.Handler, path string, n int, want int) answer {
	t.Helper()
	before := mpm.ReplaysForTest(h)
	var a answer
	for i := 0; i < n; i++ {
		a = serve(h, "GET", path, nil)
		if a.status != want {
			t.Fatalf("GET %s: %d, want %d", path, a.status, want)
		}
	}
	if got := mpm.ReplaysForTest(h) - before; got != 0 {
		t.Fatalf("GET %s was replayed %d times; its answer depends on more than the request line", path, got)
	}
	return a
}

func TestReplayedAnswersAreTheFullOnes(t *testing.T) {
	page := strings.Repeat("<p>replay</p>\n", 100)
	files := map[string]string{
		"htdocs/a.html":            page,
		"htdocs/b.txt":             "bee\n",
		"htdocs/ipsecret/x.html":   page,
		"htdocs/luafix/x.html":     page,
		"htdocs/nommap/x.html":     page,
		"htdocs/nolinks/x.html":    page,
		"htdocs/nolinks/sub/.keep": "",
		"lua/hello.lua":            "function handle(r)\n  r.content_type = \"text/plain\"\n  r:puts(\"hello\\n\")\n  return apache2.OK\nend\n",
		"lua/fix.lua":              "function fix(r)\n  r.headers_out['X-Lua'] = tostring(os.clock())\n  return apache2.DECLINED\nend\n",
	}
	h, root := newTestHandler(t, files,
		"DocumentRoot htdocs",
		"AddType text/html .html",
		"AddType text/plain .txt",
		"AddDefaultCharset utf-8",
		`CustomLog logs/access_log "%h \"%r\" %>s %b %f %v %R %{Referer}i"`,
		"<Directory />", "</Directory>",
		"<Location /ipsecret>", "Require ip 127.0.0.1", "</Location>",
		"<Location /luafix>", "LuaHookFixups lua/fix.lua fix", "</Location>",
		"<Location /nommap>", "EnableMMAP Off", "</Location>",
		"<Directory htdocs/nolinks>", "Options -FollowSymLinks", "</Directory>",
		`LuaMapHandler ^/lua$ lua/hello.lua handle`,
		// Nothing listens on port 9 (discard): the proxy answers 503.
		"ProxyPass /backend/ http://127.0.0.1:9/ retry=0",
	)

	full, replayed := untilReplayed(t, h, "GET", "/a.html")
	if full.status != 200 || full.body != page || etag(full) == "" || full.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("full answer: %d %v", full.status, full.header)
	}
	sameAnswer(t, "GET /a.html", full, replayed)
	fullHead, replayedHead := untilReplayed(t, h, "HEAD", "/a.html")
	sameAnswer(t, "HEAD /a.html", fullHead, replayedHead)
	if replayedHead.body != "" || replayedHead.header.Get("Content-Length") != full.header.Get("Content-Length") {
		t.Fatalf("HEAD replay: %v %q", replayedHead.header, replayedHead.body)
	}

	// Conditionals and ranges run the phases (and are answered as such).
	before := mpm.ReplaysForTest(h)
	if a := serve(h, "GET", "/a.html", http.Header{"If-None-Match": {etag(full)}}); a.status != 304 {
		t.Fatalf("If-None-Match: %d", a.status)
	}
	if a := serve(h, "GET", "/a.html", http.Header{"Range": {"bytes=0-2"}}); a.status != 206 || a.body != "<p>" {
		t.Fatalf("Range: %d %q", a.status, a.body)
	}
	if n := mpm.ReplaysForTest(h) - before; n != 0 {
		t.Fatalf("%d conditional or range requests replayed", n)
	}

	// Answers that depend on more than the request line never are.
	neverReplayed(t, h, "/ipsecret/x.html", 5, 200)
	if a := neverReplayed(t, h, "/luafix/x.html", 5, 200); a.header.Get("X-Lua") == "" {
		t.Fatalf("the Lua fixup did not run: %v", a.header)
	}
	neverReplayed(t, h, "/nommap/x.html", 5, 200)
	neverReplayed(t, h, "/backend/x.html", 3, 503)
	neverReplayed(t, h, "/nolinks/x.html", 5, 200)
	if a := neverReplayed(t, h, "/lua", 5, 200); a.body != "hello\n" {
		t.Fatalf("/lua: %q", a.body)
	}

	// A changed file is served as it is now, at once.
	other := strings.Replace(page, "replay", "REPLAY", 1)
	if err := os.WriteFile(filepath.Join(root, "htdocs/a.html"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if a := serve(h, "GET", "/a.html", nil); a.body != other || etag(a) == etag(full) {
		t.Fatalf("after the change: %q %v", a.body[:20], a.header)
	}
	if err := os.Remove(filepath.Join(root, "htdocs/a.html")); err != nil {
		t.Fatal(err)
	}
	if a := serve(h, "GET", "/a.html", nil); a.status != 404 {
		t.Fatalf("after removal: %d", a.status)
	}

	// The access log cannot tell a replay from a full run.
	b, err := os.ReadFile(filepath.Join(root, "logs/access_log"))
	if err != nil {
		t.Fatal(err)
	}
	var gets []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `"GET /a.html HTTP/1.1" 200`) {
			gets = append(gets, l)
		}
	}
	if len(gets) < 2 || gets[0] != gets[len(gets)-2] || !strings.Contains(gets[0], filepath.Join(root, "htdocs/a.html")) {
		t.Fatalf("access log lines of full and replayed GETs differ or are missing:\n%s\n(log:\n%s)", strings.Join(gets, "\n"), b)
	}
}

// waitSettled waits until the file's ctime is old enough for the static
// module to cache it (and so to offer replays of its answers).
func waitSettled(t *testing.T, name string) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(st.Ctim.Unix()).Add(2100 * time.Millisecond)))
}

func TestNoReplaysWithUnreplayableHooks(t *testing.T) {
	page := strings.Repeat("x", 2000)
	h, root := newTestHandler(t, map[string]string{"htdocs/a.html": page},
		"DocumentRoot htdocs",
		// mod_headers may set anything (the time, the environment): with
		// it configured, nothing is replayed.
		"Header set X-Served-At %t",
	)
	waitSettled(t, filepath.Join(root, "htdocs/a.html"))
	for i := 0; i < 5; i++ {
		a := serve(h, "GET", "/a.html", nil)
		if a.status != 200 || a.body != page || a.header.Get("X-Served-At") == "" {
			t.Fatalf("%d %v", a.status, a.header)
		}
	}
	if n := mpm.ReplaysForTest(h); n != 0 {
		t.Fatalf("%d replays with mod_headers configured", n)
	}
}

// etag is an answer's ETag (sent as Apache spells it, not in Go's
// canonical form).
func etag(a answer) string { return strings.Join(a.header["ETag"], ",") }

// rawExchange sends the raw requests on one connection to h served by
// mpm/http1 and returns each raw answer with its Date line blanked.
func rawExchange(t *testing.T, h http.Handler, reqs ...string) []string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http1.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var out []string
	for _, q := range reqs {
		if _, err := io.WriteString(c, q); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		length := -1
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the answer to %q: %v (so far %q)", q, err, b.String())
			}
			if strings.HasPrefix(line, "Date: ") {
				line = "Date: -\r\n"
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			b.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		if !strings.HasPrefix(q, "HEAD ") && length > 0 {
			body := make([]byte, length)
			if _, err := io.ReadFull(br, body); err != nil {
				t.Fatal(err)
			}
			b.Write(body)
		}
		out = append(out, b.String())
	}
	return out
}

func TestReplayedBytesOnTheWire(t *testing.T) {
	page := strings.Repeat("<p>wire</p>\n", 300)
	h, root := newTestHandler(t, map[string]string{"htdocs/a.html": page, "htdocs/plain": "no type\n"},
		"DocumentRoot htdocs", "AddType text/html .html", "KeepAlive On", "MaxKeepAliveRequests 100")
	waitSettled(t, filepath.Join(root, "htdocs/a.html"))
	// The request that reads a file into the contents cache offers no
	// replay; the ones after it do.
	rawExchange(t, h, "GET /a.html HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET /plain HTTP/1.1\r\nHost: localhost\r\n\r\n")
	for _, q := range []string{
		"GET /a.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"HEAD /a.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /plain HTTP/1.1\r\nHost: localhost\r\nUser-Agent: x\r\n\r\n",
		// Keep-Alive fields: the head is built from the maps.
		"GET /a.html HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
		"GET /a.html HTTP/1.0\r\nHost: localhost\r\n\r\n",
		"GET /a.html?x=1 HTTP/1.1\r\nHost: LocalHost:80\r\n\r\n",
	} {
		before := mpm.ReplaysForTest(h)
		var got []string
		if strings.Contains(q, "HTTP/1.0") {
			// Closed after each answer: a connection each.
			for range 3 {
				got = append(got, rawExchange(t, h, q)...)
			}
		} else {
			got = rawExchange(t, h, q, q, q)
		}
		// The repeats at least (a key seen before: all three).
		if n := mpm.ReplaysForTest(h) - before; n < 2 {
			t.Fatalf("%q: %d of the 2 repeats replayed", q, n)
		}
		if got[0] != got[1] || got[1] != got[2] {
			t.Fatalf("%q: replayed answers differ from the full one:\nfull:\n%s\nreplayed:\n%s", q, got[0], got[1])
		}
		if !strings.HasPrefix(got[0], "HTTP/1.") || !strings.Contains(got[0], "\r\nContent-Length: ") || !strings.Contains(got[0], "\r\nServer: httpdg/") {
			t.Fatalf("%q: %q", q, got[0])
		}
	}
	// The last answer on a connection that closes says so, replayed too.
	q := "GET /a.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	got := rawExchange(t, h, "GET /a.html HTTP/1.1\r\nHost: localhost\r\n\r\n", q)
	if !strings.Contains(got[1], "\r\nConnection: close\r\n") || strings.Replace(got[1], "Connection: close\r\n", "", 1) != got[0] {
		t.Fatalf("closing answer:\n%s\nversus\n%s", got[1], got[0])
	}
}

// TestReplaysUnderConcurrentChanges hammers one file from several
// goroutines while it is rewritten: every answer must be one whole
// version of the file, its length and validators matching its body (run
// with -race, this also checks that replays share nothing they write).
func TestReplaysUnderConcurrentChanges(t *testing.T) {
	versions := []string{strings.Repeat("a", 3000), strings.Repeat("b", 3001), strings.Repeat("c", 2999)}
	h, root := newTestHandler(t, map[string]string{"htdocs/f.html": versions[0]}, "DocumentRoot htdocs", "AddType text/html .html")
	name := filepath.Join(root, "htdocs/f.html")
	waitSettled(t, name)
	untilReplayed(t, h, "GET", "/f.html")
	valid := map[string]bool{}
	for _, v := range versions {
		valid[v] = true
	}
	stop := make(chan struct{})
	errs := make(chan string, 8)
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt() // a failure below leaves no goroutine hammering
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := serve(h, "GET", "/f.html", nil)
				if a.status != 200 || !valid[a.body] || a.header.Get("Content-Length") != strconv.Itoa(len(a.body)) {
					errs <- fmt.Sprintf("%d, %d bytes, Content-Length %s", a.status, len(a.body), a.header.Get("Content-Length"))
					return
				}
			}
		}()
	}
	for _, v := range versions[1:] {
		// Through a rename, as deploy tools do: the name gets a new inode.
		tmp := name + ".new"
		if err := os.WriteFile(tmp, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil {
			t.Fatal(err)
		}
		// The new version is served from the next request on.
		if a := serve(h, "GET", "/f.html", nil); a.body != v {
			t.Fatalf("after the rename: %d bytes of %q", len(a.body), a.body[:1])
		}
	}
	halt()
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	if mpm.ReplaysForTest(h) == 0 {
		t.Fatal("no replays happened")
	}
}

// A deploy that switches a symbolic link above the document root (root/
// current -> releases/N) is seen by the very next request, though armed
// replays make no stat (filechange.go), and so is a file edited in place.
func TestReplaysFollowDeploys(t *testing.T) {
	v1, v2, v3 := strings.Repeat("1", 3000), strings.Repeat("2", 3001), strings.Repeat("3", 2999)
	h, root := newTestHandler(t, map[string]string{"releases/1/f.html": v1, "releases/2/f.html": v2}, "DocumentRoot current", "AddType text/html .html")
	if err := os.Symlink("releases/1", filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, filepath.Join(root, "releases/1/f.html"))
	untilReplayed(t, h, "GET", "/f.html")
	before := mpm.ReplaysForTest(h)
	for i := 0; i < 20; i++ {
		if a := serve(h, "GET", "/f.html", nil); a.body != v1 {
			t.Fatalf("before the switch: %d bytes", len(a.body))
		}
	}
	if mpm.ReplaysForTest(h)-before != 20 {
		t.Fatalf("%d of 20 requests replayed before the switch", mpm.ReplaysForTest(h)-before)
	}
	tmp := filepath.Join(root, "current.new")
	if err := os.Symlink("releases/2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
	if a := serve(h, "GET", "/f.html", nil); a.body != v2 || a.header.Get("Content-Length") != "3001" {
		t.Fatalf("after the switch: %d bytes, Content-Length %s", len(a.body), a.header.Get("Content-Length"))
	}
	waitSettled(t, filepath.Join(root, "releases/2/f.html"))
	untilReplayed(t, h, "GET", "/f.html")
	if err := os.WriteFile(filepath.Join(root, "releases/2/f.html"), []byte(v3), 0o644); err != nil {
		t.Fatal(err)
	}
	if a := serve(h, "GET", "/f.html", nil); a.body != v3 {
		t.Fatalf("after an edit in place: %d bytes", len(a.body))
	}
}

package mpm_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestEngineServesErrorPageAndSurvivesRestart(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port, "DocumentRoot htdocs")})
	s := httpdgtest.Start(t, root, port)
	resp, body := get(t, s.URL+"/nothing-here")
	if resp.StatusCode != 404 || !strings.Contains(body, "<title>404 Not Found</title>") || resp.Header.Get("Content-Type") != "text/html; charset=iso-8859-1" {
		t.Fatalf("got %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, _ = get(t, s.URL+"/a/../../etc/passwd")
	if resp.StatusCode != 400 {
		t.Fatalf("path escape: %d, want 400", resp.StatusCode)
	}
	s.Signal(syscall.SIGUSR1)
	// The socket stays open across the restart: requests keep being
	// answered until (and after) the new generation is up.
	deadline := time.Now().Add(15 * time.Second)
	served := 0
	for !strings.Contains(s.ErrorLog(), "resuming normal operations (generation 2)") {
		if time.Now().After(deadline) {
			t.Fatalf("no generation 2 after 15s; error_log:\n%s", s.ErrorLog())
		}
		if resp, _ := get(t, s.URL+"/x"); resp.StatusCode != 404 {
			t.Fatalf("during restart: %d", resp.StatusCode)
		}
		served++
	}
	if resp, _ := get(t, s.URL+"/x"); resp.StatusCode != 404 {
		t.Fatalf("after restart: %d", resp.StatusCode)
	}
	t.Logf("%d requests answered while the restart ran", served)
}

func TestEngineBindFailureAbortsStart(t *testing.T) {
	port := httpdgtest.FreePort(t)
	// Two servers on the same port: the second cannot bind.
	root1 := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port)})
	httpdgtest.Start(t, root1, port)
	root2 := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port)})
	out, err := exec.Command(httpdgtest.Binary(t), "-d", root2, "-X").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "could not bind to address 127.0.0.1:") || !strings.Contains(string(out), "no listening sockets available, shutting down") {
		t.Fatalf("err %v, output %q", err, out)
	}
}

// responses sends n keep-alive requests on one connection and returns the
// Connection header of each response (stopping when the server closes).
func connectionHeaders(t *testing.T, addr string, n int) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			break
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// ReadResponse moves "Connection: close" into resp.Close.
		if resp.Close {
			out = append(out, "close")
		} else {
			out = append(out, resp.Header.Get("Connection"))
		}
	}
	return out
}

func TestEngineKeepAliveSettings(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"default keeps alive", nil, []string{"", "", ""}},
		{"MaxKeepAliveRequests 2 closes after the second", []string{"MaxKeepAliveRequests 2"}, []string{"", "close"}},
		{"KeepAlive Off closes after the first", []string{"KeepAlive Off"}, []string{"close"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := httpdgtest.FreePort(t)
			root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port, c.lines...)})
			httpdgtest.Start(t, root, port)
			got := connectionHeaders(t, fmt.Sprintf("127.0.0.1:%d", port), 3)
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("Connection headers %q, want %q", got, c.want)
			}
		})
	}
}

func TestSlowClientGets408WhileOthersAreServed(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port, "RequestReadTimeout header=2")})
	s := httpdgtest.Start(t, root, port)
	slow, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// A header byte every 300 ms: never a whole head.
	stop := make(chan struct{})
	go func() {
		for _, b := range []byte("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := slow.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	// Meanwhile another client is answered at once.
	start := time.Now()
	resp, _ := get(t, s.URL+"/other")
	if resp.StatusCode != 404 || time.Since(start) > 2*time.Second {
		t.Fatalf("other client: %d after %v", resp.StatusCode, time.Since(start))
	}
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	sent := time.Now()
	got, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatalf("no 408: %v", err)
	}
	if got.StatusCode != 408 {
		t.Fatalf("status %d, want 408", got.StatusCode)
	}
	if waited := time.Since(sent); waited > 4*time.Second {
		t.Fatalf("408 after %v, want about 2s", waited)
	}
}

// TestSlowSecondRequestGets408: the header timeout also runs for the next
// request of a keep-alive connection, from its first byte (the timer is
// only armed when a read leaves the head incomplete).
func TestSlowSecondRequestGets408(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port, "RequestReadTimeout header=2", "KeepAliveTimeout 30")})
	httpdgtest.Start(t, root, port)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	first, err := http.ReadResponse(br, nil)
	if err != nil || first.StatusCode != 404 {
		t.Fatalf("first request: %v %v", first, err)
	}
	io.Copy(io.Discard, first.Body)
	first.Body.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, b := range []byte("GET /second HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	sent := time.Now()
	got, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no 408: %v", err)
	}
	if got.StatusCode != 408 {
		t.Fatalf("status %d, want 408", got.StatusCode)
	}
	if waited := time.Since(sent); waited < 1500*time.Millisecond || waited > 4*time.Second {
		t.Fatalf("408 after %v, want about 2s from the first byte", waited)
	}
}

// rawStatus sends a raw request and returns the response status.
func rawStatus(t *testing.T, port int, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(c, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response to %.40q: %v", req, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestLimitRequestAnswers(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port,
		"LimitRequestLine 100", "LimitRequestFieldSize 50", "LimitRequestFields 3")})
	httpdgtest.Start(t, root, port)
	long := strings.Repeat("a", 120)
	cases := []struct {
		name string
		req  string
		want int
	}{
		{"within limits", "GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n", 404},
		{"request line too long", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
		{"header field too long", "GET /x HTTP/1.1\r\nHost: a\r\nX-Long: " + long + "\r\n\r\n", 400},
		{"too many fields", "GET /x HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 400},
		{"HTTP/1.1 without Host", "GET /x HTTP/1.1\r\n\r\n", 400},
		{"HTTP/1.0 without Host", "GET /x HTTP/1.0\r\n\r\n", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rawStatus(t, port, c.req); got != c.want {
				t.Fatalf("status %d, want %d", got, c.want)
			}
		})
	}
}

// The default error pages of a real Apache 2.4.67 (Debian build, ServerSignature
// unset, ServerAdmin unset), captured byte for byte.
const (
	apache301              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>301 Moved Permanently</title>\n</head><body>\n<h1>Moved Permanently</h1>\n<p>The document has moved <a href=\"http://example.com/t301/sub?q=1\">here</a>.</p>\n</body></html>\n"
	apache302              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>302 Found</title>\n</head><body>\n<h1>Found</h1>\n<p>The document has moved <a href=\"http://example.com/t302?a=1&amp;b=&lt;2&gt;/sub\">here</a>.</p>\n</body></html>\n"
	apache303              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>303 See Other</title>\n</head><body>\n<h1>See Other</h1>\n<p>The answer to your request is located <a href=\"http://example.com/t303/sub?q=1\">here</a>.</p>\n</body></html>\n"
	apache307              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>307 Temporary Redirect</title>\n</head><body>\n<h1>Temporary Redirect</h1>\n<p>The document has moved <a href=\"http://example.com/t307/sub?q=1\">here</a>.</p>\n</body></html>\n"
	apache308              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>308 Permanent Redirect</title>\n</head><body>\n<h1>Permanent Redirect</h1>\n<p>The document has moved <a href=\"http://example.com/t308/sub?q=1\">here</a>.</p>\n</body></html>\n"
	apacheErrorDocument302 = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>302 Found</title>\n</head><body>\n<h1>Found</h1>\n<p>The document has moved <a href=\"http://example.com/err?x=1\">here</a>.</p>\n</body></html>\n"
	apache410              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>410 Gone</title>\n</head><body>\n<h1>Gone</h1>\n<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n</body></html>\n"
	apache400              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this server could not understand.<br />\n</p>\n</body></html>\n"
	apache401              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>401 Unauthorized</title>\n</head><body>\n<h1>Unauthorized</h1>\n<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n</body></html>\n"
	apache403              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n</body></html>\n"
	apache404              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n"
	apache405GET           = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>405 Method Not Allowed</title>\n</head><body>\n<h1>Method Not Allowed</h1>\n<p>The requested method GET is not allowed for this URL.</p>\n</body></html>\n"
	apache408              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>408 Request Timeout</title>\n</head><body>\n<h1>Request Timeout</h1>\n<p>Server timeout waiting for the HTTP request from the client.</p>\n</body></html>\n"
	apache413GET           = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>413 Request Entity Too Large</title>\n</head><body>\n<h1>Request Entity Too Large</h1>\nThe requested resource does not allow request data with GET requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n</body></html>\n"
	apache414              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>414 Request-URI Too Long</title>\n</head><body>\n<h1>Request-URI Too Long</h1>\n<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n</body></html>\n"
	apache500              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n [no address given] to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n</body></html>\n"
	apache501GET           = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>501 Not Implemented</title>\n</head><body>\n<h1>Not Implemented</h1>\n<p>GET not supported for current URL.<br />\n</p>\n</body></html>\n"
	apache503              = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n"
)

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends method url (with header, if any) and returns the response and
// its body.
func do(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// statusScript answers /status/N with status N after setting headers_out
// (which must not leak into the error page) and err_headers_out (which
// must go out).
const statusScript = `function handle(r)
  r.headers_out["Set-Cookie"] = "leak=1"
  r.headers_out["X-Handler"] = "leak"
  r.err_headers_out["X-Err"] = "kept"
  return tonumber(string.match(r.uri, "(%d+)$"))
end
`

func TestEngineErrorPagesAreApaches(t *testing.T) {
	port := httpdgtest.FreePort(t)
	sum := sha1.Sum([]byte("p"))
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port,
			"DocumentRoot htdocs",
			"Redirect 301 /r301 http://example.com/t301",
			"Redirect 302 /r302 http://example.com/t302?a=1&b=<2>",
			"Redirect 303 /r303 http://example.com/t303",
			"Redirect 307 /r307 http://example.com/t307",
			"Redirect 308 /r308 http://example.com/t308",
			"Redirect 410 /gone",
			"Redirect 400 /s400",
			"Redirect 404 /s404",
			"Redirect 405 /s405",
			"Redirect 413 /s413",
			"<Location /denied>", "Require all denied", "</Location>",
			"<Location /secret>", "AuthType Basic", "AuthName Sec", "AuthUserFile conf/htpasswd", "Require valid-user",
			"Header always set X-Always always", "Header set Set-Cookie leak=1", "</Location>",
			"<Location /edoc>", "ErrorDocument 404 http://example.com/err?x=1", "</Location>",
			"LuaMapHandler ^/status/ conf/status.lua",
		),
		"conf/htpasswd":     "u:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n",
		"conf/status.lua":   statusScript,
		"htdocs/index.html": "hello\n",
	})
	s := httpdgtest.Start(t, root, port)
	cases := []struct {
		path     string
		status   int
		body     string
		location string
		header   map[string]string // more headers the response must carry
		close    bool              // ap_status_drops_connection
	}{
		{path: "/r301/sub?q=1", status: 301, body: apache301, location: "http://example.com/t301/sub?q=1"},
		{path: "/r302/sub?q=1", status: 302, body: apache302, location: "http://example.com/t302?a=1&b=<2>/sub"},
		{path: "/r303/sub?q=1", status: 303, body: apache303, location: "http://example.com/t303/sub?q=1"},
		{path: "/r307/sub?q=1", status: 307, body: apache307, location: "http://example.com/t307/sub?q=1"},
		{path: "/r308/sub?q=1", status: 308, body: apache308, location: "http://example.com/t308/sub?q=1"},
		{path: "/edoc/missing", status: 302, body: apacheErrorDocument302, location: "http://example.com/err?x=1"},
		{path: "/gone", status: 410, body: apache410},
		{path: "/s400", status: 400, body: apache400, close: true},
		{path: "/secret/x", status: 401, body: apache401, header: map[string]string{"WWW-Authenticate": `Basic realm="Sec"`, "X-Always": "always"}},
		{path: "/denied/x", status: 403, body: apache403},
		{path: "/nothing-here", status: 404, body: apache404},
		{path: "/s404", status: 404, body: apache404},
		{path: "/s405", status: 405, body: apache405GET},
		{path: "/s413", status: 413, body: apache413GET, close: true},
		{path: "/status/500", status: 500, body: apache500, header: map[string]string{"X-Err": "kept"}, close: true},
		{path: "/status/501", status: 501, body: apache501GET, header: map[string]string{"X-Err": "kept"}, close: true},
		{path: "/status/503", status: 503, body: apache503, header: map[string]string{"X-Err": "kept"}, close: true},
		{path: "/status/404", status: 404, body: apache404, header: map[string]string{"X-Err": "kept"}},
		{path: "/status/302", status: 302, body: strings.Replace(apacheErrorDocument302, `"http://example.com/err?x=1"`, `""`, 1)},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := do(t, "GET", s.URL+c.path, nil)
			if resp.StatusCode != c.status || body != c.body {
				t.Fatalf("got %d %q\nwant %d %q", resp.StatusCode, body, c.status, c.body)
			}
			// Apache sizes every page but a 413's (and a 416's).
			wantCL := strconv.Itoa(len(c.body))
			if c.status == 413 {
				wantCL = ""
			}
			if ct, cl := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"); ct != "text/html; charset=iso-8859-1" || cl != wantCL {
				t.Errorf("Content-Type %q, Content-Length %q; want text/html; charset=iso-8859-1, %q", ct, cl, wantCL)
			}
			if got := resp.Header.Get("Location"); got != c.location {
				t.Errorf("Location %q, want %q", got, c.location)
			}
			for k, v := range c.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			// Headers a handler set for a success do not go out with an error.
			for _, k := range []string{"Set-Cookie", "X-Handler"} {
				if v := resp.Header.Values(k); len(v) > 0 {
					t.Errorf("%s leaked into the error response: %q", k, v)
				}
			}
			if resp.Close != c.close {
				t.Errorf("Connection: close is %v, want %v", resp.Close, c.close)
			}
		})
	}
	// HEAD: the headers of the page, no body and (as in Apache) no length.
	resp, body := do(t, "HEAD", s.URL+"/nothing-here", nil)
	if resp.StatusCode != 404 || body != "" || resp.Header.Get("Content-Type") != "text/html; charset=iso-8859-1" || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("HEAD: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// A success keeps the headers the handler set.
	resp, _ = do(t, "GET", s.URL+"/status/204", nil)
	if resp.StatusCode != 204 || resp.Header.Get("Set-Cookie") != "leak=1" || resp.Header.Get("X-Err") != "kept" {
		t.Fatalf("204: %d %v", resp.StatusCode, resp.Header)
	}
	// With the right password the handler's headers are the answer's.
	resp, _ = do(t, "GET", s.URL+"/secret/x", http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))}})
	if resp.StatusCode != 404 || resp.Header.Get("X-Always") != "always" {
		t.Fatalf("authorized: %d %v", resp.StatusCode, resp.Header)
	}
}

// rawResponse sends req on a new connection and returns the response and
// its body.
func rawResponse(t *testing.T, port int, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(c, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response to %.40q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestEngineConnectionErrorPagesAreApaches(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": httpdgtest.Conf(port, "RequestReadTimeout header=1", "LimitRequestLine 200")})
	httpdgtest.Start(t, root, port)
	resp, body := rawResponse(t, port, "GET /"+strings.Repeat("a", 300)+" HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp.StatusCode != 414 || body != apache414 || resp.Header.Get("Content-Type") != "text/html; charset=iso-8859-1" || !resp.Close {
		t.Fatalf("414: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = rawResponse(t, port, "GET / HTTP/1.1\r\nHost: x\r\n")
	if resp.StatusCode != 408 || body != apache408 || resp.Header.Get("Content-Type") != "text/html; charset=iso-8859-1" || !resp.Close {
		t.Fatalf("408: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestEngineHostHeaderKeepalivesAndRequestTime(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port,
			"DocumentRoot htdocs",
			`LogFormat "%{Host}i|%k|%{begin:msec}t|%{end:msec}t|%D" probe`,
			"CustomLog logs/probe_log probe",
			"Redirect 301 /old /new",
		),
		"htdocs/index.html": "hello\n",
	})
	httpdgtest.Start(t, root, port)
	start := time.Now()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var locations []string
	for i := 0; i < 3; i++ {
		fmt.Fprintf(c, "GET /old HTTP/1.1\r\nHost: Foo.Example:8080\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		locations = append(locations, resp.Header.Get("Location"))
	}
	c.Close()
	end := time.Now()
	// The redirect is made absolute from the Host the client sent.
	for _, l := range locations {
		if l != "http://foo.example:8080/new" {
			t.Fatalf("Location %q, want http://foo.example:8080/new", l)
		}
	}
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(root, "logs", "probe_log"))
		if lines = strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) == 3 {
			break
		}
	}
	if len(lines) != 3 {
		t.Fatalf("log lines %q", lines)
	}
	for i, line := range lines {
		f := strings.Split(line, "|")
		if len(f) != 5 || f[0] != "Foo.Example:8080" || f[1] != strconv.Itoa(i) {
			t.Fatalf("line %d: %q, want Host Foo.Example:8080 and %%k %d", i, line, i)
		}
		begin, _ := strconv.ParseInt(f[2], 10, 64)
		finish, _ := strconv.ParseInt(f[3], 10, 64)
		dur, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil || begin < start.UnixMilli() || begin > finish || finish > end.UnixMilli() || dur < 0 || dur/1000 > finish-begin+1 {
			t.Fatalf("line %d: times %q not within [%d, %d]", i, line, start.UnixMilli(), end.UnixMilli())
		}
	}
}

func TestHeaderNamesSpelledAsApache(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf":   httpdgtest.Conf(port, "DocumentRoot htdocs"),
		"htdocs/index.html": "hi\n",
	})
	httpdgtest.Start(t, root, port)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(c)
	if !strings.Contains(string(raw), "\r\nETag: ") {
		t.Fatalf("no 'ETag:' spelled as Apache does in:\n%s", raw)
	}
}

// rawAnswer sends req on a new connection and returns all the server
// sends until it closes.
func rawAnswer(t *testing.T, port int, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHTTP09AndRequire10: a request line without a protocol is served as
// HTTP/0.9 (the file alone, logged as Apache logs it) by default, and
// refused with a 400 under "HttpProtocolOptions Require1.0".
func TestHTTP09AndRequire10(t *testing.T) {
	for _, require := range []bool{false, true} {
		t.Run(fmt.Sprintf("Require1.0=%v", require), func(t *testing.T) {
			port := httpdgtest.FreePort(t)
			opts := "HttpProtocolOptions Strict LenientMethods Allow0.9"
			if require {
				opts = "HttpProtocolOptions Strict Require1.0"
			}
			root := httpdgtest.WriteTree(t, map[string]string{
				"htdocs/f.txt":     "file\n",
				"conf/httpd.conf":  httpdgtest.Conf(port, "DocumentRoot htdocs", opts, `CustomLog logs/access_log "%r|%>s|%b|%H"`),
				"logs/.keep":       "",
				"htdocs/dir/x.txt": "x",
			})
			s := httpdgtest.Start(t, root, port)
			got := rawAnswer(t, port, "GET /f.txt\r\n")
			if require {
				if !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") {
					t.Fatalf("Require1.0: %q", got)
				}
			} else if got != "file\n" {
				t.Fatalf("HTTP/0.9 answer %q, want the file alone", got)
			}
			want := "GET /f.txt|200|5|HTTP/0.9\n"
			if require {
				want = "GET /f.txt|400|266|"
			}
			logPath := filepath.Join(root, "logs", "access_log")
			deadline := time.Now().Add(5 * time.Second)
			for {
				b, _ := os.ReadFile(logPath)
				if strings.HasPrefix(string(b), want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("access log %q, want it to start %q", b, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
			_ = s
		})
	}
}

// TestServerTokensAndSignature: every answer carries the Server header
// ServerTokens chooses (a file, an error page, a refused request), and
// ServerSignature adds Apache's footer to error pages, the name and port
// from the Host header, linked to ServerAdmin with EMail.
func TestServerTokensAndSignature(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port, "DocumentRoot htdocs", "ServerTokens Prod", "ServerSignature On", "ServerAdmin webmaster@example.test",
			"<Location /mail>", "ServerSignature EMail", "</Location>"),
		"htdocs/f.txt": "f\n",
	})
	httpdgtest.Start(t, root, port)
	for _, tc := range []struct{ req, status, body string }{
		{"GET /f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "200", "f\n"},
		{"GET /missing HTTP/1.1\r\nHost: 127.0.0.1:" + strconv.Itoa(port) + "\r\nConnection: close\r\n\r\n", "404",
			"<hr>\n<address>httpdg Server at 127.0.0.1 Port " + strconv.Itoa(port) + "</address>\n</body></html>\n"},
		{"GET /mail/x HTTP/1.1\r\nHost: foo.test\r\nConnection: close\r\n\r\n", "404",
			"<hr>\n<address>httpdg Server at <a href=\"mailto:webmaster@example.test\">foo.test</a> Port 80</address>\n</body></html>\n"},
		{"GET / HTTP/1.1 extra\r\nHost: localhost\r\n\r\n", "400", "</body></html>\n"},
	} {
		got := rawAnswer(t, port, tc.req)
		head, body, _ := strings.Cut(got, "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 "+tc.status+" ") || !strings.Contains(head+"\r\n", "\r\nServer: httpdg\r\n") || !strings.HasSuffix(body, tc.body) {
			t.Errorf("%.30q:\n%s", tc.req, got)
		}
	}
}

package cgi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// startServer runs the httpdg binary (-X) with conf lines and the
// scripts (path under the ServerRoot → text, made executable).
func startServer(t *testing.T, scripts map[string]string, lines ...string) *httpdgtest.Server {
	t.Helper()
	port := httpdgtest.FreePort(t)
	files := map[string]string{"htdocs/index.html": "index\n", "conf/.keep": ""}
	for name, body := range scripts {
		files[name] = body
	}
	root := httpdgtest.WriteTree(t, files)
	for name := range scripts {
		if err := os.Chmod(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := httpdgtest.Conf(port, append([]string{"DocumentRoot htdocs", "ScriptAlias /cgi-bin/ cgi-bin/", "LogLevel info"}, lines...)...)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return httpdgtest.Start(t, root, port)
}

// TestOverHTTP runs scripts through the real server: the meta-variables
// as the engine fills them, a POST body through stdin, a HEAD, a script's
// own status, an absolute redirect.
func TestOverHTTP(t *testing.T) {
	s := startServer(t, map[string]string{
		"cgi-bin/env.cgi":    envScript,
		"cgi-bin/echo.cgi":   echoScript,
		"cgi-bin/status.cgi": statusScript,
		"cgi-bin/abs.cgi":    absScript,
	})
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path string, body io.Reader, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}

	res, body := get("GET", "/cgi-bin/env.cgi/more/path?q=1", nil, map[string]string{"Proxy": "http://evil.example:3128", "X-Test": "yes"})
	env := envOf(body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/plain" || res.Header.Get("X-Script") != "env" {
		t.Fatalf("GET: %d %v\n%s", res.StatusCode, res.Header, s.ErrorLog())
	}
	want := map[string]string{
		"REMOTE_ADDR": "127.0.0.1", "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": strconv.Itoa(s.Port),
		"SERVER_NAME": "127.0.0.1", "HTTP_HOST": "127.0.0.1:" + strconv.Itoa(s.Port), "HTTP_X_TEST": "yes",
		"QUERY_STRING": "q=1", "PATH_INFO": "/more/path", "SCRIPT_NAME": "/cgi-bin/env.cgi",
		"REQUEST_URI": "/cgi-bin/env.cgi/more/path?q=1", "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
		"SCRIPT_FILENAME": filepath.Join(s.Root, "cgi-bin/env.cgi"),
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HTTP_PROXY"]; ok {
		t.Errorf("HTTP_PROXY passed: %q", env["HTTP_PROXY"])
	}
	if port, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil || port <= 0 {
		t.Errorf("REMOTE_PORT = %q", env["REMOTE_PORT"])
	}

	payload := strings.Repeat("abcdefghij", 30000)
	res, body = get("POST", "/cgi-bin/echo.cgi", strings.NewReader(payload), map[string]string{"Content-Type": "text/plain"})
	if want := fmt.Sprintf("len=%d\n%s", len(payload), payload); res.StatusCode != 200 || body != want {
		t.Errorf("POST: %d, %d bytes back, want %d\n%s", res.StatusCode, len(body), len(want), s.ErrorLog())
	}

	res, body = get("HEAD", "/cgi-bin/env.cgi", nil, nil)
	if res.StatusCode != 200 || body != "" || res.Header.Get("X-Script") != "env" {
		t.Errorf("HEAD: %d %q", res.StatusCode, body)
	}
	res, body = get("GET", "/cgi-bin/status.cgi", nil, nil)
	if res.StatusCode != 404 || body != "no such thing\n" {
		t.Errorf("Status: 404: %d %q", res.StatusCode, body)
	}
	res, _ = get("GET", "/cgi-bin/abs.cgi", nil, nil)
	if res.StatusCode != 302 || res.Header.Get("Location") != "http://example.com/elsewhere" || res.Header.Get("Set-Cookie") != "a=b" {
		t.Errorf("absolute Location: %d %v", res.StatusCode, res.Header)
	}
}

// TestDisconnectKillsScriptOverHTTP: the client of a script that never
// answers hangs up; the server kills the script and what it started.
func TestDisconnectKillsScriptOverHTTP(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, map[string]string{
		"cgi-bin/forever.cgi": fmt.Sprintf("#!/bin/sh\necho $$ > %s/pid\nsleep 1000 &\necho $! > %s/child\nwait\n", dir, dir),
		"cgi-bin/env.cgi":     envScript,
	})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /cgi-bin/forever.cgi HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(dir, "pid"))
	child := readPid(t, filepath.Join(dir, "child"))
	c.Close()
	waitGone(t, pid)
	waitGone(t, child)
	waitFor(t, 10*time.Second, "the error log line", func() bool {
		return strings.Contains(s.ErrorLog(), "client closed the connection: stopping "+filepath.Join(s.Root, "cgi-bin/forever.cgi"))
	})
	// The server goes on serving.
	res, err := http.Get(s.URL + "/cgi-bin/env.cgi")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("after the disconnect: %d", res.StatusCode)
	}
}

// TestStreamingOverHTTP: what the script prints reaches the client while
// the script runs.
func TestStreamingOverHTTP(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "go-on")
	s := startServer(t, map[string]string{
		"cgi-bin/stream.cgi": fmt.Sprintf("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart1\\n'\ni=0\nwhile [ ! -e %s ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\necho part2\n", marker),
	})
	res, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.URL + "/cgi-bin/stream.cgi")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "part1\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the marker exists before the first part was read")
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "part2\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

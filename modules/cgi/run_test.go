package cgi_test

import (
	"crypto/sha1"
	"encoding/base64"
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

	_ "github.com/httpdg/httpdg/modules/authz"
	"github.com/httpdg/httpdg/modules/cgi"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// Scripts the tests run (#!/bin/sh; written executable by newHarness).
const (
	envScript = "#!/bin/sh\nprintf 'Content-Type: text/plain\\nX-Script: env\\n\\n'\nenv\necho \"ARGS=$*\"\n"
	// echoScript answers with its stdin.
	echoScript     = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"len=$CONTENT_LENGTH\"\ncat\n"
	statusScript   = "#!/bin/sh\nprintf 'Status: 404 Not Here\\nContent-Type: text/plain\\n\\nno such thing\\n'\n"
	localScript    = "#!/bin/sh\nprintf 'Location: /target.txt\\n\\n'\n"
	absScript      = "#!/bin/sh\nprintf 'Location: http://example.com/elsewhere\\nSet-Cookie: a=b\\nX-Kept: yes\\n\\nignored body'\n"
	explicitScript = "#!/bin/sh\nprintf 'Status: 301\\nLocation: /moved\\nContent-Type: text/plain\\n\\nmoved\\n'\n"
	noHeaderScript = "#!/bin/sh\necho hello\n"
	silentScript   = "#!/bin/sh\necho 'about to fail' >&2\nexit 3\n"
	partialScript  = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n'\n"
	stderrScript   = "#!/bin/sh\necho 'first complaint' >&2\nprintf 'Content-Type: text/plain\\n\\nok\\n'\necho 'second complaint' >&2\n"
	loopScript     = "#!/bin/sh\nprintf 'Location: /cgi-bin/loop.cgi\\n\\n'\n"
	badStatus      = "#!/bin/sh\nprintf 'Status: 99x\\n\\n'\n"
)

func cgiHarness(t *testing.T, extra string, moreFiles ...string) *harness {
	t.Helper()
	files := map[string]string{
		"cgi-bin/plain.cgi":  "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n", // not executable
		"cgi-bin/sub/.keep":  "",
		"htdocs/target.txt":  "the target\n",
		"htdocs/x/env.cgi":   envScript, // not executable; AddHandler tests chmod it
		"htdocs/run/env.cgi": envScript,
	}
	for i := 0; i+1 < len(moreFiles); i += 2 {
		files[moreFiles[i]] = moreFiles[i+1]
	}
	return newHarness(t, "DocumentRoot htdocs\nScriptAlias /cgi-bin/ cgi-bin/\nScriptAliasMatch ^/sm/([a-z]+)$ cgi-bin/$1.cgi\n"+extra,
		map[string]string{
			"cgi-bin/env.cgi":       envScript,
			"cgi-bin/echo.cgi":      echoScript,
			"cgi-bin/status.cgi":    statusScript,
			"cgi-bin/local.cgi":     localScript,
			"cgi-bin/abs.cgi":       absScript,
			"cgi-bin/explicit.cgi":  explicitScript,
			"cgi-bin/noheader.cgi":  noHeaderScript,
			"cgi-bin/silent.cgi":    silentScript,
			"cgi-bin/partial.cgi":   partialScript,
			"cgi-bin/stderr.cgi":    stderrScript,
			"cgi-bin/loop.cgi":      loopScript,
			"cgi-bin/badstatus.cgi": badStatus,
		},
		files)
}

func TestEnvironment(t *testing.T) {
	h := cgiHarness(t, "")
	hdr := http.Header{}
	hdr.Set("X-Custom", "v1")
	hdr.Add("X-Custom", "v2")
	hdr.Set("Proxy", "http://evil.example:3128")
	hdr.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
	res := h.do("GET", "/cgi-bin/env.cgi/extra/path?a=1&b=two", hdr, "")
	if res.status != 200 || res.ctype != "text/plain" || res.header.Get("X-Script") != "env" {
		t.Fatalf("status %d, type %q, header %v, body %q\n%s", res.status, res.ctype, res.header, res.body, h.errorLog())
	}
	env := envOf(res.body)
	want := map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_NAME":       "cgi.test",
		"SERVER_PORT":       "8080",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"SERVER_ADDR":       "127.0.0.1",
		"REMOTE_ADDR":       "192.0.2.7",
		"REMOTE_PORT":       "40000",
		"REQUEST_METHOD":    "GET",
		"REQUEST_URI":       "/cgi-bin/env.cgi/extra/path?a=1&b=two",
		"REQUEST_SCHEME":    "http",
		"SCRIPT_NAME":       "/cgi-bin/env.cgi",
		"SCRIPT_FILENAME":   filepath.Join(h.root, "cgi-bin/env.cgi"),
		"PATH_INFO":         "/extra/path",
		"PATH_TRANSLATED":   filepath.Join(h.root, "htdocs/extra/path"),
		"QUERY_STRING":      "a=1&b=two",
		"DOCUMENT_ROOT":     filepath.Join(h.root, "htdocs"),
		"HTTP_X_CUSTOM":     "v1, v2",
		"HTTP_HOST":         "cgi.test:8080",
		"PATH":              os.Getenv("PATH"),
		"SERVER_ADMIN":      "[no address given]",
		"ARGS":              "", // the query has '=': no ISINDEX arguments
		"PWD":               filepath.Join(h.root, "cgi-bin"),
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if !strings.HasPrefix(env["SERVER_SOFTWARE"], "httpdg/") {
		t.Errorf("SERVER_SOFTWARE = %q", env["SERVER_SOFTWARE"])
	}
	for _, k := range []string{"HTTP_PROXY", "HTTP_AUTHORIZATION", "HTTPS", "REMOTE_USER", "AUTH_TYPE", "CONTENT_LENGTH"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s is set (%q), want it absent", k, v)
		}
	}

	// Without extra path: no PATH_INFO; an ISINDEX query becomes argv.
	res = h.do("GET", "/cgi-bin/env.cgi?word+two%20x", nil, "")
	env = envOf(res.body)
	if env["SCRIPT_NAME"] != "/cgi-bin/env.cgi" || env["ARGS"] != "word two x" || env["QUERY_STRING"] != "word+two%20x" {
		t.Errorf("SCRIPT_NAME %q, ARGS %q, QUERY_STRING %q", env["SCRIPT_NAME"], env["ARGS"], env["QUERY_STRING"])
	}
	if _, ok := env["PATH_INFO"]; ok {
		t.Errorf("PATH_INFO set without extra path: %q", env["PATH_INFO"])
	}

	// Over TLS: HTTPS=on, the https scheme and port.
	hdr = http.Header{}
	hdr.Set("Host", "cgi.test")
	res = h.doConn(conn{clientIP: "192.0.2.7", clientPort: 40001, localIP: "127.0.0.1", localPort: 443, https: true}, "GET", "/cgi-bin/env.cgi", hdr, http.NoBody, nil)
	env = envOf(res.body)
	if env["HTTPS"] != "on" || env["REQUEST_SCHEME"] != "https" || env["SERVER_PORT"] != "443" {
		t.Errorf("HTTPS %q, REQUEST_SCHEME %q, SERVER_PORT %q", env["HTTPS"], env["REQUEST_SCHEME"], env["SERVER_PORT"])
	}
}

func TestScriptAliasMatch(t *testing.T) {
	h := cgiHarness(t, "")
	res := h.do("GET", "/sm/env", nil, "")
	if env := envOf(res.body); res.status != 200 || env["SCRIPT_FILENAME"] != filepath.Join(h.root, "cgi-bin/env.cgi") || env["SCRIPT_NAME"] != "/sm/env" {
		t.Fatalf("status %d, body %q\n%s", res.status, res.body, h.errorLog())
	}
}

func TestPostBodyReachesStdin(t *testing.T) {
	h := cgiHarness(t, "")
	body := strings.Repeat("0123456789", 20000) // more than a pipe holds
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/octet-stream")
	res := h.do("POST", "/cgi-bin/echo.cgi", hdr, body)
	if want := fmt.Sprintf("len=%d\n%s", len(body), body); res.status != 200 || res.body != want {
		t.Fatalf("status %d, body %d bytes (want %d)\n%s", res.status, len(res.body), len(want), h.errorLog())
	}
	// A chunked body (no Content-Length) reaches stdin too.
	res = h.doConn(testConn, "POST", "/cgi-bin/echo.cgi", nil, io.MultiReader(strings.NewReader("chun"), strings.NewReader("ked")), nil)
	if res.status != 200 || res.body != "len=\nchunked" {
		t.Fatalf("chunked: status %d, body %q", res.status, res.body)
	}
}

func TestLimitRequestBody(t *testing.T) {
	h := cgiHarness(t, "LimitRequestBody 10\n")
	res := h.do("POST", "/cgi-bin/echo.cgi", nil, "more than ten bytes")
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("announced: status %d, want 413", res.status)
	}
	// Found while the body streams to the script.
	res = h.doConn(testConn, "POST", "/cgi-bin/echo.cgi", nil, strings.NewReader("more than ten bytes"), nil)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d, want 413\n%s", res.status, h.errorLog())
	}
	if !strings.Contains(h.errorLog(), "Error reading request entity data") {
		t.Errorf("error log:\n%s", h.errorLog())
	}
}

func TestScriptStatusAndRedirects(t *testing.T) {
	h := cgiHarness(t, "")
	res := h.do("GET", "/cgi-bin/status.cgi", nil, "")
	if res.status != 404 || res.body != "no such thing\n" {
		t.Errorf("Status: 404: got %d %q", res.status, res.body)
	}
	// A local Location without Status: an internal redirect, as a GET.
	res = h.do("POST", "/cgi-bin/local.cgi", nil, "form=data")
	if res.status != 200 || res.body != "the target\n" || res.req.Method != "GET" {
		t.Errorf("local Location: got %d %q (method %s)\n%s", res.status, res.body, res.req.Method, h.errorLog())
	}
	// An absolute one: 302 with the script's other fields.
	res = h.do("GET", "/cgi-bin/abs.cgi", nil, "")
	if res.status != 302 || res.req.HeadersOut.Get("Location") != "http://example.com/elsewhere" ||
		res.req.ErrHeadersOut.Get("Set-Cookie") != "a=b" || res.req.ErrHeadersOut.Get("X-Kept") != "yes" || res.body != "" {
		t.Errorf("absolute Location: got %d, out %v, err out %v, body %q", res.status, res.req.HeadersOut, res.req.ErrHeadersOut, res.body)
	}
	// With an explicit Status the script's answer goes as it is.
	res = h.do("GET", "/cgi-bin/explicit.cgi", nil, "")
	if res.status != 301 || res.header.Get("Location") != "/moved" || res.body != "moved\n" {
		t.Errorf("Status 301: got %d, %v, %q", res.status, res.header, res.body)
	}
	// A script redirecting to itself stops at LimitInternalRecursion.
	res = h.do("GET", "/cgi-bin/loop.cgi", nil, "")
	if res.status != 500 || !strings.Contains(h.errorLog(), "Request exceeded the limit of 10 internal redirects") {
		t.Errorf("loop: got %d\n%s", res.status, h.errorLog())
	}
}

func TestBadScriptsAnswer500(t *testing.T) {
	h := cgiHarness(t, "")
	cases := []struct{ uri, log string }{
		{"/cgi-bin/noheader.cgi", "[cgi:error]"},
		{"/cgi-bin/noheader.cgi", "malformed header from script 'noheader.cgi': Bad header: hello"},
		{"/cgi-bin/silent.cgi", "End of script output before headers: silent.cgi"},
		{"/cgi-bin/silent.cgi", "about to fail: " + filepath.Join(h.root, "cgi-bin/silent.cgi")},
		{"/cgi-bin/partial.cgi", "Premature end of script headers: partial.cgi"},
		{"/cgi-bin/badstatus.cgi", "Invalid status line from script 'badstatus.cgi': 99x"},
		{"/cgi-bin/plain.cgi", "(13)Permission denied: exec of '" + filepath.Join(h.root, "cgi-bin/plain.cgi") + "' failed"},
		{"/cgi-bin/plain.cgi", "End of script output before headers: plain.cgi"},
	}
	for _, c := range cases {
		res := h.do("GET", c.uri, nil, "")
		if res.status != 500 {
			t.Errorf("%s: status %d, want 500", c.uri, res.status)
		}
		if !strings.Contains(h.errorLog(), c.log) {
			t.Errorf("%s: error log lacks %q:\n%s", c.uri, c.log, h.errorLog())
		}
	}
}

func TestMissingScriptAndDirectory(t *testing.T) {
	h := cgiHarness(t, "")
	if res := h.do("GET", "/cgi-bin/nothere.cgi", nil, ""); res.status != 404 {
		t.Errorf("missing: %d", res.status)
	}
	if !strings.Contains(h.errorLog(), "script not found or unable to stat: "+filepath.Join(h.root, "cgi-bin/nothere.cgi")) {
		t.Errorf("error log:\n%s", h.errorLog())
	}
	for _, uri := range []string{"/cgi-bin/sub/", "/cgi-bin/sub"} {
		if res := h.do("GET", uri, nil, ""); res.status != 403 {
			t.Errorf("%s: %d, want 403", uri, res.status)
		}
	}
	if !strings.Contains(h.errorLog(), "attempt to invoke directory as script: "+filepath.Join(h.root, "cgi-bin/sub")) {
		t.Errorf("error log:\n%s", h.errorLog())
	}
}

func TestStderrGoesToErrorLog(t *testing.T) {
	h := cgiHarness(t, "")
	res := h.do("GET", "/cgi-bin/stderr.cgi", nil, "")
	if res.status != 200 || res.body != "ok\n" {
		t.Fatalf("got %d %q", res.status, res.body)
	}
	name := filepath.Join(h.root, "cgi-bin/stderr.cgi")
	for _, want := range []string{"[cgi:error]", "first complaint: " + name, "second complaint: " + name} {
		if !strings.Contains(h.errorLog(), want) {
			t.Errorf("error log lacks %q:\n%s", want, h.errorLog())
		}
	}
}

func TestExecCGIOption(t *testing.T) {
	h := cgiHarness(t, `<Directory "ROOT/htdocs/x">
    AddHandler cgi-script .cgi
</Directory>
<Directory "ROOT/htdocs/run">
    Options +ExecCGI
    AddHandler cgi-script .cgi
</Directory>
<Location /setx>
    SetHandler cgi-script
</Location>
`)
	for _, f := range []string{"htdocs/x/env.cgi", "htdocs/run/env.cgi"} {
		if err := os.Chmod(filepath.Join(h.root, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if res := h.do("GET", "/x/env.cgi", nil, ""); res.status != 403 {
		t.Errorf("AddHandler without ExecCGI: %d, want 403", res.status)
	}
	if want := "Options ExecCGI is off in this directory: " + filepath.Join(h.root, "htdocs/x/env.cgi"); !strings.Contains(h.errorLog(), want) {
		t.Errorf("error log lacks %q:\n%s", want, h.errorLog())
	}
	if res := h.do("GET", "/setx", nil, ""); res.status != 403 {
		t.Errorf("SetHandler without ExecCGI: %d, want 403", res.status)
	}
	res := h.do("GET", "/run/env.cgi/more?q=1", nil, "")
	if env := envOf(res.body); res.status != 200 || env["SCRIPT_NAME"] != "/run/env.cgi" || env["PATH_INFO"] != "/more" {
		t.Errorf("Options +ExecCGI: %d %q\n%s", res.status, res.body, h.errorLog())
	}
}

// TestOptionsAll: "Options All" includes ExecCGI, a later "-ExecCGI"
// takes it away.
func TestOptionsAll(t *testing.T) {
	h := cgiHarness(t, `<Directory "ROOT/htdocs">
    Options All
    AddHandler cgi-script .cgi
</Directory>
<Directory "ROOT/htdocs/x">
    Options -ExecCGI
</Directory>
`)
	for _, f := range []string{"htdocs/x/env.cgi", "htdocs/run/env.cgi"} {
		if err := os.Chmod(filepath.Join(h.root, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if res := h.do("GET", "/run/env.cgi", nil, ""); res.status != 200 {
		t.Errorf("Options All: %d\n%s", res.status, h.errorLog())
	}
	if res := h.do("GET", "/x/env.cgi", nil, ""); res.status != 403 {
		t.Errorf("Options -ExecCGI: %d", res.status)
	}
}

func TestRemoteUser(t *testing.T) {
	sum := sha1.Sum([]byte("secret"))
	h := cgiHarness(t, `<Location /cgi-bin/env.cgi>
    AuthType Basic
    AuthName "cgi"
    AuthUserFile ROOT/htpasswd
    Require valid-user
</Location>
`, "htpasswd", "alice:{SHA}"+base64.StdEncoding.EncodeToString(sum[:])+"\n")
	hdr := http.Header{}
	hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:secret")))
	res := h.do("GET", "/cgi-bin/env.cgi", hdr, "")
	env := envOf(res.body)
	if res.status != 200 || env["REMOTE_USER"] != "alice" || env["AUTH_TYPE"] != "Basic" {
		t.Fatalf("status %d, REMOTE_USER %q, AUTH_TYPE %q\n%s", res.status, env["REMOTE_USER"], env["AUTH_TYPE"], h.errorLog())
	}
	if _, ok := env["HTTP_AUTHORIZATION"]; ok {
		t.Error("HTTP_AUTHORIZATION passed to the script")
	}
}

func TestOptionsMethod(t *testing.T) {
	h := cgiHarness(t, "")
	res := h.do("OPTIONS", "/cgi-bin/env.cgi", nil, "")
	if res.status != 200 || res.header.Get("Allow") != "GET,POST,OPTIONS,HEAD,TRACE" || res.body != "" {
		t.Errorf("OPTIONS: %d %v %q", res.status, res.header, res.body)
	}
}

// TestStreaming: the script's output reaches the client while the script
// still runs (it waits for the test to see its first part).
func TestStreaming(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "go-on")
	script := fmt.Sprintf("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart1\\n'\ni=0\nwhile [ ! -e %s ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\necho part2\n", marker)
	h := newHarness(t, "ScriptAlias /cgi-bin/ cgi-bin/\n", map[string]string{"cgi-bin/s.cgi": script}, nil)
	rec := &recorder{}
	done := make(chan response, 1)
	go func() { done <- h.doConn(testConn, "GET", "/cgi-bin/s.cgi", nil, http.NoBody, rec) }()
	waitFor(t, 10*time.Second, "part1 before the script ends", func() bool { return rec.bodyString() == "part1\n" })
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.status != 200 || res.body != "part1\npart2\n" {
			t.Fatalf("got %d %q", res.status, res.body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request did not end")
	}
}

// TestTimeoutKillsScript: no output for Timeout: 504 before the header
// block, a cut connection after it; either way the script and what it
// started are gone.
func TestTimeoutKillsScript(t *testing.T) {
	dir := t.TempDir()
	script := func(name, before string) string {
		return fmt.Sprintf("#!/bin/sh\n%secho $$ > %s/%s.pid\nsleep 1000 &\necho $! > %s/%s.child\nwait\n", before, dir, name, dir, name)
	}
	h := newHarness(t, "Timeout 1\nScriptAlias /cgi-bin/ cgi-bin/\n", map[string]string{
		"cgi-bin/quiet.cgi": script("quiet", ""),
		"cgi-bin/half.cgi":  script("half", "printf 'Content-Type: text/plain\\n\\nstarted\\n'\n"),
	}, nil)
	// run runs the request while reading the script's pids (it writes
	// them before it waits).
	run := func(name string) (response, proc, proc) {
		done := make(chan response, 1)
		go func() { done <- h.do("GET", "/cgi-bin/"+name+".cgi", nil, "") }()
		pid := readPid(t, filepath.Join(dir, name+".pid"))
		child := readPid(t, filepath.Join(dir, name+".child"))
		select {
		case res := <-done:
			return res, pid, child
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: the request did not end", name)
		}
		panic("unreachable")
	}
	res, pid, child := run("quiet")
	if res.status != http.StatusGatewayTimeout {
		t.Errorf("quiet: status %d, want 504", res.status)
	}
	for _, want := range []string{"Timeout waiting for output from CGI script " + filepath.Join(h.root, "cgi-bin/quiet.cgi"), "Script timed out before returning headers: quiet.cgi"} {
		if !strings.Contains(h.errorLog(), want) {
			t.Errorf("error log lacks %q:\n%s", want, h.errorLog())
		}
	}
	waitGone(t, pid)
	waitGone(t, child)

	res, pid, child = run("half")
	if res.status != 200 || res.body != "started\n" || !res.req.ConnectionAborted() {
		t.Errorf("half: status %d, body %q, aborted %v", res.status, res.body, res.req.ConnectionAborted())
	}
	waitGone(t, pid)
	waitGone(t, child)
}

// TestClientGoneKillsScript: a script that would sleep for ever is killed
// once its client closes the connection; the request ends without an
// answer. The connection is a real TCP one, which the module watches.
func TestClientGoneKillsScript(t *testing.T) {
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\necho $$ > %s/pid\nsleep 1000 &\necho $! > %s/child\nwait\n", dir, dir)
	h := newHarness(t, "ScriptAlias /cgi-bin/ cgi-bin/\n", map[string]string{"cgi-bin/forever.cgi": script}, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	local, remote := server.LocalAddr().(*net.TCPAddr), server.RemoteAddr().(*net.TCPAddr)
	c := conn{clientIP: remote.IP.String(), clientPort: remote.Port, localIP: local.IP.String(), localPort: local.Port}

	done := make(chan response, 1)
	go func() { done <- h.doConn(c, "GET", "/cgi-bin/forever.cgi", nil, http.NoBody, nil) }()
	pid := readPid(t, filepath.Join(dir, "pid"))
	child := readPid(t, filepath.Join(dir, "child"))
	if !pid.alive() || !child.alive() {
		t.Fatalf("script %d or its child %d not running", pid.pid, child.pid)
	}
	client.Close()
	select {
	case res := <-done:
		if !res.req.ConnectionAborted() || res.body != "" {
			t.Errorf("aborted %v, body %q", res.req.ConnectionAborted(), res.body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request did not end after the client left")
	}
	waitGone(t, pid)
	waitGone(t, child)
	if want := "client closed the connection: stopping " + filepath.Join(h.root, "cgi-bin/forever.cgi") + " (pid " + strconv.Itoa(pid.pid) + ")"; !strings.Contains(h.errorLog(), want) {
		t.Errorf("error log lacks %q:\n%s", want, h.errorLog())
	}
}

// TestDirectivesBuilt: ScriptAlias and ScriptAliasMatch (declared by
// mod_alias) have their run time, and cgi_module is registered.
func TestDirectivesBuilt(t *testing.T) {
	reg, err := phases.Directives()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ScriptAlias", "ScriptAliasMatch"} {
		d := reg.Directive(n)
		if d == nil || d.Module != "alias_module" || !d.Built {
			t.Errorf("%s: %+v", n, d)
		}
	}
	if phases.LookupModule(cgi.ModuleName) == nil {
		t.Errorf("%s is not registered", cgi.ModuleName)
	}
	cfg := phasestest.MustLoad(t, "<IfModule mod_cgi.c>\nScriptAlias /cgi-bin/ /srv/cgi-bin/\nScriptLog logs/cgi_log\nScriptLogLength 4096\nScriptLogBuffer 512\n</IfModule>\n")
	if ss := cgi.ServerOf(cfg.Main); ss.ScriptLog != filepath.Join(cfg.ServerRoot, "logs/cgi_log") || ss.ScriptLogLength != 4096 || ss.ScriptLogBuffer != 512 {
		t.Errorf("script log settings %+v", ss)
	}
	for _, n := range []string{"ScriptLog", "ScriptLogLength", "ScriptLogBuffer"} {
		if d := reg.Directive(n); d == nil || d.Module != cgi.ModuleName || d.Built {
			t.Errorf("%s: %+v (want declared by %s, not built)", n, d, cgi.ModuleName)
		}
	}
	phasestest.WantError(t, "ScriptLogLength lots\n", 1, "ScriptLogLength: 'lots' is not a whole number")
}

// TestStaticStaysReplayable: cgi_module's hooks (in a config with a
// ScriptAlias) leave a static file's answer replayable; a script's never
// is.
func TestStaticStaysReplayable(t *testing.T) {
	h := cgiHarness(t, "")
	// The file cache offers a file once its ctime is 2 s old.
	waitFor(t, 10*time.Second, "a replayable static answer", func() bool {
		res := h.do("GET", "/target.txt", nil, "")
		if res.status != 200 || res.body != "the target\n" {
			t.Fatalf("static: %d %q", res.status, res.body)
		}
		_, ok := res.req.Replayable()
		return ok
	})
	for i := 0; i < 3; i++ {
		if _, ok := h.do("GET", "/cgi-bin/env.cgi", nil, "").req.Replayable(); ok {
			t.Fatal("a script's answer is replayable")
		}
	}
}

package lua_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// These tests start real httpdg -X processes with Lua handlers and hooks.

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serve writes files (conf/httpd.conf made from lines) and starts httpdg.
func serve(t testing.TB, files map[string]string, lines ...string) *httpdgtest.Server {
	t.Helper()
	port := httpdgtest.FreePort(t)
	if files == nil {
		files = map[string]string{}
	}
	files["conf/httpd.conf"] = httpdgtest.Conf(port, append([]string{"DocumentRoot htdocs"}, lines...)...)
	root := httpdgtest.WriteTree(t, files)
	return httpdgtest.Start(t, root, port)
}

func fetch(t testing.TB, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	return fetch(t, "GET", url, nil)
}

func want(t testing.TB, resp *http.Response, body string, status int, wantBody string) {
	t.Helper()
	if resp.StatusCode != status || body != wantBody {
		t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, status, wantBody)
	}
}

// waitFor polls the error log for re.
func waitFor(t testing.TB, s *httpdgtest.Server, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(s.ErrorLog()) {
		if time.Now().After(deadline) {
			t.Fatalf("error_log lacks %s:\n%s", re, s.ErrorLog())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLuaHelloMapHandler(t *testing.T) {
	s := serve(t, map[string]string{"conf/lua/hello.lua": repoFile(t, "conf/lua/hello.lua")},
		"LuaMapHandler ^/hello$ conf/lua/hello.lua handle")
	resp, body := get(t, s.URL+"/hello")
	want(t, resp, body, 200, "hello, world\n")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Fatalf("Content-Type %q", ct)
	}
	if resp, _ := get(t, s.URL+"/hello/x"); resp.StatusCode != 404 {
		t.Fatalf("/hello/x: %d, want 404", resp.StatusCode)
	}
}

func TestLuaMapHandlerBackrefs(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/app.lua": `function list(r) r:puts("list " .. r.uri) end
function show(r) r:puts("show") end`,
		"lua/other.lua": `function handle(r) r:puts("other") end`,
	},
		`LuaMapHandler ^/app/(list|show)$ lua/app.lua $1`,
		`LuaMapHandler ^/f/(\w+)$ lua/$1.lua`)
	resp, body := get(t, s.URL+"/app/list")
	want(t, resp, body, 200, "list /app/list")
	resp, body = get(t, s.URL+"/app/show")
	want(t, resp, body, 200, "show")
	resp, body = get(t, s.URL+"/f/other")
	want(t, resp, body, 200, "other")
	if resp, _ := get(t, s.URL+"/f/missing"); resp.StatusCode != 404 {
		t.Fatalf("missing dynamic script: %d, want 404", resp.StatusCode)
	}
}

func TestLuaScriptHandler(t *testing.T) {
	script := `function handle(r)
  r.content_type = "text/plain"
  r:puts("script ", r.filename:match("[^/]+$"), " handler ", r.handler)
end`
	s := serve(t, map[string]string{
		"htdocs/lua/app.lua":  script,
		"htdocs/added/x.lua":  script,
		"htdocs/added/x.txt":  "text",
		"htdocs/lua/nohandle": "function other(r) end",
	},
		"<Location /lua>", "SetHandler lua-script", "</Location>",
		"<Location /added>", "AddHandler lua-script .lua", "</Location>")
	resp, body := get(t, s.URL+"/lua/app.lua")
	want(t, resp, body, 200, "script app.lua handler lua-script")
	resp, body = get(t, s.URL+"/added/x.lua")
	want(t, resp, body, 200, "script x.lua handler lua-script")
	if resp, _ := get(t, s.URL+"/lua/missing.lua"); resp.StatusCode != 404 {
		t.Fatalf("missing script: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.URL+"/lua/nohandle"); resp.StatusCode != 500 {
		t.Fatalf("script without handle: %d", resp.StatusCode)
	}
	waitFor(t, s, regexp.MustCompile(`htdocs/lua/nohandle: no function 'handle' to call`))
}

func TestLuaErrorIs500AndServerGoesOn(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/err.lua": "function handle(r)\n  local t = nil\n  return t.field\nend\n",
		"lua/ok.lua":  "function handle(r) r:puts('ok') end\n",
	},
		"LuaMapHandler ^/err$ lua/err.lua",
		"LuaMapHandler ^/ok$ lua/ok.lua")
	for i := 0; i < 3; i++ {
		resp, body := get(t, s.URL+"/err")
		if resp.StatusCode != 500 || !strings.Contains(body, "500 Internal Server Error") {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		resp, body = get(t, s.URL+"/ok")
		want(t, resp, body, 200, "ok")
	}
	waitFor(t, s, regexp.MustCompile(`\[core:error\] .*handler lua/err.lua:handle failed: lua/err.lua:3: attempt to index a non-table object\(nil\) with key 'field'\nstack traceback:\n\tlua/err.lua:3: in `))
}

func TestLuaRequestObject(t *testing.T) {
	s := serve(t, map[string]string{"lua/r.lua": `
function handle(r)
  local GET, GETMULTI = r:parseargs()
  r.headers_out["X-Echo"] = r.headers_in["X-Test"]
  r.headers_out["X-Gone"] = "soon"
  r.headers_out["X-Gone"] = nil
  r.err_headers_out["X-Err"] = "e"
  r.notes["n"] = "v"
  r.status = 201
  r.content_type = "text/plain"
  r:setcookie{key = "sid", value = "abc", httponly = true, path = "/"}
  r:puts(string.format("%s %s a=%s b=%d uri=%s args=%s proto=%s host=%s https=%s note=%s ip=%s port=%d cookie=%s\n",
    r.method, r.the_request, GET.a, #GETMULTI.b, r.uri, r.args, r.protocol, r.hostname,
    tostring(r.is_https), r.notes["N"], r.useragent_ip, r.port, tostring(r:getcookie("c"))))
  r:puts(r:escape_html("<a href=\"x\">&</a>"), "\n")
  local m = r:regex("foo bar baz", [[foo (\w+) (\S*)]])
  r:puts(m[0], "|", m[1], "|", m[2], "\n")
  r:puts(r.document_root:match("htdocs$") or "?", " ", r.server.server_hostname, " ", tostring(r.pool.name), " ", tostring(r.connection.pool.name), "\n")
  local ok, err = pcall(function() r.method = "POST" end)
  r:puts(tostring(ok), " ", tostring(err):match("Property %[method%] may not be set") or tostring(err), "\n")
  r:info("logged from lua")
  r:err("an error from lua")
end`}, "LuaMapHandler ^/r$ lua/r.lua", "LogLevel info")
	resp, body := fetch(t, "GET", s.URL+"/r?a=1&b=2&b=3&a=4", map[string]string{"X-Test": "hello", "Cookie": "c=42"})
	if resp.StatusCode != 201 || resp.Header.Get("X-Echo") != "hello" || resp.Header.Get("X-Gone") != "" || resp.Header.Get("X-Err") != "e" {
		t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
	}
	if c := resp.Header.Get("Set-Cookie"); c != "sid=abc; Path=/; HttpOnly" {
		t.Fatalf("Set-Cookie %q", c)
	}
	port := strings.TrimPrefix(s.URL, "http://127.0.0.1:")
	wantBody := "GET GET /r?a=1&b=2&b=3&a=4 HTTP/1.1 a=4 b=2 uri=/r args=a=1&b=2&b=3&a=4 proto=HTTP/1.1 host=127.0.0.1 https=false note=v ip=127.0.0.1 port=" + port + " cookie=42\n" +
		"&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\n" +
		"foo bar baz|bar|baz\n" +
		"htdocs localhost request connection\n" +
		"false Property [method] may not be set\n"
	if body != wantBody {
		t.Fatalf("body:\n%s\nwant:\n%s", body, wantBody)
	}
	waitFor(t, s, regexp.MustCompile(`\[lua:info\] .* logged from lua`))
	waitFor(t, s, regexp.MustCompile(`\[lua:error\] .* an error from lua`))
}

func TestLuaParseBody(t *testing.T) {
	s := serve(t, map[string]string{"lua/b.lua": `
function handle(r)
  local POST, MULTI = r:parsebody()
  r:puts(POST.x, " ", #MULTI.y, " ", r:requestbody())
end`}, "LuaMapHandler ^/b$ lua/b.lua")
	resp, err := http.Post(s.URL+"/b", "application/x-www-form-urlencoded", strings.NewReader("x=1&y=2&y=3"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want(t, resp, string(b), 200, "1 2 x=1&y=2&y=3")
}

func TestLuaRequestHooks(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/hooks.lua": `
function translate(r)
  if r.uri == "/secret" then return 403 end
  if r.uri == "/mapped" then r.filename = "/nonexistent/mapped"; return apache2.OK end
  return apache2.DECLINED
end
function access(r)
  if r.headers_in["X-Key"] ~= "open" then return apache2.HTTP_FORBIDDEN end
end
function fix_a(r) r.notes["order"] = (r.notes["order"] or "") .. "a" end
function fix_b(r) r.notes["order"] = (r.notes["order"] or "") .. "b" end
function fix_c(r) r.notes["order"] = (r.notes["order"] or "") .. "c" end
function fixups(r) r.headers_out["X-Fixup"] = "done" end
function quick(r)
  if r.uri == "/quick" then r:puts("quick"); return apache2.OK end
  return apache2.DECLINED
end
function handle(r) r:puts(r.notes["order"] or "", " ", r.filename) end
`},
		"LuaHookTranslateName lua/hooks.lua translate",
		"LuaHookFixups lua/hooks.lua fix_a late",
		"LuaHookFixups lua/hooks.lua fix_b",
		"LuaHookFixups lua/hooks.lua fix_c early",
		"LuaHookFixups lua/hooks.lua fixups",
		"LuaQuickHandler lua/hooks.lua quick",
		"<Location /private>", "LuaHookAccessChecker lua/hooks.lua access", "</Location>",
		"LuaMapHandler ^/(private|show|mapped) lua/hooks.lua")
	if resp, _ := get(t, s.URL+"/secret"); resp.StatusCode != 403 {
		t.Fatalf("/secret: %d, want 403", resp.StatusCode)
	}
	if resp, _ := get(t, s.URL+"/private"); resp.StatusCode != 403 {
		t.Fatalf("/private without key: %d, want 403", resp.StatusCode)
	}
	resp, body := fetch(t, "GET", s.URL+"/private", map[string]string{"X-Key": "open"})
	want(t, resp, body, 200, "cba "+filepath.Join(s.Root, "htdocs/private"))
	if resp.Header.Get("X-Fixup") != "done" {
		t.Fatalf("fixups did not run: %v", resp.Header)
	}
	resp, body = get(t, s.URL+"/show")
	want(t, resp, body, 200, "cba "+filepath.Join(s.Root, "htdocs/show"))
	resp, body = get(t, s.URL+"/mapped")
	want(t, resp, body, 200, "cba /nonexistent/mapped")
	resp, body = get(t, s.URL+"/quick")
	want(t, resp, body, 200, "quick")
	if resp.Header.Get("X-Fixup") != "" {
		t.Fatal("a quick handler's answer ran fixups")
	}
}

func TestLuaScopeAndCodeCache(t *testing.T) {
	counter := "count = 0\nfunction handle(r) count = count + 1; r:puts(VERSION or 'v1', ' ', count) end\n"
	s := serve(t, map[string]string{
		"lua/once.lua":    counter,
		"lua/thread.lua":  counter,
		"lua/server.lua":  counter,
		"lua/request.lua": "count = 0\nfunction handle(r) count = count + 1 end\nfunction log(r) count = count + 1; r.notes.c = count end\n",
		"lua/forever.lua": counter,
	},
		"LuaMapHandler ^/once$ lua/once.lua",
		"<Location /thread>", "LuaScope thread", "</Location>",
		"LuaMapHandler ^/thread$ lua/thread.lua",
		"<Location /server>", "LuaScope server 1 1", "</Location>",
		"LuaMapHandler ^/server$ lua/server.lua",
		"<Location /forever>", "LuaScope thread", "LuaCodeCache forever", "</Location>",
		"LuaMapHandler ^/forever$ lua/forever.lua",
	)
	for i := 1; i <= 3; i++ {
		resp, body := get(t, s.URL+"/once")
		want(t, resp, body, 200, "v1 1")
		resp, body = get(t, s.URL+"/thread")
		want(t, resp, body, 200, fmt.Sprintf("v1 %d", i))
		resp, body = get(t, s.URL+"/server")
		want(t, resp, body, 200, fmt.Sprintf("v1 %d", i))
		resp, body = get(t, s.URL+"/forever")
		want(t, resp, body, 200, fmt.Sprintf("v1 %d", i))
	}
	// LuaCodeCache stat (the default) reloads a changed script, in a
	// reused state too; forever keeps the first compile.
	later := time.Now().Add(2 * time.Second)
	for _, name := range []string{"once", "thread", "forever"} {
		p := filepath.Join(s.Root, "lua", name+".lua")
		if err := os.WriteFile(p, []byte("VERSION = 'v2'\n"+counter), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := get(t, s.URL+"/once")
	want(t, resp, body, 200, "v2 1")
	resp, body = get(t, s.URL+"/thread")
	want(t, resp, body, 200, "v2 1") // the top level ran again: count = 0
	resp, body = get(t, s.URL+"/thread")
	want(t, resp, body, 200, "v2 2")
	resp, body = get(t, s.URL+"/forever")
	want(t, resp, body, 200, "v1 4")
}

func TestLuaTimeout(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/loop.lua": "function handle(r)\n  while true do end\nend\n",
		"lua/ok.lua":   "function handle(r) r:puts('ok') end\n",
	},
		"LuaTimeout 1",
		"LuaScope thread",
		"LuaMapHandler ^/loop$ lua/loop.lua",
		"LuaMapHandler ^/ok$ lua/ok.lua")
	start := time.Now()
	resp, body := get(t, s.URL+"/loop")
	if resp.StatusCode != 503 || !strings.Contains(body, "503 Service Unavailable") {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if d := time.Since(start); d < time.Second || d > 5*time.Second {
		t.Fatalf("stopped after %v, want about 1s", d)
	}
	resp, body = get(t, s.URL+"/ok")
	want(t, resp, body, 200, "ok")
	waitFor(t, s, regexp.MustCompile(`handler lua/loop.lua:handle failed: lua/loop.lua:2: the script ran longer than LuaTimeout \(1s\) and was stopped`))
}

func TestLuaSandbox(t *testing.T) {
	script := `function handle(r)
  local apache2 = require "apache2"
  r:puts(type(io), " ", type(os.execute), " ", type(os.time), " ", type(os.date), " ", type(os.clock), " ",
    type(dofile), " ", type(debug), " ", type(require("os").exit), " ", apache2.OK, " ", apache2.HTTP_NOT_FOUND,
    " ", require("mymod").hi())
end`
	s := serve(t, map[string]string{"lua/sb.lua": script, "lua/io.lua": script,
		"lua/lib/mymod.lua": "return { hi = function() return 'hi' end }"},
		"LuaPackagePath lua/lib/?.lua",
		"LuaMapHandler ^/sb$ lua/sb.lua",
		"<Location /io>", "LuaAllowIO On", "</Location>",
		"LuaMapHandler ^/io$ lua/io.lua")
	resp, body := get(t, s.URL+"/sb")
	want(t, resp, body, 200, "nil nil function function function nil nil nil 0 404 hi")
	resp, body = get(t, s.URL+"/io")
	want(t, resp, body, 200, "table nil function function function function nil nil 0 404 hi")
}

func TestLuaHttpdgGlobals(t *testing.T) {
	s := serve(t, map[string]string{"lua/g.lua": `function handle(r)
  httpdg.log("warn", "from httpdg.log")
  r:puts(httpdg.pid(), " ", httpdg.restart_count(), " ", httpdg.generation(), " ", httpdg.state(), " ", httpdg.server_root(), " ", type(httpdg.mpm()), " ", apache2.version)
end`}, "LuaMapHandler ^/g$ lua/g.lua")
	_, body := get(t, s.URL+"/g")
	wantBody := fmt.Sprintf("%d 2 1 running %s string Apache/2.4.62 (httpdg)", s.Cmd.Process.Pid, s.Root)
	if body != wantBody {
		t.Fatalf("got %q, want %q", body, wantBody)
	}
	waitFor(t, s, regexp.MustCompile(`\[lua:warn\] .* from httpdg.log`))
}

var startupLine = regexp.MustCompile(`(?m)^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] - (\S+) *: (.*)$`)

func startupPhases(t *testing.T, root string, pid int) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(root, "logs/startup_log"))
	var out []string
	for _, m := range startupLine.FindAllStringSubmatch(string(b), -1) {
		wantMsg := map[string]string{
			"open_logs":   fmt.Sprintf("process %d is born to reproduce", pid),
			"post_config": "configuration is completed",
			"child_init":  fmt.Sprintf("process %d is born to serve", pid),
			"child_exit":  fmt.Sprintf("process %d now exits", pid),
		}[m[1]]
		if m[2] != wantMsg {
			t.Errorf("%s says %q, want %q", m[1], m[2], wantMsg)
		}
		out = append(out, m[1])
	}
	return strings.Join(out, " ")
}

// TestLuaLifecycle runs conf/lua/startup_log.lua through start, a graceful
// restart and a stop: the same sequence as the Go startuplog module.
func TestLuaLifecycle(t *testing.T) {
	s := serve(t, map[string]string{"conf/lua/startup_log.lua": repoFile(t, "conf/lua/startup_log.lua")},
		"LogLevel info",
		"LuaHookOpenLogs    conf/lua/startup_log.lua open_logs",
		"LuaHookPostConfig  conf/lua/startup_log.lua post_config",
		"LuaHookChildInit   conf/lua/startup_log.lua child_init",
		"LuaHookChildExit   conf/lua/startup_log.lua child_exit")
	pid := s.Cmd.Process.Pid
	if got, want := startupPhases(t, s.Root, pid), "open_logs post_config open_logs post_config child_init"; got != want {
		t.Fatalf("after start:\n got %s\nwant %s", got, want)
	}
	s.Signal(syscall.SIGUSR1)
	waitFor(t, s, regexp.MustCompile(`resuming normal operations \(generation 2\)`))
	s.Stop()
	got := startupPhases(t, s.Root, pid)
	if want := "open_logs post_config open_logs post_config child_init child_exit open_logs post_config child_init child_exit"; got != want {
		t.Fatalf("startup_log phases:\n got %s\nwant %s", got, want)
	}
	errlog := s.ErrorLog()
	for _, w := range []string{
		"[lua:warn] [pid " + fmt.Sprint(pid),
		"opening the log file: " + filepath.Join(s.Root, "logs/startup_log"),
		"configuration is completed (restart_count 1, generation 0)",
		"configuration is completed (restart_count 2, generation 1)",
		"configuration is completed (restart_count 3, generation 2)",
	} {
		if !strings.Contains(errlog, w) {
			t.Errorf("error_log lacks %q:\n%s", w, errlog)
		}
	}
}

func TestLuaLifecycleFailureAbortsStart(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port, "LuaHookOpenLogs conf/lua/bad.lua open_logs"),
		"conf/lua/bad.lua": `function open_logs(pconf, plog, ptemp, s)
  error("nope")
end`,
	})
	r := httpdgtest.Run(t, "-d", root, "-X")
	w := "open_logs handler conf/lua/bad.lua:open_logs failed: conf/lua/bad.lua:2: nope"
	if r.Code != 1 || !strings.Contains(r.Stderr, w) {
		t.Fatalf("exit %d, stderr %q; want 1 and %q", r.Code, r.Stderr, w)
	}
}

func TestLuaLifecycleObjects(t *testing.T) {
	s := serve(t, map[string]string{"conf/lua/objs.lua": `
function post_config(pconf, plog, ptemp, s)
  s:warn(string.format("pools %s %s %s host %s port %d virtual %s next %s", pconf.name, plog.name, ptemp.name,
    s.server_hostname, s.port, tostring(s.is_virtual), tostring(s.next and s.next.server_hostname)))
  ptemp:cleanup_register(function() httpdg.log("warn", "ptemp cleanup ran") end)
  return apache2.DECLINED
end
function child_init(pchild, s)
  pchild:cleanup_register(function() httpdg.log("warn", "pchild cleanup ran in state " .. httpdg.state()) end)
  s:notice("child_init in " .. pchild.name)
end`},
		"LuaHookPostConfig conf/lua/objs.lua post_config",
		"LuaHookChildInit conf/lua/objs.lua child_init",
		"<VirtualHost *:80>", "ServerName other.example", "</VirtualHost>")
	waitFor(t, s, regexp.MustCompile(`\[lua:warn\] .* pools pconf plog ptemp host localhost port \d+ virtual false next other.example`))
	waitFor(t, s, regexp.MustCompile(`ptemp cleanup ran`))
	waitFor(t, s, regexp.MustCompile(`\[lua:notice\] .* child_init in pchild`))
	s.Stop()
	if !strings.Contains(s.ErrorLog(), "pchild cleanup ran in state stopping") {
		t.Fatalf("error_log:\n%s", s.ErrorLog())
	}
}

// BenchmarkLuaHello measures the hello handler (LuaScope thread) with
// keep-alive clients in parallel; it reports req/s.
func BenchmarkLuaHello(b *testing.B) {
	for _, scope := range []string{"thread", "once"} {
		b.Run(scope, func(b *testing.B) {
			s := serve(b, map[string]string{"conf/lua/hello.lua": repoFile(b, "conf/lua/hello.lua")},
				"LuaScope "+scope,
				"LuaMapHandler ^/hello$ conf/lua/hello.lua handle")
			const clients = 32
			tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			var n atomic.Int64
			var failed atomic.Value
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i := 0; i < clients; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n.Add(1) <= int64(b.N) {
						resp, err := c.Get(s.URL + "/hello")
						if err != nil {
							failed.Store(err.Error())
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							failed.Store(resp.Status)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if f := failed.Load(); f != nil {
				b.Fatal(f)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
		})
	}
}

func TestLuaLazyCompileError(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/bad.lua": "function handle(r)\n  r:puts('x'\nend\n",
		"lua/ok.lua":  "function handle(r) r:puts('ok') end\n",
	},
		"LuaCompile lazy",
		"LuaMapHandler ^/bad$ lua/bad.lua",
		"LuaMapHandler ^/ok$ lua/ok.lua")
	if resp, _ := get(t, s.URL+"/bad"); resp.StatusCode != 500 {
		t.Fatalf("/bad: %d, want 500", resp.StatusCode)
	}
	resp, body := get(t, s.URL+"/ok")
	want(t, resp, body, 200, "ok")
	waitFor(t, s, regexp.MustCompile(`handler lua/bad.lua:handle failed: lua/bad.lua:3: `))
}

// TestLuaAuthzProvider: "Require <provider> args" calls the script's
// function with the request and the arguments; its apache2.AUTHZ_* result
// grants (the file's 404 here), denies (403) or, not being one, is an
// error (500 and a log line).
func TestLuaAuthzProvider(t *testing.T) {
	s := serve(t, map[string]string{
		"lua/authz.lua": `function check(r, word, other)
  if word == "letmein" and other == nil and r.uri:sub(1, 2) == "/p" then return apache2.AUTHZ_GRANTED end
  if word == "bad" then return "yes" end
  return apache2.AUTHZ_DENIED
end
`,
	},
		"LuaAuthzProvider by_word lua/authz.lua check",
		"<Location /p>", "Require by_word letmein", "</Location>",
		"<Location /q>", "Require by_word nope", "</Location>",
		"<Location /r>", "Require by_word bad", "</Location>",
		"<Location /both>", "<RequireAll>", "Require by_word letmein", "Require all granted", "</RequireAll>", "</Location>")
	for path, status := range map[string]int{"/p/x": 404, "/q/x": 403, "/r/x": 500, "/both/x": 403} {
		if resp, _ := get(t, s.URL+path); resp.StatusCode != status {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, status)
		}
	}
	waitFor(t, s, regexp.MustCompile(`authorization provider by_word failed: .*authz.lua: check returned string, not an apache2.AUTHZ_\* number`))
}

func TestLuaAuthzProviderMustComeFirst(t *testing.T) {
	root := httpdgtest.WriteTree(t, map[string]string{
		"lua/authz.lua":   "function check(r) return apache2.AUTHZ_GRANTED end\n",
		"conf/httpd.conf": "<Location /p>\nRequire by_word x\n</Location>\nLuaAuthzProvider by_word lua/authz.lua check\n",
	})
	res := httpdgtest.Run(t, "-d", root, "-t")
	if res.Code != 1 || !strings.Contains(res.Stderr, "Unknown Authz provider: by_word") {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
}

// TestLuaInherit: hooks of nested sections merge as mod_lua's
// LuaInherit says: parent-first (the default) after the inherited ones,
// parent-last before them, none instead of them.
func TestLuaInherit(t *testing.T) {
	mark := func(name string) string {
		return "function " + name + "(r)\n  r.err_headers_out['X-Order'] = (r.err_headers_out['X-Order'] or '') .. '" + name + ",'\n  return apache2.DECLINED\nend\n"
	}
	s := serve(t, map[string]string{"lua/h.lua": mark("top") + mark("a") + mark("none") + mark("last") + mark("deep")},
		"LuaHookFixups lua/h.lua top",
		"<Location /a>", "LuaHookFixups lua/h.lua a", "</Location>",
		"<Location /a/none>", "LuaInherit none", "LuaHookFixups lua/h.lua none", "</Location>",
		"<Location /a/last>", "LuaInherit parent-last", "LuaHookFixups lua/h.lua last", "</Location>",
		"<Location /a/last/deep>", "LuaHookFixups lua/h.lua deep", "</Location>")
	for path, want := range map[string]string{
		"/b":              "top,",
		"/a/x":            "top,a,",
		"/a/none/x":       "none,",
		"/a/last/x":       "last,top,a,",
		"/a/last/deep/x":  "last,top,a,deep,",
		"/a/none/deeper/": "none,",
	} {
		resp, _ := get(t, s.URL+path)
		if got := resp.Header.Get("X-Order"); got != want {
			t.Errorf("%s: hooks ran %q, want %q", path, got, want)
		}
	}
}

// SPEC §8's Perlbal hooks take Lua functions as they take Go handlers.
func TestLuaPerlbalHooks(t *testing.T) {
	s := serve(t, map[string]string{
		"htdocs/a.txt":     "alpha\n",
		"htdocs/b.txt":     "beta\n",
		"htdocs/x.private": "no\n",
		"lua/perlbal.lua": `
function start(r) r.headers_out["X-Start"] = "seen"; return apache2.DECLINED end
function missing(r)
  if r.uri:match("^/fallback") then r.content_type = "text/plain"; r:puts("fallback ", r.uri); return apache2.OK end
  return apache2.DECLINED
end
function presend(r)
  if r.uri:match("%.private$") then return 403 end
  return apache2.DECLINED
end
function sendfile(r)
  r.headers_out["X-Length"] = r.headers_out["Content-Length"]
  if r.uri == "/b.txt" then r.headers_out["Content-Length"] = nil; r:puts("instead of beta"); return apache2.OK end
  return apache2.DECLINED
end
function modify(r) r.headers_out["X-Modified"] = tostring(r.status); return apache2.OK end
`},
		"LuaHookStartServeRequest lua/perlbal.lua start",
		"LuaHookStaticFileMissing lua/perlbal.lua missing",
		"LuaHookStaticPreSend lua/perlbal.lua presend",
		"LuaHookStartSendFile lua/perlbal.lua sendfile",
		"LuaHookModifyResponseHeaders lua/perlbal.lua modify")
	resp, body := get(t, s.URL+"/a.txt")
	want(t, resp, body, 200, "alpha\n")
	if resp.Header.Get("X-Start") != "seen" || resp.Header.Get("X-Length") != "6" || resp.Header.Get("X-Modified") != "200" {
		t.Fatalf("/a.txt headers: %v", resp.Header)
	}
	resp, body = get(t, s.URL+"/b.txt")
	want(t, resp, body, 200, "instead of beta")
	resp, body = get(t, s.URL+"/fallback-1")
	want(t, resp, body, 200, "fallback /fallback-1")
	if resp, _ := get(t, s.URL+"/x.private"); resp.StatusCode != 403 || resp.Header.Get("X-Modified") != "403" {
		t.Fatalf("/x.private: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, s.URL+"/nothing"); resp.StatusCode != 404 {
		t.Fatalf("/nothing: %d", resp.StatusCode)
	}
}

// The proxy's Perlbal hooks in Lua: a header set when the backend is
// chosen reaches it, one set when its answer arrives reaches the client,
// and the end of the exchange is seen.
func TestLuaProxyHooks(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Saw", r.Header.Get("X-Chosen"))
		io.WriteString(w, "from the backend")
	}))
	defer backend.Close()
	s := serve(t, map[string]string{
		"lua/proxy.lua": `
function chosen(r) r.headers_in["X-Chosen"] = "yes"; return apache2.DECLINED end
function received(r) r.headers_out["X-Received"] = r.headers_out["X-Backend-Saw"]; return apache2.DECLINED end
function ended(r) r:info("proxied exchange over: " .. r.uri) end
`},
		"LogLevel info",
		"ProxyPass /app/ "+backend.URL+"/",
		"LuaHookBackendClientAssigned lua/proxy.lua chosen",
		"LuaHookBackendResponseReceived lua/proxy.lua received",
		"LuaHookEndProxyRequest lua/proxy.lua ended")
	resp, body := get(t, s.URL+"/app/x")
	want(t, resp, body, 200, "from the backend")
	if resp.Header.Get("X-Received") != "yes" {
		t.Fatalf("headers: %v", resp.Header)
	}
	waitFor(t, s, regexp.MustCompile(`proxied exchange over: /app/x`))
}

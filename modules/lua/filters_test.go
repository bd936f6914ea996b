package lua_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// filterScripts are the Lua filters and handlers the filter tests use.
var filterScripts = map[string]string{
	"lua/filters.lua": `
function upper(r)
  coroutine.yield("<<")           -- setup: prepended
  while bucket do
    coroutine.yield(string.upper(bucket))
  end
  coroutine.yield(">>")           -- after the last chunk: appended
end
function decline(r)
  return apache2.DECLINED
end
function failing(r)
  coroutine.yield()
  while bucket do
    if string.find(bucket, "boom", 1, true) then
      error("the filter met boom")
    end
    coroutine.yield(bucket)
  end
end
function failsetup(r)
  error("no setup today")
end
function upin(r)
  coroutine.yield()
  while bucket do
    coroutine.yield(string.upper(bucket))
  end
end
`,
	"lua/app.lua": `
function handle(r)
  r.content_type = "text/plain"
  r:puts("from lua ")
  r:flush()
  r:puts("handler")
end
function stream(r)
  r.content_type = "text/plain"
  r:puts(string.rep("x", 100))
  r:flush()
  r:puts("boom")
  r:flush()
  r:puts("never")
end
function echo(r)
  r.content_type = "text/plain"
  r:puts(r:requestbody())
end
`,
	"htdocs/f/page.txt":   "a static page\n",
	"htdocs/f/small.txt":  "tiny",
	"htdocs/plain.txt":    "not filtered\n",
	"htdocs/d/page.txt":   "declined\n",
	"htdocs/e/page.txt":   "has boom inside\n",
	"htdocs/s/page.txt":   "setup fails\n",
	"htdocs/app/x.lua":    "",
	"htdocs/app/echo.lua": "",
}

var filterLines = []string{
	"LuaOutputFilter UPPER lua/filters.lua upper",
	"LuaOutputFilter NOPE lua/filters.lua decline",
	"LuaOutputFilter FAILING lua/filters.lua failing",
	"LuaOutputFilter FAILSETUP lua/filters.lua failsetup",
	"LuaInputFilter UPIN lua/filters.lua upin",
	"<Location /f>\n  SetOutputFilter UPPER\n</Location>",
	"<Location /d>\n  SetOutputFilter NOPE\n</Location>",
	"<Location /e>\n  SetOutputFilter FAILING\n</Location>",
	"<Location /s>\n  SetOutputFilter FAILSETUP\n</Location>",
	"<Location /nosuch>\n  SetOutputFilter NO-SUCH-FILTER\n</Location>",
	"AddOutputFilter UPPER .lua",
	"LuaMapHandler ^/app/x\\.lua$ lua/app.lua handle",
	"LuaMapHandler ^/app/stream\\.lua$ lua/app.lua stream",
	"LuaMapHandler ^/app/echo\\.lua$ lua/app.lua echo",
	"LuaMapHandler ^/in/echo$ lua/app.lua echo",
	"<Location /in>\n  SetInputFilter UPIN\n</Location>",
	"LuaScope thread",
}

func filterServer(t *testing.T) (url string, errorLog func() string) {
	files := map[string]string{}
	for k, v := range filterScripts {
		files[k] = v
	}
	s := serve(t, files, filterLines...)
	return s.URL, s.ErrorLog
}

func TestLuaOutputFilterOnStaticFile(t *testing.T) {
	url, _ := filterServer(t)
	// Repeated requests: a filtered answer is never replayed, every one
	// goes through the filter.
	for i := 0; i < 5; i++ {
		resp, body := get(t, url+"/f/page.txt")
		want(t, resp, body, 200, "<<A STATIC PAGE\n>>")
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != fmt.Sprint(len(body)) {
			t.Fatalf("request %d: Content-Length %s for a %d-byte body", i, cl, len(body))
		}
		if resp.Header.Get("ETag") != "" {
			t.Fatalf("request %d: the file's ETag was kept on a filtered body", i)
		}
	}
	// Unfiltered files keep their length and validators.
	resp, body := get(t, url+"/plain.txt")
	want(t, resp, body, 200, "not filtered\n")
	if resp.Header.Get("Content-Length") != "13" || resp.Header.Get("ETag") == "" {
		t.Errorf("unfiltered file: Content-Length %q, ETag %q", resp.Header.Get("Content-Length"), resp.Header.Get("ETag"))
	}
	// HEAD: the head of the filtered answer, no body.
	resp, body = fetch(t, "HEAD", url+"/f/page.txt", nil)
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Length") == "14" {
		t.Errorf("HEAD: %d %q, Content-Length %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}
	// An error page is not filtered.
	resp, body = get(t, url+"/f/missing.txt")
	if resp.StatusCode != 404 || strings.Contains(body, "<<") || strings.Contains(body, "NOT FOUND") {
		t.Errorf("404 page went through the filter: %d %q", resp.StatusCode, body)
	}
}

func TestLuaOutputFilterDeclinesAndUnknownName(t *testing.T) {
	url, errorLog := filterServer(t)
	resp, body := get(t, url+"/d/page.txt")
	want(t, resp, body, 200, "declined\n")
	if resp.Header.Get("Content-Length") != "9" {
		t.Errorf("a declining filter dropped Content-Length: %q", resp.Header.Get("Content-Length"))
	}
	// Apache logs an unknown filter name and serves on.
	resp, body = get(t, url+"/nosuch/")
	if resp.StatusCode != 404 {
		t.Errorf("unknown filter: %d %q", resp.StatusCode, body)
	}
	waitForLog(t, errorLog, "an unknown filter was not added: NO-SUCH-FILTER")
}

// A Lua handler's output, filtered by AddOutputFilter by extension: the
// handler's flush makes two chunks, the filter sees both.
func TestLuaOutputFilterByExtensionOnLuaHandler(t *testing.T) {
	url, _ := filterServer(t)
	for i := 0; i < 3; i++ {
		resp, body := get(t, url+"/app/x.lua")
		want(t, resp, body, 200, "<<FROM LUA HANDLER>>")
		if resp.TransferEncoding == nil && resp.ContentLength != int64(len(body)) {
			t.Fatalf("a flushed filtered body is neither chunked nor sized right: %v %d", resp.TransferEncoding, resp.ContentLength)
		}
	}
}

func TestLuaOutputFilterErrors(t *testing.T) {
	url, errorLog := filterServer(t)
	// Failing before anything was sent: a 500.
	resp, body := get(t, url+"/e/page.txt")
	if resp.StatusCode != 500 || strings.Contains(body, "boom") {
		t.Errorf("filter failing on the only chunk: %d %q, want a 500", resp.StatusCode, body)
	}
	waitForLog(t, errorLog, "lua/filters.lua:16: the filter met boom")
	resp, _ = get(t, url+"/s/page.txt")
	if resp.StatusCode != 500 {
		t.Errorf("filter failing in its setup: %d, want 500", resp.StatusCode)
	}
	waitForLog(t, errorLog, "lua/filters.lua:22: no setup today")

	// The same handler's stream, through UPPER only (by extension),
	// completes: each flushed chunk is filtered.
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /app/stream.lua HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream through UPPER: %v", err)
	}
	if string(b) != "<<"+strings.Repeat("X", 100)+"BOOMNEVER>>" {
		t.Errorf("stream through UPPER: %q", b)
	}
}

func TestLuaOutputFilterFailingMidway(t *testing.T) {
	files := map[string]string{}
	for k, v := range filterScripts {
		files[k] = v
	}
	s := serve(t, files, "LuaOutputFilter FAILING lua/filters.lua failing",
		"LuaMapHandler ^/stream$ lua/app.lua stream", "<Location /stream>\n  SetOutputFilter FAILING\n</Location>")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: the head went out with the first chunk", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the body completed (%q) though the filter failed mid-way", b)
	}
	if string(b) != strings.Repeat("x", 100) {
		t.Errorf("got %q before the cut, want the first chunk", b)
	}
	waitForLog(t, s.ErrorLog, "lua/filters.lua:16: the filter met boom")
}

// An input filter upper-cases a POST body that a Lua handler reads.
func TestLuaInputFilter(t *testing.T) {
	url, _ := filterServer(t)
	payload := strings.Repeat("abc", 10000)
	resp, err := http.Post(url+"/in/echo", "text/plain", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != strings.ToUpper(payload) {
		t.Errorf("POST through UPIN: %d, %d bytes (%.30q...)", resp.StatusCode, len(b), b)
	}
}

// waitForLog waits (up to 5 s) for the error log to hold s.
func waitForLog(t *testing.T, errorLog func() string, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(errorLog(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("error log has no %q:\n%s", s, errorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With LuaScope request, a filter in the handler's own script shares its
// state (as in mod_lua): the filter runs inside the handler's r:puts and
// sees the globals the handler set.
func TestLuaOutputFilterSharesRequestState(t *testing.T) {
	s := serve(t, map[string]string{"lua/both.lua": `
function handle(r)
  tag = "set by the handler"
  r.content_type = "text/plain"
  r:puts("one ")
  r:flush()
  r:puts("two")
end
function wrap(r)
  coroutine.yield("[")
  while bucket do
    coroutine.yield(string.upper(bucket))
  end
  coroutine.yield("] " .. tostring(tag))
end
`}, "LuaScope request", "LuaOutputFilter WRAP lua/both.lua wrap",
		"LuaMapHandler ^/both$ lua/both.lua", "<Location /both>\n  SetOutputFilter WRAP\n</Location>")
	for i := 0; i < 3; i++ {
		resp, body := get(t, s.URL+"/both")
		want(t, resp, body, 200, "[ONE TWO] set by the handler")
	}
}

// With LuaScope server and a max, a filter of the handler's own script
// does not wait for a state the handler holds: the filter's setup runs
// inside the handler's first r:puts, so waiting would hang the request.
func TestLuaOutputFilterUnderScopeServerMax(t *testing.T) {
	s := serve(t, map[string]string{"lua/both.lua": `
function handle(r)
  r.content_type = "text/plain"
  r:puts("one ")
  r:puts("two")
end
function wrap(r)
  coroutine.yield("[")
  while bucket do
    coroutine.yield(string.upper(bucket))
  end
  coroutine.yield("]")
end
`}, "LuaScope server 1 1", "LuaOutputFilter WRAP lua/both.lua wrap",
		"LuaMapHandler ^/both$ lua/both.lua", "<Location /both>\n  SetOutputFilter WRAP\n</Location>")
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(s.URL + "/both")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want(t, resp, string(b), 200, "[ONE TWO]")
	}
}

package mpm_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm"
	"github.com/httpdg/httpdg/phases"

	_ "github.com/httpdg/httpdg/modules/standard"
)

// discardWriter is a ResponseWriter that keeps the status and drops the
// bytes, reused across iterations.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// benchHandler starts a generation on a tree with the given config lines
// (after a Listen that is never bound) and returns its request handler.
func benchHandler(b *testing.B, files map[string]string, lines ...string) http.Handler {
	b.Helper()
	h, _ := newTestHandler(b, files, lines...)
	// The static module caches a file's contents once its ctime (which
	// cannot be set back) is two seconds old: measure the steady state.
	time.Sleep(2100 * time.Millisecond)
	return h
}

// newTestHandler starts a generation on a tree with the given config
// lines and returns its request handler and the server root.
func newTestHandler(b testing.TB, files map[string]string, lines ...string) (http.Handler, string) {
	b.Helper()
	root := b.TempDir()
	files["conf/httpd.conf"] = "Listen 127.0.0.1:1\nServerName localhost\nErrorLog logs/error_log\nPidFile logs/httpdg.pid\n" + strings.Join(lines, "\n") + "\n"
	files["logs/.keep"] = ""
	past := time.Now().Add(-time.Hour)
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		_ = os.Chtimes(p, past, past)
	}
	reg, err := phases.Directives()
	if err != nil {
		b.Fatal(err)
	}
	lc := phases.NewLifecycle(func() (*config.Config, error) {
		return config.Load(config.Options{ServerRoot: root, File: "conf/httpd.conf", Modules: phases.ModuleInfos(), Registry: reg})
	})
	if err := lc.Start(); err != nil {
		b.Fatal(err)
	}
	pchild := lc.ChildInit()
	b.Cleanup(func() { lc.ChildExit(pchild); lc.Shutdown() })
	return mpm.NewHandlerForTest(lc, pchild), root
}

// benchRequests runs the request path (phases, modules, the engine's
// response writer) for GET path, without the network.
func benchRequests(b *testing.B, h http.Handler, path string, wantBytes int) {
	req, err := http.NewRequest("GET", "http://localhost"+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RequestURI = path
	req.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.n != wantBytes {
			b.Fatalf("status %d, %d bytes, want %d", w.status, w.n, wantBytes)
		}
	}
}

// BenchmarkRequestPathStatic4K is the per-request cost of a 4 KB static
// file above the HTTP/1 layer: every phase, the stat, the contents cache.
func BenchmarkRequestPathStatic4K(b *testing.B) {
	types, err := os.ReadFile("../conf/mime.types")
	if err != nil {
		b.Fatal(err)
	}
	h := benchHandler(b, map[string]string{"htdocs/index.html": strings.Repeat("a", 4096), "conf/mime.types": string(types)},
		"DocumentRoot htdocs", "TypesConfig conf/mime.types")
	benchRequests(b, h, "/index.html", 4096)
}

// BenchmarkRequestPathLuaHello is the same for a LuaMapHandler writing
// "hello, world\n" (LuaScope thread, as the anchors benchmark).
func BenchmarkRequestPathLuaHello(b *testing.B) {
	h := benchHandler(b, map[string]string{"lua/hello.lua": "function handle(r)\n  r.content_type = \"text/plain\"\n  r:puts(\"hello, world\\n\")\n  return apache2.OK\nend\n"},
		"DocumentRoot htdocs", "LuaScope thread", "LuaCodeCache forever", `LuaMapHandler ^/lua$ lua/hello.lua handle`)
	benchRequests(b, h, "/lua", len("hello, world\n"))
}

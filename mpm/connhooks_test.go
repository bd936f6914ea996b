package mpm_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm"
	"github.com/httpdg/httpdg/phases"
)

// Go handlers for the connection hooks, compiled into this test only.
func init() {
	phases.RegisterModule(&phases.Module{Name: "mpmtest_module", Handlers: map[string]any{
		// pre_connection: tag the conn_rec; the request sees the tag.
		"mpmtest.Tag": func(c *phases.Connection, s *phases.Server) (phases.Status, error) {
			c.Notes["tag"] = "pre:" + c.ClientIP
			c.Pool.SetUserdata("mpmtest.pool", c.Pool)
			return phases.OK, nil
		},
		// pre_connection: refuse (the connection closes without a word).
		"mpmtest.Refuse": func(c *phases.Connection, s *phases.Server) (phases.Status, error) {
			return http.StatusForbidden, nil
		},
		// process_connection: a one-line protocol of its own.
		"mpmtest.Greet": func(c *phases.Connection, s *phases.Server) (phases.Status, error) {
			_, err := io.WriteString(c.Stream, "220 hello "+c.Notes["tag"]+"\r\n")
			return phases.OK, err
		},
		// process_connection: a bug.
		"mpmtest.Panic": func(c *phases.Connection, s *phases.Server) (phases.Status, error) {
			panic("handler bug")
		},
		// fixups: show what pre_connection left on the conn_rec.
		"mpmtest.Show": func(r *phases.Request) (phases.Status, error) {
			r.ErrHeadersOut.Set("X-Conn-Tag", r.Conn.Notes["tag"])
			v, _ := r.Conn.Pool.Userdata("mpmtest.pool")
			r.ErrHeadersOut.Set("X-Same-Pool", fmt.Sprint(v == r.Conn.Pool))
			return phases.DECLINED, nil
		},
	}})
}

// TestConnectionHooks runs pre_connection and process_connection in a
// one-process server (RunSingle, in this test process): the main
// server's pre_connection tags every connection and HTTP requests see the
// tag on the same conn_rec and pool; a virtual host's pre_connection
// refuses connections to its port (closed without a byte); another's
// process_connection answers its own protocol and HTTP never starts.
func TestConnectionHooks(t *testing.T) {
	httpPort, refusedPort, greetPort, panicPort := httpdgtest.FreePort(t), httpdgtest.FreePort(t), httpdgtest.FreePort(t), httpdgtest.FreePort(t)
	root := t.TempDir()
	conf := fmt.Sprintf(`ServerRoot %s
Listen 127.0.0.1:%d
Listen 127.0.0.1:%d
Listen 127.0.0.1:%d
Listen 127.0.0.1:%d
ServerName localhost
ErrorLog logs/error_log
PidFile logs/httpdg.pid
DocumentRoot htdocs
GoHookPreConnection mpmtest.Tag
GoHookFixups mpmtest.Show
<VirtualHost 127.0.0.1:%d>
    GoHookPreConnection mpmtest.Refuse
</VirtualHost>
<VirtualHost 127.0.0.1:%d>
    GoHookProcessConnection mpmtest.Greet
</VirtualHost>
<VirtualHost 127.0.0.1:%d>
    GoHookProcessConnection mpmtest.Panic
</VirtualHost>
`, root, httpPort, refusedPort, greetPort, panicPort, refusedPort, greetPort, panicPort)
	for _, d := range []string{"conf", "logs", "htdocs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "conf", "httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := phases.Directives()
	if err != nil {
		t.Fatal(err)
	}
	lc := phases.NewLifecycle(func() (*config.Config, error) {
		return config.Load(config.Options{ServerRoot: root, File: "conf/httpd.conf", Modules: phases.ModuleInfos(), Registry: reg})
	})
	sigs := make(chan os.Signal, 1)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- mpm.RunSingle(lc, sigs, func() { close(ready) }) }()
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunSingle: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}

	dial := func(port int) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		t.Cleanup(func() { c.Close() })
		return c
	}

	// HTTP, with the conn_rec pre_connection made: two requests on one
	// connection, both see the tag and the same pool.
	c := dial(httpPort)
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		io.WriteString(c, "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("X-Conn-Tag") != "pre:127.0.0.1" || resp.Header.Get("X-Same-Pool") != "true" {
			t.Fatalf("request %d: %d tag %q same pool %q", i, resp.StatusCode, resp.Header.Get("X-Conn-Tag"), resp.Header.Get("X-Same-Pool"))
		}
	}

	// The refused port: closed without a byte, even to a request.
	r := dial(refusedPort)
	io.WriteString(r, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	// (A close with the request unread may reach the client as a reset.)
	if b, err := io.ReadAll(r); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("refused connection got %q (%v), want nothing and a close", b, err)
	}

	// The protocol port: the handler's own answer, then the close.
	g := dial(greetPort)
	if b, err := io.ReadAll(g); string(b) != "220 hello pre:127.0.0.1\r\n" || err != nil {
		t.Fatalf("process_connection answer %q (%v)", b, err)
	}

	// A panicking handler: its connection ends, the server goes on.
	p := dial(panicPort)
	if b, err := io.ReadAll(p); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("panicking handler's connection got %q (%v)", b, err)
	}

	// And HTTP still works after all that.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/x", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("X-Conn-Tag"), "pre:") {
		t.Fatalf("after: %d %q", resp.StatusCode, resp.Header.Get("X-Conn-Tag"))
	}
}

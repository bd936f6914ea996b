package mpm_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/phases"
)

// perlbaltest_module's handlers exercise SPEC §8's hooks around the static
// handler: each takes over some requests and marks the others.
func init() {
	answer := func(r *phases.Request, body string) (phases.Status, error) {
		r.ContentType = "text/plain"
		delete(r.HeadersOut, "Content-Length") // the file's, if set already
		_, err := io.WriteString(r.Output, body)
		return phases.OK, err
	}
	phases.RegisterModule(&phases.Module{Name: "perlbaltest_module", Handlers: map[string]any{
		"perlbaltest.Start": func(r *phases.Request) (phases.Status, error) {
			if r.URI == "/start-takes-over" {
				return answer(r, "taken at start_serve_request")
			}
			r.HeadersOut.Set("X-Start", "seen")
			return phases.DECLINED, nil
		},
		"perlbaltest.Missing": func(r *phases.Request) (phases.Status, error) {
			if strings.HasPrefix(r.URI, "/fallback-") {
				return answer(r, "fallback for "+r.URI)
			}
			return phases.DECLINED, nil
		},
		"perlbaltest.PreSend": func(r *phases.Request) (phases.Status, error) {
			if strings.HasSuffix(r.URI, ".secret") {
				return http.StatusForbidden, nil
			}
			return phases.DECLINED, nil
		},
		"perlbaltest.SendFile": func(r *phases.Request) (phases.Status, error) {
			if r.URI == "/b.txt" {
				return answer(r, "sent by start_send_file")
			}
			r.HeadersOut.Set("X-Send-File", r.HeadersOut.Get("Content-Length"))
			return phases.DECLINED, nil
		},
	}})
}

func TestPerlbalHooksAroundTheStaticHandler(t *testing.T) {
	h, _ := newTestHandler(t, map[string]string{"htdocs/a.txt": "alpha\n", "htdocs/b.txt": "beta\n", "htdocs/x.secret": "no\n"},
		"DocumentRoot htdocs",
		"GoHookStartServeRequest perlbaltest.Start",
		"GoHookStaticFileMissing perlbaltest.Missing",
		"GoHookStaticPreSend perlbaltest.PreSend",
		"GoHookStartSendFile perlbaltest.SendFile",
	)
	for _, c := range []struct {
		path, body string
		status     int
		header     [2]string
	}{
		// Every hook declines: the file, marked by start_serve_request and
		// start_send_file (which sees the headers set for it).
		{"/a.txt", "alpha\n", 200, [2]string{"X-Send-File", "6"}},
		{"/a.txt", "alpha\n", 200, [2]string{"X-Start", "seen"}},
		{"/start-takes-over", "taken at start_serve_request", 200, [2]string{}},
		{"/fallback-x", "fallback for /fallback-x", 200, [2]string{}},
		{"/nothing-here", "", 404, [2]string{}},
		{"/x.secret", "", 403, [2]string{}},
		{"/b.txt", "sent by start_send_file", 200, [2]string{}},
	} {
		a := serve(h, "GET", c.path, nil)
		if a.status != c.status || (c.body != "" && a.body != c.body) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, a.status, a.body, c.status, c.body)
		}
		if c.header[0] != "" && a.header.Get(c.header[0]) != c.header[1] {
			t.Errorf("GET %s: %s %q, want %q (%v)", c.path, c.header[0], a.header.Get(c.header[0]), c.header[1], a.header)
		}
	}
}

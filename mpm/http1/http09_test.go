package http1

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// readAll reads what the server sends until it closes the connection.
func (c *client) readAll() string {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return string(b)
}

// TestHTTP09 covers AllowHTTP09 (Apache's HttpProtocolOptions Allow0.9):
// "GET target" with CRLF is served with the body alone and a close;
// other methods and shapes are 400s with a head, as Apache answers them.
func TestHTTP09(t *testing.T) {
	var seen []string
	s := &Server{AllowHTTP09: true, ErrorResponse: errorPage}
	addr := startServer(t, s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Proto+" "+r.Method+" "+r.RequestURI+" "+r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Not-Sent", "1")
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not here\n")
			return
		}
		io.WriteString(w, "body of "+r.URL.Path+"\n")
	}))

	for _, tc := range []struct{ name, req, want, seen string }{
		{"file", "GET /a.txt\r\n", "body of /a.txt\n", "HTTP/0.9 GET /a.txt /a.txt?"},
		{"query, trailing blank line", "GET /b?x=1\r\n\r\n", "body of /b\n", "HTTP/0.9 GET /b?x=1 /b?x=1"},
		{"error status: the body alone too", "GET /missing\r\n", "not here\n", "HTTP/0.9 GET /missing /missing?"},
		{"bad escape: the 400 page alone", "GET /a%zz\r\n", "<title>400 Bad Request</title>\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			c := dial(t, addr)
			c.send(tc.req)
			if got := c.readAll(); got != tc.want {
				t.Fatalf("answer %q, want %q", got, tc.want)
			}
			if tc.seen != "" && (len(seen) != 1 || seen[0] != tc.seen) {
				t.Fatalf("handler saw %q, want %q", seen, tc.seen)
			}
		})
	}

	for _, tc := range []struct{ name, req string }{
		{"POST", "POST /a.txt\r\n"},
		{"relative target", "GET a.txt\r\n"},
		{"bare LF", "GET /a.txt\n"},
		{"three words but bad protocol", "GET /a.txt HTTP/0.9\r\n\r\n"},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.req)
			got := c.readAll()
			if !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") || !strings.Contains(got, "Content-Length: ") || !strings.HasSuffix(got, "\r\n\r\n<title>400 Bad Request</title>\n") {
				t.Fatalf("answer %q, want a 400 with head and page", got)
			}
		})
	}

	t.Run("refused HEAD: head without length or page", func(t *testing.T) {
		c := dial(t, addr)
		c.send("HEAD /a.txt\r\n")
		got := c.readAll()
		if !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") || strings.Contains(got, "Content-Length") || !strings.HasSuffix(got, "\r\n\r\n") {
			t.Fatalf("answer %q", got)
		}
	})
}

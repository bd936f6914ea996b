package mpm_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
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
	// The socket stays open across the restart: requests keep being answered.
	for i := 0; i < 20; i++ {
		if resp, _ := get(t, s.URL+"/x"); resp.StatusCode != 404 {
			t.Fatalf("during restart: %d", resp.StatusCode)
		}
	}
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

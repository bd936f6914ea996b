package echo_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// TestProtocolEcho: a virtual host with ProtocolEcho On echoes whatever a
// client sends on its port (HTTP requests included, unanswered), while the
// main server's port goes on speaking HTTP.
func TestProtocolEcho(t *testing.T) {
	port, echoPort := httpdgtest.FreePort(t), httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port,
			fmt.Sprintf("Listen 127.0.0.1:%d", echoPort),
			"DocumentRoot htdocs",
			fmt.Sprintf("<VirtualHost 127.0.0.1:%d>", echoPort), "ProtocolEcho On", "</VirtualHost>"),
		"htdocs/a.txt": "a\n",
	})
	s := httpdgtest.Start(t, root, port)

	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", echoPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"hello\r\n", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", strings.Repeat("z", 20000)} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
			t.Fatalf("echo of %.20q: %.20q (%v)", msg, got, err)
		}
	}

	resp, err := http.Get(s.URL + "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "a\n" {
		t.Fatalf("HTTP port: %d %q", resp.StatusCode, b)
	}
}

func TestProtocolEchoNeedsFlag(t *testing.T) {
	res := httpdgtest.Run(t, "-t", "-C", "ProtocolEcho maybe", "-f", "/dev/null")
	if res.Code != 1 || !strings.Contains(res.Stderr, "ProtocolEcho must be On or Off") {
		t.Fatalf("exit %d, stderr %q", res.Code, res.Stderr)
	}
}

package mpm_test

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"

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

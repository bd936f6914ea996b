package core_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

func do(t *testing.T, method, url, host, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestTraceAndVhostSelection(t *testing.T) {
	port := httpdgtest.FreePort(t)
	conf := httpdgtest.Conf(port,
		fmt.Sprintf("<VirtualHost *:%d>\nServerName closed.test\nTraceEnable off\n</VirtualHost>", port),
		fmt.Sprintf("<VirtualHost *:%d>\nServerName open.test\nServerAlias *.open.test\n</VirtualHost>", port),
	)
	s := httpdgtest.Start(t, httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": conf}), port)
	cases := []struct {
		host string
		want int
	}{
		{"closed.test", 405},
		{"open.test", 200},
		{"www.open.test", 200}, // ServerAlias wildcard
		{"OPEN.TEST", 200},     // host names compare case-insensitively
		{"unknown.test", 405},  // the first vhost of the address is the default
	}
	for _, c := range cases {
		resp, body := do(t, "TRACE", s.URL+"/x?y=1", c.host, "")
		if resp.StatusCode != c.want {
			t.Errorf("TRACE with Host %s: %d, want %d", c.host, resp.StatusCode, c.want)
		}
		if c.want == 200 && (resp.Header.Get("Content-Type") != "message/http" || !strings.HasPrefix(body, "TRACE /x?y=1 HTTP/1.1\r\n")) {
			t.Errorf("TRACE echo: %q %q", resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, _ := do(t, "TRACE", s.URL+"/x", "open.test", "a body"); resp.StatusCode != 413 {
		t.Errorf("TRACE with a body: %d, want 413", resp.StatusCode)
	}
}

func TestLimitRequestBody(t *testing.T) {
	port := httpdgtest.FreePort(t)
	conf := httpdgtest.Conf(port, "<Location /small>\nLimitRequestBody 10\n</Location>")
	s := httpdgtest.Start(t, httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": conf}), port)
	if resp, _ := do(t, "POST", s.URL+"/small/x", "localhost", strings.Repeat("b", 20)); resp.StatusCode != 413 {
		t.Errorf("20 bytes to /small: %d, want 413", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", s.URL+"/small/x", "localhost", strings.Repeat("b", 10)); resp.StatusCode == 413 {
		t.Errorf("10 bytes to /small refused")
	}
	if resp, _ := do(t, "POST", s.URL+"/big/x", "localhost", strings.Repeat("b", 20)); resp.StatusCode == 413 {
		t.Errorf("20 bytes outside /small refused")
	}
}

func TestErrorDocumentTextAndURL(t *testing.T) {
	port := httpdgtest.FreePort(t)
	conf := httpdgtest.Conf(port,
		`ErrorDocument 404 "<p>No such page here</p>"`,
		"<Location /moved>\nErrorDocument 404 http://example.com/gone\n</Location>",
		"<Location /plain>\nErrorDocument 404 default\n</Location>")
	s := httpdgtest.Start(t, httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": conf}), port)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		resp, err := client.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/missing"); resp.StatusCode != 404 || body != "<p>No such page here</p>" {
		t.Errorf("text ErrorDocument: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/moved/x"); resp.StatusCode != 302 || resp.Header.Get("Location") != "http://example.com/gone" {
		t.Errorf("URL ErrorDocument: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := get("/plain/x"); resp.StatusCode != 404 || !strings.Contains(body, "<title>404 Not Found</title>") {
		t.Errorf("ErrorDocument default: %d %q", resp.StatusCode, body)
	}
}

// TestVhostErrorLogs: a <VirtualHost> with its own ErrorLog and LogLevel
// gets its requests' messages in its file at its level; one with only a
// LogLevel writes to the main server's file at its level; one with
// neither follows the main server (warn: no "File does not exist").
func TestVhostErrorLogs(t *testing.T) {
	port := httpdgtest.FreePort(t)
	conf := httpdgtest.Conf(port,
		"DocumentRoot htdocs", "LogLevel warn",
		fmt.Sprintf("<VirtualHost *:%d>", port), "ServerName a.test", "ErrorLog logs/a_error_log", "LogLevel info", "</VirtualHost>",
		fmt.Sprintf("<VirtualHost *:%d>", port), "ServerName b.test", "LogLevel info", "</VirtualHost>",
		fmt.Sprintf("<VirtualHost *:%d>", port), "ServerName c.test", "</VirtualHost>",
	)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": conf, "htdocs/.keep": ""})
	s := httpdgtest.Start(t, root, port)
	for _, host := range []string{"a.test", "b.test", "c.test"} {
		if resp, _ := do(t, "GET", s.URL+"/missing-"+host, host, ""); resp.StatusCode != 404 {
			t.Fatalf("%s: %d", host, resp.StatusCode)
		}
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(root, "logs", name))
		return string(b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(read("a_error_log"), "missing-a.test") || !strings.Contains(read("error_log"), "missing-b.test") {
		if time.Now().After(deadline) {
			t.Fatalf("a_error_log:\n%s\nerror_log:\n%s", read("a_error_log"), read("error_log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mainLog, aLog := read("error_log"), read("a_error_log")
	if strings.Contains(mainLog, "missing-a.test") || strings.Contains(aLog, "missing-b.test") {
		t.Errorf("a message in the wrong file:\nerror_log:\n%s\na_error_log:\n%s", mainLog, aLog)
	}
	if strings.Contains(mainLog, "missing-c.test") || strings.Contains(aLog, "missing-c.test") {
		t.Errorf("c.test logged at info with the main server's warn level")
	}
	if !strings.Contains(aLog, "[core:info]") || !strings.Contains(aLog, "] [client 127.0.0.1:") || !strings.Contains(aLog, "File does not exist") {
		t.Errorf("a_error_log: %q", aLog)
	}
}

// TestDirectoryLogLevel: a LogLevel inside <Location> applies to the
// messages about its requests only.
func TestDirectoryLogLevel(t *testing.T) {
	port := httpdgtest.FreePort(t)
	conf := httpdgtest.Conf(port, "DocumentRoot htdocs", "LogLevel warn",
		"<Location /loud>", "LogLevel info", "</Location>",
		"<Location /modules>", "LogLevel warn core:info", "</Location>")
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": conf, "htdocs/.keep": ""})
	s := httpdgtest.Start(t, root, port)
	for _, p := range []string{"/quiet/missing-q", "/loud/missing-l", "/modules/missing-m"} {
		if resp, _ := do(t, "GET", s.URL+p, "localhost", ""); resp.StatusCode != 404 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.ErrorLog(), "missing-l") || !strings.Contains(s.ErrorLog(), "missing-m") {
		if time.Now().After(deadline) {
			t.Fatalf("error_log:\n%s", s.ErrorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(s.ErrorLog(), "missing-q") {
		t.Fatalf("an info line for a request outside the sections:\n%s", s.ErrorLog())
	}
}

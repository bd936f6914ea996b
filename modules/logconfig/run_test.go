package logconfig_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// rawGet sends one request as written and returns the response status.
func rawGet(t *testing.T, port int, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req = strings.ReplaceAll(req, "\n", "\r\n")
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(req, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitLines waits until file holds n lines and returns them.
func waitLines(t *testing.T, file string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		lines := strings.SplitAfter(string(b), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				t.Fatalf("%s: %d lines, want %d:\n%s", file, len(lines), n, b)
			}
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var timeField = regexp.MustCompile(`\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`)

// TestCombinedMatchesApache checks access-log lines against what Apache
// 2.4.67 (Debian) wrote for the same requests and tree (observed with a
// local Apache on loopback; the time field is the only difference allowed).
// cmd/httpdg's TestApacheParity compares the combined line of every request
// of its parity table too (error pages' %b included) with Apache's.
func TestCombinedMatchesApache(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"htdocs/index.html": "hello\n",
		"htdocs/sub/a.txt":  "sub\n",
		"outside/f.txt":     "outside\n",
		// htpasswd -bB: bob / bobpw
		"conf/htpasswd": "bob:$2y$05$yQpxrEdqnLOo9NR.u2ErmelFgYiw9nacgqVfrG0pCGfghOVyILRi6\n",
	})
	conf := httpdgtest.Conf(port,
		"DocumentRoot htdocs",
		`CustomLog logs/access_log combined`,
		`CustomLog logs/ext_log "%a|%A|%B|%b|%{X-Foo}i|%{Location}o|%v|%V|%p|%{local}p|%U|%q|%H|%m|%s|%<s|%>s|%f|%X|%u|%{%Y}t|%l|%{note1}n|%200{Referer}i|%!200{Referer}i"`,
		`CustomLog "|cat > `+root+`/logs/piped_log" "%>s %U"`,
		`TransferLog logs/transfer_log`,
		`Alias /out `+root+`/outside`,
		`Redirect permanent /r2 /local/target`,
		`<Location /denied>`, `Require all denied`, `</Location>`,
		`<Location /auth>`, `AuthType Basic`, `AuthName "Members Only"`, `AuthUserFile conf/htpasswd`, `Require valid-user`, `</Location>`,
	)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := httpdgtest.Start(t, root, port)
	host := fmt.Sprintf("Host: 127.0.0.1:%d\n", port)
	reqs := []struct {
		req    string
		status int
		apache string // Apache's combined line, time as [T]
	}{
		{"GET /sub/a.txt?x=1&y=%20 HTTP/1.1\n" + host + "Referer: http://ref/x\"y\nUser-Agent: UA \"quoted\" \\ back\nX-Foo: a\nX-Foo: b\n\n", 200,
			`127.0.0.1 - - [T] "GET /sub/a.txt?x=1&y=%20 HTTP/1.1" 200 4 "http://ref/x\"y" "UA \"quoted\" \\ back"`},
		{"HEAD /auth/x?a=%22 HTTP/1.1\n" + host + "Authorization: Basic Ym9iOmJvYnB3\nReferer: /x\nUser-Agent: \xc3\xa9\\\"\n\n", 404,
			`127.0.0.1 - bob [T] "HEAD /auth/x?a=%22 HTTP/1.1" 404 - "/x" "\xc3\xa9\\\""`},
		{"HEAD /denied HTTP/1.1\n" + host + "User-Agent: curl/7.88.1\n\n", 403,
			`127.0.0.1 - - [T] "HEAD /denied HTTP/1.1" 403 - "-" "curl/7.88.1"`},
		{"HEAD /nope HTTP/1.1\n" + host + "User-Agent: curl/7.88.1\n\n", 404,
			`127.0.0.1 - - [T] "HEAD /nope HTTP/1.1" 404 - "-" "curl/7.88.1"`},
		{"GET /index.html HTTP/1.1\n" + host + "\n", 200,
			`127.0.0.1 - - [T] "GET /index.html HTTP/1.1" 200 6 "-" "-"`},
		{"GET /out/f.txt HTTP/1.1\n" + host + "User-Agent: curl/7.88.1\n\n", 200,
			`127.0.0.1 - - [T] "GET /out/f.txt HTTP/1.1" 200 8 "-" "curl/7.88.1"`},
		{"HEAD /auth/x HTTP/1.1\n" + host + "Authorization: Basic Ym9iOndyb25n\nUser-Agent: curl/7.88.1\n\n", 401,
			`127.0.0.1 - bob [T] "HEAD /auth/x HTTP/1.1" 401 - "-" "curl/7.88.1"`},
		{"HEAD /r2/a%20b HTTP/1.0\nUser-Agent: curl/7.88.1\n\n", 301,
			`127.0.0.1 - - [T] "HEAD /r2/a%20b HTTP/1.0" 301 - "-" "curl/7.88.1"`},
	}
	for _, rq := range reqs {
		if st := rawGet(t, port, rq.req); st != rq.status {
			t.Errorf("%q: status %d, want %d", strings.SplitN(rq.req, "\n", 2)[0], st, rq.status)
		}
	}
	lines := waitLines(t, filepath.Join(root, "logs/access_log"), len(reqs))
	for i, l := range lines {
		got := timeField.ReplaceAllString(l, "[T]")
		if got != reqs[i].apache+"\n" {
			t.Errorf("line %d:\n got %q\nwant %q", i, got, reqs[i].apache+"\n")
		}
	}
	// The same requests in the common format (TransferLog's default).
	for i, l := range waitLines(t, filepath.Join(root, "logs/transfer_log"), len(reqs)) {
		want := regexp.MustCompile(` "[^"\\]*(\\.[^"\\]*)*" "[^"\\]*(\\.[^"\\]*)*"$`).ReplaceAllString(reqs[i].apache, "")
		if got := timeField.ReplaceAllString(l, "[T]"); got != want+"\n" {
			t.Errorf("transfer line %d: got %q want %q", i, got, want)
		}
	}
	// Apache's ext_log for the first, second, fourth and last requests
	// (ports and roots replaced).
	ext := waitLines(t, filepath.Join(root, "logs/ext_log"), len(reqs))
	year := time.Now().Format("2006")
	wantExt := map[int]string{
		0: "127.0.0.1|127.0.0.1|4|4|a, b|-|localhost|127.0.0.1|80|PORT|/sub/a.txt|?x=1&y=%20|HTTP/1.1|GET|200|200|200|ROOT/htdocs/sub/a.txt|+|-|" + year + "|-|-|http://ref/x\\\"y|-",
		3: "127.0.0.1|127.0.0.1|0|-|-|-|localhost|127.0.0.1|80|PORT|/nope||HTTP/1.1|HEAD|404|404|404|ROOT/htdocs/nope|+|-|" + year + "|-|-|-|-",
		7: "127.0.0.1|127.0.0.1|0|-|-|http://localhost/local/target/a%20b|localhost|localhost|80|PORT|/r2/a b||HTTP/1.0|HEAD|301|301|301|-|-|-|" + year + "|-|-|-|-",
	}
	for i, want := range wantExt {
		got := strings.NewReplacer(fmt.Sprint(port), "PORT", root, "ROOT").Replace(strings.TrimSuffix(ext[i], "\n"))
		if got != want {
			t.Errorf("ext line %d:\n got %q\nwant %q", i, got, want)
		}
	}
	piped := waitLines(t, filepath.Join(root, "logs/piped_log"), len(reqs))
	if piped[0] != "200 /sub/a.txt\n" || piped[7] != "301 /r2/a b\n" {
		t.Errorf("piped log: %q", piped)
	}
	_ = s
}

func TestBufferedLogsFlushOnStop(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"htdocs/a": "a", "conf/.keep": ""})
	conf := httpdgtest.Conf(port, "DocumentRoot htdocs", "BufferedLogs On", `CustomLog logs/buf_log "%>s %U"`)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := httpdgtest.Start(t, root, port)
	for i := 0; i < 3; i++ {
		rawGet(t, port, "GET /a HTTP/1.1\nHost: x\n\n")
	}
	time.Sleep(100 * time.Millisecond)
	if b, _ := os.ReadFile(filepath.Join(root, "logs/buf_log")); len(b) != 0 {
		t.Errorf("buffered log written before the buffer filled: %q", b)
	}
	s.Stop()
	if b, _ := os.ReadFile(filepath.Join(root, "logs/buf_log")); string(b) != "200 /a\n200 /a\n200 /a\n" {
		t.Errorf("after stop: %q", b)
	}
}

// TestHostnameLookups: %h is the client's address by default, its
// reverse-DNS name under HostnameLookups On, and under Double the name only
// when it resolves back to the client; a section's setting applies to its
// requests. The expected name is what this machine's resolver says of
// 127.0.0.1 (the address itself when it has no name).
func TestHostnameLookups(t *testing.T) {
	name, verified := "127.0.0.1", false
	if names, err := net.LookupAddr("127.0.0.1"); err == nil && len(names) > 0 {
		name = strings.ToLower(strings.TrimSuffix(names[0], "."))
		if addrs, err := net.LookupHost(name); err == nil {
			for _, a := range addrs {
				verified = verified || a == "127.0.0.1"
			}
		}
	}
	double := "127.0.0.1"
	if verified {
		double = name
	}
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": httpdgtest.Conf(port, "DocumentRoot htdocs", `CustomLog logs/access_log "%h %U"`,
			"<Location /on>", "HostnameLookups On", "</Location>",
			"<Location /double>", "HostnameLookups Double", "</Location>"),
		"htdocs/f": "f",
	})
	httpdgtest.Start(t, root, port)
	for _, path := range []string{"/off", "/on", "/double"} {
		rawGet(t, port, "GET "+path+" HTTP/1.1\nHost: x\nConnection: close\n\n")
	}
	lines := waitLines(t, filepath.Join(root, "logs", "access_log"), 3)
	want := []string{"127.0.0.1 /off\n", name + " /on\n", double + " /double\n"}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, lines[i], want[i])
		}
	}
}

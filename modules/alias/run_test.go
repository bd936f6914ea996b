package alias_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// TestAliasAndRedirectMatchApache encodes Apache 2.4.67's answers for the
// same config (PORT stands for the port the client used).
func TestAliasAndRedirectMatchApache(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"htdocs/index.html": "hello\n",
		"outside/f.txt":     "outside\n",
		"conf/.keep":        "",
	})
	conf := httpdgtest.Conf(port, "DocumentRoot htdocs",
		"Alias /out "+root+"/outside",
		"Alias /o2/ "+root+"/outside/",
		`AliasMatch ^/m/(.*)\.txt$ `+root+`/outside/$1.txt`,
		"Alias /rel outside",
		"Redirect /r1 http://example.com/new",
		"Redirect permanent /r2 /local/target",
		"RedirectMatch 307 ^/rm/(.*)$ /elsewhere/$1",
		"Redirect gone /gone",
		"RedirectTemp /rt http://example.com/t",
		"<Location /loc>", "Redirect seeother http://example.com/fixed", "</Location>",
		"<Location /la>", "Alias "+root+"/outside/f.txt", "</Location>",
		"<Directory "+root+"/htdocs/d>", "Redirect /d/x http://example.com/dx", "</Directory>",
	)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := httpdgtest.Start(t, root, port)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		path     string
		status   int
		location string
		body     string
	}{
		{"/out/f.txt", 200, "", "outside\n"},
		{"/o2/f.txt", 200, "", "outside\n"},
		{"/out//f.txt", 200, "", "outside\n"},
		{"/outx/f.txt", 404, "", ""},
		{"/m/f.txt", 200, "", "outside\n"},
		{"/rel/f.txt", 200, "", "outside\n"},
		{"/la/anything", 200, "", "outside\n"},
		{"/r1/sub/x%20y", 302, "http://example.com/new/sub/x%20y", ""},
		{"/r1?q=1", 302, "http://example.com/new?q=1", ""},
		{"/r1/a%C3%A9%3b%3F%23%25x", 302, "http://example.com/new/a%c3%a9;%3f%23%25x", ""},
		{"/r1x", 404, "", ""},
		{"/r2/a", 301, "http://127.0.0.1:PORT/local/target/a", ""},
		{"/rm/a%20b", 307, "http://127.0.0.1:PORT/elsewhere/a%20b", ""},
		{"/gone/x", 410, "", ""},
		{"/rt", 302, "http://example.com/t", ""},
		{"/loc/deep?x=1", 303, "http://example.com/fixed?x=1", ""},
		{"/d/x", 302, "http://example.com/dx", ""},
	}
	for _, c := range cases {
		resp, err := client.Get(s.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := strings.ReplaceAll(resp.Header.Get("Location"), s.URL[len("http://127.0.0.1:"):], "PORT")
		if resp.StatusCode != c.status || loc != c.location || (c.body != "" && string(b) != c.body) {
			t.Errorf("%s: %d %q %q, want %d %q %q", c.path, resp.StatusCode, loc, b, c.status, c.location, c.body)
		}
	}
}

package headers_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

const hdrConf = `<Location /hdr>
  Header set X-Set "one"
  Header append X-Set "two"
  Header merge X-Set "one"
  Header merge X-Set "three"
  Header add X-Add a
  Header add X-Add b
  Header always set X-Always yes
  Header setifempty X-Set ignored
  Header setifempty X-Empty filled
  Header set X-Edit "hello world world"
  Header edit X-Edit world there
  Header set X-Edit2 "hello world world"
  Header edit* X-Edit2 world there
  Header echo ^X-Echo
  Header note X-Set mynote
  Header set X-Env yes env=myvar
  Header set X-NoEnv yes env=!myvar
  Header set X-Unset gone
  Header unset X-Unset
  Header set X-Fmt "%D %t %{myvar}e %%"
  RequestHeader set X-Req fromconf
  RequestHeader append X-Foo appended
</Location>
Header always set X-Early early early
CustomLog logs/req_log "%{X-Req}i|%{X-Foo}i|%{mynote}n|%{X-Set}o"
`

// TestHeadersMatchApache checks the response headers Apache 2.4.67 sent for
// the same config (X-Fmt's times aside; header names compare
// case-insensitively, as HTTP does).
func TestHeadersMatchApache(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"htdocs/hdr/x": "x\n", "conf/.keep": ""})
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(httpdgtest.Conf(port, "DocumentRoot htdocs", hdrConf)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := httpdgtest.Start(t, root, port)
	get := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("/hdr/x", map[string]string{"X-Echo-A": "1", "X-Echo-B": "2", "X-Foo": "orig"})
	want := map[string][]string{
		"X-Always": {"yes"}, "X-Set": {"one, two, three"}, "X-Add": {"a", "b"}, "X-Empty": {"filled"},
		"X-Edit": {"hello there world"}, "X-Edit2": {"hello there there"}, "X-Echo-A": {"1"}, "X-Echo-B": {"2"},
		"X-Noenv": {"yes"}, "X-Early": {"early"},
	}
	got := map[string][]string{}
	for k, v := range resp.Header {
		if strings.HasPrefix(k, "X-") && k != "X-Fmt" {
			got[k] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("200 headers:\n got %v\nwant %v", got, want)
	}
	if f := resp.Header.Get("X-Fmt"); !regexp.MustCompile(`^D=\d+ t=\d{16} \(null\) %$`).MatchString(f) {
		t.Errorf("X-Fmt = %q", f)
	}
	// An error response carries only the "always" headers.
	resp = get("/hdr/nope", map[string]string{"X-Foo": "orig"})
	got = map[string][]string{}
	for k, v := range resp.Header {
		if strings.HasPrefix(k, "X-") {
			got[k] = v
		}
	}
	if want := map[string][]string{"X-Always": {"yes"}, "X-Early": {"early"}}; resp.StatusCode != 404 || !reflect.DeepEqual(got, want) {
		t.Errorf("404: %d %v", resp.StatusCode, got)
	}
	get("/hdr/x", nil)
	// Apache's req_log for the three requests: RequestHeader applied in
	// fixups, Header note, and the final X-Set.
	wantLog := "fromconf|orig, appended|one, two, three|one, two, three\nfromconf|orig, appended|-|-\nfromconf|appended|one, two, three|one, two, three\n"
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(root, "logs/req_log"))
		if string(b) == wantLog {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("req_log:\n%s\nwant:\n%s", b, wantLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

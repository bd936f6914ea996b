package cgi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/phases"
)

func TestFindPathInfo(t *testing.T) {
	cases := []struct{ uri, pathInfo, scriptName string }{
		{"/cgi-bin/s.cgi/extra", "/extra", "/cgi-bin/s.cgi"},
		{"/cgi-bin/s.cgi/a/b", "/a/b", "/cgi-bin/s.cgi"},
		{"/cgi-bin/s.cgi/", "/", "/cgi-bin/s.cgi"},
		{"/cgi-bin/s.cgi//a", "/a", "/cgi-bin/s.cgi"}, // runs of '/' count as one
		{"/x/y", "/other", "/x/y"},                    // nothing in common: up to the next '/'
		{"/s/tail", "/s/tail", ""},
	}
	for _, c := range cases {
		if got := c.uri[:findPathInfo(c.uri, c.pathInfo)]; got != c.scriptName {
			t.Errorf("findPathInfo(%q, %q): SCRIPT_NAME %q, want %q", c.uri, c.pathInfo, got, c.scriptName)
		}
	}
}

func TestHTTP2Env(t *testing.T) {
	cases := map[string]string{"User-Agent": "HTTP_USER_AGENT", "x-forwarded-for": "HTTP_X_FORWARDED_FOR", "A1": "HTTP_A1"}
	for in, want := range cases {
		if got, ok := http2env(in); !ok || got != want {
			t.Errorf("http2env(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"X_Under", "X.Dot", "Sp ace"} {
		if got, ok := http2env(bad); ok {
			t.Errorf("http2env(%q) = %q, want it dropped", bad, got)
		}
	}
	if got := envName("1st.var-x"); got != "_st_var_x" {
		t.Errorf("envName = %q", got)
	}
}

func TestScriptArgs(t *testing.T) {
	cases := []struct {
		args string
		want []string
	}{
		{"", []string{"s.cgi"}},
		{"a=b", []string{"s.cgi"}},
		{"one+two%20three", []string{"s.cgi", "one", "two three"}},
		{"x%3By+%24HOME", []string{"s.cgi", `x\;y`, `\$HOME`}},
		{"bad%zz", []string{"s.cgi", "bad%zz"}},
	}
	for _, c := range cases {
		r := &phases.Request{Filename: "/srv/cgi-bin/s.cgi", Args: c.args}
		if got := scriptArgs(r); !reflect.DeepEqual(got, c.want) {
			t.Errorf("scriptArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestReadHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h, err := readHeader(bufio.NewReader(strings.NewReader(
		"Content-Type: Text/HTML; Charset=UTF-8\r\n"+
			"Status: 201 Made\r\n"+
			"Location: /there\n"+
			"Set-Cookie: a=1\n"+
			"Set-Cookie: b=2\n"+
			"X-Other:   spaced   \n"+
			"Transfer-Encoding: chunked\n"+
			"Last-Modified: Fri, 01 Jan 2100 00:00:00 GMT\n"+
			"\r\nbody")), now)
	if err != nil {
		t.Fatal(err)
	}
	if h.contentType != "text/html; charset=UTF-8" || h.status != 201 || h.out.Get("Location") != "/there" {
		t.Errorf("type %q, status %d, out %v", h.contentType, h.status, h.out)
	}
	if got := h.errOut.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1", "b=2"}) || h.errOut.Get("X-Other") != "spaced" {
		t.Errorf("err out %v", h.errOut)
	}
	if h.out.Get("Last-Modified") != now.Format(http.TimeFormat) {
		t.Errorf("Last-Modified in the future = %q, want the request time", h.out.Get("Last-Modified"))
	}
	if len(h.dropped) != 1 || h.out.Get("Transfer-Encoding") != "" {
		t.Errorf("dropped %q, out %v", h.dropped, h.out)
	}

	bad := []struct {
		in   string
		kind headerError
	}{
		{"", headerEOF},
		{"no newline", headerEOF},
		{"Content-Type: text/plain\n", headerPremature},
		{"hello world\n\n", headerMalformed},
		{"Bad Name: x\n\n", headerMalformed},
		{"Status: 42\n\n", headerStatus},
		{"Status: abc\n\n", headerStatus},
		{"Status: 100 Continue\n\n", headerStatus},
		{"X-Long: " + strings.Repeat("x", 9000) + "\n\n", headerMalformed},
	}
	for _, c := range bad {
		_, err := readHeader(bufio.NewReaderSize(strings.NewReader(c.in), maxHeaderLine+2), now)
		var pe *parseError
		if !errors.As(err, &pe) || pe.kind != c.kind {
			t.Errorf("readHeader(%.20q): %v, want kind %d", c.in, err, c.kind)
		}
	}
	// A read error is passed on.
	_, err = readHeader(bufio.NewReader(io.MultiReader(strings.NewReader("A: b\n"), errReader{errTimeout})), now)
	if !errors.Is(err, errTimeout) {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestAprError(t *testing.T) {
	err := exec.Command("/nonexistent/script").Run()
	if got := aprError(err); got != "(2)No such file or directory" {
		t.Errorf("aprError(%v) = %q", err, got)
	}
	if got := aprError(fmt.Errorf("wrapped: %w", syscall.EACCES)); got != "(13)Permission denied" {
		t.Errorf("EACCES: %q", got)
	}
	if got := aprError(syscall.ECONNRESET); got != "(104)Connection reset by peer" {
		t.Errorf("ECONNRESET: %q", got)
	}
}

func TestContentTypeToLower(t *testing.T) {
	if got := contentTypeToLower("TEXT/Plain; CharSet=Latin1; Q=\"A\""); got != "text/plain; charset=Latin1; q=\"A\"" {
		t.Errorf("got %q", got)
	}
}

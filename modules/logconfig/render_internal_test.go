package logconfig

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

func TestEnvConditionsAndItems(t *testing.T) {
	main := config.NewServer(nil, false, nil)
	items := func(f string) []Item {
		it, err := ParseFormat(f)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	var with, without, all bytes.Buffer
	g := &generation{main: main, logs: map[*config.Server][]*openLog{main: {
		{conf: &Log{Items: items("%U %{v}e %{n}n %404{X}i %!404{X}i %{Set-Cookie}o %{Content-Type}o %{c}C %q"), EnvVar: "v"}, w: &logWriter{out: nopCloser{&with}}},
		{conf: &Log{Items: items("%U"), EnvVar: "v", EnvNot: true}, w: &logWriter{out: nopCloser{&without}}},
		{conf: &Log{Items: items("%s %b %B %{sec}t %{begin:%Y}t %{end:msec_frac}t")}, w: &logWriter{out: nopCloser{&all}}},
	}}}
	req := func(uri string, env map[string]string) *phases.Request {
		r := &phases.Request{URI: uri, Status: 404, HeadersIn: http.Header{"X": {"x"}, "Cookie": {"a=1; c=3"}},
			HeadersOut: http.Header{"Set-Cookie": {"a=1", "b=2"}}, ErrHeadersOut: http.Header{},
			ContentType: "text/html; charset=utf-8", Notes: map[string]string{"n": "note\""}, SubprocessEnv: env,
			Server: &phases.Server{Main: main}, Vhost: main, Args: "q=1"}
		return r
	}
	for _, r := range []*phases.Request{req("/a", map[string]string{"v": "1"}), req("/b", map[string]string{})} {
		if _, err := g.logTransaction(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := with.String(); got != "/a 1 note\\\" x - a=1, b=2 text/html 3 ?q=1\n" {
		t.Errorf("env=v log: %q", got)
	}
	if got := without.String(); got != "/b\n" {
		t.Errorf("env=!v log: %q", got)
	}
	year := time.Now().Format("2006")
	if b := all.Bytes(); !bytes.HasPrefix(b, []byte("404 - 0 ")) || !bytes.Contains(b, []byte(" "+year+" ")) {
		t.Errorf("all log: %q", b)
	}
}

func TestEscapeLogItem(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"a\"b\\c":       `a\"b\\c`,
		"\b\n\r\t\v":    `\b\n\r\t\v`,
		"\x01\x7f\xc3":  `\x01\x7f\xc3`,
		"caf\xc3\xa9\"": `caf\xc3\xa9\"`,
	} {
		if got := EscapeLogItem(in); got != want {
			t.Errorf("EscapeLogItem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2026, 3, 7, 5, 4, 9, 0, time.FixedZone("X", 3600))
	if got := Strftime("%d/%b/%Y:%H:%M:%S %z|%e|%k|%l|%j|%u|%%|%F %T", tm); got != "07/Mar/2026:05:04:09 +0100| 7| 5| 5|066|6|%|2026-03-07 05:04:09" {
		t.Errorf("got %q", got)
	}
}

func TestBufferedWriter(t *testing.T) {
	var out bytes.Buffer
	w := &logWriter{out: nopCloser{&out}, buffered: true}
	line := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 4; i++ {
		_ = w.writeLine(line)
	}
	if out.Len() != 0 {
		t.Fatalf("wrote %d bytes before 4 KB were pending", out.Len())
	}
	_ = w.writeLine(line)
	if out.Len() != 4000 {
		t.Fatalf("after the fifth line: %d bytes written, want 4000", out.Len())
	}
	_ = w.close()
	if out.Len() != 5000 {
		t.Fatalf("after close: %d", out.Len())
	}
}

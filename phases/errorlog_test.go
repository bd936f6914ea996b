package phases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestErrorLogApacheLayout(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(&buf, ErrorLogOptions{Level: "warn"})
	l.Error("core", "could not bind to %s", "127.0.0.1:80")
	line := strings.TrimSuffix(buf.String(), "\n")
	re := regexp.MustCompile(`^\[[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}\] \[core:error\] \[pid (\d+):tid \d+\] could not bind to 127\.0\.0\.1:80$`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q is not in Apache's layout", line)
	}
	if m[1] != fmt.Sprint(os.Getpid()) {
		t.Fatalf("pid %s, want %d", m[1], os.Getpid())
	}
}

func TestErrorLogJSON(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(&buf, ErrorLogOptions{Format: "json", Level: "info"})
	l.Info("lua", "script %s reloaded", "x.lua")
	var ev map[string]any
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if ev["module"] != "lua" || ev["level"] != "info" || ev["message"] != "script x.lua reloaded" || ev["pid"] != float64(os.Getpid()) {
		t.Fatalf("event %v", ev)
	}
}

func TestErrorLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(&buf, ErrorLogOptions{Level: "warn", ModuleLevels: map[string]string{"ssl": "debug", "lua": "crit"}})
	cases := []struct {
		module, level string
		want          bool
	}{
		{"core", "error", true}, {"core", "warn", true}, {"core", "notice", true}, {"lua", "notice", true}, {"core", "debug", false},
		{"ssl", "debug", true}, {"ssl_module", "info", true}, {"ssl", "trace1", false},
		{"lua", "crit", true}, {"lua", "error", false}, {"core", "bogus", false},
	}
	for _, c := range cases {
		buf.Reset()
		l.Log(c.module, c.level, "m")
		if got := buf.Len() > 0; got != c.want {
			t.Errorf("%s at %s written=%v, want %v", c.module, c.level, got, c.want)
		}
	}
}

// TestErrorLogClient: a request's lines carry "[client ip:port]" after the
// pid, as Apache's (IPv6 without brackets); JSON has a client field; the
// log they come from is unchanged and cannot be closed through them.
func TestErrorLogClient(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(&buf, ErrorLogOptions{Level: "info"})
	l.WithClient("::1:48032").Info("core", "File does not exist: /x")
	l.Info("core", "no client here")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`\] \[core:info\] \[pid \d+:tid \d+\] \[client ::1:48032\] File does not exist: /x$`).MatchString(lines[0]) ||
		strings.Contains(lines[1], "[client") {
		t.Fatalf("lines %q", lines)
	}
	var jb bytes.Buffer
	NewErrorLog(&jb, ErrorLogOptions{Format: "json", Level: "info"}).WithClient("127.0.0.1:5").Info("core", "m")
	var ev map[string]any
	if err := json.Unmarshal(jb.Bytes(), &ev); err != nil || ev["client"] != "127.0.0.1:5" {
		t.Fatalf("json %s (%v)", jb.String(), err)
	}
	closed := false
	c := NewErrorLog(&buf, ErrorLogOptions{Closer: closerFunc(func() error { closed = true; return nil })})
	c.WithClient("1.2.3.4:5").Close()
	if closed {
		t.Fatal("closing a client view closed the log's file")
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestErrorLogWithLevels: a per-directory LogLevel view logs at its level
// and module levels, and leaves the log it comes from as it was.
func TestErrorLogWithLevels(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(&buf, ErrorLogOptions{Level: "warn", ModuleLevels: map[string]string{"ssl": "debug"}})
	v := l.WithLevels("info", map[string]string{"lua": "error"})
	v.Info("core", "dir info")
	v.Warn("lua", "lua warn dropped")
	v.Debug("ssl", "ssl debug kept")
	l.Info("core", "main info dropped")
	out := buf.String()
	for _, want := range []string{"dir info", "ssl debug kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %q", want, out)
		}
	}
	for _, not := range []string{"lua warn dropped", "main info dropped"} {
		if strings.Contains(out, not) {
			t.Errorf("%q logged: %q", not, out)
		}
	}
}

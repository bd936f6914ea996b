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

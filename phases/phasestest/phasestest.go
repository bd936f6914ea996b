// Package phasestest helps module tests load a config with every module
// compiled into the test binary.
package phasestest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// Load writes files (path relative to a fresh ServerRoot → content) and
// loads conf/httpd.conf with the directives of every registered module. It
// returns the config or the load error, and the ServerRoot.
func Load(t testing.TB, files map[string]string, defines ...string) (*config.Config, string, error) {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := phases.Directives()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Options{ServerRoot: root, Defines: defines, Modules: phases.ModuleInfos(), Registry: reg})
	return cfg, root, err
}

// LoadConf is Load with only conf/httpd.conf.
func LoadConf(t testing.TB, conf string) (*config.Config, error) {
	t.Helper()
	cfg, _, err := Load(t, map[string]string{"conf/httpd.conf": conf})
	return cfg, err
}

// WantError loads conf as conf/httpd.conf and fails t unless the load fails
// with an error naming "line <line> of" and containing want.
func WantError(t testing.TB, conf string, line int, want string) {
	t.Helper()
	_, err := LoadConf(t, conf)
	if err == nil {
		t.Fatalf("config loaded, want an error containing %q", want)
	}
	msg := err.Error()
	if at := fmt.Sprintf("Syntax error on line %d of ", line); !strings.Contains(msg, at) {
		t.Errorf("error %q does not name line %d", msg, line)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
}

// MustLoad loads conf as conf/httpd.conf and fails t on an error.
func MustLoad(t testing.TB, conf string) *config.Config {
	t.Helper()
	cfg, err := LoadConf(t, conf)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// writeLargeConfig writes a 10,000-line config: 1,000 <VirtualHost>
// sections of 10 lines each (ServerName, ServerAlias, DocumentRoot, ErrorLog
// and a <Directory> with core directives), plus a few server-wide lines.
func writeLargeConfig(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	var b strings.Builder
	b.WriteString("# 1,000 virtual hosts\nDefine BASE /srv/www\nListen 80\nServerName www.example.com\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, `<VirtualHost *:80>
    ServerName host%[1]d.example.com
    ServerAlias www.host%[1]d.example.com "alias%[1]d.example.com"
    DocumentRoot ${BASE}/host%[1]d
    ErrorLog logs/host%[1]d-error.log
    <Directory ${BASE}/host%[1]d>
        Options Indexes FollowSymLinks
        AllowOverride None
    </Directory>
</VirtualHost>
`, i)
	}
	if err := os.MkdirAll(filepath.Join(root, "conf"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "conf", "httpd.conf"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}

func loadOptions(tb testing.TB, root string) config.Options {
	tb.Helper()
	reg, err := phases.Directives()
	if err != nil {
		tb.Fatal(err)
	}
	return config.Options{ServerRoot: root, Registry: reg, Modules: phases.ModuleInfos()}
}

// BenchmarkLoad10k reads and processes a 10,000-line config with 1,000
// virtual hosts. The goal is under 50 ms per load.
func BenchmarkLoad10k(b *testing.B) {
	root := writeLargeConfig(b)
	opts := loadOptions(b, root)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := config.Load(opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Vhosts) != 1000 {
			b.Fatalf("%d virtual hosts", len(cfg.Vhosts))
		}
	}
}

// TestLoad10k checks the benchmark's config is valid, so `go test` catches a
// broken benchmark without running it.
func TestLoad10k(t *testing.T) {
	root := writeLargeConfig(t)
	data, err := os.ReadFile(filepath.Join(root, "conf", "httpd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n < 10000 {
		t.Fatalf("%d lines", n)
	}
	cfg, err := config.Load(loadOptions(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Vhosts) != 1000 || len(cfg.Vhosts[999].Sections) != 1 {
		t.Fatalf("%d virtual hosts", len(cfg.Vhosts))
	}
}

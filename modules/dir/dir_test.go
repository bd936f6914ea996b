package dir_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/dir"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestValid(t *testing.T) {
	cases := []struct {
		name  string
		conf  string
		check func(t *testing.T, cfg *config.Config)
	}{
		{"DirectoryIndex", "DirectoryIndex index.html index.php\nDirectoryIndex /cgi-bin/index.pl\n", func(t *testing.T, cfg *config.Config) {
			ds := dir.ServerDirOf(cfg.Main)
			if got := strings.Join(ds.Index, " "); got != "index.html index.php /cgi-bin/index.pl" || !ds.IndexSet || ds.IndexDisabled {
				t.Errorf("got %+v", ds)
			}
		}},
		{"DirectoryIndex disabled", "DirectoryIndex index.html\n<Directory /srv>\nDirectoryIndex Disabled\n</Directory>\n", func(t *testing.T, cfg *config.Config) {
			ds := dir.SectionOf(cfg.Main.Sections[0])
			if len(ds.Index) != 0 || !ds.IndexSet || !ds.IndexDisabled {
				t.Errorf("got %+v", ds)
			}
			if len(dir.ServerDirOf(cfg.Main).Index) != 1 {
				t.Errorf("server defaults changed")
			}
		}},
		{"DirectorySlash", "DirectorySlash on\n<Location /x>\nDirectorySlash Off\n</Location>\n", func(t *testing.T, cfg *config.Config) {
			s, l := dir.ServerDirOf(cfg.Main).Slash, dir.SectionOf(cfg.Main.Sections[0]).Slash
			if s == nil || !*s || l == nil || *l {
				t.Errorf("got %v %v", s, l)
			}
		}},
		{"FallbackResource", "<VirtualHost *:80>\nFallbackResource /index.php\n<Directory /srv/img>\nFallbackResource disabled\n</Directory>\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config) {
			vh := cfg.Vhosts[0]
			if got := dir.ServerDirOf(vh).Fallback; got != "/index.php" {
				t.Errorf("Fallback = %q", got)
			}
			if got := dir.SectionOf(vh.Sections[0]).Fallback; got != "disabled" {
				t.Errorf("section Fallback = %q", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := phasestest.MustLoad(t, tc.conf)
			tc.check(t, cfg)
		})
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name string
		conf string
		line int
		want string
	}{
		{"DirectoryIndex empty", "\nDirectoryIndex\n", 2, "DirectoryIndex requires at least one argument"},
		{"DirectoryIndex disabled and more", "DirectoryIndex index.html disabled\n", 1, "DirectoryIndex: 'disabled' must be the only argument"},
		{"DirectoryIndex full URL", "DirectoryIndex http://example.com/\n", 1, "DirectoryIndex: 'http://example.com/' is not a local URL"},
		{"DirectorySlash bad", "<Directory /x>\n\nDirectorySlash yes\n</Directory>\n", 3, "DirectorySlash must be On or Off"},
		{"FallbackResource two", "FallbackResource /a /b\n", 1, "FallbackResource takes one argument"},
		{"FallbackResource URL", "FallbackResource https://x/y\n", 1, "FallbackResource: 'https://x/y' is not a local URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phasestest.WantError(t, tc.conf, tc.line, tc.want)
		})
	}
}

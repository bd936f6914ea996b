package core_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestVirtualHost(t *testing.T) {
	runOK(t, []okCase{
		{"addresses", strings.Join([]string{
			"<VirtualHost *:80>", "ServerName a", "</VirtualHost>",
			"<VirtualHost 192.0.2.1:8080 [2001:db8::1]:443>", "ServerName b", "</VirtualHost>",
			"<VirtualHost _default_:443>", "</VirtualHost>",
			"<VirtualHost *>", "</VirtualHost>",
			"<VirtualHost www.example.com>", "</VirtualHost>",
			"<VirtualHost *:* [::1]>", "</VirtualHost>",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			want := []string{"*:80", "192.0.2.1:8080 [2001:db8::1]:443", "_default_:443", "*", "www.example.com", "*:* [::1]"}
			if len(cfg.Vhosts) != len(want) {
				t.Fatalf("got %d vhosts", len(cfg.Vhosts))
			}
			lines := []int{1, 4, 7, 9, 11, 13}
			for i, w := range want {
				vh := cfg.Vhosts[i]
				if got := strings.Join(vh.Addrs, " "); got != w || !vh.IsVirtual || vh.Origin.Line != lines[i] {
					t.Errorf("vhost %d = %q line %d, want %q line %d", i, got, vh.Origin.Line, w, lines[i])
				}
			}
			if core.ServerOf(cfg.Vhosts[0]).ServerName != "a" || core.ServerOf(cfg.Vhosts[1]).ServerName != "b" || core.ServerOf(cfg.Main).ServerName != "" {
				t.Errorf("ServerName went to the wrong server")
			}
			if cfg.Main.IsVirtual {
				t.Errorf("main server is virtual")
			}
		}},
		{"sections belong to their vhost", "<Directory /a>\n</Directory>\n<VirtualHost *:80>\n<Location /b>\nSetHandler x\n</Location>\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if len(cfg.Main.Sections) != 1 || cfg.Main.Sections[0].Arg != "/a" {
				t.Errorf("main sections = %+v", cfg.Main.Sections)
			}
			vs := cfg.Vhosts[0].Sections
			if len(vs) != 1 || vs[0].Kind != "Location" || vs[0].Arg != "/b" || dirOf(vs[0]).Handler != "x" {
				t.Errorf("vhost sections = %+v", vs)
			}
			if serverDirOf(cfg.Main).Handler != "" || serverDirOf(cfg.Vhosts[0]).Handler != "" {
				t.Errorf("SetHandler leaked into server defaults")
			}
		}},
	})
	runErrors(t, []errCase{
		{"nested", "<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n", "<VirtualHost> cannot occur within <VirtualHost> section", 2},
		{"in Directory", "<Directory />\n<VirtualHost *:81>\n</VirtualHost>\n</Directory>\n", "<VirtualHost> cannot occur within <Directory/Location/Files> section", 2},
		{"no address", "ServerName x\n<VirtualHost>\n</VirtualHost>\n", "<VirtualHost> requires at least one address", 2},
		{"bad port", "<VirtualHost *:70000>\n</VirtualHost>\n", "<VirtualHost> address *:70000: Invalid port '70000'", 1},
		{"unbracketed v6", "<VirtualHost 2001:db8::1>\n</VirtualHost>\n", "<VirtualHost> address 2001:db8::1: '2001:db8::1': an IPv6 address must be written in brackets", 1},
		{"error inside names its line", "<VirtualHost *:80>\nServerName a\nKeepAlive maybe\n</VirtualHost>\n", "KeepAlive must be On or Off", 3},
	})
}

func TestPathSections(t *testing.T) {
	runOK(t, []okCase{
		{"kinds", strings.Join([]string{
			"<Directory />", "</Directory>",
			"<Directory /srv/www/>", "</Directory>",
			"<Directory htdocs>", "</Directory>",
			"<Directory ~ \"^/srv/(a|b)\">", "</Directory>",
			"<DirectoryMatch ^/home/[^/]+/public_html>", "</DirectoryMatch>",
			"<Location /status>", "</Location>",
			"<Location ~ ^/api/v[0-9]+>", "</Location>",
			"<LocationMatch \"^/(img|css)/\">", "</LocationMatch>",
			"<Files .htaccess>", "</Files>",
			"<Files ~ \\.(gif|png)$>", "</Files>",
			"<FilesMatch \\.php$>", "</FilesMatch>",
			"<Directory /srv/*/htdocs>", "</Directory>",
		}, "\n"), func(t *testing.T, cfg *config.Config, root string) {
			want := []struct {
				kind, arg string
				regex     bool
				match     string
			}{
				{"Directory", "/", false, ""},
				{"Directory", "/srv/www", false, ""},
				{"Directory", filepath.Join(root, "htdocs"), false, ""},
				{"Directory", "^/srv/(a|b)", true, "/srv/b/x"},
				{"DirectoryMatch", "^/home/[^/]+/public_html", true, "/home/joe/public_html"},
				{"Location", "/status", false, ""},
				{"Location", "^/api/v[0-9]+", true, "/api/v2/x"},
				{"LocationMatch", "^/(img|css)/", true, "/css/a.css"},
				{"Files", ".htaccess", false, ""},
				{"Files", "\\.(gif|png)$", true, "a.png"},
				{"FilesMatch", "\\.php$", true, "index.php"},
				{"Directory", "/srv/*/htdocs", false, ""},
			}
			ss := cfg.Main.Sections
			if len(ss) != len(want) {
				t.Fatalf("got %d sections", len(ss))
			}
			for i, w := range want {
				s := ss[i]
				if s.Kind != w.kind || s.Arg != w.arg || (s.Regex != nil) != w.regex || s.Parent != nil || s.Origin.Line != 2*i+1 {
					t.Errorf("section %d = %s %q regex=%v line %d, want %+v", i, s.Kind, s.Arg, s.Regex != nil, s.Origin.Line, w)
				}
				if w.regex && s.Regex != nil && !s.Regex.MatchString(w.match) {
					t.Errorf("section %d regex %s does not match %q", i, s.Regex, w.match)
				}
			}
		}},
		{"Files inside Directory", "<Directory /srv>\nOptions Indexes\n<Files *.cgi>\nOptions ExecCGI\n</Files>\n<FilesMatch \\.x$>\n</FilesMatch>\n</Directory>\n", func(t *testing.T, cfg *config.Config, _ string) {
			d := cfg.Main.Sections
			if len(d) != 1 || len(d[0].Children) != 2 {
				t.Fatalf("sections = %+v", d)
			}
			f := d[0].Children[0]
			if f.Kind != "Files" || f.Arg != "*.cgi" || f.Parent != d[0] {
				t.Errorf("<Files> = %+v", f)
			}
			if got := dirOf(d[0]).Options; len(got) != 1 || got[0] != "Indexes" {
				t.Errorf("<Directory> Options = %q", got)
			}
			if got := dirOf(f).Options; len(got) != 1 || got[0] != "ExecCGI" {
				t.Errorf("<Files> Options = %q", got)
			}
			if d[0].Children[1].Kind != "FilesMatch" || d[0].Children[1].Regex == nil {
				t.Errorf("<FilesMatch> = %+v", d[0].Children[1])
			}
		}},
		{"Files inside Directory inside VirtualHost", "<VirtualHost *:80>\n<Directory /srv>\n<Files x>\nSetHandler h\n</Files>\n</Directory>\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if len(cfg.Main.Sections) != 0 {
				t.Errorf("main got sections")
			}
			f := cfg.Vhosts[0].Sections[0].Children[0]
			if dirOf(f).Handler != "h" || dirOf(cfg.Vhosts[0].Sections[0]).Handler != "" {
				t.Errorf("SetHandler in the wrong section")
			}
		}},
	})
	runErrors(t, []errCase{
		{"Directory in Directory", "<Directory /a>\n<Directory /a/b>\n</Directory>\n</Directory>\n", "<Directory> cannot occur within <Directory/Location/Files> section", 2},
		{"Location in Directory", "<Directory /a>\n<Location /b>\n</Location>\n</Directory>\n", "<Location> cannot occur within <Directory/Location/Files> section", 2},
		{"Location in Location", "<Location /a>\n<Location /b>\n</Location>\n</Location>\n", "<Location> cannot occur within <Directory/Location/Files> section", 2},
		{"DirectoryMatch in Files", "<Files a>\n<DirectoryMatch b>\n</DirectoryMatch>\n</Files>\n", "<DirectoryMatch> cannot occur within <Directory/Location/Files> section", 2},
		{"LocationMatch in Directory", "<Directory /a>\n<LocationMatch b>\n</LocationMatch>\n</Directory>\n", "<LocationMatch> cannot occur within <Directory/Location/Files> section", 2},
		{"Files in Location", "<Location /a>\n<Files b>\n</Files>\n</Location>\n", "<Files> cannot occur within <Location> section", 2},
		{"FilesMatch in LocationMatch", "<LocationMatch ^/a>\n<FilesMatch b>\n</FilesMatch>\n</LocationMatch>\n", "<FilesMatch> cannot occur within <Location> section", 2},
		{"Files in Files", "<Files a>\n<Files b>\n</Files>\n</Files>\n", "<Files> cannot occur within <Files> section", 2},
		{"Directory bad regex", "<Directory ~ ^/(a>\n</Directory>\n", "Regex could not be compiled: <Directory ^/(a>", 1},
		{"DirectoryMatch bad regex", "\n<DirectoryMatch [z-a]>\n</DirectoryMatch>\n", "Regex could not be compiled: <DirectoryMatch [z-a]>", 2},
		{"Location bad regex", "<Location ~ \"(\">\n</Location>\n", "Regex could not be compiled: <Location (>", 1},
		{"LocationMatch bad regex", "<LocationMatch *x>\n</LocationMatch>\n", "Regex could not be compiled: <LocationMatch *x>", 1},
		{"Files bad regex", "<Files ~ \"a(\">\n</Files>\n", "Regex could not be compiled: <Files a(>", 1},
		{"FilesMatch bad regex nested", "<Directory /a>\n<FilesMatch ?>\n</FilesMatch>\n</Directory>\n", "Regex could not be compiled: <FilesMatch ?>", 2},
		{"Directory no arg", "<Directory>\n</Directory>\n", "<Directory> directive requires additional arguments", 1},
		{"Location two args", "<Location /a /b>\n</Location>\n", "<Location> takes one argument (a path, or ~ and a regular expression)", 1},
		{"Directory ~ only", "<Directory ~>\n</Directory>\n", "<Directory ~ > block must specify a path", 1},
		{"Files ~ only", "<Files ~>\n</Files>\n", "<Files ~ > block must specify a path", 1},
		{"error in nested Files", "<Directory /a>\n<Files b>\nOptions +Indexes ExecCGI\n</Files>\n</Directory>\n", "Either all Options must start with + or -, or no Option may.", 3},
	})
}

func TestErrorInIncludedFile(t *testing.T) {
	_, root, err := phasestest.Load(t, map[string]string{
		"conf/httpd.conf":  "ServerName x\nInclude conf/vhosts.conf\n",
		"conf/vhosts.conf": "<VirtualHost *:80>\n<Directory /srv>\n<Directory /srv/a>\n</Directory>\n</Directory>\n</VirtualHost>\n",
	})
	if err == nil {
		t.Fatal("no error")
	}
	want := "Syntax error on line 3 of " + filepath.Join(root, "conf/vhosts.conf") + " (included from line 2 of " + filepath.Join(root, "conf/httpd.conf") + "):\n<Directory> cannot occur within <Directory/Location/Files> section"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

package core_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestOptions(t *testing.T) {
	opts := func(want string) func(t *testing.T, cfg *config.Config, _ string) {
		return func(t *testing.T, cfg *config.Config, _ string) {
			if got := strings.Join(dirOf(cfg.Main.Sections[0]).Options, " "); got != want {
				t.Errorf("Options = %q, want %q", got, want)
			}
		}
	}
	in := func(line string) string { return "<Directory /srv>\n" + line + "\n</Directory>\n" }
	runOK(t, []okCase{
		{"unsigned", in("Options indexes FollowSymLinks"), opts("Indexes FollowSymLinks")},
		{"signed", in("Options +Indexes -ExecCGI +includesnoexec"), opts("+Indexes -ExecCGI +IncludesNOEXEC")},
		{"None", in("Options None"), opts("None")},
		{"All", in("Options All"), opts("All")},
		{"None then signed", in("Options None +Indexes"), opts("None +Indexes")},
		{"All then signed", in("Options All -MultiViews"), opts("All -MultiViews")},
		{"every name", in("Options Indexes FollowSymLinks SymLinksIfOwnerMatch ExecCGI Includes IncludesNOEXEC MultiViews"), opts("Indexes FollowSymLinks SymLinksIfOwnerMatch ExecCGI Includes IncludesNOEXEC MultiViews")},
		{"server defaults", "Options -Indexes\n", func(t *testing.T, cfg *config.Config, _ string) {
			if got := serverDirOf(cfg.Main).Options; len(got) != 1 || got[0] != "-Indexes" {
				t.Errorf("Options = %q", got)
			}
		}},
		{"Location and Files", "<Location /x>\nOptions Indexes\n</Location>\n<Files y>\nOptions ExecCGI\n</Files>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if a, b := dirOf(cfg.Main.Sections[0]).Options, dirOf(cfg.Main.Sections[1]).Options; a[0] != "Indexes" || b[0] != "ExecCGI" {
				t.Errorf("Options = %q %q", a, b)
			}
		}},
	})
	runErrors(t, []errCase{
		{"unsigned then signed", in("Options Indexes +FollowSymLinks"), "Either all Options must start with + or -, or no Option may.", 2},
		{"signed then unsigned", in("Options +Indexes FollowSymLinks"), "Either all Options must start with + or -, or no Option may.", 2},
		{"unknown", in("Options Indexes Everything"), "Illegal option Everything", 2},
		{"unknown signed", in("Options +Nope"), "Illegal option Nope", 2},
		{"+None", in("Options +None"), "You may not use 'Options +None' or 'Options -None'.", 2},
		{"-All", in("Options -All"), "You may not use 'Options +All' or 'Options -All'.", 2},
		{"None not first", in("Options Indexes None"), "'Options None' must be the first Option given.", 2},
		{"All not first", in("Options Indexes All"), "'Options All' must be the first option given.", 2},
		{"signed All not first", in("Options +Indexes -All"), "'Options All' must be the first option given.", 2},
		{"no args", in("Options"), "Options requires at least one argument", 2},
	})
}

func TestAllowOverride(t *testing.T) {
	runOK(t, []okCase{
		{"forms", "<Directory /a>\nAllowOverride None\n</Directory>\n<Directory /b>\nAllowOverride AuthConfig FileInfo Indexes Limit Options=Indexes,MultiViews Nonfatal=Unknown\n</Directory>\n<VirtualHost *:80>\n<Directory /c>\nAllowOverride all\n</Directory>\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if a := dirOf(cfg.Main.Sections[0]).AllowOverride; strings.Join(a, " ") != "None" {
				t.Errorf("/a = %q", a)
			}
			if b := dirOf(cfg.Main.Sections[1]).AllowOverride; len(b) != 6 {
				t.Errorf("/b = %q", b)
			}
			if c := dirOf(cfg.Vhosts[0].Sections[0]).AllowOverride; strings.Join(c, " ") != "all" {
				t.Errorf("/c = %q", c)
			}
		}},
	})
	runErrors(t, []errCase{
		{"server config", "AllowOverride All\n", "AllowOverride not allowed here", 1},
		{"vhost", "<VirtualHost *:80>\nAllowOverride All\n</VirtualHost>\n", "AllowOverride not allowed here", 2},
		{"Location", "<Location />\nAllowOverride All\n</Location>\n", "AllowOverride cannot occur within <Location> section", 2},
		{"Files", "<Files x>\nAllowOverride All\n</Files>\n", "AllowOverride cannot occur within <Files> section", 2},
		{"Files in Directory", "<Directory />\n<Files x>\nAllowOverride All\n</Files>\n</Directory>\n", "AllowOverride cannot occur within <Files> section", 3},
		{"Directory regex", "<Directory ~ ^/srv>\nAllowOverride All\n</Directory>\n", "AllowOverride not allowed here (only in <Directory> sections without a regular expression)", 2},
		{"DirectoryMatch", "<DirectoryMatch ^/srv>\nAllowOverride All\n</DirectoryMatch>\n", "AllowOverride not allowed here (only in <Directory> sections without a regular expression)", 2},
		{"unknown", "<Directory />\nAllowOverride On\n</Directory>\n", "Illegal override option On", 2},
		{"value on a plain name", "<Directory />\nAllowOverride FileInfo=x\n</Directory>\n", "Illegal override option FileInfo=x", 2},
		{"bad Options=", "<Directory />\nAllowOverride Options=Indexes,Bogus\n</Directory>\n", "Illegal option Bogus", 2},
		{"bad Nonfatal", "<Directory />\nAllowOverride Nonfatal=Some\n</Directory>\n", "=Override, =Unknown or =All expected after Nonfatal", 2},
		{"bare Nonfatal", "<Directory />\nAllowOverride Nonfatal\n</Directory>\n", "=Override, =Unknown or =All expected after Nonfatal", 2},
		{"no args", "<Directory />\nAllowOverride\n</Directory>\n", "AllowOverride requires at least one argument", 2},
	})
}

func TestDirSettings(t *testing.T) {
	runOK(t, []okCase{
		{"server defaults, sections and vhosts", strings.Join([]string{
			"SetHandler default-handler",
			"AddDefaultCharset On",
			"ServerSignature EMail",
			"LimitRequestBody 0",
			"<Location /status>",
			"SetHandler server-status",
			"AddDefaultCharset utf-8",
			"ServerSignature off",
			"LimitRequestBody 2147483647",
			"</Location>",
			"<VirtualHost *:80>",
			"AddDefaultCharset Off",
			"<Files *.php>",
			"SetHandler None",
			"</Files>",
			"</VirtualHost>",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			m := serverDirOf(cfg.Main)
			if m.Handler != "default-handler" || m.AddDefaultCharset != "iso-8859-1" || m.ServerSignature != "EMail" || m.LimitRequestBody == nil || *m.LimitRequestBody != 0 {
				t.Errorf("main defaults = %+v", m)
			}
			s := dirOf(cfg.Main.Sections[0])
			if s.Handler != "server-status" || s.AddDefaultCharset != "utf-8" || s.ServerSignature != "Off" || *s.LimitRequestBody != 1<<31-1 {
				t.Errorf("<Location> = %+v", s)
			}
			v := serverDirOf(cfg.Vhosts[0])
			if v.AddDefaultCharset != "Off" || v.Handler != "" || v.LimitRequestBody != nil {
				t.Errorf("vhost defaults = %+v", v)
			}
			if h := dirOf(cfg.Vhosts[0].Sections[0]).Handler; h != "None" {
				t.Errorf("vhost <Files> handler = %q", h)
			}
		}},
	})
	runErrors(t, []errCase{
		{"SetHandler two args", "SetHandler a b\n", "SetHandler takes one argument, A resource name to handle all matching files", 1},
		{"LimitRequestBody negative", "LimitRequestBody -1\n", "LimitRequestBody: -1 is out of range (0 to 2147483647)", 1},
		{"LimitRequestBody too big", "<Directory />\nLimitRequestBody 2147483648\n</Directory>\n", "LimitRequestBody: 2147483648 is out of range", 2},
		{"LimitRequestBody words", "LimitRequestBody 1M\n", "LimitRequestBody: '1M' is not a whole number", 1},
		{"ServerSignature bad", "ServerSignature full\n", "ServerSignature: 'full' must be one of On, Off, EMail", 1},
		{"AddDefaultCharset none", "AddDefaultCharset\n", "AddDefaultCharset takes one argument", 1},
	})
}

func TestErrorDocument(t *testing.T) {
	runOK(t, []okCase{
		{"forms", strings.Join([]string{
			"ErrorDocument 404 /errors/404.html",
			"ErrorDocument 500 http://errors.example.com/500",
			"ErrorDocument 403 \"Sorry, can't allow you access today\"",
			"ErrorDocument 503 'Back soon'",
			"ErrorDocument 502 \"oops\"",
			"ErrorDocument 410 default",
			"<Directory /srv>",
			"ErrorDocument 404 /other.html",
			"</Directory>",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			want := map[int]string{404: "/errors/404.html", 500: "http://errors.example.com/500", 403: "Sorry, can't allow you access today", 503: "Back soon", 502: "oops", 410: "default"}
			got := serverDirOf(cfg.Main).ErrorDocuments
			if len(got) != len(want) {
				t.Errorf("got %v", got)
			}
			for code, doc := range want {
				if got[code] != doc {
					t.Errorf("%d = %q, want %q", code, got[code], doc)
				}
			}
			if s := dirOf(cfg.Main.Sections[0]).ErrorDocuments; len(s) != 1 || s[404] != "/other.html" {
				t.Errorf("section = %v", s)
			}
		}},
		{"401 with a URL is ignored", "ErrorDocument 401 https://login.example.com/\n", func(t *testing.T, cfg *config.Config, _ string) {
			if got := serverDirOf(cfg.Main).ErrorDocuments; len(got) != 0 {
				t.Errorf("got %v", got)
			}
			if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "cannot use a full URL in a 401 ErrorDocument") {
				t.Errorf("warnings = %v", cfg.Warnings)
			}
		}},
	})
	runErrors(t, []errCase{
		{"code too low", "ErrorDocument 200 /x\n", "Unsupported HTTP response code 200", 1},
		{"code too high", "ErrorDocument 600 /x\n", "Unsupported HTTP response code 600", 1},
		{"code words", "ErrorDocument notfound /x\n", "Unsupported HTTP response code notfound", 1},
		{"unquoted words", "ErrorDocument 404 Not found\n", "ErrorDocument takes two arguments, Change responses for HTTP errors", 1},
		{"one arg", "ErrorDocument 404\n", "ErrorDocument takes two arguments", 1},
	})
}

func TestErrorDocumentLoneWordIsTextWithWarning(t *testing.T) {
	cfg := phasestest.MustLoad(t, "ErrorDocument 404 errors/404.html\n")
	if got := serverDirOf(cfg.Main).ErrorDocuments[404]; got != "errors/404.html" {
		t.Fatalf("stored %q", got)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "is sent as the text of the error page") {
		t.Fatalf("warnings %v", cfg.Warnings)
	}
}

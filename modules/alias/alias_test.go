package alias_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/alias"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestValid(t *testing.T) {
	cases := []struct {
		name  string
		conf  string
		check func(t *testing.T, cfg *config.Config)
	}{
		{"Alias and ScriptAlias", "Alias /icons/ /usr/share/icons/\nScriptAlias /cgi-bin/ /srv/cgi-bin/\nAliasMatch ^/img/(.*)$ /srv/img/$1\nScriptAliasMatch ^/x/(.*) /srv/x/$1\n", func(t *testing.T, cfg *config.Config) {
			as := alias.ServerOf(cfg.Main).Aliases
			if len(as) != 4 {
				t.Fatalf("got %d aliases", len(as))
			}
			if as[0].Fake != "/icons/" || as[0].Real != "/usr/share/icons/" || as[0].Handler != "" || as[0].Regex != nil {
				t.Errorf("Alias = %+v", as[0])
			}
			if as[1].Handler != "cgi-script" || as[1].Real != "/srv/cgi-bin/" {
				t.Errorf("ScriptAlias = %+v", as[1])
			}
			if as[2].Regex == nil || !as[2].Regex.MatchString("/img/a.png") || as[2].Real != "/srv/img/$1" {
				t.Errorf("AliasMatch = %+v", as[2])
			}
			if as[3].Handler != "cgi-script" || as[3].Regex == nil {
				t.Errorf("ScriptAliasMatch = %+v", as[3])
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("warnings: %v", cfg.Warnings)
			}
		}},
		{"Alias in Location", "<Location /img>\nAlias /srv/images\n</Location>\n<Location /cgi>\nScriptAlias /srv/cgi\n</Location>\n", func(t *testing.T, cfg *config.Config) {
			a, b := alias.SectionOf(cfg.Main.Sections[0]), alias.SectionOf(cfg.Main.Sections[1])
			if a.LocationAlias != "/srv/images" || a.LocationHandler != "" || b.LocationAlias != "/srv/cgi" || b.LocationHandler != "cgi-script" {
				t.Errorf("got %+v %+v", a, b)
			}
		}},
		{"Alias in VirtualHost", "Alias /a /srv/a\n<VirtualHost *:80>\nAlias /b /srv/b\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config) {
			if len(alias.ServerOf(cfg.Main).Aliases) != 1 || alias.ServerOf(cfg.Vhosts[0]).Aliases[0].Fake != "/b" {
				t.Errorf("got %+v %+v", alias.ServerOf(cfg.Main), alias.ServerOf(cfg.Vhosts[0]))
			}
		}},
		{"overlapping Alias warns", "Alias /a /srv/a\nAlias /a/b /srv/b\n", func(t *testing.T, cfg *config.Config) {
			if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "overlaps an earlier Alias") {
				t.Errorf("warnings: %v", cfg.Warnings)
			}
		}},
		{"Redirect forms", strings.Join([]string{
			"Redirect /old http://example.com/new",
			"Redirect permanent /p https://example.com/p",
			"Redirect 303 /s /other",
			"Redirect gone /g",
			"Redirect 404 /nf",
			"Redirect seeother /so http://x/",
			"Redirect temp /t http://x/",
			"RedirectPermanent /rp http://x/rp",
			"RedirectTemp /rt /rt2",
			"RedirectMatch 301 ^/(.*)\\.gif$ http://x/$1.jpg",
			"RedirectMatch ^/m(.*) $1",
			"RedirectMatch gone ^/dead",
		}, "\n"), func(t *testing.T, cfg *config.Config) {
			rs := alias.ServerDirOf(cfg.Main).Redirects
			want := []struct {
				status   int
				fake     string
				url      string
				hasRegex bool
			}{
				{302, "/old", "http://example.com/new", false},
				{301, "/p", "https://example.com/p", false},
				{303, "/s", "/other", false},
				{410, "/g", "", false},
				{404, "/nf", "", false},
				{303, "/so", "http://x/", false},
				{302, "/t", "http://x/", false},
				{301, "/rp", "http://x/rp", false},
				{302, "/rt", "/rt2", false},
				{301, `^/(.*)\.gif$`, "http://x/$1.jpg", true},
				{302, "^/m(.*)", "$1", true},
				{410, "^/dead", "", true},
			}
			if len(rs) != len(want) {
				t.Fatalf("got %d redirects: %+v", len(rs), rs)
			}
			for i, w := range want {
				r := rs[i]
				if r.Status != w.status || r.Fake != w.fake || r.URL != w.url || (r.Regex != nil) != w.hasRegex {
					t.Errorf("redirect %d = %+v, want %+v", i, r, w)
				}
			}
		}},
		{"Redirect in Location", "<Location /old>\nRedirect http://x/new\nRedirect permanent http://x/p\nRedirect gone\n</Location>\n<Directory /srv>\nRedirect /a /b\n</Directory>\n", func(t *testing.T, cfg *config.Config) {
			rs := alias.SectionOf(cfg.Main.Sections[0]).Redirects
			if len(rs) != 3 || rs[0].Status != 302 || rs[0].URL != "http://x/new" || rs[0].Fake != "" ||
				rs[1].Status != 301 || rs[1].URL != "http://x/p" || rs[2].Status != 410 || rs[2].URL != "" {
				t.Errorf("got %+v", rs)
			}
			if rs := alias.SectionOf(cfg.Main.Sections[1]).Redirects; len(rs) != 1 || rs[0].Fake != "/a" {
				t.Errorf("got %+v", rs)
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
		{"Alias one arg globally", "\nAlias /srv/x\n", 2, "Alias must have two arguments when used globally"},
		{"Alias three args", "Alias /a /b /c\n", 1, "Alias takes 1-2 arguments"},
		{"Alias two args in Location", "<Location /x>\nAlias /a /b\n</Location>\n", 2, "Alias cannot occur within <Directory/Location/Files> section"},
		{"Alias in Directory", "<Directory /x>\nAlias /b\n</Directory>\n", 2, "Alias cannot occur within <Directory> section"},
		{"ScriptAlias in Files", "<Files x>\nScriptAlias /b\n</Files>\n", 2, "ScriptAlias cannot occur within <Files> section"},
		{"AliasMatch bad regex", "AliasMatch ^/(a /srv\n", 1, "AliasMatch: regular expression '^/(a' does not compile"},
		{"AliasMatch in Directory", "<Directory /x>\nAliasMatch ^/a /srv\n</Directory>\n", 2, "AliasMatch not allowed here"},
		{"ScriptAliasMatch one arg", "ScriptAliasMatch ^/a\n", 1, "ScriptAliasMatch takes two arguments"},
		{"Redirect non-URL", "Redirect /a example.com/b\n", 1, "Redirect to non-URL"},
		{"Redirect missing URL", "Redirect permanent /a\n", 1, "URL to redirect to is missing"},
		{"Redirect one arg globally", "Redirect /a\n", 1, "URL to redirect to is missing"},
		{"Redirect gone with URL", "Redirect gone /a http://x/\n", 1, "Redirect URL not valid for this status"},
		{"Redirect 404 with URL", "Redirect 404 /a /b\n", 1, "Redirect URL not valid for this status"},
		{"Redirect bad first of three", "Redirect forever /a http://x/\n", 1, "Redirect: invalid first argument (of three)"},
		{"Redirect bad status code", "Redirect 200 /a http://x/\n", 1, "Redirect: invalid status '200'"},
		{"Redirect 3xx no URL in Location", "<Location /x>\nRedirect 301\n</Location>\n", 2, "URL to redirect to is missing"},
		{"Redirect relative path", "Redirect old /new\n", 1, "Redirect: the URL-path 'old' must begin with '/'"},
		{"Redirect too many", "Redirect 301 /a /b /c\n", 1, "Redirect takes one, two or three arguments"},
		{"RedirectMatch bad regex", "RedirectMatch 301 ^/(x http://x/\n", 1, "RedirectMatch: regular expression '^/(x' does not compile"},
		{"RedirectMatch non-URL", "RedirectMatch ^/x foo\n", 1, "Redirect to non-URL"},
		{"RedirectPermanent non-URL", "RedirectPermanent /a b\n", 1, "Redirect to non-URL"},
		{"RedirectTemp one arg", "RedirectTemp /a\n", 1, "RedirectTemp takes two arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phasestest.WantError(t, tc.conf, tc.line, tc.want)
		})
	}
}

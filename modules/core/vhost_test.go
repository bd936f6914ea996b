package core_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// TestVhostSelection follows Apache's documented rules ("How the server
// selects the proper name-based virtual host"): the most specific address
// match first (IP:port over *:port over _default_), then ServerName and
// ServerAlias among those, else the first vhost of that address; the main
// server when no vhost matches the address.
func TestVhostSelection(t *testing.T) {
	cfg := phasestest.MustLoad(t, `ServerName main.test
<VirtualHost *:80>
ServerName star-a.test
</VirtualHost>
<VirtualHost *:80>
ServerName star-b.test
ServerAlias *.b.test b-alias.test
</VirtualHost>
<VirtualHost 10.0.0.1:80>
ServerName ip-a.test
</VirtualHost>
<VirtualHost 10.0.0.1:80>
ServerName ip-b.test
</VirtualHost>
<VirtualHost [::1]:8080>
ServerName v6.test
</VirtualHost>
<VirtualHost _default_:9090>
ServerName default.test
</VirtualHost>
<VirtualHost *:9090>
ServerName star9090.test
</VirtualHost>
`)
	hooks, err := phases.BuildServerHooks(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pick, _ := hooks.Request.PostReadRequest.Entries()
	cases := []struct {
		name, localIP string
		port          int
		host          string
		want          string
	}{
		{"name match on *:80", "127.0.0.1", 80, "star-b.test", "star-b.test"},
		{"alias wildcard", "127.0.0.1", 80, "www.b.test", "star-b.test"},
		{"alias exact", "127.0.0.1", 80, "b-alias.test", "star-b.test"},
		{"no name match: first vhost of the address", "127.0.0.1", 80, "nobody.test", "star-a.test"},
		{"exact IP beats *:80", "10.0.0.1", 80, "star-b.test", "ip-a.test"},
		{"name among the exact-IP vhosts", "10.0.0.1", 80, "ip-b.test", "ip-b.test"},
		{"IPv6 address", "::1", 8080, "whatever", "v6.test"},
		{"no vhost for the port: main server", "127.0.0.1", 8443, "star-a.test", "main.test"},
		{"* beats _default_ on the same port", "127.0.0.1", 9090, "x", "star9090.test"},
	}
	for _, c := range cases {
		r := &phases.Request{Hostname: c.host, Conn: &phases.Connection{LocalIP: c.localIP, LocalPort: c.port}}
		for _, e := range pick {
			if e.Module == core.ModuleName {
				if _, err := e.Fn(r); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := core.ServerOf(r.Vhost).ServerName; got != c.want {
			t.Errorf("%s: picked %s, want %s", c.name, got, c.want)
		}
	}
}

// TestSectionMergeOrder follows Apache's documented merge order ("How the
// sections are merged"): <Directory> (shortest path first) and then
// <Directory ~>/<DirectoryMatch>, then <Files>/<FilesMatch>, then
// <Location>/<LocationMatch>; the main server's sections before the
// virtual host's; a section applies only where its path or pattern does.
func TestSectionMergeOrder(t *testing.T) {
	cfg := phasestest.MustLoad(t, `<Location />
SetHandler loc-root
</Location>
<Files "*.txt">
SetHandler files-txt
</Files>
<DirectoryMatch "^/srv/www/a">
SetHandler dirmatch-a
</DirectoryMatch>
<Directory /srv/www/a/b>
SetHandler dir-ab
</Directory>
<Directory /srv/www>
SetHandler dir-www
</Directory>
<Directory /srv/other>
SetHandler dir-other
</Directory>
<VirtualHost *:80>
<Location /x>
SetHandler vhost-loc-x
</Location>
</VirtualHost>
`)
	hooks, err := phases.BuildServerHooks(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper, _ := hooks.Request.MapToStorage.Entries()
	cases := []struct {
		filename, uri string
		vhost         bool
		want          []string // the SetHandler of each applying section, in merge order
	}{
		{"/srv/www/a/b/f.txt", "/a/b/f.txt", false, []string{"dir-www", "dir-ab", "dirmatch-a", "files-txt", "loc-root"}},
		{"/srv/www/c.html", "/c.html", false, []string{"dir-www", "loc-root"}},
		{"/srv/www/x/y", "/x/y", true, []string{"dir-www", "loc-root", "vhost-loc-x"}},
		{"/elsewhere/z", "/z", false, []string{"loc-root"}},
	}
	for _, c := range cases {
		r := &phases.Request{Filename: c.filename, URI: c.uri, Server: &phases.Server{Config: cfg, Main: cfg.Main}}
		r.Vhost = cfg.Main
		if c.vhost {
			r.Vhost = cfg.Vhosts[0]
		}
		for _, e := range mapper {
			if e.Module == core.ModuleName {
				if _, err := e.Fn(r); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got []string
		for _, sec := range r.Sections {
			got = append(got, config.SectionConf[core.DirSettings](sec, core.ModuleName).Handler)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: sections %v, want %v", c.filename, got, c.want)
		}
		if r.Handler != c.want[len(c.want)-1] {
			t.Errorf("%s: handler %s, want the last section's %s", c.filename, r.Handler, c.want[len(c.want)-1])
		}
	}
}

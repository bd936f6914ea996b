package mime_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/mime"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

const typesFile = `# a comment line
text/html     html htm
text/plain    txt
   # indented comment
application/x-empty

IMAGE/PNG     .PNG
`

func TestValid(t *testing.T) {
	cases := []struct {
		name  string
		conf  string
		check func(t *testing.T, cfg *config.Config)
	}{
		{"AddType", "AddType application/x-gzip .gz .TGZ\nAddType Text/HTML shtml\n", func(t *testing.T, cfg *config.Config) {
			ds := mime.ServerDirOf(cfg.Main)
			want := map[string]string{"gz": "application/x-gzip", "tgz": "application/x-gzip", "shtml": "text/html"}
			for ext, typ := range want {
				if ds.Types[ext] != typ {
					t.Errorf("Types[%s] = %q, want %q", ext, ds.Types[ext], typ)
				}
			}
		}},
		{"AddType with parameter", `AddType "text/html; charset=UTF-8" .html`, func(t *testing.T, cfg *config.Config) {
			if got := mime.ServerDirOf(cfg.Main).Types["html"]; got != "text/html; charset=utf-8" {
				t.Errorf("got %q", got)
			}
		}},
		{"in Directory", "<Directory /srv>\nAddHandler cgi-script .cgi .pl\nAddCharset UTF-8 .utf8\nAddEncoding x-gzip .gz\nForceType image/gif\n</Directory>\n", func(t *testing.T, cfg *config.Config) {
			ds := mime.SectionOf(cfg.Main.Sections[0])
			if ds.Handlers["cgi"] != "cgi-script" || ds.Handlers["pl"] != "cgi-script" {
				t.Errorf("Handlers = %v", ds.Handlers)
			}
			if ds.Charsets["utf8"] != "utf-8" || ds.Encodings["gz"] != "x-gzip" || ds.ForceType != "image/gif" {
				t.Errorf("got %+v", ds)
			}
			if len(mime.ServerDirOf(cfg.Main).Handlers) != 0 {
				t.Errorf("server defaults touched")
			}
		}},
		{"RemoveHandler", "AddHandler cgi-script .cgi .pl\nRemoveHandler .cgi\n", func(t *testing.T, cfg *config.Config) {
			ds := mime.ServerDirOf(cfg.Main)
			if _, ok := ds.Handlers["cgi"]; ok || ds.Handlers["pl"] != "cgi-script" || strings.Join(ds.RemoveHandlers, ",") != "cgi" {
				t.Errorf("got %+v", ds)
			}
		}},
		{"DefaultType", "DefaultType text/plain\n<Location /x>\nDefaultType None\nForceType none\n</Location>\n", func(t *testing.T, cfg *config.Config) {
			if got := mime.ServerDirOf(cfg.Main).DefaultType; got != "text/plain" {
				t.Errorf("DefaultType = %q", got)
			}
			ds := mime.SectionOf(cfg.Main.Sections[0])
			if ds.DefaultType != "none" || ds.ForceType != "none" {
				t.Errorf("got %+v", ds)
			}
		}},
		{"in VirtualHost", "<VirtualHost *:80>\nAddType text/x-foo .foo\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config) {
			if got := mime.ServerDirOf(cfg.Vhosts[0]).Types["foo"]; got != "text/x-foo" {
				t.Errorf("got %q", got)
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

func TestTypesConfig(t *testing.T) {
	cfg, root, err := phasestest.Load(t, map[string]string{
		"conf/httpd.conf": "TypesConfig conf/mime.types\n",
		"conf/mime.types": typesFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	g := mime.GlobalOf(cfg)
	if g.TypesConfig != root+"/conf/mime.types" {
		t.Errorf("TypesConfig = %q", g.TypesConfig)
	}
	want := map[string]string{"html": "text/html", "htm": "text/html", "txt": "text/plain", "png": "image/png"}
	if len(g.Types) != len(want) {
		t.Errorf("Types = %v, want %v", g.Types, want)
	}
	for ext, typ := range want {
		if g.Types[ext] != typ {
			t.Errorf("Types[%s] = %q, want %q", ext, g.Types[ext], typ)
		}
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		line  int
		want  string
	}{
		{"AddType one arg", map[string]string{"conf/httpd.conf": "\nAddType text/html\n"}, 2, "AddType requires at least two arguments"},
		{"AddType not a type", map[string]string{"conf/httpd.conf": "AddType html .html\n"}, 1, "AddType: 'html' is not a content type (type/subtype)"},
		{"AddType bad extension", map[string]string{"conf/httpd.conf": "AddType text/html .\n"}, 1, "AddType: '.' is not a file extension"},
		{"TypesConfig missing", map[string]string{"conf/httpd.conf": "TypesConfig conf/nope.types\n"}, 1, "TypesConfig: could not open"},
		{"TypesConfig in vhost", map[string]string{"conf/httpd.conf": "<VirtualHost *:80>\nTypesConfig conf/mime.types\n</VirtualHost>\n", "conf/mime.types": typesFile}, 2, "TypesConfig cannot occur within <VirtualHost> section"},
		{"TypesConfig bad line", map[string]string{"conf/httpd.conf": "\n\nTypesConfig conf/mime.types\n", "conf/mime.types": "text/html html\nnotatype foo\n"}, 3, "mime.types: 'notatype' is not a content type"},
		{"TypesConfig directory", map[string]string{"conf/httpd.conf": "TypesConfig conf\n"}, 1, "is a directory, not a file"},
		{"DefaultType bad", map[string]string{"conf/httpd.conf": "DefaultType plain\n"}, 1, "DefaultType: 'plain' is not a content type"},
		{"ForceType in server", map[string]string{"conf/httpd.conf": "ForceType text/plain\n"}, 1, "ForceType not allowed here"},
		{"ForceType two args", map[string]string{"conf/httpd.conf": "<Directory /x>\nForceType text/plain x\n</Directory>\n"}, 2, "ForceType takes one argument"},
		{"AddHandler one arg", map[string]string{"conf/httpd.conf": "AddHandler cgi-script\n"}, 1, "AddHandler requires at least two arguments"},
		{"RemoveHandler none", map[string]string{"conf/httpd.conf": "RemoveHandler\n"}, 1, "RemoveHandler requires at least one argument"},
		{"AddCharset one arg", map[string]string{"conf/httpd.conf": "AddCharset UTF-8\n"}, 1, "AddCharset requires at least two arguments"},
		{"AddEncoding one arg", map[string]string{"conf/httpd.conf": "AddEncoding gzip\n"}, 1, "AddEncoding requires at least two arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := phasestest.Load(t, tc.files)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			msg := err.Error()
			if want := fmt.Sprintf("line %d of ", tc.line); !strings.Contains(msg, want) {
				t.Errorf("error %q does not name %q", msg, want)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
		})
	}
}

// TestAddOutputFilterByExtension: the type checker inserts the filters of
// every extension, in the order of the extensions and of each ';' list,
// a section's mapping replacing the server's for the same extension.
func TestAddOutputFilterByExtension(t *testing.T) {
	cfg := phasestest.MustLoad(t, "AddOutputFilter A;B .txt\nAddOutputFilter C .gz\nAddInputFilter I .txt\n<Location /x>\nAddOutputFilter D .gz\n</Location>\n")
	hooks, err := phases.BuildServerHooks(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, n := range []string{"A", "B", "C", "D"} {
		hooks.Request.RegisterOutputFilter(n, func(*phases.Request) phases.Filter { added = append(added, "out:"+n); return nil })
	}
	hooks.Request.RegisterInputFilter("I", func(*phases.Request) phases.Filter { added = append(added, "in:I"); return nil })
	var check phases.RequestHookFunc
	entries, _ := hooks.Request.TypeChecker.Entries()
	for _, e := range entries {
		if e.Module == mime.ModuleName {
			check = e.Fn
		}
	}
	if check == nil {
		t.Fatal("no mime type checker")
	}
	for _, c := range []struct {
		file     string
		sections []*config.Section
		want     string
	}{
		{"/srv/a.txt.gz", nil, "out:A out:B in:I out:C"},
		{"/srv/a.gz.TXT", nil, "out:C out:A out:B in:I"},
		{"/srv/a.txt.gz", cfg.Main.Sections, "out:A out:B in:I out:D"},
		{"/srv/txt", nil, ""},
	} {
		added = nil
		r := &phases.Request{Filename: c.file, Sections: c.sections, Hooks: hooks.Request,
			Server: &phases.Server{Config: cfg, Main: cfg.Main}, HeadersOut: http.Header{}}
		if _, err := check(r); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(added, " "); got != c.want {
			t.Errorf("%s with %d sections: filters %q, want %q", c.file, len(c.sections), got, c.want)
		}
	}
}

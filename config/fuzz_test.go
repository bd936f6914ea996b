package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzRegistry declares a few directives of every argument form and context
// so that fuzzed configs reach the argument, context and section checks of
// Process as well as the reader.
func fuzzRegistry() *Registry {
	reg := NewRegistry()
	add := func(d *Directive) {
		if err := reg.Add("fuzz_module", d); err != nil {
			panic(err)
		}
	}
	for _, d := range ReadTimeDirectives() {
		add(d)
	}
	add(&Directive{Name: "Listen", Form: Take12, Contexts: ServerOnly, Help: "A port number or a numeric IP address and a port number"})
	add(&Directive{Name: "ServerName", Form: Take1, Contexts: ServerVhost, Help: "The hostname and port of the server"})
	add(&Directive{Name: "KeepAlive", Form: Flag, Contexts: ServerVhost})
	add(&Directive{Name: "Options", Form: RawArgs, Contexts: DirHtaccess})
	add(&Directive{Name: "ErrorDocument", Form: Take2, Contexts: AnyContext})
	add(&Directive{Name: "DirectoryIndex", Form: Iterate, Contexts: DirHtaccess | ServerVhost})
	add(&Directive{Name: "AddType", Form: Iterate2, Contexts: AnyContext})
	add(&Directive{Name: "Alias", Form: Take23, Contexts: ServerVhost})
	add(&Directive{Name: "Header", Form: Take123, Contexts: AnyContext})
	add(&Directive{Name: "LuaScope", Form: Take13, Contexts: AnyContext})
	add(&Directive{Name: "Trace", Form: NoArgs, Contexts: AnyContext})
	add(&Directive{Name: "Pair", Form: Take2, Contexts: AnyContext})
	add(&Directive{Name: "Triple", Form: Take3, Contexts: AnyContext})
	add(&Directive{Name: "Fail", Form: RawArgs, Contexts: AnyContext, Handler: func(c *Cmd) error {
		return fmt.Errorf("Fail: %s", c.Node.Raw)
	}})
	add(&Directive{Name: "VirtualHost", Section: true, Form: RawArgs, Contexts: ServerOnly, Handler: func(c *Cmd) error {
		vh := NewServer(c.Node.Origin, true, c.Args)
		c.Config.Vhosts = append(c.Config.Vhosts, vh)
		return c.Walk(c.Node.Children, InVirtualHost, vh, nil)
	}})
	dirSection := func(name string, where Context, ctx Context) {
		add(&Directive{Name: name, Section: true, Form: RawArgs, Contexts: ctx, Handler: func(c *Cmd) error {
			arg := ""
			if len(c.Args) > 0 {
				arg = c.Args[0]
			}
			sec := NewSection(name, arg, nil, c.Node.Origin, c.Section)
			return c.Walk(c.Node.Children, where, c.Server, sec)
		}})
	}
	dirSection("Directory", InDirectory, ServerVhost)
	dirSection("Location", InLocation, ServerVhost)
	dirSection("Files", InFiles, ServerVhost|InDirectory)
	return reg
}

var fuzzModules = []ModuleInfo{
	{Name: "core_module", Source: "core.c"},
	{Name: "mime_module", Source: "mod_mime.c"},
	{Name: "mpm_prefork_module", Source: "prefork.c", MPM: "prefork"},
	{Name: "mpm_worker_module", Source: "worker.c", MPM: "worker"},
	{Name: "mpm_event_module", Source: "event.c", MPM: "event"},
}

// fuzzSafe rejects inputs that could make the reader leave the temporary
// ServerRoot: an Include (or IncludeOptional) together with an absolute path
// or "..", which could name /dev/zero or walk the whole file system. An
// input without the word "include", "${" or a backslash cannot form an
// Include line; in any other a '/' must follow a letter or a digit (so no
// concatenation can make a path start with '/').
func fuzzSafe(data []byte) bool {
	s := string(data)
	if !strings.Contains(strings.ToLower(s), "include") && !strings.Contains(s, "${") && !strings.Contains(s, "\\") {
		return true
	}
	if strings.Contains(string(data), "..") {
		return false
	}
	for i, c := range data {
		if c != '/' {
			continue
		}
		if i == 0 {
			return false
		}
		p := data[i-1]
		if !(p >= 'a' && p <= 'z' || p >= 'A' && p <= 'Z' || p >= '0' && p <= '9') {
			return false
		}
	}
	return true
}

var fuzzSeeds = []string{
	"",
	"Listen 80\n",
	"listen 80 # comment\n",
	"ServerName \"a b\\\"c\\\\\" 'd\\'e'\n",
	"ServerName 'unterminated\n",
	"Listen \\\n 80\n",
	"# comment \\\nListen 80\n",
	"Listen 80\\",
	"\\\n\\\n\\",
	"<VirtualHost *:80>\nServerName a\n<Directory x>\nOptions None\n</Directory>\n</VirtualHost>\n",
	"<virtualhost *:80>\n</VIRTUALHOST>\n",
	"<VirtualHost *:80>\n</Directory>\n",
	"</VirtualHost>\n",
	"<VirtualHost *:80>\n",
	"<VirtualHost *:80\n</VirtualHost>\n",
	"<VirtualHost>\n</VirtualHost foo>\n",
	"<>\n</>\n",
	"<\n",
	"</\n",
	"<a>b>\n",
	"Define X 80\nListen ${X}\n",
	"Listen ${UNDEFINED}\n",
	"Listen ${\n",
	"Listen ${}\n",
	"Define A ${B}\n",
	"Define a:b\n",
	"UnDefine X\n",
	"<IfDefine X>\nListen 80\n</IfDefine>\n",
	"<IfDefine !X>\nBogus\n<Inner>\n</Inner>\n</IfDefine>\n",
	"<IfDefine !X>\n<Inner>\n</IfDefine>\n",
	"<IfDefine>\n</IfDefine>\n",
	"<IfDefine !>\n</IfDefine>\n",
	"<IfModule mime_module>\nListen 80\n</IfModule>\n",
	"<IfModule !mod_mime.c>\nListen 80\n</IfModule>\n",
	"<IfModule mpm_prefork_module>\nListen 1\n</IfModule>\nMPM prefork\n",
	"MPM worker\n<IfModule mpm_worker_module>\nListen 1\n</IfModule>\n",
	"LoadModule mpm_prefork_module x.so\nLoadModule mpm_event_module y.so\n",
	"LoadModule mime_module modules/mod_mime.so\n",
	"LoadModule nope_module modules/mod_nope.so\n",
	"MPM nope\n",
	"<IfFile conf/httpd.conf>\nListen 80\n</IfFile>\n",
	"<IfFile !conf/nope>\nListen 80\n</IfFile>\n",
	"<IfDirective Listen>\nListen 80\n</IfDirective>\n",
	"<IfSection !VirtualHost>\nListen 80\n</IfSection>\n",
	"<IfVersion >= 2.4>\nListen 80\n</IfVersion>\n",
	"<IfVersion ~ ^2\\.4>\nListen 80\n</IfVersion>\n",
	"<IfVersion /^2/>\nListen 80\n</IfVersion>\n",
	"<IfVersion ! 9.9.9.9>\n</IfVersion>\n",
	"<IfVersion ~ (>\n</IfVersion>\n",
	"Include conf/httpd.conf\n",
	"Include conf/extra.conf\n",
	"IncludeOptional conf/*.conf\n",
	"Include conf\n",
	"Include conf/nothing*.conf\n",
	"IncludeOptional conf/[\n",
	"Include conf/missing.conf\n",
	"ServerRoot conf\nInclude extra.conf\n",
	"<VirtualHost *:80>\nListen 80\n</VirtualHost>\n",
	"<VirtualHost *:80>\nLoadModule mime_module x\n</VirtualHost>\n",
	"<Directory x>\nServerRoot conf\n</Directory>\n",
	"<Directory x>\nListen 80\n</Directory>\n",
	"Options None\n",
	"KeepAlive maybe\n",
	"KeepAlive\n",
	"Trace x\n",
	"Pair a\n",
	"Triple a b\n",
	"LuaScope a b\n",
	"AddType x\n",
	"DirectoryIndex\n",
	"Alias a\n",
	"Header\n",
	"Fail now\n",
	"Lisen 80\n",
	"<VirtualHots *:80>\n</VirtualHots>\n",
	"\"Listen\" 80\n",
	"'\n",
	"\"\\\n",
	"Listen \"a\"b\"c\n",
	"\r\n\r\nListen 80\r\n",
	"\x00\xff\n",
	"ServerName é\n",
}

// FuzzRead feeds arbitrary bytes as a config file (also reachable as
// conf/extra.conf, so inputs can include themselves and each other) through
// Read and Process. Errors are fine; a panic or a hang is not.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// The golden cases' config files are good seeds too.
	if cases, err := filepath.Glob("../testdata/config/*.txtar"); err == nil {
		for _, c := range cases {
			b, err := os.ReadFile(c)
			if err != nil {
				continue
			}
			_, body, ok := strings.Cut(string(b), "-- conf/httpd.conf --\n")
			if !ok {
				continue
			}
			if i := strings.Index(body, "\n-- "); i >= 0 {
				body = body[:i+1]
			}
			f.Add([]byte(body))
		}
	}
	reg := fuzzRegistry()
	env := map[string]string{"HOME": "home", "PORT": "8080"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !fuzzSafe(data) {
			t.Skip()
		}
		root := t.TempDir()
		conf := filepath.Join(root, "conf")
		if err := os.Mkdir(conf, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"httpd.conf", "extra.conf"} {
			if err := os.WriteFile(filepath.Join(conf, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		opts := Options{
			ServerRoot: root,
			Defines:    []string{"FUZZ"},
			Before:     []string{"Define FROM_C yes"},
			After:      []string{"ServerName after"},
			Modules:    fuzzModules,
			Registry:   reg,
			LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		}
		cfg, err := Read(opts)
		if err != nil {
			checkError(t, err)
			return
		}
		if err := Process(cfg, reg); err != nil {
			checkError(t, err)
			return
		}
		var b strings.Builder
		if err := Dump(&b, cfg.Tree, cfg.ServerRoot); err != nil {
			t.Fatalf("Dump: %v", err)
		}
		for _, w := range cfg.Warnings {
			_ = w.String()
		}
	})
}

// checkError checks an error message is usable: not empty, and when it is
// tied to a line, the line is a real one.
func checkError(t *testing.T, err error) {
	t.Helper()
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
	if e, ok := err.(*Error); ok && e.Origin != nil {
		for o := e.Origin; o != nil; o = o.IncludedFrom {
			if o.Line < 1 || o.File == "" {
				t.Fatalf("error with a bad origin %+v: %v", o, err)
			}
		}
	}
}

// FuzzParseLine checks the line grammar on arbitrary text: no panic, and a
// parsed line has a name.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, l := range splitLogicalLines(s) {
			f.Add(l.Text)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, l := range splitLogicalLines(text) {
			if l.Text == "" || l.Text[0] == '#' {
				t.Fatalf("splitLogicalLines kept %q", l.Text)
			}
			pl, err := parseLine(l.Text)
			if err != nil {
				continue
			}
			if pl.Kind == kindDirective && pl.Name == "" && !strings.HasPrefix(l.Text, "\"\"") && !strings.HasPrefix(l.Text, "''") {
				t.Fatalf("directive without a name from %q", l.Text)
			}
		}
	})
}

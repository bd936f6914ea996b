package cli_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/cmd/cli"
	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// The golden tests run httpdg's command line in-process on config trees
// written to a fresh temporary ServerRoot, one case per file under
// testdata/config/, like Caddy's adapt tests. A case file is txtar-like:
//
//	comment lines saying what the case shows
//	-- conf/httpd.conf --
//	Listen 80
//	-- conf/extra/vhosts.conf --
//	...
//	-- args --          (optional; one argument a line; default "-t")
//	-t
//	-D DUMP_CONFIG
//	-- env --           (optional; NAME=value lines set in the environment)
//	-- stdout --        (expected; absent means empty)
//	-- stderr --        (expected; absent means empty)
//	-- exit --          (expected exit code)
//
// Every other section is a file, its name relative to the ServerRoot. The
// command line is always "-d $ROOT" followed by the args. In file contents,
// args and expectations, $ROOT stands for the temporary ServerRoot, and in
// expectations $MODULES stands for the comma-separated sorted list of the
// compiled-in modules (it grows as modules are added).
//
// go test ./cmd/cli -run Golden -update rewrites the expectations; review
// every change by hand against SPEC.md and Apache 2.4 before keeping it.

var update = flag.Bool("update", false, "rewrite the expectations of the golden tests")

// goldenDirs are the directories holding golden cases, relative to this
// package.
var goldenDirs = []string{"../../testdata/config"}

// The golden tests run with the core module and stand-ins for the other
// modules: the config language is what they test, so their outcome must not
// change while the real modules are written (cmd/httpdg's tests run the
// real binary with every module). A stand-in has an Apache module's name and
// declares, without handlers, the directives the cases use.
var standIns = []struct {
	name, source, mpm string
	directives        []*config.Directive
}{
	{"mpm_prefork_module", "prefork.c", "prefork", mpmDirectives()},
	{"mpm_worker_module", "worker.c", "worker", nil},
	{"mpm_event_module", "event.c", "event", nil},
	{"mime_module", "", "", []*config.Directive{
		dir("TypesConfig", config.Take1, config.ServerOnly),
		dir("AddType", config.Iterate2, config.AnyContext),
		dir("AddHandler", config.Iterate2, config.AnyContext),
		dir("AddCharset", config.Iterate2, config.AnyContext),
	}},
	{"dir_module", "", "", []*config.Directive{dir("DirectoryIndex", config.Iterate, config.AnyContext)}},
	{"alias_module", "", "", []*config.Directive{
		dir("Alias", config.Take2, config.ServerVhost),
		dir("Redirect", config.Take23, config.AnyContext),
	}},
	{"headers_module", "", "", []*config.Directive{dir("Header", config.RawArgs, config.AnyContext)}},
	{"log_config_module", "", "", []*config.Directive{
		dir("LogFormat", config.Take12, config.ServerVhost),
		dir("CustomLog", config.Take23, config.ServerVhost),
	}},
	{"authz_core_module", "", "", []*config.Directive{dir("Require", config.RawArgs, config.PerDir|config.InHtaccess)}},
	{"auth_basic_module", "", "", []*config.Directive{dir("AuthBasicProvider", config.Iterate, config.PerDir|config.InHtaccess)}},
	{"reqtimeout_module", "", "", []*config.Directive{dir("RequestReadTimeout", config.RawArgs, config.ServerVhost)}},
	{"status_module", "", "", []*config.Directive{dir("ExtendedStatus", config.Flag, config.ServerOnly)}},
	{"ssl_module", "", "", []*config.Directive{
		dir("SSLEngine", config.Flag, config.ServerVhost),
		dir("SSLCertificateFile", config.Take1, config.ServerVhost),
		dir("SSLCertificateKeyFile", config.Take1, config.ServerVhost),
		dir("SSLProtocol", config.RawArgs, config.ServerVhost),
	}},
}

func dir(name string, form config.ArgForm, ctx config.Context) *config.Directive {
	return &config.Directive{Name: name, Form: form, Contexts: ctx, Built: true}
}

func mpmDirectives() []*config.Directive {
	var ds []*config.Directive
	for _, n := range []string{"StartServers", "MinSpareServers", "MaxSpareServers", "MinSpareThreads",
		"MaxSpareThreads", "ThreadLimit", "ThreadsPerChild", "MaxRequestWorkers", "MaxConnectionsPerChild"} {
		ds = append(ds, dir(n, config.Take1, config.ServerOnly))
	}
	return ds
}

func TestMain(m *testing.M) {
	reg, err := phases.Directives()
	if err != nil {
		panic(err)
	}
	for _, s := range standIns {
		if phases.LookupModule(s.name) != nil {
			continue
		}
		var ds []*config.Directive
		for _, d := range s.directives {
			if reg.Directive(d.Name) == nil {
				ds = append(ds, d)
			}
		}
		phases.RegisterModule(&phases.Module{Name: s.name, Source: s.source, MPM: s.mpm, Directives: ds})
	}
	os.Exit(m.Run())
}

type section struct {
	name string
	body string
}

type goldenCase struct {
	comment  string
	sections []section
}

func parseCase(data string) goldenCase {
	var c goldenCase
	lines := strings.SplitAfter(data, "\n")
	cur := -1
	var comment strings.Builder
	for _, l := range lines {
		trimmed := strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			c.sections = append(c.sections, section{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = len(c.sections) - 1
			continue
		}
		if cur < 0 {
			comment.WriteString(l)
		} else {
			c.sections[cur].body += l
		}
	}
	c.comment = comment.String()
	return c
}

func (c *goldenCase) get(name string) (string, bool) {
	for _, s := range c.sections {
		if s.name == name {
			return s.body, true
		}
	}
	return "", false
}

var outputSections = map[string]bool{"stdout": true, "stderr": true, "exit": true}

func (c *goldenCase) format() string {
	var b strings.Builder
	b.WriteString(c.comment)
	for _, s := range c.sections {
		fmt.Fprintf(&b, "-- %s --\n%s", s.name, s.body)
	}
	return b.String()
}

func moduleList() string {
	var names []string
	for _, m := range phases.ModuleInfos() {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func TestGolden(t *testing.T) {
	var files []string
	for _, dir := range goldenDirs {
		m, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) { runGolden(t, file) })
	}
}

func runGolden(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := parseCase(string(data))
	root := t.TempDir()
	args := []string{"-d", root}
	argSection, hasArgs := c.get("args")
	if !hasArgs {
		argSection = "-t\n"
	}
	for _, a := range strings.Split(strings.TrimSuffix(argSection, "\n"), "\n") {
		if a != "" {
			args = append(args, strings.ReplaceAll(a, "$ROOT", root))
		}
	}
	nfiles := 0
	for _, s := range c.sections {
		switch {
		case s.name == "args" || outputSections[s.name]:
			continue
		case s.name == "env":
			for _, l := range strings.Split(strings.TrimSpace(s.body), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					t.Setenv(k, strings.ReplaceAll(v, "$ROOT", root))
				}
			}
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(s.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(s.name, "/") { // an empty directory
			continue
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(s.body, "$ROOT", root)), 0o644); err != nil {
			t.Fatal(err)
		}
		nfiles++
	}
	if nfiles == 0 && !hasArgs {
		t.Fatal("case has no files and no args")
	}

	var stdout, stderr bytes.Buffer
	code := cli.Main(args, &stdout, &stderr)
	modules := moduleList()
	norm := func(s string) string {
		s = strings.ReplaceAll(s, root, "$ROOT")
		if modules != "" {
			s = strings.ReplaceAll(s, modules, "$MODULES")
		}
		return s
	}
	got := map[string]string{
		"stdout": norm(stdout.String()),
		"stderr": norm(stderr.String()),
		"exit":   strconv.Itoa(code) + "\n",
	}

	if *update {
		var kept []section
		for _, s := range c.sections {
			if !outputSections[s.name] {
				kept = append(kept, s)
			}
		}
		for _, name := range []string{"stdout", "stderr", "exit"} {
			if got[name] != "" {
				kept = append(kept, section{name: name, body: got[name]})
			}
		}
		c.sections = kept
		if err := os.WriteFile(file, []byte(c.format()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range []string{"stdout", "stderr", "exit"} {
		want, _ := c.get(name)
		if got[name] != want {
			t.Errorf("%s of httpdg %s:\n--- got ---\n%s--- want ---\n%s", name, strings.Join(args, " "), got[name], want)
		}
	}
}

// TestGoldenCaseFormat checks the case parser round-trips a case.
func TestGoldenCaseFormat(t *testing.T) {
	in := "A comment.\n-- conf/httpd.conf --\nListen 80\n-- args --\n-t\n-- exit --\n0\n"
	c := parseCase(in)
	if len(c.sections) != 3 || c.comment != "A comment.\n" {
		t.Fatalf("parsed %+v", c)
	}
	if body, _ := c.get("conf/httpd.conf"); body != "Listen 80\n" {
		t.Fatalf("conf/httpd.conf = %q", body)
	}
	if out := c.format(); out != in {
		t.Fatalf("format = %q, want %q", out, in)
	}
}

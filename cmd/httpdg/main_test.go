package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// These tests build the real httpdg binary once and run it as a process.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "httpdg-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "httpdg")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building httpdg: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running httpdg %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// writeConf writes a config tree under a fresh ServerRoot and returns it.
func writeConf(t *testing.T, files map[string]string) string {
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
	return root
}

func TestShippedConfigSyntaxOK(t *testing.T) {
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "conf", "httpd.conf")); err != nil {
		t.Fatalf("the shipped conf/httpd.conf is missing: %v", err)
	}
	r := run(t, nil, "-d", root, "-t")
	if r.code != 0 || !strings.HasSuffix(r.stderr, "Syntax OK\n") {
		t.Fatalf("httpdg -d %s -t: exit %d\nstderr:\n%s", root, r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("the shipped config draws warnings:\n%s", r.stderr)
	}
	// The dump of the shipped config is itself a valid config.
	r = run(t, nil, "-d", root, "-t", "-D", "DUMP_CONFIG")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "# In file: conf/httpd.conf\n") {
		t.Fatalf("httpdg -t -D DUMP_CONFIG: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestBrokenConfig(t *testing.T) {
	root := writeConf(t, map[string]string{
		"conf/httpd.conf":         "Listen 8080\nInclude conf/extra/vhosts.conf\n",
		"conf/extra/vhosts.conf":  "<VirtualHost *:8080>\n    ServerName a.example.com\n</VirtualHost>\nLisen 8081\n",
		"conf/extra/unused.conf~": "Bogus\n",
	})
	r := run(t, nil, "-d", root, "-t")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	want := fmt.Sprintf("httpdg: Syntax error on line 4 of %s (included from line 2 of %s):\n"+
		"Invalid command 'Lisen', perhaps misspelled or defined by a module not included in the server configuration (did you mean 'Listen'?)\n",
		filepath.Join(root, "conf/extra/vhosts.conf"), filepath.Join(root, "conf/httpd.conf"))
	if r.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
	if !strings.HasPrefix(r.stderr, "httpdg: Syntax error on line") {
		t.Errorf("stderr does not start with Apache's prefix: %q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}
}

func TestMissingConfig(t *testing.T) {
	root := t.TempDir()
	r := run(t, nil, "-d", root, "-t")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "httpdg: Could not open configuration file "+filepath.Join(root, "conf/httpd.conf")) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestModules(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": "Listen 8080\n"})
	r := run(t, nil, "-d", root, "-M")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "Loaded Modules:" || lines[1] != " core_module (static)" {
		t.Fatalf("httpdg -M:\n%s", r.stdout)
	}
	line := regexp.MustCompile(`^ [a-z0-9_]+_module \(static\)$`)
	mpms := 0
	for _, l := range lines[1:] {
		if !line.MatchString(l) {
			t.Errorf("bad -M line %q", l)
		}
		if strings.HasPrefix(l, " mpm_") {
			mpms++
		}
	}
	if mpms > 1 {
		t.Errorf("-M lists %d MPMs, want only the selected one:\n%s", mpms, r.stdout)
	}
}

func TestDirectives(t *testing.T) {
	r := run(t, nil, "-L")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"\nListen (core_module) TAKE12",
		"\n<VirtualHost (core_module) RAW_ARGS",
		"\nInclude (core_module) TAKE1\n",
		"\tAllowed in: server config\n",
	} {
		if !strings.Contains("\n"+r.stdout, want) {
			t.Errorf("-L output lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "-v")
	if r.code != 0 || !regexp.MustCompile(`^Server version: httpdg/\S+ \(Apache/2\.4\.\d+ compatible\)\n$`).MatchString(r.stdout) {
		t.Fatalf("httpdg -v: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "-V")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Server version: httpdg/") || !strings.Contains(r.stdout, "Server MPM:") {
		t.Fatalf("httpdg -V: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	r := run(t, nil, "-h")
	if r.code != 0 || !strings.HasPrefix(r.stderr, "Usage: httpdg ") || !strings.Contains(r.stderr, "-t -D DUMP_CONFIG") {
		t.Fatalf("httpdg -h: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestUnknownFlag(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"-tZ"}, {"stray"}, {"-f"}, {"-k", "explode"}} {
		r := run(t, nil, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "httpdg: ") || !strings.Contains(r.stderr, "Usage: httpdg ") {
			t.Errorf("httpdg %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

func TestDefineFlags(t *testing.T) {
	root := writeConf(t, map[string]string{"conf/httpd.conf": "<IfDefine FOO>\nListen ${PORT}\n</IfDefine>\n"})
	r := run(t, []string{"PORT=8123"}, "-d", root, "-DFOO", "-c", "ServerName www.example.com", "-t", "-D", "DUMP_CONFIG")
	want := "# In file: conf/httpd.conf\nListen 8123\n# In file: -c\nServerName www.example.com\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
}

// TestDebianTreeRealModules runs -t on testdata/debian with every module
// compiled in (cmd/cli's test uses stand-ins), once the modules its .load
// files name exist.
func TestDebianTreeRealModules(t *testing.T) {
	root := filepath.Join(repoRoot(t), "testdata", "debian")
	mods := run(t, nil, "-d", writeConf(t, map[string]string{"conf/httpd.conf": "MPM event\n"}), "-M")
	loads, err := filepath.Glob(filepath.Join(root, "mods-enabled", "*.load"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, l := range loads {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "LoadModule" && !strings.Contains(mods.stdout, " "+f[1]+" ") {
				missing = append(missing, f[1])
			}
		}
	}
	if len(missing) > 0 {
		t.Skipf("modules not compiled in yet: %s", strings.Join(missing, ", "))
	}
	env := []string{"APACHE_RUN_USER=www-data", "APACHE_RUN_GROUP=www-data",
		"APACHE_PID_FILE=/var/run/apache2/apache2.pid", "APACHE_LOG_DIR=/var/log/apache2"}
	r := run(t, env, "-d", root, "-f", "httpd.conf", "-t")
	if r.code != 0 || !strings.HasSuffix(r.stderr, "Syntax OK\n") {
		t.Fatalf("httpdg -t on testdata/debian: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
}

package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/cmd/cli"
)

// debianEnv is what Debian's /etc/apache2/envvars exports for apache2ctl.
var debianEnv = map[string]string{
	"APACHE_RUN_USER":  "www-data",
	"APACHE_RUN_GROUP": "www-data",
	"APACHE_PID_FILE":  "/var/run/apache2/apache2.pid",
	"APACHE_RUN_DIR":   "/var/run/apache2",
	"APACHE_LOCK_DIR":  "/var/lock/apache2",
	"APACHE_LOG_DIR":   "/var/log/apache2",
}

// TestDebianTree checks a Debian-style tree (apache2.conf's layout: ports.conf,
// mods-enabled/*.load and *.conf, conf-enabled, sites-enabled) passes -t and
// that -t -D DUMP_CONFIG inlines it in Apache's order: the expectation is
// testdata/debian/dump.golden (rewritten by -update; review it by hand).
func TestDebianTree(t *testing.T) {
	for k, v := range debianEnv {
		t.Setenv(k, v)
	}
	root, err := filepath.Abs("../../testdata/debian")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		code := cli.Main(append([]string{"-d", root, "-f", "httpd.conf"}, args...), &stdout, &stderr)
		return strings.ReplaceAll(stdout.String(), root, "$ROOT"), strings.ReplaceAll(stderr.String(), root, "$ROOT"), code
	}

	stdout, stderr, code := run("-t")
	if code != 0 || !strings.HasSuffix(stderr, "Syntax OK\n") || stdout != "" {
		t.Fatalf("httpdg -t: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The only remarks are the notices for LoadModule of built-in modules
	// and for per-vhost error logs, which are not built yet.
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "Syntax OK\n"), "\n") {
		if l != "" && !strings.Contains(l, "is built-in and can't be loaded") && !strings.Contains(l, "ErrorLog in a <VirtualHost> is not built yet") {
			t.Errorf("unexpected remark: %s", l)
		}
	}

	dump, stderr, code := run("-t", "-D", "DUMP_CONFIG")
	if code != 0 {
		t.Fatalf("httpdg -t -D DUMP_CONFIG: exit %d\n%s", code, stderr)
	}
	golden := filepath.Join(root, "dump.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if dump != string(want) {
		t.Errorf("DUMP_CONFIG differs from %s:\n--- got ---\n%s", golden, dump)
	}
	// Apache's order: the files appear as the includes name them, globs
	// sorted, editor backups and sites-available never read.
	var files []string
	for _, l := range strings.Split(dump, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(l), "# In file: "); ok && (len(files) == 0 || files[len(files)-1] != f) {
			files = append(files, f)
		}
	}
	order := []string{"httpd.conf", "mods-enabled/alias.conf", "mods-enabled/dir.conf", "mods-enabled/mime.conf",
		"mods-enabled/mpm_event.conf", "mods-enabled/reqtimeout.conf", "mods-enabled/status.conf",
		"ports.conf", "httpd.conf", "conf-enabled/other-vhosts-access-log.conf", "conf-enabled/security.conf",
		"sites-enabled/000-default.conf", "sites-enabled/example.com.conf"}
	if strings.Join(files, " ") != strings.Join(order, " ") {
		t.Errorf("files in the dump:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(order, "\n"))
	}
}

package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A snapshot carried to another process processes to the same config the
// master read, without the config files: they are removed before the
// snapshot is processed.
func TestSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "conf/extra"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "conf/httpd.conf"), []byte("Define NAME www.example.com\nListen 8080\nInclude conf/extra/*.conf\n<VirtualHost *:8080>\n  ServerName ${NAME}\n</VirtualHost>\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "conf/extra/a.conf"), []byte("ServerName main.example.com\n"), 0o644))

	var names []string
	reg := NewRegistry()
	for _, d := range []*Directive{
		{Name: "Listen", Form: Take12, Contexts: ServerOnly, Handler: func(*Cmd) error { return nil }},
		{Name: "ServerName", Form: Take1, Contexts: ServerVhost, Handler: func(c *Cmd) error { names = append(names, c.Args[0]); return nil }},
		{Name: "VirtualHost", Section: true, Form: RawArgs, Contexts: ServerOnly, Handler: func(c *Cmd) error {
			vh := NewServer(c.Node.Origin, true, c.Args)
			c.Config.Vhosts = append(c.Config.Vhosts, vh)
			return c.Walk(c.Node.Children, InVirtualHost, vh, nil)
		}},
	} {
		must(reg.Add("test_module", d))
	}
	cfg, err := Load(Options{ServerRoot: dir, Registry: reg})
	must(err)
	readNames := names
	names = nil

	data, err := cfg.Snapshot().Marshal()
	must(err)
	must(os.RemoveAll(filepath.Join(dir, "conf")))
	snap, err := UnmarshalSnapshot(data)
	must(err)
	got, err := snap.Process(reg)
	must(err)

	if len(names) != 2 || names[0] != readNames[0] || names[1] != readNames[1] {
		t.Errorf("handlers saw %q from the snapshot, %q from the files", names, readNames)
	}
	if len(got.Vhosts) != 1 || got.MPM != cfg.MPM || got.ServerRoot != cfg.ServerRoot || got.File != cfg.File {
		t.Errorf("snapshot config = %+v, want the read one's vhosts/MPM/root/file", got)
	}
	var a, b bytes.Buffer
	must(Dump(&a, cfg.Tree, dir))
	must(Dump(&b, got.Tree, dir))
	if a.String() != b.String() {
		t.Errorf("tree differs:\n%s\nvs\n%s", a.String(), b.String())
	}
	if o := got.Tree[len(got.Tree)-1].Children[0].Origin; o.Line != 5 || filepath.Base(o.File) != "httpd.conf" {
		t.Errorf("origin lost: %v", o)
	}
	if o := got.Tree[1].Origin; o.IncludedFrom == nil || o.IncludedFrom.Line != 3 {
		t.Errorf("include chain lost: %v", o)
	}
}

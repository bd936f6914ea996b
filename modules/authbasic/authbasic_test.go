package authbasic_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/modules/authbasic"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases/phasestest"
)

const htpasswd = `# users
alice:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC
bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=

carol:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/
dave:rqXexS6ZhobKA
erin:$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/
`

func dirConf(body string) string {
	return "<Directory /srv>\n" + body + "\n</Directory>\n"
}

func TestValid(t *testing.T) {
	conf := dirConf(`AuthType basic
AuthName "Members Only"
AuthBasicProvider file
AuthUserFile conf/htpasswd`)
	cfg, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": conf, "conf/htpasswd": htpasswd})
	if err != nil {
		t.Fatal(err)
	}
	got := authbasic.SectionOf(cfg.Main.Sections[0])
	want := &authbasic.DirSettings{
		AuthType:  "Basic",
		AuthName:  "Members Only",
		Providers: []string{"file"},
		UserFile:  filepath.Join(root, "conf/htpasswd"),
		Users:     []string{"alice", "bob", "carol", "dave", "erin"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %+v\nwant %+v", got, want)
	}
}

func TestNone(t *testing.T) {
	cfg := phasestest.MustLoad(t, dirConf("AuthType None"))
	if got := authbasic.SectionOf(cfg.Main.Sections[0]).AuthType; got != "None" {
		t.Errorf("AuthType = %q", got)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name   string
		conf   string
		passwd string // conf/htpasswd, when set
		line   int
		want   string
	}{
		{"server context", "AuthType Basic\n", "", 1, "AuthType not allowed here"},
		{"digest", dirConf("AuthType Digest"), "", 2, "AuthType Digest is not supported by httpdg: only Basic (and None) are"},
		{"form", dirConf("AuthType Form"), "", 2, "AuthType Form is not supported"},
		{"unknown type", dirConf("AuthType Kerberos"), "", 2, "AuthType: 'Kerberos' is not an authentication scheme"},
		{"type args", dirConf("AuthType Basic Digest"), "", 2, "AuthType takes one argument"},
		{"name args", dirConf("AuthName Members Only"), "", 2, "AuthName takes one argument"},
		{"provider", dirConf("AuthBasicProvider file dbm"), "", 2, "Unknown Authn provider: dbm"},
		{"provider case", dirConf("AuthBasicProvider File"), "", 2, "Unknown Authn provider: File"},
		{"provider none", dirConf("AuthBasicProvider"), "", 2, "AuthBasicProvider requires at least one argument"},
		{"missing file", dirConf("AuthUserFile conf/nope"), "", 2, "AuthUserFile: could not open"},
		{"file args", dirConf("AuthUserFile conf/htpasswd standard"), "x:rqXexS6ZhobKA\n", 2, "AuthUserFile takes one argument"},
		{"no colon", dirConf("AuthUserFile conf/htpasswd"), "alice:rqXexS6ZhobKA\nbob\n", 2, "AuthUserFile: line 2 of "},
		{"plain text", dirConf("AuthUserFile conf/htpasswd"), "# c\n\nalice:secret\n", 2, "AuthUserFile: line 3 of "},
		{"bad sha", dirConf("AuthUserFile conf/htpasswd"), "alice:{SHA}abc\n", 2, "the password of 'alice' is not a hash httpdg can check"},
		{"bad bcrypt", dirConf("AuthUserFile conf/htpasswd"), "alice:$2y$05$short\n", 2, "line 1 of"},
		{"empty user", dirConf("AuthUserFile conf/htpasswd"), ":rqXexS6ZhobKA\n", 2, "expected user:password-hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"conf/httpd.conf": tt.conf}
			if tt.passwd != "" {
				files["conf/htpasswd"] = tt.passwd
			}
			_, _, err := phasestest.Load(t, files)
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("Syntax error on line %d of ", tt.line)) {
				t.Errorf("error %q does not name line %d", msg, tt.line)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

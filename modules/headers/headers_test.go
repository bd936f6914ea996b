package headers_test

import (
	"strings"
	"testing"

	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/headers"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestValid(t *testing.T) {
	conf := strings.Join([]string{
		`Header set X-Frame-Options DENY`,
		`Header always append Vary "Accept-Encoding"`,
		`Header onsuccess merge Cache-Control no-cache env=!nocache`,
		`Header add Set-Cookie "a=b; path=/" "expr=%{REQUEST_URI} =~ m#^/x#"`,
		`Header unset ETag`,
		`Header always unset Server env=hide`,
		`Header echo ^X-Req-`,
		`Header edit Location ^http: https:`,
		`Header edit* Set-Cookie "(?i)secure" "" early`,
		`Header setifempty Content-Security-Policy: "default-src 'self'"`,
		`Header note X-User user`,
		`Header set X-Time "t=%t d=%D %{UNIQUE_ID}e %{SSL_PROTOCOL}s 100%%"`,
		`RequestHeader set X-Forwarded-Proto https`,
		`RequestHeader unset Proxy early`,
		`RequestHeader edit Host ^www\. ""`,
		`RequestHeader append X-Via httpdg env=via`,
	}, "\n") + "\n<Location /api>\nHeader set X-Api 1\nRequestHeader setifempty X-Id abc\n</Location>\n"
	cfg := phasestest.MustLoad(t, conf)
	ds := headers.ServerDirOf(cfg.Main)
	type w struct {
		always              bool
		action, header, val string
		repl                string
		early               bool
		env                 string
		envNot              bool
		expr                string
		regex               bool
	}
	check := func(t *testing.T, got []headers.Action, want []w) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d actions, want %d: %+v", len(got), len(want), got)
		}
		for i, x := range want {
			g := got[i]
			if g.Always != x.always || g.Action != x.action || g.Header != x.header || g.Value != x.val || g.Replacement != x.repl ||
				g.Early != x.early || g.EnvVar != x.env || g.EnvNot != x.envNot || g.Expr != x.expr || (g.Regex != nil) != x.regex {
				t.Errorf("action %d (line %d) = %+v, want %+v", i, g.Origin.Line, g, x)
			}
		}
	}
	check(t, ds.Response, []w{
		{action: "set", header: "X-Frame-Options", val: "DENY"},
		{always: true, action: "append", header: "Vary", val: "Accept-Encoding"},
		{action: "merge", header: "Cache-Control", val: "no-cache", env: "nocache", envNot: true},
		{action: "add", header: "Set-Cookie", val: "a=b; path=/", expr: "%{REQUEST_URI} =~ m#^/x#"},
		{action: "unset", header: "ETag"},
		{always: true, action: "unset", header: "Server", env: "hide"},
		{action: "echo", header: "^X-Req-", regex: true},
		{action: "edit", header: "Location", val: "^http:", repl: "https:", regex: true},
		{action: "edit*", header: "Set-Cookie", val: "(?i)secure", early: true, regex: true},
		{action: "setifempty", header: "Content-Security-Policy", val: "default-src 'self'"},
		{action: "note", header: "X-User", val: "user"},
		{action: "set", header: "X-Time", val: "t=%t d=%D %{UNIQUE_ID}e %{SSL_PROTOCOL}s 100%%"},
	})
	check(t, ds.Request, []w{
		{action: "set", header: "X-Forwarded-Proto", val: "https"},
		{action: "unset", header: "Proxy", early: true},
		{action: "edit", header: "Host", val: `^www\.`, regex: true},
		{action: "append", header: "X-Via", val: "httpdg", env: "via"},
	})
	sec := headers.SectionOf(cfg.Main.Sections[0])
	check(t, sec.Response, []w{{action: "set", header: "X-Api", val: "1"}})
	check(t, sec.Request, []w{{action: "setifempty", header: "X-Id", val: "abc"}})
}

func TestVirtualHost(t *testing.T) {
	cfg := phasestest.MustLoad(t, "<VirtualHost *:80>\nHeader always set Strict-Transport-Security max-age=63072000\n</VirtualHost>\n")
	if r := headers.ServerDirOf(cfg.Vhosts[0]).Response; len(r) != 1 || !r[0].Always {
		t.Errorf("got %+v", r)
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name string
		conf string
		line int
		want string
	}{
		{"no args", "\nHeader\n", 2, "first argument must be 'add', 'set'"},
		{"bad action", "Header replace X-A b\n", 1, "Header: first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', 'note', 'edit', or 'edit*' (got 'replace')"},
		{"always only", "Header always\n", 1, "first argument must be"},
		{"no header", "Header set\n", 1, "Header set requires a header name"},
		{"set without value", "Header set X-A\n", 1, "Header set requires three arguments"},
		{"unset with value and cond", "Header unset X-A b env=x\n", 1, "Header unset takes two arguments"},
		{"unset with two extra", "Header unset X-A b c\n", 1, "Header unset takes two arguments"},
		{"unset value not a condition", "Header unset X-A foo\n", 1, "Unknown parameter: foo"},
		{"set with condition and more", "Header set X-A b env=x y\n", 1, "Too many arguments to directive Header set"},
		{"too many", "Header edit X-A a b early extra\n", 1, "Header has too many arguments"},
		{"edit without replacement", "Header edit X-A ^a\n", 1, "Header edit requires a match and a substitution"},
		{"edit bad regex", "Header edit* X-A ^(a b\n", 1, "Header edit regex could not be compiled"},
		{"echo bad regex", "Header echo ^(X\n", 1, "Header echo regex could not be compiled"},
		{"bad condition", "Header set X-A b when=x\n", 1, "Unknown parameter: when=x"},
		{"empty env", "Header set X-A b env=!\n", 1, "missing environment variable name"},
		{"empty expr", "Header set X-A b expr=\n", 1, "Can't parse envclause/expression"},
		{"bad format", "Header set X-A %z\n", 1, "Unrecognized header format %z"},
		{"format needs name", "Header set X-A %e\n", 1, "Header: %e needs a name"},
		{"unterminated brace", "Header set X-A %{FOO\n", 1, "unterminated %{"},
		{"bad header name", `Header set "X A" b` + "\n", 1, "'X A' is not a valid header name"},
		{"early in section", "<Directory /x>\nHeader set X-A b early\n</Directory>\n", 2, "early is only valid in server config and virtual host context"},
		{"RequestHeader echo", "RequestHeader echo X-A\n", 1, "RequestHeader: 'echo' is only valid on Header directives"},
		{"RequestHeader note", "RequestHeader note X-A n\n", 1, "RequestHeader: 'note' is only valid on Header directives"},
		{"RequestHeader always", "RequestHeader always set X-A b\n", 1, "RequestHeader: 'always' is only valid on Header directives"},
		{"RequestHeader edit", "RequestHeader edit X-A a\n", 1, "RequestHeader edit requires a match and a substitution"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phasestest.WantError(t, tc.conf, tc.line, tc.want)
		})
	}
}

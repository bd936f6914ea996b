package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 1},
		{"", "abc", 3},
		{"listen", "listen", 0},
		{"lisen", "listen", 1},   // deletion
		{"listenn", "listen", 1}, // insertion
		{"lusten", "listen", 1},  // substitution
		{"lisetn", "listen", 1},  // adjacent swap (Damerau)
		{"kitten", "sitting", 3},
		{"abc", "cba", 2},
		{"documentroot", "documentrot", 1},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := editDistance(c.b, c.a); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func suggestRegistry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	for _, d := range []*Directive{
		{Name: "Listen", Form: Take12, Contexts: ServerOnly},
		{Name: "ServerName", Form: Take1, Contexts: ServerVhost},
		{Name: "ServerAlias", Form: RawArgs, Contexts: InVirtualHost},
		{Name: "DocumentRoot", Form: Take1, Contexts: ServerVhost},
		{Name: "VirtualHost", Section: true, Form: RawArgs, Contexts: ServerOnly},
		{Name: "Directory", Section: true, Form: RawArgs, Contexts: ServerVhost},
		{Name: "Location", Section: true, Form: RawArgs, Contexts: ServerVhost},
	} {
		if err := reg.Add("test_module", d); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

func TestSuggest(t *testing.T) {
	reg := suggestRegistry(t)
	for _, c := range []struct {
		name    string
		section bool
		want    string
	}{
		{"Lisen", false, "Listen"},
		{"LISTEN", false, "Listen"}, // case-insensitive; the declared spelling is returned
		{"lsiten", false, "Listen"},
		{"SeverName", false, "ServerName"},
		{"SevrerNmae", false, "ServerName"}, // two swaps: long names allow up to 3 edits
		{"DocumntRot", false, "DocumentRoot"},
		{"ServerAlais", false, "ServerAlias"},
		{"Lxxxen", false, ""}, // 3 edits in a short name: no guess
		{"Frobnicate", false, ""},
		{"VirtualHots", true, "VirtualHost"},
		{"Locaton", true, "Location"},
		{"Lisen", true, ""},        // sections only suggest sections
		{"VirtualHots", false, ""}, // and directives only directives
		{"Directory", false, ""},
	} {
		if got := reg.Suggest(c.name, c.section); got != c.want {
			t.Errorf("Suggest(%q, %v) = %q, want %q", c.name, c.section, got, c.want)
		}
	}
	// The closest of several candidates wins.
	reg2 := NewRegistry()
	for _, n := range []string{"ABCD", "ABCE", "ABXY"} {
		if err := reg2.Add("m", &Directive{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if got := reg2.Suggest("ABXZ", false); got != "ABXY" {
		t.Errorf("Suggest(ABXZ) = %q, want ABXY", got)
	}
}

func TestRegistryDuplicate(t *testing.T) {
	reg := suggestRegistry(t)
	if err := reg.Add("other_module", &Directive{Name: "listen"}); err == nil || !strings.Contains(err.Error(), "test_module and other_module") {
		t.Errorf("duplicate Listen: %v", err)
	}
	// A section and a directive may share a name.
	if err := reg.Add("other_module", &Directive{Name: "Listen", Section: true}); err != nil {
		t.Errorf("<Listen> section: %v", err)
	}
}

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"PORT": "8080", "A": "a", "B": "b", "EMPTY": "", "LOOP": "${PORT}", "SP": "x y"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for _, c := range []struct {
		in, want, err string
	}{
		{"Listen 80", "Listen 80", ""},
		{"Listen ${PORT}", "Listen 8080", ""},
		{"${A}${B}", "ab", ""},
		{"x${A}y${B}z", "xaybz", ""},
		{"Listen ${EMPTY}80", "Listen 80", ""},
		{"ServerName ${LOOP}", "ServerName ${PORT}", ""}, // values are not expanded again
		{"ServerName \"${SP}\"", "ServerName \"x y\"", ""},
		{"Listen ${PORT", "Listen ${PORT", ""}, // no closing brace: left as is
		{"Listen ${PORT} ${A", "Listen 8080 ${A", ""},
		{"Listen $PORT {PORT}", "Listen $PORT {PORT}", ""}, // only ${...} is a reference
		{"Listen ${NOPE}", "", "Config variable ${NOPE} is not defined"},
		{"Listen ${A} ${NOPE}", "", "Config variable ${NOPE} is not defined"},
		{"Listen ${port}", "", "Config variable ${port} is not defined"}, // case-sensitive
	} {
		got, err := expandVars(c.in, lookup)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("expandVars(%q): error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("expandVars(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSplitLogicalLines(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []logicalLine
	}{
		{"empty", "", nil},
		{"plain", "Listen 80\nServerName a\n", []logicalLine{{"Listen 80", 1}, {"ServerName a", 2}}},
		{"no final newline", "Listen 80", []logicalLine{{"Listen 80", 1}}},
		{"blank and comment lines", "\n# c\n  \t\n   # indented\nListen 80\n", []logicalLine{{"Listen 80", 5}}},
		{"trimmed", "  \tListen 80 \t\n", []logicalLine{{"Listen 80", 1}}},
		{"crlf", "Listen 80\r\nServerName a\r\n", []logicalLine{{"Listen 80", 1}, {"ServerName a", 2}}},
		{"continuation", "Listen \\\n80\nServerName a\n", []logicalLine{{"Listen 80", 1}, {"ServerName a", 3}}},
		{"continuation keeps blanks", "A b \\\n   c\n", []logicalLine{{"A b    c", 1}}},
		{"long continuation", "A \\\nb \\\nc \\\nd\nE\n", []logicalLine{{"A b c d", 1}, {"E", 5}}},
		{"crlf continuation", "Listen \\\r\n80\r\n", []logicalLine{{"Listen 80", 1}}},
		{"comment swallows next line", "# comment \\\nListen 80\nServerName a\n", []logicalLine{{"ServerName a", 3}}},
		{"continuation into comment", "Listen 80 \\\n# not a comment\n", []logicalLine{{"Listen 80 # not a comment", 1}}},
		{"backslash at end of file", "Listen 80\nServerName \\", []logicalLine{{"Listen 80", 1}, {"ServerName", 2}}},
		{"backslash only lines", "\\\n\\\nListen 80\n", []logicalLine{{"Listen 80", 1}}},
		{"hash inside a line", "Header set X \"#1\"\n", []logicalLine{{"Header set X \"#1\"", 1}}},
	} {
		got := splitLogicalLines(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: splitLogicalLines(%q) = %+v, want %+v", c.name, c.in, got, c.want)
		}
	}
}

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want parsedLine
	}{
		{"Listen 80", parsedLine{Kind: kindDirective, Name: "Listen", Args: []string{"80"}, Raw: "80"}},
		{"KeepAlive", parsedLine{Kind: kindDirective, Name: "KeepAlive"}},
		{"Listen\t127.0.0.1:80   http", parsedLine{Kind: kindDirective, Name: "Listen", Args: []string{"127.0.0.1:80", "http"}, Raw: "127.0.0.1:80   http"}},
		{`ErrorDocument 404 "Not found here"`, parsedLine{Kind: kindDirective, Name: "ErrorDocument", Args: []string{"404", "Not found here"}, Raw: `404 "Not found here"`}},
		{`ErrorDocument 404 'Not found'`, parsedLine{Kind: kindDirective, Name: "ErrorDocument", Args: []string{"404", "Not found"}, Raw: `404 'Not found'`}},
		{`X "a \"b\" c"`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{`a "b" c`}, Raw: `"a \"b\" c"`}},
		{`X 'it\'s'`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{`it's`}, Raw: `'it\'s'`}},
		{`X "a\\b"`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{`a\b`}, Raw: `"a\\b"`}},
		{`X "a\nb" c\d`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{`a\nb`, `c\d`}, Raw: `"a\nb" c\d`}},
		{`X "it's" 'say "hi"'`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{`it's`, `say "hi"`}, Raw: `"it's" 'say "hi"'`}},
		{`X ""`, parsedLine{Kind: kindDirective, Name: "X", Args: []string{""}, Raw: `""`}},
		{`"Listen" 80`, parsedLine{Kind: kindDirective, Name: "Listen", Args: []string{"80"}, Raw: "80"}},
		{"ServerAlias a # b", parsedLine{Kind: kindDirective, Name: "ServerAlias", Args: []string{"a", "#", "b"}, Raw: "a # b", HashArg: "#"}},
		{"ServerAlias a #b", parsedLine{Kind: kindDirective, Name: "ServerAlias", Args: []string{"a", "#b"}, Raw: "a #b", HashArg: "#b"}},
		{`ServerAlias a "#b"`, parsedLine{Kind: kindDirective, Name: "ServerAlias", Args: []string{"a", "#b"}, Raw: `a "#b"`}},
		{"ServerAlias a#b", parsedLine{Kind: kindDirective, Name: "ServerAlias", Args: []string{"a#b"}, Raw: "a#b"}},
		{"<VirtualHost *:80>", parsedLine{Kind: kindOpen, Name: "VirtualHost", Args: []string{"*:80"}, Raw: "*:80"}},
		{"<VirtualHost *:80 *:81>", parsedLine{Kind: kindOpen, Name: "VirtualHost", Args: []string{"*:80", "*:81"}, Raw: "*:80 *:81"}},
		{"<Directory /srv >", parsedLine{Kind: kindOpen, Name: "Directory", Args: []string{"/srv"}, Raw: "/srv"}},
		{`<Directory "/srv/my docs">`, parsedLine{Kind: kindOpen, Name: "Directory", Args: []string{"/srv/my docs"}, Raw: `"/srv/my docs"`}},
		{`<Files ~ "\.ht">`, parsedLine{Kind: kindOpen, Name: "Files", Args: []string{"~", `\.ht`}, Raw: `~ "\.ht"`}},
		{"<RequireAll>", parsedLine{Kind: kindOpen, Name: "RequireAll"}},
		{"<ifdefine !FOO>", parsedLine{Kind: kindOpen, Name: "ifdefine", Args: []string{"!FOO"}, Raw: "!FOO"}},
		{"</VirtualHost>", parsedLine{Kind: kindClose, Name: "VirtualHost"}},
		{"</virtualhost >", parsedLine{Kind: kindClose, Name: "virtualhost"}},
	} {
		got, err := parseLine(c.in)
		if err != nil {
			t.Errorf("parseLine(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("parseLine(%q) = %#v\nwant %#v", c.in, *got, c.want)
		}
	}
	for _, c := range []struct{ in, err string }{
		{`ErrorDocument 404 "not closed`, `unterminated quoted argument in: ErrorDocument 404 "not closed`},
		{`X 'a\'`, `unterminated quoted argument in: X 'a\'`},
		{"<Directory /srv", "<Directory> directive missing closing '>'"},
		{"</Directory", "</Directory directive missing closing '>'"},
		{"<RequireAll> extra", "<RequireAll> has text after its closing '>': extra"},
	} {
		_, err := parseLine(c.in)
		if err == nil || err.Error() != c.err {
			t.Errorf("parseLine(%q): error %v, want %q", c.in, err, c.err)
		}
	}
}

func TestOriginString(t *testing.T) {
	main := &Origin{File: "/srv/conf/httpd.conf", Line: 40}
	mid := &Origin{File: "/srv/conf/extra/sites.conf", Line: 7, IncludedFrom: main}
	leaf := &Origin{File: "/srv/conf/sites/a.conf", Line: 12, IncludedFrom: mid}
	for _, c := range []struct {
		o    *Origin
		want string
	}{
		{nil, "<unknown>"},
		{main, "line 40 of /srv/conf/httpd.conf"},
		{mid, "line 7 of /srv/conf/extra/sites.conf (included from line 40 of /srv/conf/httpd.conf)"},
		{leaf, "line 12 of /srv/conf/sites/a.conf (included from line 7 of /srv/conf/extra/sites.conf, included from line 40 of /srv/conf/httpd.conf)"},
	} {
		if got := c.o.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
	if got := leaf.Short(); got != "/srv/conf/sites/a.conf:12" {
		t.Errorf("Short() = %q", got)
	}
	err := &Error{Origin: leaf, Msg: "Invalid command 'Lisen'"}
	want := "Syntax error on line 12 of /srv/conf/sites/a.conf (included from line 7 of /srv/conf/extra/sites.conf, included from line 40 of /srv/conf/httpd.conf):\nInvalid command 'Lisen'"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if got := (&Error{Msg: "plain"}).Error(); got != "plain" {
		t.Errorf("Error() without origin = %q", got)
	}
	if got := (Warning{Origin: mid, Msg: "m"}).String(); got != "/srv/conf/extra/sites.conf:7: m" {
		t.Errorf("Warning.String() = %q", got)
	}
}

func TestCheckArgs(t *testing.T) {
	for _, c := range []struct {
		form ArgForm
		args []string
		err  string
	}{
		{Take1, []string{"a"}, ""},
		{Take1, nil, "X takes one argument, help"},
		{Take1, []string{"a", "b"}, "X takes one argument, help"},
		{Take2, []string{"a"}, "X takes two arguments, help"},
		{Take3, []string{"a", "b"}, "X takes three arguments, help"},
		{Take12, []string{"a", "b", "c"}, "X takes 1-2 arguments, help"},
		{Take23, []string{"a"}, "X takes two or three arguments, help"},
		{Take123, nil, "X takes one, two or three arguments, help"},
		{Take13, []string{"a", "b"}, "X takes one or three arguments, help"},
		{Take13, []string{"a", "b", "c"}, ""},
		{Iterate, nil, "X requires at least one argument, help"},
		{Iterate, []string{"a", "b", "c"}, ""},
		{Iterate2, []string{"a"}, "X requires at least two arguments, help"},
		{Flag, []string{"on"}, ""},
		{Flag, []string{"OFF"}, ""},
		{Flag, []string{"yes"}, "X must be On or Off"},
		{Flag, nil, "X must be On or Off"},
		{NoArgs, nil, ""},
		{NoArgs, []string{"a"}, "X takes no arguments"},
		{RawArgs, nil, ""},
	} {
		d := &Directive{Name: "X", Form: c.form, Help: "help"}
		err := d.checkArgs(c.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("%s %q: %q, want %q", c.form, c.args, got, c.err)
		}
	}
}

func TestWithoutDotfiles(t *testing.T) {
	got := withoutDotfiles("/r/conf.d/*", []string{"/r/conf.d/.x", "/r/conf.d/a"})
	if !reflect.DeepEqual(got, []string{"/r/conf.d/a"}) {
		t.Errorf("got %q", got)
	}
	got = withoutDotfiles("/r/*/x.conf", []string{"/r/.git/x.conf", "/r/a/x.conf"})
	if !reflect.DeepEqual(got, []string{"/r/a/x.conf"}) {
		t.Errorf("got %q", got)
	}
	got = withoutDotfiles("/r/.*", []string{"/r/.x"})
	if !reflect.DeepEqual(got, []string{"/r/.x"}) {
		t.Errorf("got %q", got)
	}
}

func TestOriginLongChainIsShortened(t *testing.T) {
	var o *Origin
	for i := 1; i <= 20; i++ {
		o = &Origin{File: fmt.Sprintf("f%d.conf", i), Line: i, IncludedFrom: o}
	}
	got := (&Origin{File: "leaf.conf", Line: 1, IncludedFrom: o}).String()
	want := "line 1 of leaf.conf (included from line 20 of f20.conf, included from line 19 of f19.conf, included from line 18 of f18.conf, included from line 17 of f17.conf, ... 12 more includes ..., included from line 4 of f4.conf, included from line 3 of f3.conf, included from line 2 of f2.conf, included from line 1 of f1.conf)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

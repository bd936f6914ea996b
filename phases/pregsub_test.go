package phases

import (
	"regexp"
	"testing"
)

func TestPregsub(t *testing.T) {
	re := regexp.MustCompile(`^/(\w+)/(\w+)$`)
	src := "/img/cat"
	m := re.FindStringSubmatchIndex(src)
	for tmpl, want := range map[string]string{
		"/srv/$1/$2.png": "/srv/img/cat.png",
		"$0":             "/img/cat",
		`\$1 costs \&`:   "$1 costs &",
		"$9":             "",
		"plain":          "plain",
	} {
		if got := Pregsub(tmpl, src, m); got != want {
			t.Errorf("Pregsub(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

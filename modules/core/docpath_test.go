package core

import (
	"path/filepath"
	"strings"
	"testing"
)

// docPath and hasDotDotSegment are filepath.Join and a strings.Split scan
// without their allocations: they must agree with them everywhere.
func TestDocPathIsJoin(t *testing.T) {
	roots := []string{"/srv/www", "/srv/www/", "/", "/a/./b", "relative/root", "/srv//www"}
	uris := []string{"/", "/a", "/a/b.html", "/a//b", "/a/./b", "/a/b/", "/a/b/.", "/.", "//", "/a/../b", "/..", "/..x", "/x..", "/a/..", "*", "", "/a/b/../../c", "/.hidden", "/a/.b/c"}
	for _, root := range roots {
		for _, uri := range uris {
			if got, want := docPath(root, uri), filepath.Join(root, uri); got != want {
				t.Errorf("docPath(%q, %q) = %q, want %q", root, uri, got, want)
			}
		}
	}
	for _, uri := range uris {
		want := false
		for _, seg := range strings.Split(uri, "/") {
			want = want || seg == ".."
		}
		if got := hasDotDotSegment(uri); got != want {
			t.Errorf("hasDotDotSegment(%q) = %v, want %v", uri, got, want)
		}
	}
}

func BenchmarkDocPath(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if hasDotDotSegment("/static/css/site.css") {
			b.Fatal("..")
		}
		_ = docPath("/srv/www/htdocs", "/static/css/site.css")
	}
}

package static

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// listDirectory answers GET or HEAD for a directory under Options Indexes
// (mod_autoindex): an HTML table of the entries, directories first, then
// by name, with their sizes and modification times.
func listDirectory(r *phases.Request) (phases.Status, error) {
	dir := r.Filename
	entries, err := os.ReadDir(dir)
	if err != nil {
		logf(r, "error", "Can't open directory for index: %s", dir)
		return http.StatusForbidden, nil
	}
	type item struct {
		name  string
		dir   bool
		size  int64
		mtime time.Time
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		it := item{name: e.Name(), dir: e.IsDir()}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil { // follows symlinks, as a listing shows targets
			it.dir, it.size, it.mtime = fi.IsDir(), fi.Size(), fi.ModTime()
		} else if fi, err := e.Info(); err == nil {
			it.size, it.mtime = fi.Size(), fi.ModTime()
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].dir != items[j].dir {
			return items[i].dir
		}
		return items[i].name < items[j].name
	})

	uri := r.URI
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	title := "Index of " + html.EscapeString(strings.TrimSuffix(uri, "/"))
	if uri == "/" {
		title = "Index of /"
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + title + "</title>\n")
	b.WriteString("<style>body{font-family:sans-serif}table{border-collapse:collapse}th,td{padding:.2em 1em;text-align:left}td.size{text-align:right}</style>\n")
	b.WriteString("</head>\n<body>\n<h1>" + title + "</h1>\n<table>\n")
	b.WriteString("<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n")
	if uri != "/" {
		parent := uri[:strings.LastIndex(strings.TrimSuffix(uri, "/"), "/")+1]
		b.WriteString("<tr><td><a href=\"" + html.EscapeString(escapePath(parent)) + "\">Parent Directory</a></td><td></td><td class=\"size\">-</td></tr>\n")
	}
	for _, it := range items {
		name, href := it.name, url.PathEscape(it.name)
		if strings.Contains(href, ":") { // "a:b" would read as a scheme
			href = "./" + href
		}
		size := "-"
		if it.dir {
			name += "/"
			href += "/"
		} else {
			size = humanSize(it.size)
		}
		date := ""
		if !it.mtime.IsZero() {
			date = it.mtime.Format("2006-01-02 15:04")
		}
		b.WriteString("<tr><td><a href=\"" + html.EscapeString(href) + "\">" + html.EscapeString(name) + "</a></td><td>" + date + "</td><td class=\"size\">" + size + "</td></tr>\n")
	}
	b.WriteString("</table>\n</body>\n</html>\n")

	r.ContentType = "text/html;charset=UTF-8"
	r.HeadersOut["Content-Length"] = []string{strconv.Itoa(b.Len())}
	r.Output.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, err = r.Output.Write(b.Bytes())
	}
	return phases.OK, err
}

// escapePath escapes a URL path segment by segment.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// humanSize is mod_autoindex's size column: bytes below 1K, then K, M, G
// with one decimal below 10.
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	f := float64(n)
	for _, unit := range []string{"K", "M", "G", "T"} {
		f /= 1024
		if f < 1024 || unit == "T" {
			if f < 10 {
				return strconv.FormatFloat(f, 'f', 1, 64) + unit
			}
			return strconv.FormatInt(int64(f+0.5), 10) + unit
		}
	}
	return strconv.FormatInt(n, 10)
}

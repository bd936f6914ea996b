package static

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// listingHead opens mod_autoindex's page, as Apache 2.4.67 writes it.
const listingHead = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">` + "\n"

// listDirectory answers GET or HEAD for a directory under Options Indexes
// with mod_autoindex's default (plain) listing, byte for byte: a
// "Parent Directory" link, then one link per entry sorted by name (the
// query's O=D reverses it, P=pattern filters it, as in Apache), in
// ISO-8859-1 as Apache declares it. Entries Apache's per-entry lookup
// would refuse are left out: "." and "..", and symlinks that the
// directory's Options do not let be followed or whose target is missing.
// The fancy formats (IndexOptions, F=1/2) are not built.
func listDirectory(r *phases.Request) (phases.Status, error) {
	dir := r.Filename
	entries, err := os.ReadDir(dir)
	if err != nil {
		logf(r, "error", "Can't open directory for index: %s", dir)
		return http.StatusForbidden, nil
	}
	descending, pattern := listingArgs(r.Args)
	follow := dirOpts(r, dir)
	type item struct {
		name string
		dir  bool
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if pattern != "" && !fnmatch(pattern, name) {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p) // a listing shows what links point to
		if err != nil {
			continue
		}
		if e.Type()&os.ModeSymlink != 0 && !symlinkAllowed(follow, p) {
			continue
		}
		items = append(items, item{name: name, dir: fi.IsDir()})
	}
	// strcmp on the bytes, as Apache; directories are not put first.
	sort.Slice(items, func(i, j int) bool {
		if descending {
			return items[i].name > items[j].name
		}
		return items[i].name < items[j].name
	})

	// The title is the URI without its trailing slashes ("/" stays).
	title := r.URI
	for len(title) > 1 && strings.HasSuffix(title, "/") {
		title = title[:len(title)-1]
	}
	title = escapeHTML(title)
	var b bytes.Buffer
	b.WriteString(listingHead)
	b.WriteString("<html>\n <head>\n  <title>Index of " + title + "</title>\n </head>\n <body>\n<h1>Index of " + title + "</h1>\n<ul>")
	if title != "/" {
		parent := strings.TrimSuffix(r.URI, "/")
		parent = parent[:strings.LastIndex(parent, "/")+1]
		b.WriteString(`<li><a href="` + escapeHTML(core.EscapePath(parent)) + `"> Parent Directory</a></li>` + "\n")
	}
	for _, it := range items {
		name, href := it.name, core.EscapePath(it.name)
		if strings.Contains(href, ":") { // "a:b" would read as a scheme
			href = "./" + href
		}
		if it.dir {
			name += "/"
			href += "/"
		}
		b.WriteString(`<li><a href="` + escapeHTML(href) + `"> ` + escapeHTML(name) + "</a></li>\n")
	}
	b.WriteString("</ul>\n" + core.Signature(r, "") + "</body></html>\n")

	r.ContentType = "text/html;charset=ISO-8859-1"
	if r.Method == http.MethodHead {
		// Apache generates no body for HEAD, so it has no length to send.
		r.Output.WriteHeader(http.StatusOK)
		return phases.OK, nil
	}
	r.HeadersOut["Content-Length"] = []string{strconv.Itoa(b.Len())}
	r.Output.WriteHeader(http.StatusOK)
	_, err = r.Output.Write(b.Bytes())
	return phases.OK, err
}

// listingArgs reads mod_autoindex's query arguments, separated by "&" or
// ";": O=D sorts in descending order, P=pattern keeps the names matching
// the (URL-encoded) wildcard pattern. C= and F= are accepted; a malformed
// argument ends the parse, as in Apache.
func listingArgs(q string) (descending bool, pattern string) {
	for q != "" {
		arg, rest, _ := cutAny(q, "&;")
		switch {
		case len(arg) == 3 && arg[:2] == "C=" && strings.IndexByte("NMSD", arg[2]) >= 0:
		case len(arg) == 3 && arg[:2] == "O=" && (arg[2] == 'A' || arg[2] == 'D'):
			descending = arg[2] == 'D'
		case len(arg) == 3 && arg[:2] == "F=" && strings.IndexByte("012", arg[2]) >= 0:
		case len(arg) == 3 && arg[:2] == "V=" && (arg[2] == '0' || arg[2] == '1'):
		case strings.HasPrefix(arg, "P="):
			// A pattern that does not decode is ignored.
			pattern, _ = url.PathUnescape(arg[2:])
		default:
			return descending, pattern
		}
		q = rest
	}
	return descending, pattern
}

// cutAny cuts s around the first byte of seps.
func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// fnmatch is apr_fnmatch with APR_FNM_NOESCAPE | APR_FNM_PERIOD: a
// backslash is an ordinary character, and a leading "." must be matched
// by a "." in the pattern.
func fnmatch(pattern, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pattern, ".") {
		return false
	}
	ok, err := path.Match(strings.ReplaceAll(pattern, `\`, `\\`), name)
	return err == nil && ok
}

// symlinkAllowed tells whether the listing may show the symlink p, given
// the Options of its directory (the check a request for it would meet).
func symlinkAllowed(o opts, p string) bool {
	if o&optFollowSymLinks != 0 {
		return true
	}
	if o&optSymLinksIfOwnerMatch == 0 {
		return false
	}
	link, err1 := os.Lstat(p)
	target, err2 := os.Stat(p)
	return err1 == nil && err2 == nil && owner(link) == owner(target)
}

// escapeHTML is Apache's ap_escape_html: &, <, > and " only (unlike
// html.EscapeString, which also turns ' into &#39;).
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

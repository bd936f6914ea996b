// Package parity holds the Apache-parity fixture shared by the table test
// (cmd/httpdg/apache_parity_test.go) and the live differential runner
// (scripts/apache-diff.sh, scripts/apachediff): one document tree, one
// config both servers read, the list of raw requests with Apache's
// recorded answers, and the client that sends them as written.
//
// Keeping all of it in one place is what makes the recorded answers
// trustworthy: the runner replays exactly the test's requests against a
// live Apache, so a recorded answer that no longer matches Apache shows up
// as a difference there, not as a silently stale test row.
package parity

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MTime is the modification time of every file in the tree: fixed, and
// far enough back that Apache's ETags are strong (it makes them weak for a
// file changed within the last second), so ETag and Last-Modified are the
// same in every run.
var MTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// LastModified is Last-Modified for every file of the tree.
var LastModified = MTime.Format(http.TimeFormat)

// ETagSuffix ends the ETag of every file of the tree: Apache's default
// "FileETag MTime Size" is "<size>-<mtime>", both in lower-case hex, the
// mtime in microseconds.
var ETagSuffix = "-" + strconv.FormatInt(MTime.UnixMicro(), 16) + `"`

// ETag is Apache's ETag for a file of the tree of size bytes.
func ETag(size int64) string { return `"` + strconv.FormatInt(size, 16) + ETagSuffix }

// Alpha is the content of htdocs/alpha.txt, the file most requests ask for.
const Alpha = "abcdefghijklmnopqrstuvwxyz"

// BigSize is the size of htdocs/big.txt, the file for ranges far from the
// start.
const BigSize = 20000

// mimeTypes is the tree's TypesConfig: the few types the requests need, in
// mime.types format, so both servers type files alike whatever their
// distribution ships.
const mimeTypes = `text/html	html htm
text/plain	txt
text/css	css
application/json	json
application/gzip	gz
`

// files are the tree's regular files, relative to its root.
var files = map[string]string{
	"conf/mime.types":               mimeTypes,
	"htdocs/index.html":             "<h1>root</h1>\n",
	"htdocs/alpha.txt":              Alpha,
	"htdocs/data.json":              "{\"a\": 1}\n",
	"htdocs/style.css":              "body{}\n",
	"htdocs/archive.gz":             "not really gzip\n",
	"htdocs/file.unknownext":        "x\n",
	"htdocs/big.txt":                big(),
	"htdocs/dir/index.html":         "<h1>index</h1>\n",
	"htdocs/odd dir;[x]/index.html": "<h1>odd</h1>\n",
	"htdocs/listing/a.txt":          "a\n",
	"htdocs/closed/b.txt":           "b\n",
	"htdocs/charset/t.txt":          "t\n",
	"htdocs/charset/p.html":         "<p>p</p>\n",
	"htdocs/limited/f.txt":          "f\n",
	"htdocs/errors/404.html":        "<h1>custom 404</h1>\n",
	"htdocs/links/.keep":            "",
	"htdocs/nolinks/.keep":          "",
	"htdocs/ownerlinks/.keep":       "",
	"outside/secret.txt":            "secret\n",
	"outside/aliased/f.txt":         "aliased\n",
}

// symlinks are link → target, both relative to htdocs: one link to a file
// inside the document root and one to a file outside it, in directories
// with FollowSymLinks, without it, and with SymLinksIfOwnerMatch.
var symlinks = map[string]string{
	"links/in.txt":       "../alpha.txt",
	"links/out.txt":      "../../outside/secret.txt",
	"nolinks/in.txt":     "../alpha.txt",
	"nolinks/out.txt":    "../../outside/secret.txt",
	"ownerlinks/in.txt":  "../alpha.txt",
	"ownerlinks/out.txt": "../../outside/secret.txt",
	"toplink.txt":        "../outside/secret.txt",
}

// big is htdocs/big.txt: BigSize bytes of digits, so a range's bytes tell
// where they came from.
func big() string {
	var b strings.Builder
	for i := 0; b.Len() < BigSize; i++ {
		fmt.Fprintf(&b, "%09d\n", i*10)
	}
	return b.String()[:BigSize]
}

// WriteTree creates the fixture under root (which must exist): the files,
// the symlinks, every file's mtime set to MTime, and every directory
// world-readable, because Apache's children run as an unprivileged User
// when the runner starts it as root.
func WriteTree(root string) error {
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	for link, target := range symlinks {
		if err := os.Symlink(target, filepath.Join(root, "htdocs", link)); err != nil {
			return err
		}
	}
	for name := range files {
		if err := os.Chtimes(filepath.Join(root, name), MTime, MTime); err != nil {
			return err
		}
	}
	return filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.IsDir() {
			return err
		}
		return os.Chmod(p, 0o755)
	})
}

// Ports are the two addresses both servers listen on: Main serves
// everything, NoTrace is a virtual host with TraceEnable off (a
// server-wide directive, so it needs a server of its own).
type Ports struct{ Main, NoTrace int }

// Config is the configuration both servers read, apart from the lines
// only one of them needs (Apache's LoadModule, PidFile, User...; see the
// runner). The tree's paths are absolute under root; the logs are
// relative, under each server's own ServerRoot, so two servers can serve
// one tree.
func Config(root string, p Ports) string {
	docs := filepath.Join(root, "htdocs")
	lines := []string{
		fmt.Sprintf("Listen 127.0.0.1:%d", p.Main),
		fmt.Sprintf("Listen 127.0.0.1:%d", p.NoTrace),
		"ServerName localhost",
		"DocumentRoot " + docs,
		"ErrorLog logs/error_log",
		"LogLevel info",
		// Apache has no built-in "combined"; httpdg's is the same string.
		`LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined`,
		"CustomLog logs/access_log combined",
		"TypesConfig " + filepath.Join(root, "conf", "mime.types"),
		"KeepAlive On",
		// Small limits, so the requests that exceed them stay small.
		"LimitRequestLine 1024",
		"LimitRequestFieldSize 1024",
		"LimitRequestFields 20",
		"DirectoryIndex index.html",
		"<Directory " + docs + "/listing>", "Options Indexes", "</Directory>",
		"<Directory " + docs + "/closed>", "Options -Indexes", "</Directory>",
		"<Directory " + docs + "/links>", "Options FollowSymLinks", "</Directory>",
		"<Directory " + docs + "/nolinks>", "Options None", "</Directory>",
		"<Directory " + docs + "/ownerlinks>", "Options SymLinksIfOwnerMatch", "</Directory>",
		"<Directory " + docs + "/charset>", "AddDefaultCharset utf-8", "</Directory>",
		"<Directory " + docs + "/limited>", "LimitRequestBody 100", "</Directory>",
		"Alias /al " + filepath.Join(root, "outside", "aliased"),
		"Redirect permanent /moved http://example.com/new",
		"Redirect temp /temp /alpha.txt",
		"Redirect gone /gone",
		"<Location /edlocal>", "ErrorDocument 404 /errors/404.html", "</Location>",
		"<Location /edurl>", "ErrorDocument 404 http://example.com/missing", "</Location>",
		"<Location /edtext>", `ErrorDocument 404 "Nothing here"`, "</Location>",
		fmt.Sprintf("<VirtualHost 127.0.0.1:%d>", p.NoTrace), "TraceEnable off", "</VirtualHost>",
	}
	return strings.Join(lines, "\n") + "\n"
}

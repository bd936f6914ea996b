package parity

import "strings"

// Case is one request and Apache's answer to it.
//
// The answers were recorded from Apache/2.4.67 (Debian) serving the same
// tree (WriteTree) with the same config (Config), by
// scripts/apache-diff.sh -emit; scripts/apache-diff.sh shows, for every
// row, whether a live Apache still answers so ("recorded" column).
type Case struct {
	Name string
	// NoTrace sends the request to Ports.NoTrace (TraceEnable off).
	NoTrace bool
	// Request is the raw request, byte for byte; {host} stands for
	// 127.0.0.1:<port>.
	Request string

	// Apache's answer: the status (0: an HTTP/0.9 answer, a body without
	// a head), the KeyHeaders it sent as Key renders them (a key header
	// missing here must be missing), whether the body was its canned
	// error/redirect page, the body itself where it says something the
	// headers do not ("" = not compared), and its combined access-log line
	// (time as [T], the request line as {r}; "" = none written).
	Status int
	Header map[string]string
	Page   bool
	Body   string
	Log    string

	// KnownGap, when set, says why httpdg does not answer like Apache yet:
	// a difference in the HTTP engine (mpm/), which the module layer
	// cannot fix. Gaps names the parts that differ ("status", "page",
	// "body", "log" or a key header); the rest is still checked. Empty
	// Gaps: the whole answer may differ.
	KnownGap string
	Gaps     []string
}

// req builds a well-formed HTTP/1.1 request with a Host and the given
// header lines.
func req(method, target string, headers ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: {host}\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// get is req for GET.
func get(target string, headers ...string) string { return req("GET", target, headers...) }

// etag and lastMod are the validators Apache sends for a file of the tree
// (see ETag and LastModified).
var (
	etag    = ETag
	lastMod = LastModified
)

// h builds a header map from name, value pairs.
func h(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Cases is every request of the parity table, in the order sent.
var Cases = []Case{
	// GET and HEAD
	{Name: "GET a file", Request: get("/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HEAD a file", Request: req("HEAD", "/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 - "-" "-"`},
	{Name: "GET /", Request: get("/"),
		Status: 200, Header: h("Content-Type", "text/html", "Content-Length", "14", "ETag", etag(14), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 14 "-" "-"`},
	{Name: "GET a missing file", Request: get("/missing.txt"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "HEAD a missing file", Request: req("HEAD", "/missing.txt"),
		Status: 404, Header: h("Content-Type", "text/html; charset=iso-8859-1"),
		Log: `127.0.0.1 - - [T] "{r}" 404 - "-" "-"`},

	// ranges
	{Name: "range", Request: get("/alpha.txt", "Range: bytes=0-4"),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "5", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 0-4/26"),
		Log: `127.0.0.1 - - [T] "{r}" 206 5 "-" "-"`},
	{Name: "suffix range", Request: get("/alpha.txt", "Range: bytes=-5"),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "5", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 21-25/26"),
		Log: `127.0.0.1 - - [T] "{r}" 206 5 "-" "-"`},
	{Name: "open range in a large file", Request: get("/big.txt", "Range: bytes=19990-"),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "10", "ETag", etag(20000), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 19990-19999/20000"),
		Log: `127.0.0.1 - - [T] "{r}" 206 10 "-" "-"`},
	{Name: "range in a large file", Request: get("/big.txt", "Range: bytes=1000-1999"),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "1000", "ETag", etag(20000), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 1000-1999/20000"),
		Log: `127.0.0.1 - - [T] "{r}" 206 1000 "-" "-"`},
	{Name: "multiple ranges", Request: get("/big.txt", "Range: bytes=0-9,100-109,-10"),
		Status: 206, Header: h("Content-Type", "multipart/byteranges; boundary=BOUNDARY", "Content-Length", "312", "ETag", etag(20000), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 206 312 "-" "-"`},
	{Name: "unsatisfiable range", Request: get("/alpha.txt", "Range: bytes=100-200"),
		Status: 416, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1"),
		Log: `127.0.0.1 - - [T] "{r}" 416 354 "-" "-"`},
	{Name: "malformed range is ignored", Request: get("/alpha.txt", "Range: bytes=x-y"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},

	// conditional requests
	{Name: "If-Modified-Since equal", Request: get("/alpha.txt", "If-Modified-Since: "+lastMod),
		Status: 304, Header: h("ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 304 - "-" "-"`},
	{Name: "If-Modified-Since older", Request: get("/alpha.txt", "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "If-Modified-Since newer", Request: get("/alpha.txt", "If-Modified-Since: Fri, 03 Jan 2020 00:00:00 GMT"),
		Status: 304, Header: h("ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 304 - "-" "-"`},
	{Name: "If-Unmodified-Since older", Request: get("/alpha.txt", "If-Unmodified-Since: Wed, 01 Jan 2020 00:00:00 GMT"),
		Status: 412, Header: h("Content-Type", "text/plain", "Content-Length", "0", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 412 - "-" "-"`},
	{Name: "If-Unmodified-Since equal", Request: get("/alpha.txt", "If-Unmodified-Since: "+lastMod),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "If-None-Match matching", Request: get("/alpha.txt", "If-None-Match: "+etag(26)),
		Status: 304, Header: h("ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 304 - "-" "-"`},
	{Name: "If-None-Match not matching", Request: get("/alpha.txt", `If-None-Match: "nope"`),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "If-None-Match star", Request: get("/alpha.txt", "If-None-Match: *"),
		Status: 304, Header: h("ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 304 - "-" "-"`},
	{Name: "If-Range matching ETag", Request: get("/alpha.txt", "Range: bytes=0-4", "If-Range: "+etag(26)),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "5", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 0-4/26"),
		Log: `127.0.0.1 - - [T] "{r}" 206 5 "-" "-"`},
	{Name: "If-Range other ETag", Request: get("/alpha.txt", "Range: bytes=0-4", `If-Range: "nope"`),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "If-Range matching date", Request: get("/alpha.txt", "Range: bytes=0-4", "If-Range: "+lastMod),
		Status: 206, Header: h("Content-Type", "text/plain", "Content-Length", "5", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Content-Range", "bytes 0-4/26"),
		Log: `127.0.0.1 - - [T] "{r}" 206 5 "-" "-"`},

	// directories
	{Name: "directory without slash", Request: get("/dir"),
		Status: 301, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "{hostlen+260}", "Location", "http://{host}/dir/"),
		Log: `127.0.0.1 - - [T] "{r}" 301 275 "-" "-"`},
	{Name: "directory without slash, query kept", Request: get("/dir?a=1"),
		Status: 301, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "{hostlen+264}", "Location", "http://{host}/dir/?a=1"),
		Log: `127.0.0.1 - - [T] "{r}" 301 279 "-" "-"`},
	{Name: "directory without slash, name to escape", Request: get("/odd%20dir;%5Bx%5D"),
		Status: 301, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "{hostlen+274}", "Location", "http://{host}/odd%20dir;%5bx%5d/"),
		Log: `127.0.0.1 - - [T] "{r}" 301 289 "-" "-"`},
	{Name: "DirectoryIndex", Request: get("/dir/"),
		Status: 200, Header: h("Content-Type", "text/html", "Content-Length", "15", "ETag", etag(15), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 15 "-" "-"`},
	{Name: "Options Indexes on", Request: get("/listing/"),
		Status: 200, Header: h("Content-Type", "text/html;charset=ISO-8859-1", "Content-Length", "289"),
		Log: `127.0.0.1 - - [T] "{r}" 200 289 "-" "-"`},
	{Name: "Options Indexes on, HEAD", Request: req("HEAD", "/listing/"),
		Status: 200, Header: h("Content-Type", "text/html;charset=ISO-8859-1"),
		Log: `127.0.0.1 - - [T] "{r}" 200 - "-" "-"`},
	{Name: "Options Indexes off", Request: get("/closed/"),
		Status: 403, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "239"),
		Log: `127.0.0.1 - - [T] "{r}" 403 239 "-" "-"`},

	// ErrorDocument
	{Name: "ErrorDocument local path", Request: get("/edlocal/x"),
		Status: 404, Header: h("Content-Type", "text/html", "Content-Length", "20", "ETag", etag(20), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 404 20 "-" "-"`},
	{Name: "ErrorDocument URL", Request: get("/edurl/x"),
		Status: 302, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "250", "Location", "http://example.com/missing"),
		Log: `127.0.0.1 - - [T] "{r}" 302 250 "-" "-"`},
	{Name: "ErrorDocument text", Request: get("/edtext/x"),
		Status: 404, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "12"),
		Log: `127.0.0.1 - - [T] "{r}" 404 12 "-" "-"`},

	// dot segments, in every spelling
	{Name: "/a/../b", Request: get("/dir/../alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "/../x", Request: get("/../alpha.txt"),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "/%2e%2e/x", Request: get("/%2e%2e/alpha.txt"),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "/a/%2e%2e/b", Request: get("/dir/%2e%2e/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "/a/%2E%2E/b upper case", Request: get("/dir/%2E%2E/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "/..%2fx", Request: get("/..%2falpha.txt"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "/%2e%2e%2f", Request: get("/%2e%2e%2f"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "/a/.%2e/b", Request: get("/dir/.%2e/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "/a/b/../../../x climbs out", Request: get("/dir/x/../../../alpha.txt"),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "/a/.. at the end", Request: get("/dir/.."),
		Status: 200, Header: h("Content-Type", "text/html", "Content-Length", "14", "ETag", etag(14), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 14 "-" "-"`},
	{Name: "/./x", Request: get("/./alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "//x", Request: get("//alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "encoded slash", Request: get("/dir%2findex.html"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "bad escape", Request: get("/alpha%zz.txt"),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},

	// NUL
	{Name: "NUL", Request: get("/alpha.txt%00"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "NUL before an extension", Request: get("/alpha.txt%00.html"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},

	// symlinks
	{Name: "symlink inside, FollowSymLinks", Request: get("/links/in.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "symlink outside, FollowSymLinks", Request: get("/links/out.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "7", "ETag", etag(7), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 7 "-" "-"`},
	{Name: "symlink inside, Options None", Request: get("/nolinks/in.txt"),
		Status: 403, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "239"),
		Log: `127.0.0.1 - - [T] "{r}" 403 239 "-" "-"`},
	{Name: "symlink outside, Options None", Request: get("/nolinks/out.txt"),
		Status: 403, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "239"),
		Log: `127.0.0.1 - - [T] "{r}" 403 239 "-" "-"`},
	{Name: "symlink inside, SymLinksIfOwnerMatch", Request: get("/ownerlinks/in.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "symlink outside, SymLinksIfOwnerMatch", Request: get("/ownerlinks/out.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "7", "ETag", etag(7), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 7 "-" "-"`},
	{Name: "symlink outside, default Options", Request: get("/toplink.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "7", "ETag", etag(7), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 7 "-" "-"`},

	// Alias, Redirect
	{Name: "Alias", Request: get("/al/f.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "8", "ETag", etag(8), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 8 "-" "-"`},
	{Name: "Alias, missing file", Request: get("/al/missing.txt"),
		Status: 404, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "236"),
		Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "Redirect permanent", Request: get("/moved"),
		Status: 301, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "270", "Location", "http://example.com/new"),
		Log: `127.0.0.1 - - [T] "{r}" 301 270 "-" "-"`},
	{Name: "Redirect permanent, path kept", Request: get("/moved/sub?q=1"),
		Status: 301, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "278", "Location", "http://example.com/new/sub?q=1"),
		Log: `127.0.0.1 - - [T] "{r}" 301 278 "-" "-"`},
	{Name: "Redirect temp to a local path", Request: get("/temp"),
		Status: 302, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "{hostlen+241}", "Location", "http://{host}/alpha.txt"),
		Log: `127.0.0.1 - - [T] "{r}" 302 256 "-" "-"`},
	{Name: "Redirect gone", Request: get("/gone"),
		Status: 410, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "322"),
		Log: `127.0.0.1 - - [T] "{r}" 410 322 "-" "-"`},

	// MIME types, AddDefaultCharset
	{Name: "type .json", Request: get("/data.json"),
		Status: 200, Header: h("Content-Type", "application/json", "Content-Length", "9", "ETag", etag(9), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 9 "-" "-"`},
	{Name: "type .css", Request: get("/style.css"),
		Status: 200, Header: h("Content-Type", "text/css", "Content-Length", "7", "ETag", etag(7), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 7 "-" "-"`},
	{Name: "type .gz", Request: get("/archive.gz"),
		Status: 200, Header: h("Content-Type", "application/gzip", "Content-Length", "16", "ETag", etag(16), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 16 "-" "-"`},
	{Name: "unknown extension", Request: get("/file.unknownext"),
		Status: 200, Header: h("Content-Length", "2", "ETag", etag(2), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 2 "-" "-"`},
	{Name: "AddDefaultCharset, text/plain", Request: get("/charset/t.txt"),
		Status: 200, Header: h("Content-Type", "text/plain; charset=utf-8", "Content-Length", "2", "ETag", etag(2), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 2 "-" "-"`},
	{Name: "AddDefaultCharset, text/html", Request: get("/charset/p.html"),
		Status: 200, Header: h("Content-Type", "text/html; charset=utf-8", "Content-Length", "9", "ETag", etag(9), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 9 "-" "-"`},

	// LimitRequest*
	{Name: "LimitRequestLine exceeded", Request: get("/" + strings.Repeat("a", 1100)),
		Status: 414, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "288", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "GET /` + strings.Repeat("a", 1020) + `" 414 288 "-" "-"`},
	{Name: "LimitRequestFieldSize exceeded", Request: get("/alpha.txt", "X-Long: "+strings.Repeat("b", 1100)),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "318", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 318 "-" "-"`},
	{Name: "LimitRequestFields exceeded", Request: get("/alpha.txt", manyFields(20)...),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "330", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 330 "-" "-"`},
	{Name: "LimitRequestFields reached", Request: get("/alpha.txt", manyFields(19)...),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "LimitRequestBody exceeded (Content-Length)", Request: req("POST", "/limited/f.txt", "Content-Length: 101", "Content-Type: text/plain") + strings.Repeat("c", 101),
		Status: 413, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 413 356 "-" "-"`},
	{Name: "LimitRequestBody exceeded (chunked)", Request: req("POST", "/limited/f.txt", "Transfer-Encoding: chunked") + "65\r\n" + strings.Repeat("c", 101) + "\r\n0\r\n\r\n",
		Status: 413, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 413 356 "-" "-"`},
	{Name: "LimitRequestBody not exceeded", Request: req("POST", "/limited/f.txt", "Content-Length: 100") + strings.Repeat("c", 100),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "2", "ETag", etag(2), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 2 "-" "-"`},

	// methods
	{Name: "TRACE, TraceEnable on", Request: req("TRACE", "/alpha.txt"),
		Status: 200, Header: h("Content-Type", "message/http"),
		Log:  `127.0.0.1 - - [T] "{r}" 200 52 "-" "-"`,
		Body: "TRACE /alpha.txt HTTP/1.1\r\nHost: {host}\r\n\r\n"},
	{Name: "TRACE, TraceEnable off", NoTrace: true, Request: req("TRACE", "/alpha.txt"),
		Status: 405, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "262", "Allow", ""),
		Log: `127.0.0.1 - - [T] "{r}" 405 262 "-" "-"`},
	{Name: "OPTIONS a file", Request: req("OPTIONS", "/alpha.txt"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "0", "Allow", "GET,HEAD,OPTIONS,POST,TRACE"),
		Log: `127.0.0.1 - - [T] "{r}" 200 - "-" "-"`},
	{Name: "OPTIONS *", Request: req("OPTIONS", "*"),
		Status: 200, Header: h("Content-Length", "0"),
		Log: `127.0.0.1 - - [T] "{r}" 200 - "-" "-"`},
	{Name: "unknown method", Request: req("FOO", "/alpha.txt"),
		Status: 501, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "242", "Allow", "GET,HEAD,OPTIONS,POST,TRACE", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 501 242 "-" "-"`},
	{Name: "lower-case method", Request: req("get", "/alpha.txt"),
		Status: 501, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "242", "Allow", "GET,HEAD,OPTIONS,POST,TRACE", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 501 242 "-" "-"`},
	{Name: "POST to a file", Request: req("POST", "/alpha.txt", "Content-Length: 3") + "a=b",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "PUT", Request: req("PUT", "/alpha.txt", "Content-Length: 3") + "a=b",
		Status: 405, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "260", "Allow", "GET,HEAD,OPTIONS,POST,TRACE"),
		Log: `127.0.0.1 - - [T] "{r}" 405 260 "-" "-"`},

	// protocol
	{Name: "HTTP/1.0", Request: "GET /alpha.txt HTTP/1.0\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HTTP/1.0 keep-alive", Request: "GET /alpha.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Connection", "Keep-Alive", "Keep-Alive", "timeout=5, max=100"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HTTP/1.1 Connection: close", Request: get("/alpha.txt", "Connection: close"),
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HTTP/1.1 without Host", Request: "GET /alpha.txt HTTP/1.1\r\n\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "HTTP/1.1 with two Hosts", Request: "GET /alpha.txt HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "absolute URI", Request: "GET http://{host}/alpha.txt HTTP/1.1\r\nHost: {host}\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "absolute URI, other host", Request: "GET http://other.example/alpha.txt HTTP/1.1\r\nHost: {host}\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "bad request line (extra word)", Request: "GET /alpha.txt HTTP/1.1 extra\r\nHost: {host}\r\n\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "GET /alpha.txt HTTP/1.1" 400 266 "-" "-"`},
	{Name: "bad request line (one word)", Request: "GARBAGE\r\n\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "HTTP/0.9 style request line", Request: "GET /alpha.txt\r\n\r\n",
		Status: 0,
		Log:    `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`,
		Body:   Alpha},
	{Name: "HTTP/0.9, missing file", Request: "GET /missing.txt\r\n",
		Status: 0, Body: notFoundPage, Log: `127.0.0.1 - - [T] "{r}" 404 236 "-" "-"`},
	{Name: "HTTP/0.9, directory without slash", Request: "GET /listing\r\n",
		Status: 0, Log: `127.0.0.1 - - [T] "{r}" 301 273 "-" "-"`},
	{Name: "HTTP/0.9, with a query", Request: "GET /alpha.txt?x=1\r\n",
		Status: 0, Body: Alpha, Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HTTP/0.9, bad escape", Request: "GET /a%zz\r\n",
		Status: 0, Body: badRequestPage, Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "HTTP/0.9 line, HEAD", Request: "HEAD /alpha.txt\r\n",
		Status: 400, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Connection", "close"), Log: `127.0.0.1 - - [T] "{r}" 400 - "-" "-"`},
	{Name: "HTTP/0.9 line, POST", Request: "POST /alpha.txt\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"), Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "HTTP/0.9 line, relative target", Request: "GET alpha.txt\r\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"), Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
	{Name: "HTTP/0.9 line, bare LF", Request: "GET /alpha.txt\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"), Log: `127.0.0.1 - - [T] "GET /alpha.txt\n" 400 266 "-" "-"`},
	{Name: "bad request line, HEAD", Request: "HEAD /alpha.txt HTTP/1.1 extra\r\nHost: {host}\r\n\r\n",
		Status: 400, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Connection", "close"), Log: `127.0.0.1 - - [T] "HEAD /alpha.txt HTTP/1.1" 400 - "-" "-"`},
	{Name: "request with bare LFs", Request: "GET /alpha.txt HTTP/1.1\nHost: {host}\n\n",
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"), Log: `127.0.0.1 - - [T] "GET /alpha.txt HTTP/1.1\n" 400 266 "-" "-"`},
	{Name: "HTTP/2.0 in an HTTP/1 request line", Request: "GET /alpha.txt HTTP/2.0\r\nHost: {host}\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "HTTP/1.2", Request: "GET /alpha.txt HTTP/1.2\r\nHost: {host}\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "Content-Length and Transfer-Encoding", Request: req("POST", "/alpha.txt", "Content-Length: 3", "Transfer-Encoding: chunked") + "3\r\na=b\r\n0\r\n\r\n",
		Status: 200, Header: h("Content-Type", "text/plain", "Content-Length", "26", "ETag", etag(26), "Last-Modified", lastMod, "Accept-Ranges", "bytes", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 200 26 "-" "-"`},
	{Name: "header without colon", Request: get("/alpha.txt", "NoColonHere"),
		Status: 400, Page: true, Header: h("Content-Type", "text/html; charset=iso-8859-1", "Content-Length", "266", "Connection", "close"),
		Log: `127.0.0.1 - - [T] "{r}" 400 266 "-" "-"`},
}

// Apache 2.4.67's 404 and 400 pages, as an HTTP/0.9 answer carries them.
const (
	notFoundPage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
</body></html>
`
	badRequestPage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html><head>
<title>400 Bad Request</title>
</head><body>
<h1>Bad Request</h1>
<p>Your browser sent a request that this server could not understand.<br />
</p>
</body></html>
`
)

// manyFields returns n distinct header lines; with the Host line the
// request has n+1 fields (the tree's LimitRequestFields is 20).
func manyFields(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "X-F" + strings.Repeat("x", i) + ": v"
	}
	return out
}

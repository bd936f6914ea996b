package core

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/httpdg/httpdg/phases"
)

// normalizeURI is the URI step Apache 2.4 takes in
// ap_process_request_internal before translate_name, done here from the
// request target as the client sent it (net/http has already decoded
// req.URL.Path, which loses the difference between "/" and "%2F"):
//
//  1. ap_normalize_path: percent-encoded unreserved characters are decoded
//     (so "%2e" is "."), "//" merges (MergeSlashes On), "." segments go
//     and ".." removes the segment before it; a ".." that would climb
//     above "/" or a malformed escape is 400.
//  2. ap_unescape_url with AllowEncodedSlashes Off: the rest is decoded;
//     an encoded "/" or NUL is 404.
//
// So "/a/../b" serves "/b", "/../b" and "/%2e%2e/b" are 400, "/..%2fb" is
// 404, as with Apache. A URI a post_read_request hook has replaced is left
// as the hook set it.
//
// It runs at the end of post_read_request, before pre_translate_name
// hooks (Lua's, at Last), as in Apache, and for an internal redirect's
// request too (its UnparsedURI is the new URI).
func normalizeURI(r *phases.Request) (phases.Status, error) {
	raw := requestPath(r.UnparsedURI)
	// "*" (OPTIONS *) and a CONNECT authority have no path to normalize;
	// translate_name refuses what no module claims.
	if !strings.HasPrefix(raw, "/") || (r.URI != "" && r.URI != raw && r.URI != pathUnescaped(raw)) {
		return phases.DECLINED, nil
	}
	uri, status := NormalizePath(raw)
	if status != 0 {
		return phases.Status(status), nil
	}
	r.URI = uri
	return phases.DECLINED, nil
}

// requestPath is the path of a request target: without the query or
// fragment, and without scheme and authority in the absolute form
// ("http://host/p" is "/p").
func requestPath(target string) string {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if strings.HasPrefix(target, "/") {
		return target
	}
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return "/"
	}
	return target
}

// pathUnescaped is the path as net/http decodes it into req.URL.Path (what
// the engine puts in r.URI), or "" if it does not decode.
func pathUnescaped(raw string) string {
	p, err := url.PathUnescape(raw)
	if err != nil {
		return ""
	}
	return p
}

// NormalizePath turns the raw path of a request target into Apache's
// r->uri (see normalizeURI), or returns the error status: 400 for a
// malformed escape, a path not starting with "/" or a ".." above the root,
// 404 for an encoded "/" or NUL.
func NormalizePath(raw string) (string, int) {
	if !strings.HasPrefix(raw, "/") {
		return "", http.StatusBadRequest
	}
	p, ok := decodeUnreserved(raw)
	if !ok {
		return "", http.StatusBadRequest
	}
	p, ok = removeDotSegments(p)
	if !ok {
		return "", http.StatusBadRequest
	}
	return unescapePath(p)
}

// unreserved reports RFC 3986's unreserved characters: ALPHA, DIGIT and
// "-._~", the ones a URI normalizer decodes.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeUnreserved decodes the %XX escapes of unreserved characters and
// keeps the others as written; false if an escape is malformed.
func decodeUnreserved(p string) (string, bool) {
	if !strings.Contains(p, "%") {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", false
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		if c := hi<<4 | lo; unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteString(p[i : i+3])
		}
		i += 2
	}
	return b.String(), true
}

// removeDotSegments merges slashes and resolves "." and ".." segments of
// an absolute path; a path ending in "/", "/." or "/.." keeps a trailing
// slash. false if a ".." would climb above the root.
func removeDotSegments(p string) (string, bool) {
	if !strings.Contains(p, "/.") && !strings.Contains(p, "//") {
		return p, true
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", false
			}
			out = out[:len(out)-1]
		default:
			out = append(out, s)
			continue
		}
		trailing = last
	}
	res := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		res += "/"
	}
	return res, true
}

// unescapePath decodes the remaining %XX escapes; an encoded "/" or NUL
// is 404 (Apache's AllowEncodedSlashes Off; the escapes are known to be
// well formed by now).
func unescapePath(p string) (string, int) {
	if !strings.Contains(p, "%") {
		return p, 0
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		hi, _ := unhex(p[i+1])
		lo, _ := unhex(p[i+2])
		c := hi<<4 | lo
		if c == '/' || c == 0 {
			return "", http.StatusNotFound
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), 0
}

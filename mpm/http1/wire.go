package http1

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Byte classes of RFC 9110.
var (
	// tokenByte: tchar, what a method and a field name are made of.
	tokenByte [256]bool
	// hostByte: the bytes net/http accepts in a Host value
	// (httpguts.ValidHostHeader's, lenient as theirs).
	hostByte [256]bool
	// plainPathByte: bytes url.ParseRequestURI keeps as they are in a path
	// (not '%', '?' or anything EscapedPath would escape), so a path of
	// them alone parses to itself with no RawPath.
	plainPathByte [256]bool
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		tokenByte[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		hostByte[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!$%&()*+,-.:;=[']_~", b) >= 0
		if b > ' ' && b < 0x7f && b != '%' && b != '?' {
			// After a slash: EscapedPath leaves a lone "*" alone.
			s := "/" + string(b)
			plainPathByte[c] = (&url.URL{Path: s}).EscapedPath() == s
		}
	}
}

// statusLines holds "HTTP/1.1 <code> <text>\r\n" for every code with a
// text. Responses say HTTP/1.1 whatever the request's version, as Apache
// does (RFC 9110 §6.2: a server sends its own version).
var statusLines [600]string

func init() {
	for code := 100; code < len(statusLines); code++ {
		if t := http.StatusText(code); t != "" {
			statusLines[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + t + "\r\n"
		}
	}
}

func statusLine(code int) string {
	if code >= 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	// As net/http words a code it has no text for.
	c := strconv.Itoa(code)
	for len(c) < 3 {
		c = "0" + c
	}
	return "HTTP/1.1 " + c + " status code " + strconv.Itoa(code) + "\r\n"
}

// appendInt appends n in decimal (strconv.AppendInt without the interface
// conversions; n >= 0).
func appendInt(b []byte, n int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendHex appends n in hexadecimal (a chunk size; n > 0).
func appendHex(b []byte, n int) []byte {
	var tmp [16]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = hexDigits[n&15]
		n >>= 4
	}
	return append(b, tmp[i:]...)
}

// AppendFields appends the lines WriteHeader writes for h's fields in a
// final response with a body: every field but Date, Connection,
// Transfer-Encoding, Trailer and trailer announcements, in sorted order,
// values cleaned as WriteHeader cleans them. With WritePreparedHeader, a
// head rendered once can be sent again without its map.
func AppendFields(b []byte, h http.Header) []byte {
	var keys []string
	return appendHeader(b, h, &keys, func(k string) bool {
		switch k {
		case "Date", "Connection", "Transfer-Encoding", "Trailer":
			return true
		}
		return strings.HasPrefix(k, http.TrailerPrefix)
	})
}

// appendHeader appends h's fields in sorted key order, one line per value,
// skipping keys that skip reports and names that are not tokens (as
// net/http does), with CR and LF in values turned to spaces and the values
// trimmed, so that a handler cannot split the response. keys is scratch
// space reused across calls.
func appendHeader(b []byte, h http.Header, keys *[]string, skip func(string) bool) []byte {
	ks := (*keys)[:0]
	for k := range h {
		if skip != nil && skip(k) {
			continue
		}
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !validFieldName(k) {
			continue
		}
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendFieldValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	clear(ks) // drop the key strings so they can be collected
	*keys = ks[:0]
	return b
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !tokenByte[k[i]] {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// appendFieldValue appends v trimmed, with CR and LF replaced by spaces.
func appendFieldValue(b []byte, v string) []byte {
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	start := len(b)
	b = append(b, v...)
	if strings.IndexByte(v, '\n') >= 0 || strings.IndexByte(v, '\r') >= 0 {
		for i := start; i < len(b); i++ {
			if b[i] == '\r' || b[i] == '\n' {
				b[i] = ' '
			}
		}
	}
	return b
}

// hasToken reports whether the comma-separated list v holds token
// (lowercase), ASCII case-insensitively: net/http's rule for Connection
// and Expect.
func hasToken(v, token string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		t = strings.Trim(t, " \t")
		if len(t) == len(token) && strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

func valuesHaveToken(vs []string, token string) bool {
	for _, v := range vs {
		if hasToken(v, token) {
			return true
		}
	}
	return false
}

// bodyAllowedForStatus reports whether a response with status may have a
// body (RFC 9110: not 1xx, 204, 304).
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == 204, status == 304:
		return false
	}
	return true
}

package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBlankLines is how many empty lines may precede a request line
// (RFC 9112 §2.2 says to ignore at least one; Apache ignores up to 10).
const maxBlankLines = 10

// requestLine is a parsed request line; its strings share one allocation.
type requestLine struct {
	method, uri, proto string
	major, minor       int
}

// field is a parsed header line. raw is the line as received; key (when
// already canonical) and val are substrings of it, so a field costs one
// allocation the first time a connection sends it and none after.
type field struct {
	raw, key, val string
	kind          fieldKind
}

type fieldKind uint8

// The fields the server itself reads.
const (
	otherField fieldKind = iota
	hostField
	contentLengthField
	transferEncodingField
	connectionField
	expectField
)

// commonKeys interns canonical header names, as textproto does, so that a
// name sent in another case costs no allocation either.
var commonKeys = map[string]string{}

func init() {
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Type", "Cookie", "Date", "Dnt", "Etag", "Expect", "Expires",
		"Forwarded", "From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Keep-Alive", "Last-Modified", "Location", "Origin", "Pragma",
		"Priority", "Range", "Referer", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sec-Fetch-User", "Server", "Set-Cookie", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Upgrade-Insecure-Requests", "User-Agent", "Via", "X-Forwarded-For", "X-Forwarded-Host",
		"X-Forwarded-Proto", "X-Real-Ip", "X-Requested-With",
	} {
		commonKeys[k] = k
	}
}

// readRequest reads the next request head, checks it as Apache's strict
// parser does and sets c.req up for it. It returns the status to refuse
// the request with, or an error when the connection is to be closed
// without a word (end of input, idle timeout).
func (c *conn) readRequest() (status int, err error) {
	c.headBytes = 0
	c.req.Method = ""
	c.rawLine = ""
	c.res.http09 = false
	br := c.br
	if br.Buffered() == 0 {
		// Waiting for the next request: the idle deadline governs.
		if _, err := br.Peek(1); err != nil {
			return c.headFailed(err)
		}
	}
	c.reqTime = time.Now()
	c.now = c.reqTime
	// From the first byte the head has ReadHeaderTimeout; the deadline is
	// only set when the head is not all here already (it nearly always
	// is), which saves a timer update per request.
	if d := c.srv.ReadHeaderTimeout; d > 0 {
		if buf, _ := br.Peek(br.Buffered()); !headComplete(buf) {
			c.setReadDeadline(c.reqTime.Add(d), 0)
		}
	}
	limit := c.srv.maxHeaderBytes() + 4096 // as net/http's initialReadLimitSize
	var line []byte
	for blank := 0; ; blank++ {
		if line, err = c.readLine(limit); err != nil {
			return c.headFailed(err)
		}
		if len(line) > 0 {
			break
		}
		if blank == maxBlankLines {
			return http.StatusBadRequest, nil
		}
	}
	if c.srv.Refused != nil {
		// Only kept for the log of a refusal; Apache's strict reading
		// keeps a bare LF in the line it logs.
		c.rawLine = string(line)
		if !c.lineCRLF {
			c.rawLine += "\n"
		}
	}
	if !c.lineCRLF {
		// Apache's strict reading: a line must end in CRLF.
		return http.StatusBadRequest, nil
	}
	rl, ok := c.parseRequestLine(line)
	if !ok {
		if c.srv.AllowHTTP09 {
			if uri, ok := parseHTTP09Line(line); ok {
				return c.readHTTP09(uri)
			}
		}
		// Apache has read the method of a line it then refuses: a HEAD
		// gets its 400 without a body.
		if m, _, ok := bytes.Cut(line, []byte(" ")); ok && string(m) == http.MethodHead {
			c.req.Method = http.MethodHead
		}
		return http.StatusBadRequest, nil
	}
	c.req.Method = rl.method // writeError leaves out the body for HEAD

	h := c.reqHeader
	if h == nil {
		h = make(http.Header, 16)
		c.reqHeader = h
	} else {
		clear(h)
	}
	c.vals = c.vals[:0]
	var (
		host, cl, expect         string
		hosts, cls               int
		te                       []string
		connClose, connKeepAlive bool
		hasExpect                bool
		n                        int
	)
	for {
		if line, err = c.readLine(limit); err != nil {
			return c.headFailed(err)
		}
		if !c.lineCRLF {
			return http.StatusBadRequest, nil // strict, as the request line
		}
		if len(line) == 0 {
			break
		}
		var f field
		if n < len(c.fields) && string(line) == c.fields[n].raw {
			f = c.fields[n]
		} else {
			if f, ok = parseField(line); !ok {
				return http.StatusBadRequest, nil
			}
			if n < len(c.fields) {
				c.fields[n] = f
			} else {
				c.fields = append(c.fields, f)
			}
		}
		n++
		switch f.kind {
		case hostField:
			// Kept out of Header, as net/http does (it is req.Host),
			// unless the server wants it there too.
			hosts++
			host = f.val
			if !c.srv.KeepHostField {
				continue
			}
		case transferEncodingField:
			// Kept out of Header, as net/http does (it is
			// req.TransferEncoding).
			te = append(te, f.val)
			continue
		case contentLengthField:
			cls++
			cl = f.val
		case connectionField:
			connClose = connClose || hasToken(f.val, "close")
			connKeepAlive = connKeepAlive || hasToken(f.val, "keep-alive")
		case expectField:
			if !hasExpect {
				hasExpect, expect = true, f.val
			}
		}
		c.vals = append(c.vals, f.val)
		if vv, ok := h[f.key]; ok {
			h[f.key] = append(vv, f.val)
		} else {
			i := len(c.vals)
			// Capacity-limited, so a handler's append copies instead of
			// overwriting the next field's value.
			h[f.key] = c.vals[i-1 : i : i]
		}
	}
	if n < len(c.fields) {
		clear(c.fields[n:])
		c.fields = c.fields[:n]
	}
	if cap(c.long) > 64<<10 {
		c.long = nil
	}

	at11 := rl.major > 1 || rl.minor >= 1
	if rl.method == "PRI" && rl.uri == "*" && rl.proto == "HTTP/2.0" {
		return http.StatusBadRequest, nil // an h2 preface, and h2c is not spoken here
	}
	switch {
	case hosts > 1:
		return http.StatusBadRequest, nil
	case hosts == 0 && at11 && rl.method != http.MethodConnect:
		return http.StatusBadRequest, nil
	case hosts == 1 && (host == "" && at11 || !validHost(host)):
		return http.StatusBadRequest, nil
	}
	if !c.parseURL(rl.method, rl.uri) {
		return http.StatusBadRequest, nil
	}

	// Framing of the request body (RFC 9112 §6.3, Apache's rules).
	var (
		contentLength int64
		chunked       bool
		codings       []string
	)
	c.res.closeAfterRequest = false
	if len(te) > 0 {
		if codings, ok = parseTransferCodings(te); !ok {
			// Apache answers 400 when chunked is not the final coding
			// (net/http: 501).
			return http.StatusBadRequest, nil
		}
		chunked = true
		contentLength = -1
		if !at11 {
			// RFC 9112 §6.1: chunked in an HTTP/1.0 request is faulty
			// framing; the connection is closed after it (net/http
			// ignores the field instead).
			c.res.closeAfterRequest = true
		}
		if cls > 0 {
			// Transfer-Encoding overrides Content-Length; as Apache, the
			// connection is not reused after such a request, which may be
			// an attempt at request smuggling.
			delete(h, "Content-Length")
			c.res.closeAfterRequest = true
		}
	} else if cls > 1 {
		return http.StatusBadRequest, nil // even equal duplicates, as Apache
	} else if cls == 1 {
		if contentLength, ok = parseContentLength(cl); !ok {
			return http.StatusBadRequest, nil
		}
	}

	expectContinue := false
	if hasExpect && expect != "" {
		if !hasToken(expect, "100-continue") {
			return http.StatusExpectationFailed, nil
		}
		expectContinue = at11 && contentLength != 0
	}

	reqClose := connClose
	if rl.major == 1 && rl.minor == 0 {
		reqClose = connClose || !connKeepAlive
	}
	c.res.wants10KeepAlive = rl.major == 1 && rl.minor == 0 && connKeepAlive

	reqHost := c.url.Host
	if reqHost == "" {
		reqHost = host
	}
	var reqBody io.ReadCloser = http.NoBody
	switch {
	case chunked:
		c.body.reset(-1, expectContinue)
		reqBody = &c.body
	case contentLength > 0:
		c.body.reset(contentLength, expectContinue)
		reqBody = &c.body
	default:
		c.body.reset(0, false)
	}
	c.req = http.Request{
		Method:           rl.method,
		URL:              &c.url,
		Proto:            rl.proto,
		ProtoMajor:       rl.major,
		ProtoMinor:       rl.minor,
		Header:           h,
		Body:             reqBody,
		ContentLength:    contentLength,
		TransferEncoding: codings,
		Close:            reqClose,
		Host:             reqHost,
		RemoteAddr:       c.remoteAddr,
		RequestURI:       rl.uri,
		TLS:              c.tlsState,
	}
	return 0, nil
}

// readHTTP09 sets c.req up for "GET uri", an HTTP/0.9 request: no header
// follows it, and the answer is the body alone, then the connection
// closes. A target that does not parse is refused the same way (400's
// page without a head), as Apache does once it has taken the line as 0.9.
func (c *conn) readHTTP09(uri string) (int, error) {
	c.res.http09 = true
	c.res.closeAfterRequest = true
	c.res.wants10KeepAlive = false
	c.req.Method = http.MethodGet
	if !c.parseURL(http.MethodGet, uri) {
		return http.StatusBadRequest, nil
	}
	h := c.reqHeader
	if h == nil {
		h = make(http.Header)
		c.reqHeader = h
	} else {
		clear(h)
	}
	c.body.reset(0, false)
	c.req = http.Request{
		Method:     http.MethodGet,
		URL:        &c.url,
		Proto:      "HTTP/0.9",
		ProtoMajor: 0,
		ProtoMinor: 9,
		Header:     h,
		Body:       http.NoBody,
		Close:      true,
		Host:       c.url.Host,
		RemoteAddr: c.remoteAddr,
		RequestURI: uri,
		TLS:        c.tlsState,
	}
	return 0, nil
}

// parseHTTP09Line recognises Apache's HTTP/0.9 request line: "GET SP
// target", the target starting with "/" or a scheme (an absolute URI),
// without spaces or control bytes. Any other method, or another shape,
// is not 0.9 (and then a bad request line).
func parseHTTP09Line(line []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("GET "))
	if !ok || len(rest) == 0 {
		return "", false
	}
	for _, b := range rest {
		if b <= ' ' || b == 0x7f {
			return "", false
		}
	}
	if rest[0] != '/' && !bytes.Contains(rest, []byte("://")) {
		return "", false
	}
	return string(rest), true
}

// headFailed turns a read error in a head into the answer: 431 past the
// size limit, 408 when a started head timed out (Apache's answer; net/http
// closes without one), else silence.
func (c *conn) headFailed(err error) (int, error) {
	if errors.Is(err, errHeadTooLarge) {
		return http.StatusRequestHeaderFieldsTooLarge, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && (c.headBytes > 0 || c.br.Buffered() > 0) && !c.srv.shuttingDown.Load() {
		return http.StatusRequestTimeout, nil
	}
	return 0, err
}

// headComplete reports whether buf holds a whole request head.
func headComplete(buf []byte) bool {
	return bytes.Contains(buf, []byte("\n\r\n")) || bytes.Contains(buf, []byte("\n\n"))
}

// readLine returns the next head line without its ending (CRLF, or a bare
// LF as net/http accepts). The slice is valid until the next read.
func (c *conn) readLine(limit int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	c.headBytes += len(line)
	if err == bufio.ErrBufferFull {
		// A line longer than the read buffer: gather it.
		c.long = append(c.long[:0], line...)
		for err == bufio.ErrBufferFull && c.headBytes <= limit {
			line, err = c.br.ReadSlice('\n')
			c.headBytes += len(line)
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	if c.headBytes > limit {
		return nil, errHeadTooLarge
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	c.lineCRLF = false
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
		c.lineCRLF = true
	}
	return line, nil
}

// parseRequestLine parses "METHOD SP request-target SP HTTP/d.d" strictly
// (single spaces, a token method, no control bytes in the target, HTTP/1.0
// or later). Versions past 1.1 are accepted and served as 1.1, as Apache
// does (net/http answers 505).
func (c *conn) parseRequestLine(line []byte) (requestLine, bool) {
	if c.lastLine != "" && string(line) == c.lastLine {
		return c.lastReq, true
	}
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return requestLine{}, false
	}
	sp2 := bytes.IndexByte(line[sp1+1:], ' ')
	if sp2 <= 0 {
		return requestLine{}, false
	}
	sp2 += sp1 + 1
	for _, b := range line[:sp1] {
		if !tokenByte[b] {
			return requestLine{}, false
		}
	}
	for _, b := range line[sp1+1 : sp2] {
		if b <= ' ' || b == 0x7f {
			return requestLine{}, false
		}
	}
	p := line[sp2+1:]
	if len(p) != len("HTTP/1.1") || string(p[:5]) != "HTTP/" || p[6] != '.' ||
		p[5] < '1' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return requestLine{}, false
	}
	s := string(line)
	rl := requestLine{
		method: s[:sp1],
		uri:    s[sp1+1 : sp2],
		proto:  s[sp2+1:],
		major:  int(p[5] - '0'),
		minor:  int(p[7] - '0'),
	}
	c.lastLine, c.lastReq = s, rl
	return rl, true
}

// parseField parses "name: value" strictly: a token name right before the
// colon, no folded continuation lines, no control bytes in the value (as
// Apache; net/http joins folded lines).
func parseField(line []byte) (field, bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return field{}, false
	}
	canonical, upper := true, true
	for _, b := range line[:colon] {
		if !tokenByte[b] {
			return field{}, false // also a space before the colon, and folding
		}
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			canonical = false
		}
		upper = b == '-'
	}
	start, end := colon+1, len(line)
	for start < end && (line[start] == ' ' || line[start] == '\t') {
		start++
	}
	for end > start && (line[end-1] == ' ' || line[end-1] == '\t') {
		end--
	}
	for _, b := range line[start:end] {
		if b < ' ' && b != '\t' || b == 0x7f {
			return field{}, false
		}
	}
	raw := string(line)
	f := field{raw: raw, val: raw[start:end]}
	if canonical {
		f.key = raw[:colon]
	} else {
		f.key = canonicalKey(line[:colon])
	}
	switch f.key {
	case "Host":
		f.kind = hostField
	case "Content-Length":
		f.kind = contentLengthField
	case "Transfer-Encoding":
		f.kind = transferEncodingField
	case "Connection":
		f.kind = connectionField
	case "Expect":
		f.kind = expectField
	}
	return f, true
}

// canonicalKey is textproto.CanonicalMIMEHeaderKey of a token.
func canonicalKey(name []byte) string {
	var tmp [64]byte
	b := append(tmp[:0], name...)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if k, ok := commonKeys[string(b)]; ok {
		return k
	}
	return string(b)
}

func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !hostByte[h[i]] {
			return false
		}
	}
	return true
}

// parseContentLength accepts digits only (no sign, no list), as Apache.
func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// parseTransferCodings checks the Transfer-Encoding values: chunked must
// be the final coding and appear once. It returns the codings outermost
// first (req.TransferEncoding's order).
func parseTransferCodings(values []string) ([]string, bool) {
	if len(values) == 1 && strings.EqualFold(values[0], "chunked") {
		return []string{"chunked"}, true
	}
	var codings []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.Trim(t, " \t"); t != "" {
				codings = append(codings, strings.ToLower(t))
			}
		}
	}
	if len(codings) == 0 || codings[len(codings)-1] != "chunked" {
		return nil, false
	}
	for _, t := range codings[:len(codings)-1] {
		if t == "chunked" {
			return nil, false
		}
	}
	// Reverse: the last coding applied is the outermost.
	for i, j := 0, len(codings)-1; i < j; i, j = i+1, j-1 {
		codings[i], codings[j] = codings[j], codings[i]
	}
	return codings, true
}

// parseURL sets c.url from a request target as url.ParseRequestURI would
// (as net/http does, CONNECT's authority form included); a plain path with
// an optional query, nearly every request, is split without it.
func (c *conn) parseURL(method, uri string) bool {
	c.url = url.URL{}
	if uri[0] == '/' {
		path, query, hasQuery := strings.Cut(uri, "?")
		plain := true
		for i := 0; i < len(path); i++ {
			if !plainPathByte[path[i]] {
				plain = false
				break
			}
		}
		if plain {
			c.url.Path = path
			c.url.RawQuery = query
			c.url.ForceQuery = hasQuery && query == ""
			return true
		}
	}
	raw := uri
	authority := method == http.MethodConnect && uri[0] != '/'
	if authority {
		raw = "http://" + uri
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return false
	}
	if authority {
		u.Scheme = ""
	}
	c.url = *u
	return true
}

package parity

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KeyHeaders are the response headers compared between the servers (the
// issue's list, plus Keep-Alive, which tells HTTP/1.0 keep-alive apart).
// Date and Server are left out: they differ by design.
var KeyHeaders = []string{"Content-Type", "Content-Length", "Location", "ETag", "Last-Modified",
	"Accept-Ranges", "Content-Range", "Allow", "Connection", "Keep-Alive", "Vary"}

// Answer is one response as read off the wire.
type Answer struct {
	// Head is the status line and header lines, byte for byte, up to and
	// without the blank line.
	Head   string
	Status int
	Header http.Header
	Body   []byte
	// Err says why there is no (complete) response: the server closed
	// without a word, or sent something that is not HTTP.
	Err error
	// Status 0 with a Body and no Err is an HTTP/0.9 answer: no head.
}

// ioTimeout bounds a whole exchange: every answer is small and local.
const ioTimeout = 10 * time.Second

// Host is the Host value (and absolute-URI authority) a request to port
// carries: the {host} of the templates.
func Host(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// Send writes raw (with {host} expanded for port) on a new connection to
// 127.0.0.1:port as it is, byte for byte, and reads one response. The
// request is written from its own goroutine: a server that refuses a
// request before reading all of it (an over-long line) must not block the
// read of its answer.
func Send(port int, raw string) Answer {
	raw = strings.ReplaceAll(raw, "{host}", Host(port))
	c, err := net.DialTimeout("tcp", Host(port), ioTimeout)
	if err != nil {
		return Answer{Err: err}
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	go func() { _, _ = io.WriteString(c, raw) }()

	var seen bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &seen))
	if first, err := br.Peek(5); err == nil && string(first) != "HTTP/" {
		// An HTTP/0.9 answer: the body alone, until the server closes.
		body, err := io.ReadAll(br)
		return Answer{Body: body, Err: err}
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return Answer{Err: err, Head: headOf(seen.Bytes())}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	head := headOf(seen.Bytes())
	return Answer{Head: head, Status: resp.StatusCode, Header: headerOf(head), Body: body, Err: err}
}

// headerOf parses the header lines of a head as sent: net/http's
// response parser drops "Connection: close", which is one of the headers
// compared.
func headerOf(head string) http.Header {
	_, fields, _ := strings.Cut(head, "\r\n")
	tr := textproto.NewReader(bufio.NewReader(strings.NewReader(fields + "\r\n\r\n")))
	h, _ := tr.ReadMIMEHeader()
	return http.Header(h)
}

// headOf cuts a response's head off the bytes read so far.
func headOf(b []byte) string {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

var boundary = regexp.MustCompile(`boundary=[0-9A-Za-z]+`)

// Key returns a's key headers as comparable strings: values of a header
// sent twice are joined with ", ", the server's address becomes {host},
// a multipart boundary (random) becomes BOUNDARY, and a Content-Length
// that counts the address inside the body (a redirect page) becomes
// {hostlen+N}, N being the length without it, and Allow's methods are
// sorted (see sortedAllow).
func Key(a Answer, port int) map[string]string {
	host := Host(port)
	out := map[string]string{}
	for _, k := range KeyHeaders {
		vals, ok := a.Header[http.CanonicalHeaderKey(k)]
		if !ok {
			continue
		}
		v := strings.ReplaceAll(strings.Join(vals, ", "), host, "{host}")
		switch k {
		case "Content-Type":
			v = boundary.ReplaceAllString(v, "boundary=BOUNDARY")
		case "Allow":
			v = sortedAllow(v)
		case "Content-Length":
			if n := bytes.Count(a.Body, []byte(host)); n == 1 {
				if cl, err := strconv.Atoi(v); err == nil {
					v = fmt.Sprintf("{hostlen+%d}", cl-len(host))
				}
			}
		}
		out[k] = v
	}
	return out
}

// sortedAllow sorts the methods of an Allow value but keeps TRACE last:
// Apache lists them in the order of an APR hash seeded at random in each
// process, and adds TRACE at the end when TraceEnable allows it.
func sortedAllow(v string) string {
	methods := strings.Split(v, ",")
	trace := len(methods) > 0 && methods[len(methods)-1] == "TRACE"
	if trace {
		methods = methods[:len(methods)-1]
	}
	sort.Strings(methods)
	if trace {
		methods = append(methods, "TRACE")
	}
	return strings.Join(methods, ",")
}

// Expand turns an expected header value back into what a server on port
// must send: {host} and {hostlen+N} as Key writes them.
func Expand(v string, port int) string {
	host := Host(port)
	if strings.HasPrefix(v, "{hostlen+") && strings.HasSuffix(v, "}") {
		if n, err := strconv.Atoi(v[len("{hostlen+") : len(v)-1]); err == nil {
			return strconv.Itoa(n + len(host))
		}
	}
	return strings.ReplaceAll(v, "{host}", host)
}

// apachePage opens every error and redirect page Apache 2.4.67 writes
// itself (ap_send_error_response); the page's title is the status.
const apachePage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">`

// BodyKind says in a few words what a's body is: "" for none, "apache-page"
// for Apache's canned error/redirect page, else its type and size.
func BodyKind(a Answer) string {
	switch {
	case len(a.Body) == 0:
		return ""
	case a.Status == 0:
		return fmt.Sprintf("HTTP/0.9 answer %dB", len(a.Body))
	case bytes.HasPrefix(a.Body, []byte(apachePage)) && bytes.Contains(a.Body, []byte(fmt.Sprintf("<title>%d ", a.Status))):
		return "apache-page"
	}
	ct, _, _ := strings.Cut(a.Header.Get("Content-Type"), ";")
	if ct == "" {
		ct = "untyped"
	}
	return fmt.Sprintf("%s %dB", ct, len(a.Body))
}

// MaskRequestLine writes the request line of raw inside a combined log
// line as {r}: the table keeps each request once.
func MaskRequestLine(line, raw string) string {
	first, _, _ := strings.Cut(raw, "\r\n")
	return strings.Replace(line, `"`+first+`"`, `"{r}"`, 1)
}

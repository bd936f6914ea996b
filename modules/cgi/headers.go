package cgi

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxHeaderLine is the longest header line a script may print (Apache's
// MAX_STRING_LEN less its terminator).
const maxHeaderLine = 8190

// scriptHeader is a script's header block, sorted as Apache's
// ap_scan_script_header_err sorts it.
type scriptHeader struct {
	status      int    // from Status:, 0 when the script gave none
	statusLine  string // the Status: value, for the log
	contentType string // from Content-Type:, lower-cased; "" when none
	hasType     bool
	// out goes to headers_out (Location, Content-Length, Content-Range,
	// ETag, Last-Modified), errOut to err_headers_out (Set-Cookie and
	// every other field): Apache's split, so the latter go out with an
	// error or redirect answer too.
	out, errOut http.Header
	// dropped are fields httpdg frames itself (Transfer-Encoding and
	// the connection's own), left out of the answer.
	dropped []string
}

// headerError is why a header block could not be read.
type headerError int

const (
	headerEOF       headerError = iota + 1 // no header line at all
	headerPremature                        // some header lines, then the end
	headerMalformed                        // a line that is not "Name: value"
	headerStatus                           // Status: is not a valid code
	headerRead                             // the read failed (timeout, kill)
)

// parseError carries the failed read's cause and the bad line.
type parseError struct {
	kind headerError
	line string
	err  error
}

func (e *parseError) Unwrap() error { return e.err }

func (e *parseError) Error() string {
	switch e.kind {
	case headerEOF:
		return "End of script output before headers"
	case headerPremature:
		return "Premature end of script headers"
	case headerMalformed:
		return "malformed header: " + e.line
	case headerStatus:
		return "invalid status: " + e.line
	}
	return "reading script headers: " + e.err.Error()
}

// readHeader reads the script's header block from br, up to and with the
// blank line that ends it. requestTime bounds Last-Modified (Apache's
// ap_set_last_modified never sends a date after the request's).
func readHeader(br *bufio.Reader, requestTime time.Time) (*scriptHeader, error) {
	h := &scriptHeader{out: http.Header{}, errOut: http.Header{}}
	first := true
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if first {
					return nil, &parseError{kind: headerEOF}
				}
				return nil, &parseError{kind: headerPremature}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, &parseError{kind: headerMalformed, line: line}
			}
			return nil, &parseError{kind: headerRead, err: err}
		}
		if line == "" {
			return h, nil
		}
		first = false
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validFieldName(name) {
			return nil, &parseError{kind: headerMalformed, line: line}
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-type":
			h.contentType, h.hasType = contentTypeToLower(value), true
		case "status":
			h.statusLine = value
			code, ok := statusCode(value)
			if !ok {
				return nil, &parseError{kind: headerStatus, line: value}
			}
			h.status = code
		case "location", "content-length", "content-range", "etag":
			h.out.Set(name, value)
		case "last-modified":
			t, err := http.ParseTime(value)
			if err != nil {
				h.dropped = append(h.dropped, line)
				continue
			}
			if !requestTime.IsZero() && t.After(requestTime) {
				t = requestTime
			}
			h.out.Set(name, t.UTC().Format(http.TimeFormat))
		case "transfer-encoding", "connection", "keep-alive":
			h.dropped = append(h.dropped, line)
		default:
			h.errOut.Add(name, value)
		}
	}
}

// readLine reads one header line without its end (LF, or CRLF; Apache
// drops every CR in a header line). A line longer than maxHeaderLine is
// bufio.ErrBufferFull.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) || len(b) > maxHeaderLine {
			return string(b[:min(len(b), 30)]), bufio.ErrBufferFull
		}
		if err == io.EOF && len(b) > 0 {
			// A last line without its end still counts as a line read:
			// the end of the output then comes before the blank line.
			return "", io.EOF
		}
		return "", err
	}
	if len(b) > maxHeaderLine+1 {
		return string(b[:30]), bufio.ErrBufferFull
	}
	s := string(b[:len(b)-1])
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r", "")
	}
	return s, nil
}

// statusCode is the code of a Status: value ("404", "404 Not Found"), if
// it is a final status: 200 to 599 (Apache's ap_is_HTTP_VALID_RESPONSE
// also lets 1xx through, which cannot end an answer).
func statusCode(v string) (int, bool) {
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	code, err := strconv.Atoi(v[:end])
	if err != nil || code < 200 || code > 599 {
		return 0, false
	}
	return code, true
}

// validFieldName reports whether name is an HTTP token (what may go out
// as a field name).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// contentTypeToLower is Apache's ap_content_type_tolower: the media type
// and the parameter names in lower case, the parameter values as given.
func contentTypeToLower(ct string) string {
	parts := strings.Split(ct, ";")
	parts[0] = strings.ToLower(strings.TrimSpace(parts[0]))
	for i := 1; i < len(parts); i++ {
		if k, v, ok := strings.Cut(parts[i], "="); ok {
			parts[i] = strings.ToLower(k) + "=" + v
		}
	}
	return strings.Join(parts, ";")
}

// truncate30 is C's "%.30s".
func truncate30(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}

package core

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/httpdg/httpdg/phases"
)

// DefaultLimitRequestBody is Apache 2.4.54's default: 1 GiB.
const DefaultLimitRequestBody = 1 << 30

// limitRequestBody is core's header_parser: a body larger than the
// LimitRequestBody in effect is refused with 413, announced by
// Content-Length or found while reading a chunked one.
func limitRequestBody(r *phases.Request) (phases.Status, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return phases.DECLINED, nil
	}
	limit := int64(DefaultLimitRequestBody)
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if ds.LimitRequestBody != nil {
			limit = *ds.LimitRequestBody
		}
	}
	if limit == 0 {
		return phases.DECLINED, nil
	}
	if cl := r.HeadersIn.Get("Content-Length"); cl != "" {
		var n int64
		if _, err := fmt.Sscan(cl, &n); err == nil && n > limit {
			return http.StatusRequestEntityTooLarge, nil
		}
	}
	r.Body = &limitedBody{r: r.Body, left: limit}
	return phases.DECLINED, nil
}

// ErrBodyTooLarge is what reading a body past LimitRequestBody returns.
var ErrBodyTooLarge = errors.New("request body exceeds LimitRequestBody")

type limitedBody struct {
	r    io.Reader
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body that ends exactly at the limit from one
		// that goes past it.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// traceHandler answers TRACE (Apache's ap_send_http_trace): the request
// head echoed as message/http, or 405 when TraceEnable is off; a TRACE with
// a body is refused with 413 unless TraceEnable is extended. (The header
// lines come sorted by name: net/http does not keep their order.)
func traceHandler(r *phases.Request) (phases.Status, error) {
	if r.Method != http.MethodTrace {
		return phases.DECLINED, nil
	}
	mode := ServerOf(r.Server.Main).TraceEnable
	if r.Vhost != nil {
		if v := ServerOf(r.Vhost).TraceEnable; v != "" {
			mode = v
		}
	}
	if strings.EqualFold(mode, "off") {
		// Apache's Allow lists the methods the resource's handlers
		// allowed, and none did for TRACE: it sends the header empty.
		r.HeadersOut.Set("Allow", "")
		return http.StatusMethodNotAllowed, nil
	}
	if !strings.EqualFold(mode, "extended") && (r.HeadersIn.Get("Content-Length") != "" && r.HeadersIn.Get("Content-Length") != "0" || r.HeadersIn.Get("Transfer-Encoding") != "") {
		return http.StatusRequestEntityTooLarge, nil
	}
	var b strings.Builder
	b.WriteString(r.TheRequest + "\r\n")
	names := make([]string, 0, len(r.HeadersIn))
	for k := range r.HeadersIn {
		names = append(names, k)
	}
	sort.Strings(names)
	if r.Hostname != "" && r.HeadersIn.Get("Host") == "" {
		fmt.Fprintf(&b, "Host: %s\r\n", r.Hostname)
	}
	for _, k := range names {
		for _, v := range r.HeadersIn[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	// The blank line that ends the echoed head is part of the echo.
	b.WriteString("\r\n")
	r.ContentType = "message/http"
	r.Output.WriteHeader(http.StatusOK)
	// Apache sends the echo without a Content-Length (chunked on
	// HTTP/1.1): flushing the head before the body does the same here.
	_ = r.Output.Flush()
	if _, err := io.WriteString(r.Output, b.String()); err != nil {
		return phases.DONE, nil
	}
	return phases.OK, nil
}

// DefaultAllow is the Allow header Apache's default handler sends (a
// static file's or a CGI script's OPTIONS, a 405): "GET,POST,OPTIONS,HEAD"
// and TRACE unless TraceEnable is off for the request's server.
func DefaultAllow(r *phases.Request) string {
	te := ""
	if r.Vhost != nil {
		te = ServerOf(r.Vhost).TraceEnable
	}
	if te == "" && r.Server != nil && r.Server.Main != nil {
		te = ServerOf(r.Server.Main).TraceEnable
	}
	if strings.EqualFold(te, "off") {
		return "GET,POST,OPTIONS,HEAD"
	}
	return "GET,POST,OPTIONS,HEAD,TRACE"
}
